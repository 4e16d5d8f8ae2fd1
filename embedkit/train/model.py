"""word2vec with negative sampling (CBOW or skip-gram) as a Keras 3 model with a custom ``train_step``
(imports Keras and TensorFlow).

Two embedding tables (input vectors, which become the word vectors, and output vectors, as word2vec's
``syn0`` / ``syn1neg``) and a negative-sampling loss: CBOW scores each target against the mean (or sum) of its
context, skip-gram scores it against each context word. ``train_step`` applies word2vec's per-example SGD update
(:mod:`embedkit.train.update`) for a whole batch at once as sparse gradients (``tf.IndexedSlices``) through a Keras
``SGD`` optimizer, so only the rows a batch touches are written, on CPU or GPU and under ``tf.distribute``; so
``model.fit`` on batches of :class:`embedkit.train.batches.BatchMaker` trains it. The trainer's own steppers
(:mod:`embedkit.train.steppers`) apply the same deltas with :meth:`CBOWModel.apply_deltas`.

Only the trainer imports this module (when it builds a model), so importing ``embedkit`` stays light.

Example:
    m = build_cbow_model(vocab_size=10, dim=4, window=2, negative=2)
    m.input_embeddings.embeddings.shape
    (11, 4)
    CBOWModel.from_config(m.get_config()).get_config() == m.get_config()
    True
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from embedkit.train.tables import CBOWTables
from embedkit.train.update import cbow_deltas, initial_input_vectors, output_ids, sg_deltas


class _InputInit(keras.initializers.Initializer):
    """The input table's start values (:func:`~embedkit.train.update.initial_input_vectors`: gensim's uniform range,
    a zero padding row last) for a ``(vocab_size + 1, dim)`` variable."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def __call__(self, shape: Any, dtype: Any = None) -> np.ndarray:
        return initial_input_vectors(int(shape[0]) - 1, int(shape[1]), self.seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class CBOWModel(keras.Model):
    """word2vec with negative sampling; ``fit`` on ``(span, window, target, negatives, alpha)`` batches (CBOW) or
    ``(context, target, negatives, live, alpha)`` batches (skip-gram, ``sg=True``).

    Args:
        vocab_size: words in the vocabulary (the input table has one more row: zero padding, never trained).
        dim: vector size.
        window: the largest context window (CBOW batches hold ``2 * window`` context columns).
        negative: noise words per target.
        cbow_mean: average (True) or sum (False) the context vectors.
        seed: seed of the input table's start (:func:`~embedkit.train.update.initial_input_vectors`).
        sg: skip-gram instead of CBOW.

    It implements :class:`embedkit.train.tables.Tables` (``get_tables`` / ``set_tables``) and round-trips through
    ``get_config`` / ``from_config`` (the tables are weights, not config). It is not registered with Keras's
    global serialization registry (embedkit has no import-time side effects); deserialize with
    ``custom_objects=CBOWModel.custom_objects()``. The trainer sets ``words`` (the vocabulary, row by row) so that
    callbacks can read the current vectors as words (:meth:`word_vectors`).

    Example:
        m = CBOWModel(vocab_size=5, dim=3, window=1, negative=2)
        m.get_tables().input.shape
        (6, 3)
    """

    def __init__(
        self,
        vocab_size: int,
        dim: int,
        window: int,
        negative: int,
        cbow_mean: bool = True,
        seed: int = 1,
        sg: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", "skipgram" if sg else "cbow")
        super().__init__(**kwargs)
        self.vocab_size = int(vocab_size)
        self.dim = int(dim)
        self.window = int(window)
        self.negative = int(negative)
        self.cbow_mean = bool(cbow_mean)
        self.seed = int(seed)
        self.sg = bool(sg)
        self.words: list[str] | None = None
        # Input table (the word vectors) has one extra zero row used as padding for short windows. Its initializer
        # computes gensim's start values when the variable is made: a Constant initializer would keep a second copy
        # of the table alive, and zeros assigned over leave the zeros' buffer in TensorFlow's allocator (400k x 300:
        # 480 MB more for the whole run).
        self.input_embeddings = keras.layers.Embedding(self.vocab_size + 1, self.dim,
                                                       embeddings_initializer=_InputInit(self.seed),
                                                       name="input_vectors")
        self.output_embeddings = keras.layers.Embedding(
            self.vocab_size, self.dim, embeddings_initializer="zeros", name="output_vectors"
        )
        self.input_embeddings.build((None,))
        self.output_embeddings.build((None,))
        self.step_counter = keras.Variable(0, dtype="int64", trainable=False, name="step_counter")
        self.built = True  # every weight exists: save_weights / ModelCheckpoint work before any call

    # -- config --------------------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments (plus Keras's ``name``, ``trainable``, ``dtype``)."""
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size, "dim": self.dim, "window": self.window, "negative": self.negative,
            "cbow_mean": self.cbow_mean, "seed": self.seed, "sg": self.sg,
        }

    @staticmethod
    def custom_objects() -> dict[str, type]:
        """What ``keras.saving.deserialize_keras_object(..., custom_objects=...)`` needs to rebuild this class."""
        return {"CBOWModel": CBOWModel}

    # -- Tables ---------------------------------------------------------------------------------------------
    def get_tables(self) -> CBOWTables:
        """Input table (with its padding row), output table and step count, as numpy."""
        return CBOWTables(self.input_embeddings.embeddings.numpy(), self.output_embeddings.embeddings.numpy(),
                          int(self.step_counter.numpy()))

    def final_tables(self) -> CBOWTables:
        """The tables once training is over: the input table copied (the word vectors a user may change), the output
        table a read-only snapshot that shares the variable's memory (TensorFlow copies a variable written while a
        snapshot of it is alive), so the end of a run holds one extra table, not two (400k words x 300: 480 MB)."""
        return CBOWTables(self.input_embeddings.embeddings.numpy(),
                          np.asarray(tf.convert_to_tensor(self.output_embeddings.embeddings)),
                          int(self.step_counter.numpy()))

    def set_tables(self, input: np.ndarray, output: np.ndarray, step: int) -> None:
        """Overwrite both tables and the step count."""
        self.input_embeddings.embeddings.assign(input)
        self.output_embeddings.embeddings.assign(output)
        self.step_counter.assign(int(step))

    def word_vectors(self) -> Any:
        """The current input vectors as :class:`~embedkit.vectors.word_vectors.WordVectors` (needs ``words``)."""
        from embedkit.vectors.word_vectors import WordVectors

        if self.words is None:
            raise ValueError("The model has no vocabulary attached (`words`); the trainer sets it.")
        table = self.input_embeddings.embeddings.numpy()[: self.vocab_size]
        return WordVectors(self.words, np.ascontiguousarray(table), source="embedkit (training)")

    # -- forward and training -------------------------------------------------------------------------------
    def call(self, inputs: Any) -> Any:
        """Scores of ``words`` (B, n) against the CBOW projection of ``context`` (B, 2·window) (padding id:
        ``vocab_size``)."""
        context, words = inputs
        mask = tf.cast(tf.not_equal(context, self.vocab_size), tf.float32)
        h = tf.reduce_sum(self.input_table().sparse_read(context), axis=1)  # the padding row is zero
        if self.cbow_mean:
            h = h / tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
        return tf.einsum("bd,bkd->bk", h, self.output_table().sparse_read(words))

    def input_table(self) -> Any:
        """The input table as a ``tf.Variable`` (sparse reads and scatters, no full copy per step)."""
        return _variable(self.input_embeddings)

    def output_table(self) -> Any:
        """The output table as a ``tf.Variable``."""
        return _variable(self.output_embeddings)

    def batch_deltas(self, in_rows: Any, out_rows: Any, batch: Any, alpha: Any = None) -> dict[str, Any]:
        """The update of one batch from the rows it reads (times the learning rate ``alpha`` when given)."""
        if self.sg:
            _, target, neg, live = batch
            return sg_deltas(in_rows, out_rows, target, neg, live, alpha)
        _, in_window, target, neg = batch
        return cbow_deltas(in_rows, out_rows, in_window, target, neg, window=self.window, cbow_mean=self.cbow_mean,
                           scale=alpha)

    def batch_ids(self, batch: Any) -> tuple[Any, Any]:
        """``(input ids, output ids)`` of a CBOW ``(span, window, target, neg)`` or skip-gram
        ``(context, target, neg, live)`` batch: the span or contexts, and each target followed by its negatives."""
        if self.sg:
            return batch[0], output_ids(batch[1], batch[2])
        return batch[0], output_ids(batch[2], batch[3])

    def apply_deltas(self, in_ids: Any, in_delta: Any, out_ids: Any, out_delta: Any) -> None:
        """Add the deltas (already times the learning rate) to the rows: a scatter-add, plain SGD on the sparse
        gradient."""
        self.input_table().scatter_add(tf.IndexedSlices(in_delta, in_ids))
        self.output_table().scatter_add(tf.IndexedSlices(out_delta, out_ids))

    def train_group(self, data: Any) -> dict[str, Any]:
        """The update of each batch of a group (leading axis G, static), unrolled in one compiled call.

        Used for long serial runs (see :func:`embedkit.train.batches.batches_per_call`): one compiled call per
        group removes most of the per-call cost. Padding batches (no context anywhere) update nothing and do not
        count in the loss. Returns the group's ``loss_sum`` and ``weight``.
        """
        total, weight = tf.constant(0.0), tf.constant(0.0)
        for i in range(data[-1].shape[0]):
            *batch, alpha = tuple(x[i] for x in data)
            in_ids, out_ids = self.batch_ids(batch)
            up = self.batch_deltas(self.input_table().sparse_read(in_ids), self.output_table().sparse_read(out_ids),
                                   batch, alpha)
            self.apply_deltas(in_ids, up["in_delta"], out_ids, up["out_delta"])
            total += up["loss_sum"]
            weight += up["weight"]
        self.step_counter.assign_add(data[-1].shape[0])
        return {"loss_sum": total, "weight": weight}

    def train_step(self, data: Any) -> dict[str, Any]:
        """One batch through the Keras ``SGD`` optimizer (what ``fit`` runs); logs ``loss`` (the batch's mean),
        ``loss_sum`` and ``weight``."""
        *batch, alpha = data
        self.optimizer.learning_rate.assign(tf.cast(alpha, tf.float32))
        in_ids, out_ids = self.batch_ids(batch)
        up = self.batch_deltas(self.input_table().sparse_read(in_ids), self.output_table().sparse_read(out_ids), batch)
        grad_in = tf.IndexedSlices(-up["in_delta"], in_ids, tf.constant([self.vocab_size + 1, self.dim], tf.int64))
        grad_out = tf.IndexedSlices(-up["out_delta"], out_ids, tf.constant([self.vocab_size, self.dim], tf.int64))
        self.optimizer.apply_gradients(
            [(grad_in, self.input_embeddings.embeddings), (grad_out, self.output_embeddings.embeddings)]
        )
        self.step_counter.assign_add(1)
        return {"loss": up["loss_sum"] / tf.maximum(up["weight"], 1.0), "loss_sum": up["loss_sum"],
                "weight": up["weight"]}


def _variable(layer: Any) -> Any:
    """The layer's table as a ``tf.Variable`` (sparse reads, no full copy per step)."""
    v = layer.embeddings.value
    # Under tf.distribute it is a DistributedVariable (no sparse_read): read this replica's copy.
    return v._get_on_device_or_primary() if isinstance(v, tf.distribute.DistributedValues) else v


def build_cbow_model(
    vocab_size: int,
    dim: int,
    window: int,
    negative: int,
    *,
    cbow_mean: bool = True,
    seed: int = 1,
    sg: bool = False,
    initial_alpha: float = 0.025,
    steps_per_execution: int = 32,
    jit_compile: bool = True,
) -> CBOWModel:
    """Create and compile a :class:`CBOWModel` with an ``SGD`` optimizer (built, so its state exists).

    XLA (``jit_compile``) fuses the gathers, the projection and the sparse updates (about 3x less CPU time than
    plain graph mode here); several steps per call (``steps_per_execution``) keep Python out of the loop.
    """
    model = CBOWModel(vocab_size, dim, window, negative, cbow_mean=cbow_mean, seed=seed, sg=sg)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=initial_alpha),
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    model.optimizer.build(model.trainable_variables)
    return model
