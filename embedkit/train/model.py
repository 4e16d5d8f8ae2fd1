"""The CBOW negative-sampling model as a Keras 3 model with a custom ``train_step``.

Two embedding tables (input vectors, which become the word vectors, and output vectors, as word2vec's
``syn0`` / ``syn1neg``), the CBOW projection (mean or sum of the context vectors) and a negative-sampling
loss. Each step applies word2vec's per-example SGD update for a whole batch at once as sparse gradients
(``tf.IndexedSlices``) through a Keras ``SGD`` optimizer, so only the rows a batch touches are written, on
CPU or GPU and under ``tf.distribute``.

As word2vec C and gensim do with ``cbow_mean=1``, every context word receives the full error of the
projection (not a share of it); with ``cbow_mean=0`` the error is divided by the context size. As gensim,
a word whose score ``|h·u| >= 6`` (gensim's ``MAX_EXP``) is skipped for that example, and the input vectors
start uniform in ``[-1/dim, 1/dim)`` (:func:`initial_input_vectors`).

Example:
    m = build_cbow_model(vocab_size=10, dim=4, window=2, negative=2)
    m.input_embeddings.embeddings.shape
    (11, 4)
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_EXP = 6.0
"""Scores ``h·u`` at or beyond ±MAX_EXP update nothing for that word, as in gensim's CBOW."""


def initial_input_vectors(vocab_size: int, dim: int, seed: int) -> np.ndarray:
    """The input table at the start of training: ``vocab_size`` rows uniform in ``[-1/dim, 1/dim)`` and a zero
    padding row, as gensim 4 initialises its vectors (word2vec C uses half that range; on mixed-en gensim's range
    gave +0.5 pt analogy accuracy over three seeds). Deterministic in ``seed``.

    >>> v = initial_input_vectors(1000, 4, seed=1)
    >>> v.shape, bool(abs(v[:-1]).max() <= 0.25), float(abs(v[-1]).max())
    ((1001, 4), True, 0.0)
    """
    rng = np.random.default_rng(seed)
    init = ((rng.random((vocab_size + 1, dim), dtype=np.float32) * 2.0 - 1.0) / dim).astype(np.float32)
    init[vocab_size] = 0.0  # padding row: read for short windows, always masked
    return init


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
) -> Any:
    """Create and compile a :class:`CBOWModel` (imports Keras/TensorFlow)."""
    import keras
    import tensorflow as tf

    class CBOWModel(keras.Model):
        """CBOW with negative sampling; ``fit`` on ``(context, target, alpha)`` batches."""

        def __init__(self) -> None:
            super().__init__(name="cbow")
            self.vocab_size = vocab_size
            self.dim = dim
            self.window = window
            self.negative = negative
            self.cbow_mean = cbow_mean
            self.seed = seed
            init_in = initial_input_vectors(vocab_size, dim, seed)
            # Input table (the word vectors) has one extra zero row used as padding for short windows.
            self.input_embeddings = keras.layers.Embedding(
                vocab_size + 1, dim, embeddings_initializer=keras.initializers.Constant(init_in), name="input_vectors"
            )
            self.output_embeddings = keras.layers.Embedding(
                vocab_size, dim, embeddings_initializer="zeros", name="output_vectors"
            )
            self.input_embeddings.build((None,))
            self.output_embeddings.build((None,))
            self.step_counter = keras.Variable(0, dtype="int64", trainable=False, name="step_counter")

        def call(self, inputs: Any) -> Any:
            """Scores of ``words`` (B, n) against the CBOW projection of ``context`` (B, 2·window)."""
            context, words = inputs
            h = self._project(context)[0]
            out = _table(self.output_embeddings).sparse_read(words)
            return tf.einsum("bd,bkd->bk", h, out)

        def _project(self, context: Any) -> tuple[Any, Any, Any]:
            mask = tf.cast(tf.not_equal(context, self.vocab_size), tf.float32)
            count = tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
            vec = _table(self.input_embeddings).sparse_read(context)  # padding row is zero
            h = tf.reduce_sum(vec, axis=1)
            if self.cbow_mean:
                h = h / count
            return h, mask, count

        def train_group(self, data: Any) -> dict[str, Any]:
            """``train_step`` on each batch of a group (leading axis G, static), unrolled in one compiled call.

            Used for long runs (see :func:`embedkit.train.trainer.batches_per_call`): measured on mixed-en, a batch costs
            1.6-1.9 ms unrolled 8-16 to a call against 2.5-3.3 ms one step at a time through ``fit``. Padding
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
            # drawn on the host from unigram^0.75 (see embedkit.train.trainer.draw_negatives); alpha: learning rate.
            *batch, alpha = data
            self.optimizer.learning_rate.assign(tf.cast(alpha, tf.float32))
            up = cbow_batch_update(
                _table(self.input_embeddings).sparse_read, _table(self.output_embeddings).sparse_read, *batch,
                dim=self.dim, window=self.window, cbow_mean=self.cbow_mean,
            )
            grad_in = tf.IndexedSlices(-up["in_delta"], up["in_ids"], tf.constant([self.vocab_size + 1, self.dim], tf.int64))
            grad_out = tf.IndexedSlices(-up["out_delta"], up["out_ids"], tf.constant([self.vocab_size, self.dim], tf.int64))
            self.optimizer.apply_gradients(
                [(grad_in, self.input_embeddings.embeddings), (grad_out, self.output_embeddings.embeddings)]
            )
            self.step_counter.assign_add(1)
            return up

    def _table(layer: Any) -> Any:
        """The layer's table as a ``tf.Variable`` (sparse reads, no full copy per step)."""
        v = layer.embeddings.value
        # Under tf.distribute it is a DistributedVariable (no sparse_read): read this replica's copy.
        return v._get_on_device_or_primary() if isinstance(v, tf.distribute.DistributedValues) else v

    model = CBOWModel()
    # XLA fuses the gathers, the projection and the sparse updates (about 3x less CPU time than plain graph
    # mode here); several steps per call keep Python out of the loop.
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=initial_alpha),
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    model.optimizer.build(model.trainable_variables)
    return model


