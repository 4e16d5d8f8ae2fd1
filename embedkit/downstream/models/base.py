"""The base classes of the downstream model zoo.

- :class:`DownstreamModel`: what the runner needs from every model: the embedding modes it takes
  (:attr:`~DownstreamModel.modes`; the others are skipped with a note) and :meth:`~DownstreamModel.fit_and_score`
  on one :class:`Task`;
- :class:`TextClassifier`: a Keras model ``Embedding → body → Dropout → Dense`` head (sigmoid for two classes,
  softmax otherwise), compiled with Adam, trained with early stopping on validation loss (best weights
  restored); a subclass gives only its body. Keras is imported when a model is built.

Example:
    from embedkit.downstream.models.convolutional import Conv1DClassifier
    Conv1DClassifier().build(vocab_size=100, maxlen=20, num_classes=2).output_shape
    (None, 1)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from embedkit.progress import Reporter

#: Every embedding mode (see :data:`embedkit.downstream.embeddings.EMBEDDINGS`).
ALL_MODES = ("random", "frozen-random", "static", "non-static")


@dataclass
class Task:
    """One run's inputs: a split's encoded texts, the embedding rows and the training settings.

    Attributes:
        x / y: ``train`` / ``val`` / ``test`` id matrices (examples × maxlen, int32) and labels.
        bags: per part, a sparse examples × vocabulary count matrix over *all* tokens (no truncation), for
            models that read bags of words (:class:`~embedkit.downstream.models.linear.MeanVectorLogReg`).
        vocab_size / maxlen / num_classes: shapes.
        weights: the embedding rows (vocabulary × dim, float32), or None for the layer's own initialiser.
        known: per row, whether it holds a pretrained vector (not padding, ``[UNK]`` or an initialised row).
        trainable: the embedding rows train with the model.
        dim: the embedding dimension.
        seed: the run's seed (already applied to Keras / NumPy by the runner).
        epochs / patience / batch_size / dropout / units / learning_rate: training settings.
    """

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    bags: dict[str, Any]
    vocab_size: int
    maxlen: int
    num_classes: int
    weights: np.ndarray | None
    known: np.ndarray | None
    trainable: bool
    dim: int
    seed: int
    epochs: int = 50
    patience: int | None = 3
    batch_size: int = 50
    dropout: float = 0.5
    units: int = 64
    learning_rate: float = 1e-3


@dataclass
class Fitted:
    """What a model's training produced: test predictions and how training went.

    ``history`` holds Keras's per-epoch logs (``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``);
    ``best_epoch`` is the epoch whose weights were kept (early stopping restores them); ``capped`` is True
    when training ran to the epoch cap without early stopping deciding; ``extra`` holds model-specific facts
    (logreg's chosen ``C``).
    """

    pred: np.ndarray
    history: dict[str, list[float]] = field(default_factory=dict)
    epoch_seconds: list[float] = field(default_factory=list)
    best_epoch: int = 0
    capped: bool = False
    params: int = 0
    trainable_params: int = 0
    train_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class DownstreamModel:
    """A model of the zoo: one class per name in :data:`~embedkit.downstream.models.registry.MODELS`.

    Class attributes:
        name: the registry name.
        modes: the embedding modes that apply to it (others are skipped with :attr:`skip_reason`).
        min_length: the shortest input the model takes (the widest convolution).
        uses_keras: it trains a Keras model (the runner imports TensorFlow only when one does).
        masks_padding: its body honours the padding mask (``mask_zero=True``).
    """

    name: ClassVar[str] = ""
    modes: ClassVar[tuple[str, ...]] = ALL_MODES
    skip_reason: ClassVar[str] = ""
    min_length: ClassVar[int] = 1
    uses_keras: ClassVar[bool] = True
    masks_padding: ClassVar[bool] = False

    def __init__(self, units: int = 64) -> None:
        self.units = units

    def fit_and_score(self, task: Task, reporter: Reporter) -> Fitted:
        """Train on ``task``'s train part (validation for model selection) and predict its test part."""
        raise NotImplementedError


class TextClassifier(DownstreamModel):
    """One Keras text classifier of the zoo (a builder of functional ``keras.Model`` objects).

    Subclasses set :attr:`name`, :attr:`masks_padding` (the body honours the padding mask, so the embedding
    gets ``mask_zero=True``), :attr:`min_length` and :attr:`head_max_norm` (a max-norm constraint on the output
    weights, Kim 2014), and implement :meth:`body` (and :meth:`embed` for several embedding channels).

    Args:
        units: width of recurrent bodies (LSTM / GRU units); the other bodies have fixed sizes.
    """

    head_max_norm: ClassVar[float | None] = None

    def body(self, x: Any) -> Any:
        """The layers between the embedded tokens ``x`` (batch × maxlen × dim) and the dropout before the head."""
        raise NotImplementedError

    def embed(self, inputs: Any, *, vocab_size: int, embedding_dim: int, weights: np.ndarray | None,
              trainable: bool, embedding: Any = None) -> Any:
        """The embedded tokens: one ``Embedding`` layer (``embedding`` if given, else one holding ``weights``
        or Keras's random initialiser) applied to ``inputs``."""
        from keras import layers

        if embedding is None:
            embedding = layers.Embedding(vocab_size, embedding_dim, mask_zero=self.masks_padding,
                                         trainable=trainable, name="embedding")
            if weights is not None:
                embedding.build((None,))
                embedding.embeddings.assign(weights)
        return embedding(inputs)

    def build(
        self,
        *,
        vocab_size: int,
        maxlen: int,
        num_classes: int,
        embedding: Any = None,
        embedding_dim: int = 100,
        dropout: float = 0.5,
        learning_rate: float = 1e-3,
        weights: np.ndarray | None = None,
        trainable: bool = True,
    ) -> Any:
        """The compiled Keras model.

        ``embedding`` is a ready ``keras.layers.Embedding`` (e.g. from ``build_embedding_matrix(...)
        .embedding_layer()``); otherwise the model makes its own from ``weights`` (vocabulary × dim rows,
        ``trainable`` or frozen) or, without weights, a trainable random one of ``embedding_dim``.
        """
        from embedkit.runtime import import_tensorflow

        import_tensorflow()  # quiet start-up
        import keras
        from keras import layers

        if weights is not None:
            vocab_size, embedding_dim = int(weights.shape[0]), int(weights.shape[1])
        # Layers are made in this order (embedding, body, dropout, head): seeded initialisers depend on it.
        inputs = keras.Input(shape=(maxlen,), dtype="int32", name="tokens")
        x = self.body(self.embed(inputs, vocab_size=vocab_size, embedding_dim=embedding_dim, weights=weights,
                                 trainable=trainable, embedding=embedding))
        if dropout > 0:
            x = layers.Dropout(dropout)(x)
        constraint = keras.constraints.MaxNorm(self.head_max_norm) if self.head_max_norm else None
        if num_classes == 2:
            outputs = layers.Dense(1, activation="sigmoid", kernel_constraint=constraint)(x)
            loss = "binary_crossentropy"
        else:
            outputs = layers.Dense(num_classes, activation="softmax", kernel_constraint=constraint)(x)
            loss = "sparse_categorical_crossentropy"
        model = keras.Model(inputs, outputs, name=self.name)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])
        return model

    def fit_and_score(self, task: Task, reporter: Reporter) -> Fitted:
        """``model.fit`` with early stopping on validation loss (best weights restored), then predict test."""
        import keras

        model = self.build(
            vocab_size=task.vocab_size, maxlen=task.maxlen, num_classes=task.num_classes,
            embedding_dim=task.dim, dropout=task.dropout, learning_rate=task.learning_rate,
            weights=task.weights, trainable=task.trainable,
        )
        times: list[float] = []

        class _Hook(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                self._t = time.perf_counter()

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                times.append(time.perf_counter() - self._t)
                reporter.update(epoch + 1, epoch=epoch + 1, logs={k: float(v) for k, v in (logs or {}).items()})

        callbacks: list[Any] = [_Hook()]
        stopper = None
        if task.patience is not None:
            stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=task.patience,
                                                    restore_best_weights=True)
            callbacks.append(stopper)
        ytype = "float32" if task.num_classes == 2 else "int32"
        t0 = time.perf_counter()
        hist = model.fit(
            task.x["train"], task.y["train"].astype(ytype),
            validation_data=(task.x["val"], task.y["val"].astype(ytype)),
            epochs=task.epochs, batch_size=task.batch_size, callbacks=callbacks, verbose=0, shuffle=True,
        )
        train_seconds = time.perf_counter() - t0
        probs = np.asarray(model.predict(task.x["test"], batch_size=max(task.batch_size, 256), verbose=0))
        pred = (probs[:, 0] > 0.5).astype(np.int64) if task.num_classes == 2 else np.argmax(probs, axis=1)
        history = {k: [float(v) for v in vs] for k, vs in hist.history.items()}
        val_loss = history.get("val_loss") or []
        finite = [v if np.isfinite(v) else np.inf for v in val_loss]
        best = int(np.argmin(finite)) + 1 if finite else len(times)
        return Fitted(
            pred=pred,
            history=history,
            epoch_seconds=times,
            best_epoch=best,
            capped=not (stopper is not None and stopper.stopped_epoch > 0),
            params=int(model.count_params()),
            trainable_params=int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
            train_seconds=train_seconds,
        )
