"""word2vec's CBOW negative-sampling update, in TensorFlow ops, and the input table it starts from.

Shared by the Keras model (:class:`embedkit.train.model.CBOWModel`) and the parameter-server step
(:class:`embedkit.train.parameter_server.ShardedCBOW`). Importing this module imports neither Keras nor
TensorFlow: :func:`cbow_batch_update` imports TensorFlow when it is traced.

As word2vec C and gensim do with ``cbow_mean=1``, every context word receives the full error of the
projection (not a share of it); with ``cbow_mean=0`` the error is divided by the context size. As gensim,
a word whose score ``|h·u| >= 6`` (gensim's ``MAX_EXP``) is skipped for that example, and the input vectors
start uniform in ``[-1/dim, 1/dim)`` (:func:`initial_input_vectors`).

>>> initial_input_vectors(3, 2, seed=0).shape
(4, 2)
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


def cbow_batch_update(
    read_in: Any, read_out: Any, span: Any, in_window: Any, target: Any, neg: Any,
    *, dim: int, window: int, cbow_mean: bool = True,
) -> dict[str, Any]:
    """word2vec's CBOW negative-sampling update for one batch, as sparse row deltas (to add, times alpha).

    ``span``, ``in_window``, ``target`` and ``neg`` are one batch as :meth:`embedkit.train.batches.BatchMaker.make_chunk`
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
