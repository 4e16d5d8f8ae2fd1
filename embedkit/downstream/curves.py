"""Learning curves of a downstream evaluation: one overlay per (dataset, model) with the mean validation loss
and accuracy per epoch of each embedding mode (and vector set), and a marker at the epoch whose weights early
stopping restored. matplotlib (Agg backend) is imported only when a figure is drawn.

Example:
    images = curve_plots(report)       # {"mr-kim-cnn.png": b"\\x89PNG...", ...}
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

# The report's types (embedkit.downstream.report imports this module: no import back).
EvalReport = Any
ModelSummary = Any

_COLOURS = {"static": "tab:blue", "frozen-random": "tab:gray", "non-static": "tab:orange", "random": "tab:red"}
_STYLES = ("-", "--", ":", "-.")


def mean_curve(curves: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Mean per epoch over the runs that reached it, and how many did.

    >>> m, n = mean_curve([[1.0, 0.5], [3.0]])
    >>> m.tolist(), n.tolist()
    ([2.0, 0.5], [2, 1])
    """
    length = max((len(c) for c in curves), default=0)
    sums = np.zeros(length)
    counts = np.zeros(length, dtype=np.int64)
    for c in curves:
        v = np.asarray(c, dtype=np.float64)
        ok = np.isfinite(v)
        sums[: len(v)][ok] += v[ok]
        counts[: len(v)] += ok
    return np.divide(sums, np.maximum(counts, 1)), counts


def plot_name(dataset: str, model: str) -> str:
    """The file name of a (dataset, model) overlay: ``mr-kim-cnn.png``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{dataset}-{model}").strip("._") or "curves"
    return f"{safe}.png"


def plot_overlay(summaries: Sequence[ModelSummary], title: str) -> bytes | None:
    """PNG bytes of one overlay (None when no run has per-epoch validation logs, e.g. ``logreg``)."""
    # runs shared with another set (random runs of one dimension) are drawn once
    drawn = [s for s in summaries if any(r.history.get("val_loss") for r in s.runs) and
             not all(r.shared for r in s.runs)]
    if not drawn:
        return None
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(10, 4), dpi=90)
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, 2, i) for i in (1, 2)]
    sets = list(dict.fromkeys(s.vectors for s in drawn))
    for s in drawn:
        style = _STYLES[sets.index(s.vectors) % len(_STYLES)]
        colour = _COLOURS.get(s.embedding, None)
        label = s.embedding if len(sets) == 1 or s.vectors is None else f"{s.embedding} · {s.vectors}"
        restored = int(round(float(np.median([r.best_epoch for r in s.runs]))))
        for ax, key in zip(axes, ("val_loss", "val_accuracy")):
            m, _ = mean_curve([r.history.get(key, []) for r in s.runs])
            if not len(m):
                continue
            epochs = np.arange(1, len(m) + 1)
            line = ax.plot(epochs, m, style, color=colour, label=label)[0]
            if 1 <= restored <= len(m):
                ax.plot([restored], [m[restored - 1]], "o", color=line.get_color(), markersize=7,
                        markeredgecolor="black")
    for ax, key in zip(axes, ("validation loss", "validation accuracy")):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"mean {key}")
        ax.grid(alpha=0.3)
    axes[0].set_title(f"{title}: validation loss")
    axes[1].set_title("validation accuracy (● restored epoch, median)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def curve_plots(report: EvalReport) -> dict[str, bytes]:
    """One PNG per (dataset, model) of ``report``: file name → bytes (models without curves are left out)."""
    images: dict[str, bytes] = {}
    for d in report.datasets:
        for model in dict.fromkeys(s.model for s in d.summaries):
            png = plot_overlay([s for s in d.summaries if s.model == model], f"{d.name} / {model}")
            if png is not None:
                images[plot_name(d.name, model)] = png
    return images
