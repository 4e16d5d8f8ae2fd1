"""Downstream evaluation: how much do word vectors help standard Keras text classifiers?

:func:`evaluate` trains the usual Keras models on a labelled dataset (see :mod:`embedkit.downstream.datasets`) with
``random`` embeddings, pretrained ``static`` (frozen) ones and pretrained ``non-static`` (fine-tuned) ones, over
several seeds and CV folds, and returns an :class:`EvalReport` (JSON, Markdown and learning-curve PNGs).

Models (:data:`MODELS`): ``pool`` (Embedding → GlobalAveragePooling1D → Dense), ``flatten``, ``lstm``,
``bilstm``, ``bilstm2`` (two stacked bidirectional LSTMs), ``gru``, ``bigru`` and ``conv1d`` (Conv1D(128, 5) →
GlobalMaxPooling1D → Dense), all with dropout before the head, a sigmoid head for two classes and a softmax head
otherwise, Adam, and early stopping on a validation split carved from the training part.

Pretrained rows come from :func:`embedkit.matrix.builder.build_embedding_matrix` over the vocabulary of the training
part (or of every text with ``vocab="all"``; index 0 = padding, 1 = ``[UNK]``). Keras is imported only
inside the functions that train.

from embedkit.downstream.datasets import load_dataset
report = evaluate(load_dataset("pang_lee_polarity"), models=["pool"], embeddings=["random"],
                  seeds=1, epochs=1, maxlen=20)
report.summaries[0].accuracy_mean
0.55
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embedkit.errors import EmbedkitError, check_positive_int
from embedkit.text.tokenizer import Tokenizer
from embedkit.text.vocabulary import Vocabulary

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.downstream.datasets import Dataset, Split
    from embedkit.vectors.word_vectors import WordVectors

__all__ = [
    "MODELS",
    "EMBEDDINGS",
    "build_model",
    "RunResult",
    "ModelSummary",
    "EvalReport",
    "EvalProgress",
    "evaluate",
    "parse_choices",
]

MODELS = ("pool", "flatten", "lstm", "bilstm", "bilstm2", "gru", "bigru", "conv1d")
EMBEDDINGS = ("random", "static", "non-static")
_MASKED = {"pool", "lstm", "bilstm", "bilstm2", "gru", "bigru"}  # layers that honour the padding mask

def parse_choices(text: str | Sequence[str], allowed: Sequence[str], what: str) -> list[str]:
    """``"a,b"`` / ``["a", "b"]`` / ``"all"`` → a checked list of choices (order kept, duplicates dropped).

    >>> parse_choices("static,random", EMBEDDINGS, "embedding")
    ['static', 'random']
    """
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) for t in t.split(",")]
    items = [t for t in items if t]
    if items == ["all"]:
        return list(allowed)
    bad = [t for t in items if t not in allowed]
    if bad or not items:
        raise EmbedkitError(
            f"`{what}` must be a comma-separated list of {', '.join(allowed)} (or all). Received: {what}={text!r}"
        )
    return list(dict.fromkeys(items))


def auto_maxlen(token_lists: Sequence[Sequence[str]], cap: int = 400, floor: int = 5) -> int:
    """The 99th-percentile length, between ``floor`` (the widest conv kernel) and ``cap``."""
    if not token_lists:
        return floor
    lens = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
    return int(min(cap, max(floor, math.ceil(float(np.percentile(lens, 99))))))


# ---------------------------------------------------------------------------------------------------- models
def build_model(
    name: str,
    *,
    vocab_size: int,
    maxlen: int,
    num_classes: int,
    embedding: Any = None,
    embedding_dim: int = 100,
    dropout: float = 0.5,
    units: int = 64,
    learning_rate: float = 1e-3,
) -> Any:
    """A compiled Keras model ``name`` (one of :data:`MODELS`).

    ``embedding`` is a ready ``keras.layers.Embedding`` (e.g. from ``build_embedding_matrix(...)
    .embedding_layer()``); None makes a trainable random one of ``embedding_dim``.

    Example:
        m = build_model("conv1d", vocab_size=100, maxlen=20, num_classes=2)
        m.output_shape
        (None, 1)
    """
    from embedkit.runtime import import_tensorflow
    import_tensorflow()  # quiet start-up
    import keras
    from keras import layers

    if name not in MODELS:
        raise EmbedkitError(f"`model` must be one of {', '.join(MODELS)}. Received: model={name!r}")
    if embedding is None:
        embedding = layers.Embedding(vocab_size, embedding_dim, mask_zero=name in _MASKED, name="embedding")
    inputs = keras.Input(shape=(maxlen,), dtype="int32", name="tokens")
    x = embedding(inputs)
    if name == "pool":
        x = layers.GlobalAveragePooling1D()(x)
    elif name == "flatten":
        x = layers.Flatten()(x)
    elif name == "lstm":
        x = layers.LSTM(units)(x)
    elif name == "gru":
        x = layers.GRU(units)(x)
    elif name == "bilstm":
        x = layers.Bidirectional(layers.LSTM(units))(x)
    elif name == "bigru":
        x = layers.Bidirectional(layers.GRU(units))(x)
    elif name == "bilstm2":
        x = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(x)
        x = layers.Bidirectional(layers.LSTM(max(1, units // 2)))(x)
    else:  # conv1d
        x = layers.Conv1D(128, 5, activation="relu")(x)
        x = layers.GlobalMaxPooling1D()(x)
    if dropout > 0:
        x = layers.Dropout(dropout)(x)
    if num_classes == 2:
        outputs = layers.Dense(1, activation="sigmoid")(x)
        loss = "binary_crossentropy"
    else:
        outputs = layers.Dense(num_classes, activation="softmax")(x)
        loss = "sparse_categorical_crossentropy"
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])
    return model


# ---------------------------------------------------------------------------------------------------- results
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
        written = [plot_learning_curves(s, out / f"{s.model}-{s.embedding}.png") for s in self.summaries]
        self.files = [p.name for p in written]
        atomic_write_text(out / "report.json", json.dumps(self.to_dict(), indent=1) + "\n")
        atomic_write_text(out / "report.md", self.to_markdown())
        return [*written, out / "report.json", out / "report.md"]


def plot_learning_curves(summary: ModelSummary, path: str | os.PathLike[str]) -> Path:
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


# ---------------------------------------------------------------------------------------------------- progress
@dataclass
class RunInfo:
    """Which run is starting (for progress displays)."""

    index: int
    total: int
    model: str
    embedding: str
    split: str
    seed: int
    epochs: int


class EvalProgress:
    """Hooks :func:`evaluate` calls; subclass it for a progress display (the default does nothing)."""

    def run_start(self, info: RunInfo) -> None:
        """A run is about to train."""

    def epoch_end(self, info: RunInfo, epoch: int, logs: dict[str, float]) -> None:
        """An epoch ended (``epoch`` counts from 1)."""

    def run_end(self, info: RunInfo, result: RunResult) -> None:
        """A run finished and was scored."""


# ---------------------------------------------------------------------------------------------------- evaluate
@dataclass
class _Prepared:
    split: Split
    vocab: Vocabulary
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]


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
    progress: EvalProgress | None = None,
    output: str | os.PathLike[str] | None = None,
) -> EvalReport:
    """Train and score every (model, embedding) on every split and seed; return (and optionally write) the report.

    Args:
        dataset: a :class:`embedkit.downstream.datasets.Dataset` (given splits are used as given).
        models / embeddings: names from :data:`MODELS` / :data:`EMBEDDINGS`.
        vectors: pretrained vectors (needed by ``static`` and ``non-static``); ``random`` uses their dim.
        seeds: runs per split (seeds 0..seeds-1); the CV folds are the same for every seed and model.
        folds: k-fold CV when set (and the data has no given splits); else one held-out ``test_size`` split.
        epochs / patience: at most ``epochs``, early stopping on validation loss (``patience=None``: off).
        maxlen: tokens kept per example (default: 99th-percentile training length, at most 400).
        vocab: ``"train"`` builds each split's vocabulary from its training texts (test words never seen in
            training become ``[UNK]``); ``"all"`` uses every text of the dataset, never its labels, as Kim (2014)
            did, so test words the vectors know get their pretrained rows.
        batch_size, max_tokens, embedding_dim, dropout, units, learning_rate: model and training settings.
        progress: an :class:`EvalProgress` for displays.
        output: a directory for ``report.json``, ``report.md`` and the learning-curve PNGs.

    Example:
        from embedkit.downstream.datasets import load_dataset
        r = evaluate(load_dataset(), models=["pool"], seeds=1, epochs=1)
        len(r.summaries[0].runs)
        1
    """
    from embedkit.downstream.datasets import make_splits

    models = parse_choices(list(models), MODELS, "model")
    embeddings = parse_choices(list(embeddings), EMBEDDINGS, "embedding")
    check_positive_int("seeds", seeds)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    if patience is not None:
        check_positive_int("patience", patience)
    if maxlen is not None:
        check_positive_int("maxlen", maxlen)
    if max_tokens is not None:
        check_positive_int("max_tokens", max_tokens)
    if vocab not in ("train", "all"):
        raise EmbedkitError(f"`vocab` must be 'train' or 'all'. Received: vocab={vocab!r}")
    if not (isinstance(learning_rate, (int, float)) and 0 < learning_rate < 10):
        raise EmbedkitError(f"`learning_rate` must be a number in (0, 10). Received: learning_rate={learning_rate!r}")
    if not 0 <= dropout < 1:
        raise EmbedkitError(f"`dropout` must be in [0, 1). Received: dropout={dropout!r}")
    pretrained = [e for e in embeddings if e != "random"]
    if pretrained and vectors is None:
        raise EmbedkitError(
            f"Embedding mode {pretrained[0]!r} needs pretrained vectors (pass --vectors). Received: no vectors"
        )
    dim = embedding_dim or (vectors.dim if vectors is not None else 100)
    progress = progress or EvalProgress()

    splits = make_splits(dataset, folds=folds, test_size=test_size, seed=0)
    tokenize = Tokenizer.preset("glove")
    tokens = [tokenize(t) for t in dataset.texts]
    prepared: list[_Prepared] = []
    for sp in splits:
        train_tokens = [tokens[i] for i in sp.train]
        vocab_obj = Vocabulary.build(train_tokens if vocab == "train" else tokens, max_tokens=max_tokens)
        ml = maxlen or auto_maxlen(train_tokens)
        if "conv1d" in models:
            ml = max(ml, 5)
        x = {p: vocab_obj.encode([tokens[i] for i in getattr(sp, p)], ml) for p in ("train", "val", "test")}
        y = {p: dataset.labels[getattr(sp, p)] for p in ("train", "val", "test")}
        prepared.append(_Prepared(sp, vocab_obj, x, y))

    total = len(models) * len(embeddings) * len(prepared) * seeds
    summaries = [ModelSummary(m, e) for m in models for e in embeddings]
    coverage: list[float] = []
    index = 0
    for prep in prepared:
        for seed in range(seeds):
            matrix = None
            if pretrained:
                from embedkit.matrix.builder import build_embedding_matrix

                matrix = build_embedding_matrix(prep.vocab.words, vectors, oov="random", seed=seed)
                if seed == 0:
                    coverage.append(_covered_types(prep.vocab, vectors))
            for summary in summaries:
                index += 1
                info = RunInfo(index, total, summary.model, summary.embedding, prep.split.name, seed, epochs)
                progress.run_start(info)
                result = _train_one(
                    info, prep, matrix, dataset.num_classes, dim=dim, epochs=epochs, patience=patience,
                    batch_size=batch_size, dropout=dropout, units=units, learning_rate=learning_rate,
                    progress=progress,
                )
                summary.runs.append(result)
                progress.run_end(info, result)

    config = {
        "models": models,
        "embeddings": embeddings,
        "vectors": vectors_name or (getattr(vectors, "source", None) if vectors is not None else None),
        "embedding_dim": dim,
        "seeds": seeds,
        "protocol": _protocol(splits, folds, test_size),
        "folds": folds,
        "epochs": epochs,
        "patience": patience,
        "maxlen": maxlen or sorted({int(p.x["train"].shape[1]) for p in prepared}),
        "batch_size": batch_size,
        "max_tokens": max_tokens,
        "vocab": vocab,
        "vocab_size": [len(p.vocab) for p in prepared],
        "dropout": dropout,
        "units": units,
        "learning_rate": learning_rate,
        "splits": [p.split.to_dict() for p in prepared],
        "tokenizer": "lowercase regex words, clitics ('s, n't) and punctuation",
    }
    report = EvalReport(dataset.to_dict(), config, summaries,
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


def _train_one(
    info: RunInfo,
    prep: _Prepared,
    matrix: Any,
    num_classes: int,
    *,
    dim: int,
    epochs: int,
    patience: int | None,
    batch_size: int,
    dropout: float,
    units: int,
    learning_rate: float,
    progress: EvalProgress,
) -> RunResult:
    from embedkit.runtime import import_tensorflow
    import_tensorflow()  # quiet start-up
    import keras
    from sklearn.metrics import f1_score

    keras.backend.clear_session()  # free the previous run's graphs and layers
    keras.utils.set_random_seed(info.seed * 1000 + _split_number(info.split))
    layer = None
    if info.embedding != "random":
        layer = matrix.embedding_layer(trainable=info.embedding == "non-static", mask_zero=info.model in _MASKED)
    model = build_model(
        info.model, vocab_size=len(prep.vocab), maxlen=int(prep.x["train"].shape[1]), num_classes=num_classes,
        embedding=layer, embedding_dim=dim, dropout=dropout, units=units, learning_rate=learning_rate,
    )
    times: list[float] = []

    class _Hook(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            times.append(time.perf_counter() - self._t)
            progress.epoch_end(info, epoch + 1, {k: float(v) for k, v in (logs or {}).items()})

    callbacks: list[Any] = [_Hook()]
    if patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
        )
    ytype = "float32" if num_classes == 2 else "int32"
    t0 = time.perf_counter()
    hist = model.fit(
        prep.x["train"], prep.y["train"].astype(ytype), validation_data=(prep.x["val"], prep.y["val"].astype(ytype)),
        epochs=epochs, batch_size=batch_size, callbacks=callbacks, verbose=0, shuffle=True,
    )
    train_seconds = time.perf_counter() - t0
    probs = model.predict(prep.x["test"], batch_size=max(batch_size, 256), verbose=0)
    pred = (probs[:, 0] > 0.5).astype(np.int64) if num_classes == 2 else np.argmax(probs, axis=1)
    y_test = prep.y["test"]
    history = {k: [float(v) for v in vs] for k, vs in hist.history.items()}
    val_loss = history.get("val_loss") or [0.0]
    trainable = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    return RunResult(
        model=info.model,
        embedding=info.embedding,
        split=info.split,
        seed=info.seed,
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
