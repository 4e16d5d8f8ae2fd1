"""Downstream evaluation: how much do word vectors help standard Keras text classifiers?

:func:`evaluate` trains models of the zoo (:data:`~embedkit.downstream.models.registry.MODELS`) on a labelled
dataset (see :mod:`embedkit.downstream.datasets`) with each embedding mode
(:data:`~embedkit.downstream.embeddings.EMBEDDINGS`: ``random``, pretrained ``static`` (frozen) and pretrained
``non-static`` (fine-tuned)), over several seeds and CV folds, and returns an
:class:`~embedkit.downstream.report.EvalReport` (JSON, Markdown and learning-curve PNGs). All models have dropout
before the head, a sigmoid head for two classes and a softmax head otherwise, Adam, and early stopping on a
validation split carved from the training part.

Pretrained rows come from :func:`embedkit.matrix.builder.build_embedding_matrix` over the vocabulary of the training
part (or of every text with ``vocab="all"``; index 0 = padding, 1 = ``[UNK]``). Keras is imported only
inside the functions that train.

Progress goes to a :data:`~embedkit.progress.ProgressCallback`: task ``"eval"`` counts the runs (an update
after each, with ``model``, ``embedding``, ``split``, ``seed``, ``accuracy``), task ``"eval.run"`` the epochs of
the current run (``epoch``, ``logs``); a run's end carries ``accuracy`` and a ``message`` line
(``"[4/4] conv1d/static split seed 0: test acc 0.8125, 3 epochs, 0.41 s/epoch"``).

from embedkit.downstream.datasets import load_dataset
report = evaluate(load_dataset("pang_lee_polarity"), models=["pool"], embeddings=["random"],
                  seeds=1, epochs=1, maxlen=20)
report.summaries[0].accuracy_mean
0.55
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from embedkit.downstream.config import EvalConfig
from embedkit.downstream.embeddings import EMBEDDINGS
from embedkit.downstream.models.registry import MODELS
from embedkit.downstream.preparation import TOKENIZER_NOTE, PreparedSplit, prepare_splits
from embedkit.downstream.report import EvalReport, ModelSummary, RunResult
from embedkit.errors import EmbedkitError
from embedkit.progress import ProgressArg, Reporter
from embedkit.text.vocabulary import Vocabulary

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.downstream.datasets import Dataset, Split
    from embedkit.vectors.word_vectors import WordVectors

__all__ = ["evaluate", "run_evaluation"]


def evaluate(
    dataset: Dataset,
    *,
    models: Sequence[str] = ("conv1d",),
    embeddings: Sequence[str] = ("random",),
    vectors: WordVectors | None = None,
    vectors_name: str | None = None,
    seeds: int = 3,
    folds: int | None = None,
    test_size: float = 0.1,
    epochs: int = 10,
    patience: int | None = 2,
    maxlen: int | None = None,
    batch_size: int = 50,
    max_tokens: int | None = None,
    vocab: str = "train",
    embedding_dim: int | None = None,
    dropout: float = 0.5,
    units: int = 64,
    learning_rate: float = 1e-3,
    progress: ProgressArg = None,
    output: str | os.PathLike[str] | None = None,
) -> EvalReport:
    """Train and score every (model, embedding) on every split and seed; return (and optionally write) the report.

    The settings are those of :class:`~embedkit.downstream.config.EvalConfig` (this builds one and calls
    :func:`run_evaluation`).

    Args:
        dataset: a :class:`embedkit.downstream.datasets.Dataset` (given splits are used as given).
        vectors: pretrained vectors (needed by ``static`` and ``non-static``); ``random`` uses their dim.
        vectors_name: what the report calls the vectors (default: their source).
        progress: a :data:`~embedkit.progress.ProgressCallback` (see the module docstring), True to log, or None.
        output: a directory for ``report.json``, ``report.md`` and the learning-curve PNGs.
        models, embeddings, seeds, folds, test_size, epochs, patience, maxlen, batch_size, max_tokens, vocab,
            embedding_dim, dropout, units, learning_rate: see :class:`~embedkit.downstream.config.EvalConfig`.

    Example:
        from embedkit.downstream.datasets import load_dataset
        r = evaluate(load_dataset(), models=["pool"], seeds=1, epochs=1)
        len(r.summaries[0].runs)
        1
    """
    config = EvalConfig(
        models=models, embeddings=embeddings, seeds=seeds, folds=folds, test_size=test_size, epochs=epochs,
        patience=patience, maxlen=maxlen, batch_size=batch_size, max_tokens=max_tokens, vocab=vocab,
        embedding_dim=embedding_dim, dropout=dropout, units=units, learning_rate=learning_rate,
    )
    return run_evaluation(dataset, config, vectors=vectors, vectors_name=vectors_name, progress=progress,
                          output=output)


@dataclass(frozen=True)
class _Run:
    """Which run this is (for progress and seeding)."""

    index: int
    total: int
    model: str
    embedding: str
    split: str
    seed: int

    @property
    def label(self) -> str:
        return f"{self.model}/{self.embedding} {self.split} seed {self.seed}"

    def fields(self) -> dict[str, Any]:
        return {"model": self.model, "embedding": self.embedding, "split": self.split, "seed": self.seed}


def run_evaluation(
    dataset: Dataset,
    config: EvalConfig,
    *,
    vectors: WordVectors | None = None,
    vectors_name: str | None = None,
    progress: ProgressArg = None,
    output: str | os.PathLike[str] | None = None,
) -> EvalReport:
    """:func:`evaluate` with its settings in one :class:`~embedkit.downstream.config.EvalConfig`.

    Example:
        report = run_evaluation(dataset, EvalConfig(models="pool,conv1d", seeds=1), progress=True)
    """
    pretrained = config.pretrained
    if pretrained and vectors is None:
        raise EmbedkitError(
            f"Embedding mode {pretrained[0]!r} needs pretrained vectors (pass --vectors). Received: no vectors"
        )
    dim = config.embedding_dim or (vectors.dim if vectors is not None else 100)
    prepared = prepare_splits(dataset, config, min_length=max(MODELS.get(m).min_length for m in config.models))

    total = len(config.models) * len(config.embeddings) * len(prepared) * config.seeds
    summaries = [ModelSummary(m, e) for m in config.models for e in config.embeddings]
    coverage: list[float] = []
    index = 0
    with Reporter(progress, "eval", total=total, unit="runs") as runs:
        for prep in prepared:
            for seed in range(config.seeds):
                matrix = None
                if pretrained:
                    from embedkit.matrix.builder import build_embedding_matrix

                    matrix = build_embedding_matrix(prep.vocab.words, vectors, oov="random", seed=seed)
                    if seed == 0:
                        coverage.append(_covered_types(prep.vocab, vectors))
                for summary in summaries:
                    index += 1
                    run = _Run(index, total, summary.model, summary.embedding, prep.split.name, seed)
                    result = _train_one(run, prep, matrix, dataset.num_classes, config, dim, progress)
                    summary.runs.append(result)
                    runs.update(index, accuracy=result.accuracy, **run.fields())

    report_config = {
        "models": config.models,
        "embeddings": config.embeddings,
        "vectors": vectors_name or (getattr(vectors, "source", None) if vectors is not None else None),
        "embedding_dim": dim,
        "seeds": config.seeds,
        "protocol": _protocol([p.split for p in prepared], config.folds, config.test_size),
        "folds": config.folds,
        "epochs": config.epochs,
        "patience": config.patience,
        "maxlen": config.maxlen or sorted({p.maxlen for p in prepared}),
        "batch_size": config.batch_size,
        "max_tokens": config.max_tokens,
        "vocab": config.vocab,
        "vocab_size": [len(p.vocab) for p in prepared],
        "dropout": config.dropout,
        "units": config.units,
        "learning_rate": config.learning_rate,
        "splits": [p.split.to_dict() for p in prepared],
        "tokenizer": TOKENIZER_NOTE,
    }
    report = EvalReport(dataset.to_dict(), report_config, summaries,
                        {"types": float(np.mean(coverage))} if coverage else {})
    if output is not None:
        report.write(output)
    return report


def _protocol(splits: list[Split], folds: int | None, test_size: float) -> str:
    if splits and splits[0].extra.get("given"):
        return "given train/test splits"
    if folds:
        return f"stratified {folds}-fold CV"
    return f"stratified held-out split ({test_size:.0%} test)"


def _covered_types(vocab: Vocabulary, vectors: Any) -> float:
    """Share of vocabulary words (not padding / [UNK]) found as is in the vectors."""
    words = vocab.words[2:]
    if not words:
        return 0.0
    k2i = vectors.key_to_index
    return sum(1 for w in words if w in k2i) / len(words)


def _train_one(run: _Run, prep: PreparedSplit, matrix: Any, num_classes: int, config: EvalConfig, dim: int,
               progress: ProgressArg) -> RunResult:
    """Train and score one model on one split with one seed, reporting its epochs."""
    reporter = Reporter(progress, "eval.run", total=config.epochs, unit="epochs", description=run.label)
    reporter.start(run=run.index, runs=run.total, **run.fields())
    try:
        result = _fit_and_score(run, prep, matrix, num_classes, config, dim, reporter)
    except BaseException as e:
        reporter.end(error=type(e).__name__)
        raise
    reporter.end(
        accuracy=result.accuracy,
        message=f"[{run.index}/{run.total}] {run.label}: test acc {result.accuracy:.4f}, {result.epochs} epochs, "
                f"{result.seconds_per_epoch:.2f} s/epoch",
    )
    return result


def _fit_and_score(run: _Run, prep: PreparedSplit, matrix: Any, num_classes: int, config: EvalConfig, dim: int,
                   reporter: Reporter) -> RunResult:
    from embedkit.runtime import import_tensorflow

    import_tensorflow()  # quiet start-up
    import keras
    from sklearn.metrics import f1_score

    keras.backend.clear_session()  # free the previous run's graphs and layers
    keras.utils.set_random_seed(run.seed * 1000 + _split_number(run.split))
    model_class = MODELS.get(run.model)
    mode = EMBEDDINGS.get(run.embedding)
    layer = None
    if mode.pretrained:
        layer = matrix.embedding_layer(trainable=mode.trainable, mask_zero=model_class.masks_padding)
    model = model_class(units=config.units).build(
        vocab_size=len(prep.vocab), maxlen=prep.maxlen, num_classes=num_classes, embedding=layer,
        embedding_dim=dim, dropout=config.dropout, learning_rate=config.learning_rate,
    )
    times: list[float] = []

    class _Hook(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            times.append(time.perf_counter() - self._t)
            reporter.update(epoch + 1, epoch=epoch + 1, logs={k: float(v) for k, v in (logs or {}).items()})

    callbacks: list[Any] = [_Hook()]
    if config.patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True)
        )
    ytype = "float32" if num_classes == 2 else "int32"
    t0 = time.perf_counter()
    hist = model.fit(
        prep.x["train"], prep.y["train"].astype(ytype), validation_data=(prep.x["val"], prep.y["val"].astype(ytype)),
        epochs=config.epochs, batch_size=config.batch_size, callbacks=callbacks, verbose=0, shuffle=True,
    )
    train_seconds = time.perf_counter() - t0
    probs = model.predict(prep.x["test"], batch_size=max(config.batch_size, 256), verbose=0)
    pred = (probs[:, 0] > 0.5).astype(np.int64) if num_classes == 2 else np.argmax(probs, axis=1)
    y_test = prep.y["test"]
    history = {k: [float(v) for v in vs] for k, vs in hist.history.items()}
    val_loss = history.get("val_loss") or [0.0]
    trainable = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    return RunResult(
        model=run.model,
        embedding=run.embedding,
        split=run.split,
        seed=run.seed,
        accuracy=float(np.mean(pred == y_test)),
        macro_f1=float(f1_score(y_test, pred, average="macro", labels=list(range(num_classes)), zero_division=0)),
        epochs=len(times),
        best_epoch=int(np.argmin(val_loss)) + 1,
        seconds_per_epoch=float(np.median(times)) if times else 0.0,
        train_seconds=train_seconds,
        params=int(model.count_params()),
        trainable_params=trainable,
        history=history,
    )


def _split_number(name: str) -> int:
    m = re.search(r"(\d+)$", name)
    return int(m.group(1)) if m else 0