def cbow_batch_update(
    read_in: Any, read_out: Any, span: Any, in_window: Any, target: Any, neg: Any,
    *, dim: int, window: int, cbow_mean: bool = True,
) -> dict[str, Any]:
    """word2vec's CBOW negative-sampling update for one batch, as sparse row deltas (to add, times alpha).

    ``span``, ``in_window``, ``target`` and ``neg`` are one batch as :meth:`embedkit.train.trainer._Trainer.make_chunk`
    makes them. ``read_in`` / ``read_out`` gather rows of the input / output tables (``Variable.sparse_read`` of a plain
    or a sharded variable). Returns ``in_ids``/``in_delta`` and ``out_ids``/``out_delta`` (rows may repeat:
    apply with a scatter-add), the batch's mean ``loss`` and ``weight`` (its targets with some context).
    Shared by the Keras model's ``train_step`` and the parameter-server step.
    """
    import tensorflow as tf

    w = window
    target = tf.cast(target, tf.int32)
    d = dim
    offsets = [-o for o in range(1, w + 1)] + list(range(1, w + 1))  # window columns
    b = target.shape[0] if target.shape[0] is not None else tf.shape(target)[0]
    n_span = span.shape[0] if span.shape[0] is not None else tf.shape(span)[0]
    g = (n_span - b) // (2 * w)  # segments per batch: the span holds g·(seg + 2w) ids for b = g·seg targets
    seg = b // g
    # (segments, seg + 2w, d): each context row is read once per segment, not once per window
    rows = tf.reshape(read_in(span), [g, seg + 2 * w, d])
    mask = tf.cast(in_window, tf.float32)  # (B, 2w)
    mask3 = tf.reshape(mask, [g, seg, 2 * w])
    count = tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
    # CBOW projection as a sum of shifted slices of each span (dense, fused by XLA; no gather).
    h = tf.reshape(
        tf.add_n([rows[:, w + o : w + o + seg] * mask3[:, :, c : c + 1] for c, o in enumerate(offsets)]), [b, d]
    )
    if cbow_mean:
        h = h / count
    neg = tf.cast(neg, tf.int32)
    words = tf.concat([target[:, None], neg], axis=1)  # (B, 1 + negative)
    valid = tf.concat(
        [tf.ones_like(target[:, None], tf.float32), tf.cast(tf.not_equal(neg, target[:, None]), tf.float32)], axis=1
    )
    out = tf.reshape(read_out(tf.reshape(words, [-1])), [b, -1, d])  # (B, K+1, d); 1-D ids (sharded tables)
    logits = tf.einsum("bd,bkd->bk", h, out)
    labels = tf.concat([tf.ones_like(logits[:, :1]), tf.zeros_like(logits[:, 1:])], axis=1)
    real = tf.reduce_max(mask, axis=1)  # targets with no context word update nothing
    # word2vec's g / alpha; gensim skips a word whose score is at or beyond ±MAX_EXP (measured +0.2 pt analogy)
    live = valid * tf.cast(tf.abs(logits) < MAX_EXP, tf.float32)
    err = (labels - tf.sigmoid(logits)) * live * real[:, None]
    loss_per_example = -tf.reduce_sum(
        valid * (labels * tf.math.log_sigmoid(logits) + (1 - labels) * tf.math.log_sigmoid(-logits)), axis=1
    )
    neu1e = tf.einsum("bk,bkd->bd", err, out)
    if not cbow_mean:
        neu1e = neu1e / count
    # Every context word gets the full error (word2vec / gensim), summed per span position.
    neu1e3 = tf.reshape(neu1e, [g, seg, d])
    span_delta = tf.reshape(
        tf.add_n([
            tf.pad(neu1e3 * mask3[:, :, c : c + 1], [[0, 0], [w + o, w - o], [0, 0]]) for c, o in enumerate(offsets)
        ]),
        [-1, d],
    )
    weight = tf.reduce_sum(real)
    return {
        "in_ids": span, "in_delta": span_delta,
        "out_ids": tf.reshape(words, [-1]), "out_delta": tf.reshape(err[:, :, None] * h[:, None, :], [-1, d]),
        "loss": tf.reduce_sum(loss_per_example * real) / tf.maximum(weight, 1.0), "weight": weight,
    }
