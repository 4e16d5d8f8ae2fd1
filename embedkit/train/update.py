"""word2vec's negative-sampling updates (CBOW and skip-gram) in TensorFlow ops, and the input table they start from.

Shared by the Keras model (:class:`embedkit.train.model.CBOWModel`), the two-thread stepper
(:mod:`embedkit.train.steppers`) and the parameter-server step (:class:`embedkit.train.parameter_server.ShardedCBOW`).
Importing this module imports neither Keras nor TensorFlow: the functions import TensorFlow when they are traced.

The arithmetic is split from the table access: :func:`cbow_deltas` and :func:`sg_deltas` take the rows a batch
reads (gathered by the caller, inside or outside XLA) and return the row deltas to add (times the learning
rate) plus the batch's loss *sum* and example count, so a caller can keep an exact per-epoch mean.

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
"""Scores ``h·u`` at or beyond ±MAX_EXP update nothing for that word, as in gensim."""


def initial_input_vectors(vocab_size: int, dim: int, seed: int) -> np.ndarray:
    """The input table at the start of training: ``vocab_size`` rows uniform in ``[-1/dim, 1/dim)`` and a zero
    padding row, as gensim 4 initialises its vectors (word2vec C uses half that range; on mixed-en gensim's range
    gave +0.5 pt analogy accuracy over three seeds). Deterministic in ``seed``.

    >>> v = initial_input_vectors(1000, 4, seed=1)
    >>> v.shape, bool(abs(v[:-1]).max() <= 0.25), float(abs(v[-1]).max())
    ((1001, 4), True, 0.0)
    """
    rng = np.random.default_rng(seed)
    init = rng.random((vocab_size + 1, dim), dtype=np.float32)
    init *= 2.0
    init -= 1.0
    init /= dim
    init[vocab_size] = 0.0  # padding row: read for short windows, always masked
    return init


def window_offsets(window: int) -> list[int]:
    """The context columns of a batch: offsets -1..-window, then +1..+window.

    >>> window_offsets(2)
    [-1, -2, 1, 2]
    """
    return [-o for o in range(1, window + 1)] + list(range(1, window + 1))


def band_matrix(window: int, seg: int) -> np.ndarray:
    """``(2·window, seg + 2·window, seg)`` one-hot: entry ``[c, p, r]`` is 1 when span position ``p`` is the word at
    offset ``c`` of target ``r`` (``p = r + window + offset``).

    The CBOW projection of a segment is then ``A^T @ rows`` and the error sent back to its span is ``A @ err``, with
    ``A = Σ_c mask[:, c] · band[c]``: two small dense matrix products instead of 2·window shifted, padded copies.

    >>> band_matrix(1, 2)[:, :, 0].tolist()  # target 0 sits at span position 1: its left word is 0, right word 2
    [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]
    """
    band = np.zeros((2 * window, seg + 2 * window, seg), np.float32)
    r = np.arange(seg)
    for c, o in enumerate(window_offsets(window)):
        band[c, r + window + o, r] = 1.0
    return band


def _negative_sampling(h: Any, out: Any, target: Any, neg: Any, real: Any,
                       scale: Any = None) -> tuple[Any, Any, Any, Any]:
    """Scores of the target and its negatives against ``h``: ``(err, neu1e, loss_sum, weight)``.

    ``err`` (B, 1 + K) is word2vec's ``g`` (``g / alpha`` when ``scale`` is None; zero for skipped words, for
    negatives equal to the target and for examples with ``real == 0``); ``neu1e`` (B, d) the error sent back to the
    input side.
    """
    import tensorflow as tf

    logits = tf.einsum("bd,bkd->bk", h, out)
    valid = tf.concat(
        [tf.ones_like(target[:, None], tf.float32), tf.cast(tf.not_equal(neg, target[:, None]), tf.float32)], axis=1
    )
    labels = tf.concat([tf.ones_like(logits[:, :1]), tf.zeros_like(logits[:, 1:])], axis=1)
    # word2vec's g / alpha; gensim skips a word whose score is at or beyond ±MAX_EXP (measured +0.2 pt analogy)
    live = valid * tf.cast(tf.abs(logits) < MAX_EXP, tf.float32)
    err = (labels - tf.sigmoid(logits)) * live * real[:, None]
    if scale is not None:  # the learning rate, applied once here instead of on every delta row
        err = err * tf.cast(scale, tf.float32)
    signed = tf.where(labels > 0, logits, -logits)
    loss_per_example = -tf.reduce_sum(valid * tf.math.log_sigmoid(signed), axis=1)
    neu1e = tf.einsum("bk,bkd->bd", err, out)
    return err, neu1e, tf.reduce_sum(loss_per_example * real), tf.reduce_sum(real)


def cbow_deltas(
    span_rows: Any, out_rows: Any, in_window: Any, target: Any, neg: Any, *, window: int, cbow_mean: bool = True,
    scale: Any = None,
) -> dict[str, Any]:
    """word2vec's CBOW negative-sampling update of one batch from the rows it reads.

    Args:
        span_rows: ``(U, d)`` input rows of the batch's span (``U = g·(seg + 2·window)`` for ``g`` segments).
        out_rows: ``(B·(1 + K), d)`` output rows of each target followed by its ``K`` negatives.
        in_window, target, neg: the batch as :meth:`embedkit.train.batches.BatchMaker.make_chunk` makes it.

    Returns ``in_delta`` (U, d) for the span's rows, ``out_delta`` (B·(1+K), d) for the output rows (to add times
    the learning rate, or already times ``scale`` when given; ids repeat, so apply with a scatter-add),
    ``loss_sum`` (the batch's summed loss) and ``weight`` (its targets with some context).
    """
    import tensorflow as tf

    w = window
    d = span_rows.shape[-1]
    target = tf.cast(target, tf.int32)
    neg = tf.cast(neg, tf.int32)
    static = target.shape[0] is not None and span_rows.shape[0] is not None
    b = target.shape[0] if static else tf.shape(target)[0]
    g = ((span_rows.shape[0] if static else tf.shape(span_rows)[0]) - b) // (2 * w)  # segments per batch
    seg = b // g
    rows = tf.reshape(span_rows, [g, seg + 2 * w, d])
    mask = tf.cast(in_window, tf.float32)  # (B, 2w)
    mask3 = tf.reshape(mask, [g, seg, 2 * w])
    count = tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
    offsets = window_offsets(w)
    if static:  # A[g, p, r] = 1 when span position p is in target r's context (see band_matrix)
        a = tf.einsum("grc,cpr->gpr", mask3, tf.constant(band_matrix(w, seg)))
        h = tf.linalg.matmul(a, rows, transpose_a=True)  # sum of each target's context rows
    else:  # shapes known only when run (a strategy's loop): shifted slices of each span
        h = tf.add_n([rows[:, w + o : w + o + seg] * mask3[:, :, c : c + 1] for c, o in enumerate(offsets)])
    h = tf.reshape(h, [b, d])
    if cbow_mean:
        h = h / count
    out = tf.reshape(out_rows, [b, -1, d])
    real = tf.reduce_max(mask, axis=1)  # targets with no context word update nothing
    err, neu1e, loss_sum, weight = _negative_sampling(h, out, target, neg, real, scale)
    if not cbow_mean:
        neu1e = neu1e / count
    # every context word gets the full error (word2vec / gensim), summed per span position
    neu1e3 = tf.reshape(neu1e, [g, seg, d])
    if static:
        in_delta = tf.reshape(tf.linalg.matmul(a, neu1e3), [-1, d])
    else:
        in_delta = tf.reshape(tf.add_n([tf.pad(neu1e3 * mask3[:, :, c : c + 1], [[0, 0], [w + o, w - o], [0, 0]])
                                        for c, o in enumerate(offsets)]), [-1, d])
    out_delta = tf.reshape(err[:, :, None] * h[:, None, :], [-1, d])
    return {"in_delta": in_delta, "out_delta": out_delta, "loss_sum": loss_sum, "weight": weight}


def sg_deltas(in_rows: Any, out_rows: Any, target: Any, neg: Any, live: Any, scale: Any = None) -> dict[str, Any]:
    """word2vec's skip-gram negative-sampling update of one batch of (context, target) pairs.

    As gensim's ``fast_sentence_sg_neg``: the input vector of the context word predicts the target (the word at
    the window's centre) against ``K`` noise words. ``in_rows`` (P, d) are the pairs' context rows, ``out_rows``
    (P·(1+K), d) each pair's target row then its negatives, ``live`` (P,) 1 for real pairs, 0 for padding.
    Returns ``in_delta`` (P, d), ``out_delta``, ``loss_sum`` and ``weight`` as :func:`cbow_deltas`.
    """
    import tensorflow as tf

    d = in_rows.shape[-1]
    target = tf.cast(target, tf.int32)
    neg = tf.cast(neg, tf.int32)
    p = target.shape[0]
    out = tf.reshape(out_rows, [p, -1, d])
    real = tf.cast(live, tf.float32)
    err, neu1e, loss_sum, weight = _negative_sampling(in_rows, out, target, neg, real, scale)
    out_delta = tf.reshape(err[:, :, None] * in_rows[:, None, :], [-1, d])
    return {"in_delta": neu1e, "out_delta": out_delta, "loss_sum": loss_sum, "weight": weight}


def output_ids(target: Any, neg: Any) -> Any:
    """The output rows a batch reads: each target followed by its negatives, flattened (B·(1+K),)."""
    import tensorflow as tf

    return tf.reshape(tf.concat([tf.cast(target, tf.int32)[:, None], tf.cast(neg, tf.int32)], axis=1), [-1])


def cbow_batch_update(
    read_in: Any, read_out: Any, span: Any, in_window: Any, target: Any, neg: Any,
    *, dim: int, window: int, cbow_mean: bool = True,
) -> dict[str, Any]:
    """word2vec's CBOW negative-sampling update for one batch, as sparse row deltas (to add, times alpha).

    ``read_in`` / ``read_out`` gather rows of the input / output tables (``Variable.sparse_read`` of a plain
    or a sharded variable). Returns :func:`cbow_deltas`' result plus ``in_ids`` / ``out_ids`` (rows may repeat:
    apply with a scatter-add) and the batch's mean ``loss``.
    """
    import tensorflow as tf

    words = output_ids(target, neg)
    up = cbow_deltas(read_in(span), read_out(words), in_window, target, neg, window=window, cbow_mean=cbow_mean)
    up["in_ids"], up["out_ids"] = span, words
    up["loss"] = up["loss_sum"] / tf.maximum(up["weight"], 1.0)
    return up
