"""The CBOW negative-sampling model as a Keras 3 model with a custom ``train_step`` (imports Keras and TensorFlow).

Two embedding tables (input vectors, which become the word vectors, and output vectors, as word2vec's
``syn0`` / ``syn1neg``), the CBOW projection (mean or sum of the context vectors) and a negative-sampling
loss. Each step applies word2vec's per-example SGD update (:func:`embedkit.train.update.cbow_batch_update`)
for a whole batch at once as sparse gradients (``tf.IndexedSlices``) through a Keras ``SGD`` optimizer, so only
the rows a batch touches are written, on CPU or GPU and under ``tf.distribute``.

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
from embedkit.train.update import cbow_batch_update, initial_input_vectors


class CBOWModel(keras.Model):
    """CBOW with negative sampling; ``fit`` on ``(span, window, target, negatives, alpha)`` batches.

    Args:
        vocab_size: words in the vocabulary (the input table has one more row: zero padding, never trained).
        dim: vector size.
        window: the largest context window (batches hold ``2 * window`` context columns).
        negative: noise words per target.
        cbow_mean: average (True) or sum (False) the context vectors.
        seed: seed of the input table's start (:func:`~embedkit.train.update.initial_input_vectors`).

    It implements :class:`embedkit.train.tables.Tables` (``get_tables`` / ``set_tables``) and round-trips through
    ``get_config`` / ``from_config`` (the tables are weights, not config). It is not registered with Keras's
    global serialization registry (embedkit has no import-time side effects); deserialize with
    ``custom_objects=CBOWModel.custom_objects()``.

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
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", "cbow")
        super().__init__(**kwargs)
        self.vocab_size = int(vocab_size)
        self.dim = int(dim)
        self.window = int(window)
        self.negative = int(negative)
        self.cbow_mean = bool(cbow_mean)
        self.seed = int(seed)
        init_in = initial_input_vectors(self.vocab_size, self.dim, self.seed)
        # Input table (the word vectors) has one extra zero row used as padding for short windows.
        self.input_embeddings = keras.layers.Embedding(
            self.vocab_size + 1, self.dim, embeddings_initializer=keras.initializers.Constant(init_in),
            name="input_vectors",
        )
        self.output_embeddings = keras.layers.Embedding(
            self.vocab_size, self.dim, embeddings_initializer="zeros", name="output_vectors"
        )
        self.input_embeddings.build((None,))
        self.output_embeddings.build((None,))
        self.step_counter = keras.Variable(0, dtype="int64", trainable=False, name="step_counter")

    # -- config --------------------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments (plus Keras's ``name``, ``trainable``, ``dtype``)."""
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size, "dim": self.dim, "window": self.window, "negative": self.negative,
            "cbow_mean": self.cbow_mean, "seed": self.seed,
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

    def set_tables(self, input: np.ndarray, output: np.ndarray, step: int) -> None:
        """Overwrite both tables and the step count."""
        self.input_embeddings.embeddings.assign(input)
        self.output_embeddings.embeddings.assign(output)
        self.step_counter.assign(int(step))

    # -- forward and training -------------------------------------------------------------------------------
    def call(self, inputs: Any) -> Any:
        """Scores of ``words`` (B, n) against the CBOW projection of ``context`` (B, 2·window)."""
        context, words = inputs
        h = self._project(context)[0]
        out = _variable(self.output_embeddings).sparse_read(words)
        return tf.einsum("bd,bkd->bk", h, out)

    def _project(self, context: Any) -> tuple[Any, Any, Any]:
        mask = tf.cast(tf.not_equal(context, self.vocab_size), tf.float32)
        count = tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
        vec = _variable(self.input_embeddings).sparse_read(context)  # padding row is zero
        h = tf.reduce_sum(vec, axis=1)
        if self.cbow_mean:
            h = h / count
        return h, mask, count

    def train_group(self, data: Any) -> dict[str, Any]:
        """``train_step`` on each batch of a group (leading axis G, static), unrolled in one compiled call.

        Used for long runs (see :func:`embedkit.train.batches.batches_per_call`): measured on mixed-en, a batch
        costs 1.6-1.9 ms unrolled 8-16 to a call against 2.5-3.3 ms one step at a time through ``fit``. Padding
        batches (no context anywhere) update nothing and do not count in the loss.
        """
        total, weight = tf.constant(0.0), tf.constant(0.0)
        for i in range(data[-1].shape[0]):
            up = self._apply_batch(tuple(x[i] for x in data))
            total += up["loss"] * up["weight"]
            weight += up["weight"]
        return {"loss": total / tf.maximum(weight, 1.0)}

    def train_step(self, data: Any) -> dict[str, Any]:
        return {"loss": self._apply_batch(data)["loss"]}

    def _apply_batch(self, data: Any) -> dict[str, Any]:
        # span (U,): ids of B + 2w consecutive words (target r sits at span[w + r]); window (B, 2w): whether
        # the word at offset -1..-w, +1..+w of each target is in its context; target (B,); negatives (B, K)
        # drawn on the host from unigram^0.75 (see embedkit.train.batches.draw_negatives); alpha: learning rate.
        *batch, alpha = data
        self.optimizer.learning_rate.assign(tf.cast(alpha, tf.float32))
        up = cbow_batch_update(
            _variable(self.input_embeddings).sparse_read, _variable(self.output_embeddings).sparse_read, *batch,
            dim=self.dim, window=self.window, cbow_mean=self.cbow_mean,
        )
        grad_in = tf.IndexedSlices(-up["in_delta"], up["in_ids"], tf.constant([self.vocab_size + 1, self.dim], tf.int64))
        grad_out = tf.IndexedSlices(-up["out_delta"], up["out_ids"], tf.constant([self.vocab_size, self.dim], tf.int64))
        self.optimizer.apply_gradients(
            [(grad_in, self.input_embeddings.embeddings), (grad_out, self.output_embeddings.embeddings)]
        )
        self.step_counter.assign_add(1)
        return up


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
    initial_alpha: float = 0.025,
    steps_per_execution: int = 32,
    jit_compile: bool = True,
) -> CBOWModel:
    """Create and compile a :class:`CBOWModel` with an ``SGD`` optimizer (built, so its state exists).

    XLA (``jit_compile``) fuses the gathers, the projection and the sparse updates (about 3x less CPU time than
    plain graph mode here); several steps per call (``steps_per_execution``) keep Python out of the loop.
    """
    model = CBOWModel(vocab_size, dim, window, negative, cbow_mean=cbow_mean, seed=seed)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=initial_alpha),
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    model.optimizer.build(model.trainable_variables)
    return model
