"""What a downstream evaluation measured: :class:`RunResult` per run, :class:`ModelSummary` per (model,
embedding), and the :class:`EvalReport` with its JSON / Markdown files and learning-curve PNGs.

>>> r = RunResult("pool", "static", "test", 0, accuracy=0.75, macro_f1=0.7, epochs=3, best_epoch=2,
...               seconds_per_epoch=0.1, train_seconds=0.3, params=51, trainable_params=51)
>>> s = ModelSummary("pool", "static", [r])
>>> s.accuracy_mean, s.to_dict()["n_runs"]
(0.75, 1)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def _mean(xs: Sequence[float]) -> float:
    return float(np.mean(xs)) if len(xs) else float("nan")


def _std(xs: Sequence[float]) -> float:
    return float(np.std(xs, ddof=1)) if len(xs) > 1 else 0.0


@dataclass
class RunResult:
    """One training run: a model and embedding mode on one split with one seed."""

    model: str
    embedding: str
    split: str
    seed: int
    accuracy: float
    macro_f1: float
    epochs: int
    best_epoch: int
    seconds_per_epoch: float
    train_seconds: float
    params: int
    trainable_params: int
    history: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self, history: bool = True) -> dict[str, Any]:
        """JSON-ready dict (``history=False`` drops the per-epoch curves)."""
        d = {k: v for k, v in self.__dict__.items() if k != "history"}
        if history:
            d["history"] = self.history
        return d


@dataclass
class ModelSummary:
    """All runs of one (model, embedding) pair and their mean ± std."""

    model: str
    embedding: str
    runs: list[RunResult] = field(default_factory=list)

    @property
    def accuracy_mean(self) -> float:
        return _mean([r.accuracy for r in self.runs])

    @property
    def accuracy_std(self) -> float:
        return _std([r.accuracy for r in self.runs])

    @property
    def macro_f1_mean(self) -> float:
        return _mean([r.macro_f1 for r in self.runs])

    @property
    def macro_f1_std(self) -> float:
        return _std([r.macro_f1 for r in self.runs])

    @property
    def epochs_mean(self) -> float:
        return _mean([r.epochs for r in self.runs])

    @property
    def seconds_per_epoch(self) -> float:
        return _mean([r.seconds_per_epoch for r in self.runs])

    @property
    def params(self) -> int:
        return self.runs[0].params if self.runs else 0

    def to_dict(self, history: bool = False) -> dict[str, Any]:
        """The summary row plus every run (``history=True`` keeps the curves)."""
        return {
            "model": self.model,
            "embedding": self.embedding,
            "accuracy_mean": self.accuracy_mean,
            "accuracy_std": self.accuracy_std,
            "macro_f1_mean": self.macro_f1_mean,
            "macro_f1_std": self.macro_f1_std,
            "epochs_mean": self.epochs_mean,
            "seconds_per_epoch": self.seconds_per_epoch,
            "params": self.params,
            "trainable_params": self.runs[0].trainable_params if self.runs else 0,
            "n_runs": len(self.runs),
            "runs": [r.to_dict(history=history) for r in self.runs],
        }


@dataclass
class EvalReport:
    """Everything :func:`evaluate` measured, with the settings and the dataset summary."""

    dataset: dict[str, Any]
    config: dict[str, Any]
    summaries: list[ModelSummary]
    coverage: dict[str, float] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def to_dict(self, history: bool = True) -> dict[str, Any]:
        """JSON-ready dict with every run (and its per-epoch history unless ``history=False``)."""
        return {
            "dataset": self.dataset,
            "config": self.config,
            "coverage": self.coverage,
            "results": [s.to_dict(history=history) for s in self.summaries],
        }

    def to_markdown(self) -> str:
        """A Markdown report: settings, dataset, the results table and the learning-curve images."""
        c = self.config
        lines = [
            f"# Downstream evaluation: {self.dataset.get('name')}",
            "",
            f"- dataset: `{self.dataset.get('source')}` — {self.dataset.get('size')} examples, classes "
            f"{self.dataset.get('classes')}, encoding {self.dataset.get('encoding')}",
            f"- protocol: {c.get('protocol')}; seeds {c.get('seeds')}; max epochs {c.get('epochs')} "
            f"(early stopping, patience {c.get('patience')}); maxlen {c.get('maxlen')}; batch size {c.get('batch_size')}",
            f"- vectors: {c.get('vectors') or '(none: random only)'}",
        ]
        if self.coverage:
            lines.append(
                f"- vocabulary found as is in the vectors: {self.coverage.get('types', float('nan')):.1%} of "
                f"word types (mean over splits; the rest get the matrix builder's fallbacks)"
            )
        lines += [
            "",
            "| model | embedding | accuracy | macro-F1 | epochs | s/epoch | params | runs |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for s in self.summaries:
            lines.append(
                f"| {s.model} | {s.embedding} | {100 * s.accuracy_mean:.2f} ± {100 * s.accuracy_std:.2f} | "
                f"{100 * s.macro_f1_mean:.2f} | {s.epochs_mean:.1f} | {s.seconds_per_epoch:.2f} | {s.params:,} | "
                f"{len(s.runs)} |"
            )
        pngs = [f for f in self.files if f.endswith(".png")]
        if pngs:
            lines += ["", "## Learning curves", ""]
            lines += [f"![{Path(f).stem}]({Path(f).name if '/' not in f else f})" for f in pngs]
        return "\n".join(lines) + "\n"

    def write(self, output: str | os.PathLike[str]) -> list[Path]:
        """Write ``report.json``, ``report.md`` and ``<model>-<embedding>.png`` curves into ``output``."""
        import json

        from embedkit.files.atomic import atomic_write_text

        out = Path(output)
        out.mkdir(parents=True, exist_ok=True)
        from embedkit.downstream.curves import plot_learning_curves

        written = [plot_learning_curves(s, out / f"{s.model}-{s.embedding}.png") for s in self.summaries]
        self.files = [p.name for p in written]
        atomic_write_text(out / "report.json", json.dumps(self.to_dict(), indent=1) + "\n")
        atomic_write_text(out / "report.md", self.to_markdown())
        return [*written, out / "report.json", out / "report.md"]
