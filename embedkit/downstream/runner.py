"""Downstream evaluation: how much are word vectors worth to standard text classifiers?

:func:`evaluate` (one dataset) and :func:`run_evaluation` (several, e.g. a suite) train the models of the zoo
(:data:`~embedkit.downstream.models.registry.MODELS`) with each embedding mode
(:data:`~embedkit.downstream.embeddings.EMBEDDINGS`) and each vector set, over the same splits, seeds and
vocabularies, and return an :class:`~embedkit.downstream.report.EvalReport`. Its headline is the paired gain of
each pretrained mode over its control (``static - frozen-random``, ``non-static - random``) with a 95 % CI
and wins / runs; with several vector sets, the sets are ranked per (model, mode) with paired CIs.

- The splits (given ones, else stratified k-fold CV, default 10) and the vocabulary of each split are made
  once per dataset; every model, mode, seed and set runs on them. Seed ``s`` on split ``k`` seeds Keras,
  NumPy and the random rows with ``1000 s + k`` for every mode, so runs pair up.
- A mode a model does not take (fine-tuning a ``logreg``) is skipped with a note, not an error.
- ``random`` runs read only the vectors' dimension: sets of one dimension share them (run once).
- Keras models train with early stopping on validation loss (best weights restored) under a generous epoch
  cap; runs that reach the cap while validation loss still falls are flagged in the notes.
- TensorFlow is imported only when a Keras model trains (``logreg`` alone never imports it).

Progress goes to a :data:`~embedkit.progress.ProgressCallback`: task ``"eval"`` counts the runs (an update
after each, with ``dataset``, ``model``, ``embedding``, ``vectors``, ``split``, ``seed``, ``accuracy``), task
``"eval.run"`` the epochs of the current run (``epoch``, ``logs``); a run's end carries ``accuracy`` and a
``message`` line (``"[4/40] mr kim-cnn/static glove fold1 seed 0: test acc 0.8125, 7 epochs, 0.41 s/epoch"``).

Example:
    from embedkit.downstream.datasets import load_dataset
    report = evaluate(load_dataset(), models=["logreg"], embeddings=["static", "frozen-random"],
                      vectors=load_vectors("glove-6b-50d"))
    report.gains[0].difference.mean
    0.08...
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from embedkit.downstream.config import EvalConfig
from embedkit.downstream.embeddings import EMBEDDINGS
from embedkit.downstream.models.base import Task
from embedkit.downstream.models.registry import MODELS
from embedkit.downstream.preparation import TOKENIZER_NOTE, PreparedDataset, SetRows, prepare_dataset
from embedkit.downstream.report import DatasetResult, EvalReport, ModelSummary, RunResult, claim_report_dir
from embedkit.downstream.suites import SuiteData
from embedkit.errors import EmbedkitError
from embedkit.progress import ProgressArg, Reporter

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.downstream.datasets import Dataset, Split
    from embedkit.vectors.word_vectors import WordVectors

__all__ = ["evaluate", "run_evaluation", "run_suite", "VectorsArg"]

log = logging.getLogger("embedkit.downstream.runner")

#: Vector sets: one ``WordVectors``, a name → ``WordVectors`` mapping, or ``(name, WordVectors)`` pairs.
VectorsArg = Union["WordVectors", Mapping[str, "WordVectors"], Sequence[tuple[str, "WordVectors"]], None]


def evaluate(
    dataset: Dataset,
    *,
    models: Sequence[str] | str = ("kim-cnn",),
    embeddings: Sequence[str] | str = ("static", "frozen-random"),
    vectors: VectorsArg = None,
    vectors_name: str | None = None,
    seeds: int | None = None,
    folds: int | None = 10,
    test_size: float = 0.1,
    epochs: int = 50,
    patience: int | None = 3,
    maxlen: int | None = None,
    truncate: str | None = None,
    batch_size: int = 50,
    max_tokens: int | None = None,
    vocab: str = "all",
    embedding_dim: int | None = None,
    dropout: float = 0.5,
    units: int = 64,
    learning_rate: float = 1e-3,
    progress: ProgressArg = None,
    output: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> EvalReport:
    """Train and score every (model, embedding mode, vector set) on every split and seed of ``dataset``.

    The settings are those of :class:`~embedkit.downstream.config.EvalConfig` (this builds one and calls
    :func:`run_evaluation`).

    Args:
        dataset: a :class:`embedkit.downstream.datasets.Dataset` (given splits are used as given).
        vectors: one vector set, or several (a name → WordVectors mapping or ``(name, WordVectors)`` pairs),
            needed by ``static``, ``non-static`` and ``frozen-random``; ``random`` uses their dimension.
        vectors_name: what the report calls a single set (default: its source).
        progress: a :data:`~embedkit.progress.ProgressCallback` (see the module docstring), True to log, or None.
        output: a directory for ``report.json``, ``report.md``, ``report.html`` and the curve plots; claimed
            before anything runs (``overwrite=True`` replaces what is there even if embedkit did not write it).
        models, embeddings, seeds, folds, test_size, epochs, patience, maxlen, truncate, batch_size, max_tokens,
            vocab, embedding_dim, dropout, units, learning_rate: see :class:`~embedkit.downstream.config.EvalConfig`.

    Example:
        from embedkit.downstream.datasets import load_dataset
        r = evaluate(load_dataset(), models=["pool"], embeddings=["random"], seeds=1, epochs=1, folds=0)
        len(r.summaries[0].runs)
        1
    """
    from embedkit.downstream.config import DEFAULT_TRUNCATE

    config = EvalConfig(
        models=models, embeddings=embeddings, seeds=seeds, folds=folds, test_size=test_size, epochs=epochs,
        patience=patience, maxlen=maxlen, truncate=truncate or DEFAULT_TRUNCATE, batch_size=batch_size,
        max_tokens=max_tokens, vocab=vocab, embedding_dim=embedding_dim, dropout=dropout, units=units,
        learning_rate=learning_rate,
    )
    return run_evaluation(dataset, config, vectors=vectors, vectors_name=vectors_name, progress=progress,
                          output=output, overwrite=overwrite)


def named_sets(vectors: VectorsArg, vectors_name: str | None = None) -> list[tuple[str, WordVectors]]:
    """``vectors`` as ``(name, WordVectors)`` pairs with distinct names."""
    if vectors is None:
        return []
    if isinstance(vectors, Mapping):
        pairs = list(vectors.items())
    elif isinstance(vectors, (list, tuple)):
        pairs = [tuple(p) for p in vectors]  # type: ignore[misc]
    else:
        pairs = [(vectors_name or getattr(vectors, "source", None) or "vectors", vectors)]
    names = [str(n) for n, _ in pairs]
    if len(set(names)) != len(names):
        raise EmbedkitError(f"Vector sets must have distinct names. Received: {', '.join(names)}")
    return [(str(n), wv) for n, wv in pairs]  # type: ignore[misc]


@dataclass(frozen=True)
class _Run:
    """Which run this is (for progress and seeding)."""

    index: int
    total: int
    dataset: str
    model: str
    embedding: str
    vectors: str | None
    split: str
    seed: int

    @property
    def label(self) -> str:
        vec = f" {self.vectors}" if self.vectors else ""
        return f"{self.dataset} {self.model}/{self.embedding}{vec} {self.split} seed {self.seed}"

    def fields(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "model": self.model, "embedding": self.embedding, "vectors": self.vectors,
                "split": self.split, "seed": self.seed}


@dataclass
class _Plan:
    """The runs of one dataset: summaries in report order and the skipped (model, mode) pairs."""

    prep: PreparedDataset
    config: EvalConfig
    seeds: int
    summaries: list[ModelSummary]
    skipped: dict[str, list[str]]
    unique_runs: int


def run_evaluation(
    datasets: Dataset | Sequence[Dataset],
    config: EvalConfig,
    *,
    vectors: VectorsArg = None,
    vectors_name: str | None = None,
    progress: ProgressArg = None,
    output: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    dataset_notes: Mapping[str, str] | None = None,
    folds_for: Mapping[str, int | None] | None = None,
) -> EvalReport:
    """:func:`evaluate` over one or several datasets, its settings in one :class:`EvalConfig`.

    ``dataset_notes`` adds a note per dataset name (e.g. where a suite found it); ``folds_for`` overrides
    ``config.folds`` per dataset name (a suite's protocol).

    Example:
        report = run_evaluation([mr, subj], EvalConfig(models="logreg"), vectors={"glove": wv})
    """
    from embedkit.downstream.datasets import Dataset as _Dataset

    ds_list = [datasets] if isinstance(datasets, _Dataset) else list(datasets)
    if not ds_list:
        raise EmbedkitError("Expected at least one dataset. Received: none")
    sets = named_sets(vectors, vectors_name)
    if config.needs_vectors and not sets:
        mode = next(e for e in config.embeddings if EMBEDDINGS.get(e).needs_vectors)
        raise EmbedkitError(f"Embedding mode {mode!r} needs pretrained vectors (pass --vectors). Received: no vectors")
    if output is not None:
        claim_report_dir(output, overwrite=overwrite)  # before any work: refuse early, never after an hour
    min_length = max(MODELS.get(m).min_length for m in config.models)
    plans = [_plan(ds, _config_for(config, ds.name, folds_for), sets, min_length) for ds in ds_list]
    if not any(p.summaries for p in plans):
        raise EmbedkitError(
            f"No model takes the embedding modes asked for. Received: models {', '.join(config.models)}, "
            f"modes {', '.join(config.embeddings)}"
        )
    total = sum(p.unique_runs for p in plans)
    results: list[DatasetResult] = []
    counter = [0]
    with Reporter(progress, "eval", total=total, unit="runs") as runs:
        for plan in plans:
            results.append(_run_dataset(plan, plan.config, sets, runs, counter, total, progress,
                                        (dataset_notes or {}).get(plan.prep.dataset.name)))
    report_config = {
        **config.to_dict(),
        "vectors": [n for n, _ in sets],
        "vector_dims": {n: int(wv.dim) for n, wv in sets},
        "tokenizer": TOKENIZER_NOTE,
    }
    report = EvalReport(results, report_config, _global_notes(config, sets))
    if output is not None:
        report.write(output, overwrite=overwrite)
    return report


def _plan(ds: Dataset, config: EvalConfig, sets: list[tuple[str, WordVectors]], min_length: int) -> _Plan:
    prep = prepare_dataset(ds, config, min_length=min_length)
    seeds = config.seeds_for(len(prep.splits))
    summaries: list[ModelSummary] = []
    skipped: dict[str, list[str]] = {}
    unique: set[tuple[Any, ...]] = set()
    for model in config.models:
        cls = MODELS.get(model)
        modes = [m for m in config.embeddings if m in cls.modes]
        missing = [m for m in config.embeddings if m not in cls.modes]
        if missing:
            skipped[model] = missing
        for name, wv in (sets or [(None, None)]):  # type: ignore[list-item]
            dim = config.embedding_dim or (int(wv.dim) if wv is not None else 100)
            for mode in modes:
                summaries.append(ModelSummary(model, mode, name))
                key = (model, mode, dim) if EMBEDDINGS.get(mode).source == "init" else (model, mode, name)
                unique.add(key)
    return _Plan(prep, config, seeds, summaries, skipped, len(unique) * len(prep.splits) * seeds)


def _config_for(config: EvalConfig, name: str, folds_for: Mapping[str, int | None] | None) -> EvalConfig:
    if not folds_for or name not in folds_for:
        return config
    import dataclasses

    return dataclasses.replace(config, folds=folds_for[name])


def _run_dataset(plan: _Plan, config: EvalConfig, sets: list[tuple[str, WordVectors]], runs: Reporter,
                 counter: list[int], total: int, progress: ProgressArg, extra_note: str | None) -> DatasetResult:
    prep = plan.prep
    ds = prep.dataset
    by_name = dict(sets)
    needs_rows = any(EMBEDDINGS.get(s.embedding).needs_vectors for s in plan.summaries)
    set_rows = {name: SetRows(prep.vocab, wv) for name, wv in sets} if needs_rows else {}
    shared: dict[tuple[Any, ...], RunResult] = {}
    for k, ps in enumerate(prep.splits, 1):
        for seed in range(plan.seeds):
            run_seed = seed * 1000 + k
            rows_cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
            for summary in plan.summaries:
                mode = EMBEDDINGS.get(summary.embedding)
                wv = by_name.get(summary.vectors) if summary.vectors else None
                dim = config.embedding_dim or (int(wv.dim) if wv is not None else 100)
                if mode.source == "init":
                    key = (summary.model, summary.embedding, dim, ps.split.name, seed)
                    if key in shared:  # random runs read only the dimension: identical for sets of one dim
                        first = shared[key]
                        summary.runs.append(_copy_run(first, summary.vectors, first.vectors))
                        continue
                weights = known = None
                if mode.needs_vectors:
                    rk = (str(summary.vectors), mode.source)
                    if rk not in rows_cache:
                        rows_cache[rk] = set_rows[str(summary.vectors)].rows(ps.vocab, mode.source, run_seed)
                    weights, known = rows_cache[rk]
                counter[0] += 1
                run = _Run(counter[0], total, ds.name, summary.model, summary.embedding, summary.vectors,
                           ps.split.name, seed)
                task = Task(x=ps.x, y=ps.y, bags=ps.bags if not MODELS.get(summary.model).uses_keras else {},
                            vocab_size=len(ps.vocab), maxlen=ps.maxlen, num_classes=ds.num_classes, weights=weights,
                            known=known, trainable=mode.trainable, dim=dim, seed=run_seed, epochs=config.epochs,
                            patience=config.patience, batch_size=config.batch_size, dropout=config.dropout,
                            units=config.units, learning_rate=config.learning_rate)
                result = _train_one(run, task, progress)
                summary.runs.append(result)
                if mode.source == "init":
                    shared[(summary.model, summary.embedding, dim, ps.split.name, seed)] = result
                runs.update(counter[0], accuracy=result.accuracy, **run.fields())
    notes = _dataset_notes(plan, config, extra_note)
    coverage = {name: _coverage(r) for name, r in set_rows.items()}
    first = prep.splits[0].split
    cv = len(prep.splits) > 1
    test_share = len(first.test) / max(1, len(first.train) + len(first.val)) if cv else None
    dataset_info = {**ds.to_dict(), "empty_dropped": prep.empty_dropped}
    return DatasetResult(
        dataset=dataset_info,
        protocol=_protocol([p.split for p in prep.splits], config),
        seeds=plan.seeds,
        splits=[p.split.to_dict() for p in prep.splits],
        maxlen=prep.maxlens,
        truncated_share=prep.truncated_share,
        vocab_size=sorted({len(p.vocab) for p in prep.splits}),
        summaries=[s for s in plan.summaries if s.runs],
        coverage=coverage,
        notes=notes,
        test_share=test_share,
    )


def _copy_run(r: RunResult, vectors: str | None, shared_with: str | None) -> RunResult:
    import dataclasses

    return dataclasses.replace(r, vectors=vectors, shared=shared_with)


def _coverage(rows: SetRows) -> dict[str, Any]:
    c = rows.coverage
    token_cov = c.token_coverage
    return {
        "types": c.lookup_types,
        "tokens": c.tokens_total,
        "oov_types": 1.0 - c.type_coverage,
        "oov_tokens": None if token_cov is None else 1.0 - token_cov,
        "by_fallback": {k: int(c.by_fallback.get(k, 0)) for k in ("exact", "lowercase", "normalised", "subword",
                                                                     "initialised")},
        "missing": [{"token": t, "count": n} for t, n in c.missing],
    }


def _protocol(splits: list[Split], config: EvalConfig) -> str:
    if splits and splits[0].extra.get("given"):
        return "given train/test splits"
    if len(splits) > 1:
        return f"stratified {len(splits)}-fold CV"
    return f"stratified held-out split ({config.test_size:.0%} test)"


def _dataset_notes(plan: _Plan, config: EvalConfig, extra: str | None) -> list[str]:
    from embedkit.downstream.datasets import DEFAULT_DATASET, NAMED_DATASETS

    notes: list[str] = []
    name = plan.prep.dataset.name
    if extra:
        notes.append(extra)
    if name == DEFAULT_DATASET and plan.prep.dataset.source.endswith("pang_lee_polarity.cor"):
        notes.append(f"{name}: the embedded default dataset ({NAMED_DATASETS[name]}); scored by "
                     f"{len(plan.prep.splits)}-fold CV so that every sentence is tested once")
    for model, modes in plan.skipped.items():
        notes.append(f"{model}: {', '.join(modes)} skipped ({MODELS.get(model).skip_reason or 'not applicable'})")
    if plan.prep.empty_dropped:
        notes.append(f"{plan.prep.empty_dropped} empty texts (no token) dropped before splitting")
    for s in plan.summaries:
        if s.runs and all(r.shared for r in s.runs):
            continue  # the same runs as another set's: noted once
        label = f"{s.model}/{s.embedding}" + (f" · {s.vectors}" if s.vectors and EMBEDDINGS.get(s.embedding).needs_vectors else "")
        if s.still_improving:
            notes.append(f"{label}: {s.still_improving} of {len(s.runs)} runs stopped at the {config.epochs}-epoch cap "
                         "while validation loss was still falling (not converged: raise --epochs)")
        elif s.capped and config.patience is not None:
            notes.append(f"{label}: {s.capped} of {len(s.runs)} runs reached the {config.epochs}-epoch cap "
                         "(validation loss had stopped falling)")
    if any(r.shared for s in plan.summaries for r in s.runs):
        notes.append("random runs read only the vectors' dimension: sets of one dimension share the same runs")
    return list(dict.fromkeys(notes))


def _global_notes(config: EvalConfig, sets: list[tuple[str, WordVectors]]) -> list[str]:
    notes = []
    if config.vocab == "all":
        notes.append("vocabulary from every text of each dataset (labels unused), as Kim (2014) and SentEval")
    return notes


def _train_one(run: _Run, task: Task, progress: ProgressArg) -> RunResult:
    """Train and score one model on one split with one seed, reporting its epochs."""
    model_class = MODELS.get(run.model)
    reporter = Reporter(progress, "eval.run", total=task.epochs if model_class.uses_keras else 1, unit="epochs",
                        description=run.label)
    reporter.start(run=run.index, runs=run.total, **run.fields())
    try:
        result = _fit(run, task, reporter)
    except BaseException as e:
        reporter.end(error=type(e).__name__)
        raise
    per_epoch = f", {result.epochs} epochs, {result.seconds_per_epoch:.2f} s/epoch" if model_class.uses_keras else ""
    reporter.end(
        accuracy=result.accuracy,
        message=f"[{run.index}/{run.total}] {run.label}: test acc {result.accuracy:.4f}{per_epoch}",
    )
    return result


def _fit(run: _Run, task: Task, reporter: Reporter) -> RunResult:
    from sklearn.metrics import f1_score

    model_class = MODELS.get(run.model)
    np.random.seed(task.seed % (2**32))
    if model_class.uses_keras:
        from embedkit.runtime import import_tensorflow

        import_tensorflow()  # quiet start-up
        import keras

        keras.backend.clear_session()  # free the previous run's graphs and layers
        keras.utils.set_random_seed(task.seed)
    t0 = time.perf_counter()
    fitted = model_class(units=task.units).fit_and_score(task, reporter)
    y_test = task.y["test"]
    pred = fitted.pred
    return RunResult(
        model=run.model,
        embedding=run.embedding,
        vectors=run.vectors,
        split=run.split,
        seed=run.seed,
        accuracy=float(np.mean(pred == y_test)),
        macro_f1=float(f1_score(y_test, pred, average="macro", labels=list(range(task.num_classes)), zero_division=0)),
        epochs=len(fitted.epoch_seconds) if model_class.uses_keras else 0,
        best_epoch=fitted.best_epoch,
        seconds_per_epoch=float(np.median(fitted.epoch_seconds)) if fitted.epoch_seconds else 0.0,
        train_seconds=fitted.train_seconds or (time.perf_counter() - t0),
        params=fitted.params,
        trainable_params=fitted.trainable_params,
        capped=fitted.capped,
        history=fitted.history,
        extra=fitted.extra,
    )


def run_suite(
    suite: str | os.PathLike[str] | SuiteData,
    config: EvalConfig,
    *,
    vectors: VectorsArg = None,
    vectors_name: str | None = None,
    datasets: Sequence[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    progress: ProgressArg = None,
    output: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> EvalReport:
    """Every dataset of a suite (:mod:`embedkit.downstream.suites`) with its standard protocol, in one report.

    Args:
        suite: a bundled suite name (``senteval``), a manifest file, or its datasets already loaded
            (:func:`~embedkit.downstream.suites.load_suite_data`; then ``datasets``, ``data_dir`` and
            ``download`` are not used).
        datasets: only these datasets of the suite (names, case-insensitive).
        data_dir: where local copies are (``<data_dir>/<path>`` per dataset, e.g. ``mr/``).
        download: fetch missing datasets from the manifest's URLs (checked against their sha256).
        config: models, modes and training settings (``folds`` is the suite's per dataset).

    Example:
        run_suite("senteval", EvalConfig(models="logreg"), vectors={"glove": wv}, datasets=["MR", "CR"],
                  data_dir="data/downstream")
    """
    from embedkit.downstream.suites import load_suite_data

    if output is not None:
        claim_report_dir(output, overwrite=overwrite)
    data = suite if isinstance(suite, SuiteData) else load_suite_data(
        suite, datasets=list(datasets) if datasets else None, data_dir=data_dir, download=download,
        progress=progress)
    report = run_evaluation(data.datasets, config, vectors=vectors, vectors_name=vectors_name, progress=progress,
                            output=None, dataset_notes=data.notes, folds_for=data.folds)
    report.config["suite"] = data.name
    if output is not None:
        report.write(output, overwrite=overwrite)
    return report
