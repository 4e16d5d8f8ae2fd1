"""Learning curves of a downstream evaluation: train / validation accuracy and loss per epoch, one PNG per
(model, embedding). matplotlib (Agg backend) is imported only when a figure is drawn.

Example:
    plot_learning_curves(report.summaries[0], "out/pool-static.png")
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol


class _Run(Protocol):
    history: Mapping[str, Sequence[float]]


class CurveSource(Protocol):
    """What a figure shows: the runs (each with its per-epoch ``history``) of one (model, embedding) pair,
    e.g. a :class:`~embedkit.downstream.report.ModelSummary`."""

    model: str
    embedding: str
    runs: Sequence[_Run]


def plot_learning_curves(summary: CurveSource, path: str | os.PathLike[str]) -> Path:
    """Train / validation accuracy and loss per epoch for every run of ``summary`` (one PNG, two panels)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from embedkit.files.atomic import atomic_path

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    alpha = 1.0 if len(summary.runs) == 1 else max(0.25, 1.0 / math.sqrt(len(summary.runs)))
    for panel, (ax, metric) in enumerate(zip(axes, ("accuracy", "loss"))):
        for i, r in enumerate(summary.runs):
            for key, style, colour in ((metric, "-", "tab:blue"), (f"val_{metric}", "--", "tab:orange")):
                ys = r.history.get(key)
                if ys:
                    label = ("train" if key == metric else "validation") if i == 0 else None
                    ax.plot(range(1, len(ys) + 1), ys, style, color=colour, alpha=alpha, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(f"{summary.model} / {summary.embedding}: {metric}")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path
