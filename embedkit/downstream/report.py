"""What a downstream evaluation measured.

- :class:`RunResult`: one run (model, mode, vector set, split, seed);
- :class:`ModelSummary`: the runs of one (model, mode, vector set) and their mean ± std;
- :class:`Gain`: the paired gain of a pretrained mode over its control (``static - frozen-random``,
  ``non-static - random``) with its 95 % CI and wins / runs: the headline;
- :class:`RankedSet`: the vector sets ranked per (model, mode), each with its paired difference to the best;
- :class:`DatasetResult`: all of it for one dataset, with coverage, notes and protocol;
- :class:`EvalReport`: the datasets of one run, with ``report.json`` / ``report.md`` / ``report.html`` and
  the curve plots (:meth:`EvalReport.write`).

Every ratio in the JSON is a fraction in [0, 1] (accuracy 0.75, a gain of 0.02 is two points); the Markdown,
HTML and terminal tables show percent.

>>> r = RunResult("pool", "static", "glove", "fold1", 0, accuracy=0.75, macro_f1=0.7, epochs=3, best_epoch=2,
...               seconds_per_epoch=0.1, train_seconds=0.3, params=51, trainable_params=51)
>>> s = ModelSummary("pool", "static", "glove", [r])
>>> s.accuracy_mean, s.to_dict()["n_runs"]
(0.75, 1)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.downstream.embeddings import CONTROLS
from embedkit.downstream.stats import PairedDifference, paired_difference

REPORT_MARK = "embedkit-downstream-report"
REPORT_FILES = ("report.json", "report.md", "report.html")


def _mean(xs: Sequence[float]) -> float:
    return float(np.mean(xs)) if len(xs) else float("nan")


def _std(xs: Sequence[float]) -> float:
    return float(np.std(xs, ddof=1)) if len(xs) > 1 else 0.0


@dataclass
class RunResult:
    """One training run: a model and embedding mode with one vector set on one split with one seed.

    ``capped``: training ran to the epoch cap without early stopping deciding; ``still_improving``: capped and
    the last epoch had the lowest validation loss (the run had not converged). ``shared`` names the vector set
    whose identical run this is (``random`` runs do not read the vectors, only their dimension).
    """

    model: str
    embedding: str
    vectors: str | None
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
    capped: bool = False
    history: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    shared: str | None = None

    @property
    def still_improving(self) -> bool:
        """Stopped at the cap while validation loss was still falling."""
        val = self.history.get("val_loss") or []
        return bool(self.capped and len(val) >= 2 and self.best_epoch == len(val) and val[-1] < val[-2])

    @property
    def key(self) -> tuple[str, int]:
        """``(split, seed)``: what pairs this run with the runs of other modes and sets."""
        return (self.split, self.seed)

    def to_dict(self, history: bool = True) -> dict[str, Any]:
        """JSON-ready dict (``history=False`` drops the per-epoch curves)."""
        d = {k: v for k, v in asdict(self).items() if k != "history"}
        d["still_improving"] = self.still_improving
        if history:
            d["history"] = self.history
        return d


@dataclass
class ModelSummary:
    """All runs of one (model, embedding mode, vector set) and their mean ± std (over splits and seeds)."""

    model: str
    embedding: str
    vectors: str | None
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
    def best_epoch_mean(self) -> float:
        return _mean([r.best_epoch for r in self.runs])

    @property
    def seconds_per_epoch(self) -> float:
        return _mean([r.seconds_per_epoch for r in self.runs])

    @property
    def params(self) -> int:
        return self.runs[0].params if self.runs else 0

    @property
    def trainable_params(self) -> int:
        return self.runs[0].trainable_params if self.runs else 0

    @property
    def still_improving(self) -> int:
        """Runs that stopped at the cap while validation loss was still falling."""
        return sum(r.still_improving for r in self.runs)

    @property
    def capped(self) -> int:
        """Runs that reached the epoch cap."""
        return sum(r.capped for r in self.runs)

    def to_dict(self, history: bool = False) -> dict[str, Any]:
        """The summary row plus every run (``history=True`` keeps the curves)."""
        return {
            "model": self.model,
            "embedding": self.embedding,
            "vectors": self.vectors,
            "accuracy_mean": self.accuracy_mean,
            "accuracy_std": self.accuracy_std,
            "macro_f1_mean": self.macro_f1_mean,
            "macro_f1_std": self.macro_f1_std,
            "epochs_mean": self.epochs_mean,
            "best_epoch_mean": self.best_epoch_mean,
            "seconds_per_epoch": self.seconds_per_epoch,
            "params": self.params,
            "trainable_params": self.trainable_params,
            "n_runs": len(self.runs),
            "capped_runs": self.capped,
            "still_improving_runs": self.still_improving,
            "runs": [r.to_dict(history=history) for r in self.runs],
        }


@dataclass
class Gain:
    """The paired gain of ``mode`` over its ``control`` for one (model, vector set): the report's headline."""

    model: str
    vectors: str
    mode: str
    control: str
    accuracy: float
    control_accuracy: float
    difference: PairedDifference

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready; the gain and its CI as fractions)."""
        d = self.difference.to_dict()
        return {"model": self.model, "vectors": self.vectors, "mode": self.mode, "control": self.control,
                "accuracy": self.accuracy, "control_accuracy": self.control_accuracy, "gain": d.pop("mean"), **d}


@dataclass
class RankedSet:
    """One vector set's place for a (model, mode): its accuracy, its gain over the control, and its paired
    difference to the best set (None for the best)."""

    model: str
    mode: str
    rank: int
    vectors: str
    accuracy: float
    gain: Gain | None
    to_best: PairedDifference | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return {"model": self.model, "mode": self.mode, "rank": self.rank, "vectors": self.vectors,
                "accuracy": self.accuracy, "gain": None if self.gain is None else self.gain.difference.mean,
                "gain_ci": None if self.gain is None else [self.gain.difference.ci_low, self.gain.difference.ci_high],
                "to_best": None if self.to_best is None else self.to_best.to_dict()}


def compute_gains(summaries: Sequence[ModelSummary], test_share: float | None = None) -> list[Gain]:
    """The gain of every pretrained mode over its control (:data:`~embedkit.downstream.embeddings.CONTROLS`),
    per (model, vector set), paired over ``(split, seed)``."""
    by = {(s.model, s.embedding, s.vectors): s for s in summaries}
    gains = []
    for s in summaries:
        control = CONTROLS.get(s.embedding)
        c = by.get((s.model, control, s.vectors)) if control else None
        if c is None or s.vectors is None:
            continue
        a, b = _paired(s.runs, c.runs)
        if not a:
            continue
        gains.append(Gain(s.model, s.vectors, s.embedding, str(control), s.accuracy_mean, c.accuracy_mean,
                          paired_difference(a, b, test_share=test_share)))
    return gains


def _paired(runs_a: Sequence[RunResult], runs_b: Sequence[RunResult]) -> tuple[list[float], list[float]]:
    b = {r.key: r.accuracy for r in runs_b}
    keys = [r.key for r in runs_a if r.key in b]
    a = {r.key: r.accuracy for r in runs_a}
    return [a[k] for k in keys], [b[k] for k in keys]


def rank_sets(summaries: Sequence[ModelSummary], gains: Sequence[Gain],
              test_share: float | None = None) -> list[RankedSet]:
    """Per (model, pretrained mode) run with two or more vector sets: the sets by accuracy, best first."""
    from embedkit.downstream.embeddings import EMBEDDINGS

    gain_of = {(g.model, g.mode, g.vectors): g for g in gains}
    groups: dict[tuple[str, str], list[ModelSummary]] = {}
    for s in summaries:
        if s.vectors is not None and EMBEDDINGS.get(s.embedding).pretrained:
            groups.setdefault((s.model, s.embedding), []).append(s)
    out = []
    for (model, mode), group in groups.items():
        if len(group) < 2:
            continue
        group = sorted(group, key=lambda s: -s.accuracy_mean)
        best = group[0]
        for rank, s in enumerate(group, 1):
            diff = None
            if s is not best:
                a, b = _paired(s.runs, best.runs)
                diff = paired_difference(a, b, test_share=test_share) if a else None
            out.append(RankedSet(model, mode, rank, str(s.vectors), s.accuracy_mean,
                                 gain_of.get((model, mode, s.vectors)), diff))
    return out


@dataclass
class DatasetResult:
    """One dataset's results: summaries, gains (the headline), set ranking, coverage, protocol and notes.

    ``coverage`` maps each vector set to its coverage of the dataset's words: ``oov_types`` / ``oov_tokens``
    (fractions of word types / running tokens without a vector), ``by_fallback`` (rows per step of the matrix
    builder: exact, lowercase, normalised, subword, initialised) and the most frequent ``missing`` words.
    """

    dataset: dict[str, Any]
    protocol: str
    seeds: int
    splits: list[dict[str, Any]]
    maxlen: list[int]
    truncated_share: float
    vocab_size: list[int]
    summaries: list[ModelSummary]
    coverage: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    test_share: float | None = None
    gains: list[Gain] = field(default_factory=list)
    ranking: list[RankedSet] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.gains:
            self.gains = compute_gains(self.summaries, self.test_share)
        if not self.ranking:
            self.ranking = rank_sets(self.summaries, self.gains, self.test_share)

    @property
    def name(self) -> str:
        return str(self.dataset.get("name"))

    def summary(self, model: str, embedding: str, vectors: str | None = None) -> ModelSummary | None:
        """The summary of (model, embedding, vectors), if it ran."""
        for s in self.summaries:
            if (s.model, s.embedding) == (model, embedding) and (vectors is None or s.vectors == vectors):
                return s
        return None

    def to_dict(self, history: bool = True) -> dict[str, Any]:
        """JSON-ready dict with every run (and its per-epoch history unless ``history=False``)."""
        return {
            "dataset": self.dataset,
            "protocol": self.protocol,
            "seeds": self.seeds,
            "splits": self.splits,
            "maxlen": self.maxlen,
            "truncated_share": self.truncated_share,
            "vocab_size": self.vocab_size,
            "coverage": self.coverage,
            "gains": [g.to_dict() for g in self.gains],
            "ranking": [r.to_dict() for r in self.ranking],
            "notes": self.notes,
            "results": [s.to_dict(history=history) for s in self.summaries],
        }


@dataclass
class EvalReport:
    """Everything an evaluation measured: one :class:`DatasetResult` per dataset, the settings and notes."""

    datasets: list[DatasetResult]
    config: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def summaries(self) -> list[ModelSummary]:
        """Every summary of every dataset (one dataset: its summaries)."""
        return [s for d in self.datasets for s in d.summaries]

    @property
    def gains(self) -> list[Gain]:
        """Every gain of every dataset."""
        return [g for d in self.datasets for g in d.gains]

    def to_dict(self, history: bool = True) -> dict[str, Any]:
        """JSON-ready dict (fractions throughout)."""
        return {"kind": REPORT_MARK, "config": self.config, "notes": self.notes, "files": self.files,
                "datasets": [d.to_dict(history=history) for d in self.datasets]}

    def to_markdown(self) -> str:
        """A Markdown report (tables in percent points)."""
        from embedkit.downstream.render import markdown_report

        return markdown_report(self)

    def to_html(self, images: dict[str, bytes] | None = None) -> str:
        """One self-contained HTML page (inline CSS, PNG plots as data URIs, no network)."""
        from embedkit.downstream.render import html_report

        return html_report(self, images or {})

    def write(self, output: str | os.PathLike[str], *, overwrite: bool = False) -> list[Path]:
        """Write ``report.json``, ``report.md``, ``report.html`` and one ``<dataset>-<model>.png`` curve overlay
        per (dataset, model) into the directory ``output``.

        ``output`` is claimed first (:func:`claim_report_dir`); files of an earlier report there that embedkit
        wrote are replaced or removed, anything else is left alone. Each file is written atomically.
        """
        import json

        from embedkit.downstream.curves import curve_plots
        from embedkit.files.atomic import atomic_path, atomic_write_text
        from embedkit.files.outputs import record_output, written_by_embedkit

        out = claim_report_dir(output, overwrite=overwrite)
        previous = _previous_files(out)
        images = curve_plots(self)
        if out.is_file():  # claimed with overwrite: the user asked for this file to become the report folder
            out.unlink()
        out.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for name, data in images.items():
            with atomic_path(out / name) as tmp:
                tmp.write_bytes(data)
            written.append(out / name)
        self.files = [*images, *REPORT_FILES]
        for name, text in (("report.md", self.to_markdown()), ("report.html", self.to_html(images))):
            atomic_write_text(out / name, text)
            written.append(out / name)
        atomic_write_text(out / "report.json", json.dumps(self.to_dict(), indent=1) + "\n")  # last: marks it done
        written.append(out / "report.json")
        for p in written:
            record_output(p)
        for name in previous - set(self.files):  # an earlier report's plots this one does not redraw
            stale = out / name
            if stale.is_file() and written_by_embedkit(stale):
                stale.unlink()
        return written


def _previous_files(out: Path) -> set[str]:
    import json

    try:
        data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    files = data.get("files") if isinstance(data, dict) else None
    return {f for f in files if isinstance(f, str) and "/" not in f and f not in ("", ".", "..")} if isinstance(files, list) else set()


def is_report_dir(path: Path) -> bool:
    """True for a directory holding a ``report.json`` this module wrote (and nobody changed since)."""
    import json

    from embedkit.files.outputs import written_by_embedkit

    f = Path(path) / "report.json"
    if not f.is_file() or not written_by_embedkit(f):
        return False
    try:
        return json.loads(f.read_text(encoding="utf-8")).get("kind") == REPORT_MARK
    except (OSError, ValueError, AttributeError):
        return False


def claim_report_dir(output: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Check that ``output`` may receive a report (see :func:`embedkit.files.outputs.claim_output`): a new or
    empty directory, an earlier embedkit report, or anything else only with ``overwrite``."""
    from embedkit.files.outputs import claim_output

    return claim_output(output, "dir", overwrite=overwrite, owned=is_report_dir)
