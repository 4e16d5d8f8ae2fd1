"""Helpers for Keras model code: a pretrained ``Embedding`` layer in one call.

from embedkit.matrix.layers import pretrained_embedding
vectorizer = keras.layers.TextVectorization(max_tokens=20000, output_sequence_length=200)
vectorizer.adapt(train_texts)
embed = pretrained_embedding(vectorizer, "glove-6b-50d", trainable=False)
x = embed(vectorizer(inputs))

Keras and TensorFlow are imported only when a layer is made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from embedkit.errors import EmbedkitError
from embedkit.matrix.builder import EmbeddingMatrix, build_embedding_matrix
from embedkit.text.tokenizer import Tokenizer


def pretrained_embedding(
    vectorizer_or_vocab: Any,
    vectors: Any,
    trainable: bool = False,
    *,
    mask_zero: bool = False,
    oov: str = "random",
    seed: int | None = None,
    name: str | None = None,
    output_dim: int | None = None,
    **options: Any,
) -> Any:
    """A ``keras.layers.Embedding`` initialised from pretrained ``vectors`` for a tokenizer's ids.

    Args:
        vectorizer_or_vocab: a TextVectorization layer, Keras word_index, list vocabulary or any tokenizer
            :func:`embedkit.matrix.builder.build_embedding_matrix` accepts.
        vectors: WordVectors, gensim KeyedVectors, word → vector dict, or a path / named set.
        trainable: fine-tune the vectors with the model (False keeps them frozen).
        mask_zero: mask id 0 (needs id 0 to be padding).
        oov: initialiser for uncovered words: ``random``, ``zeros``, ``mean`` or ``fail``.
        seed: seed of the ``random`` initialiser.
        name: the layer name.
        output_dim: the embedding size your model expects; raises if the vectors differ.
        **options: more :func:`~embedkit.matrix.builder.build_embedding_matrix` options (``lowercase_fallback``,
            ``num_words``, ``counts``, ...).

    Example:
        import numpy as np
        from embedkit.vectors.word_vectors import WordVectors
        wv = WordVectors(["hi"], np.ones((1, 4), np.float32))
        pretrained_embedding(["", "hi"], wv).output_dim
        4
    """
    em = build_embedding_matrix(vectorizer_or_vocab, vectors, oov=oov, seed=seed, dim=output_dim, **options)
    return em.embedding_layer(trainable=trainable, mask_zero=mask_zero, name=name)


def pretrained_embedding_with_report(
    vectorizer_or_vocab: Any, vectors: Any, trainable: bool = False, **kwargs: Any
) -> tuple[Any, EmbeddingMatrix]:
    """Like :func:`pretrained_embedding`, also returning the :class:`~embedkit.matrix.builder.EmbeddingMatrix`
    (its ``.coverage`` says how many words the vectors covered).

    Example:
        layer, em = pretrained_embedding_with_report(vectorizer, "glove-6b-50d")
        em.coverage.type_coverage
        0.93
    """
    mask_zero = kwargs.pop("mask_zero", False)
    name = kwargs.pop("name", None)
    output_dim = kwargs.pop("output_dim", None)
    em = build_embedding_matrix(vectorizer_or_vocab, vectors, dim=output_dim, **kwargs)
    return em.embedding_layer(trainable=trainable, mask_zero=mask_zero, name=name), em


def keras_word_index(
    texts: Iterable[str], num_words: int | None = None, oov_token: str | None = None, lower: bool = True
) -> tuple[dict[str, int], dict[str, int]]:
    """``(word_index, word_counts)`` as the legacy Keras ``Tokenizer`` (gone from Keras 3) builds them.

    Words are split on whitespace and the default filter characters, ranked by frequency (ties keep first
    appearance), numbered from 1 (after ``oov_token`` when given). ``num_words`` is kept so you can pass it on
    to :func:`build_embedding_matrix`; the index itself holds every word, as in Keras.

    >>> keras_word_index(["The cat, the hat."])[0]
    {'the': 1, 'cat': 2, 'hat': 3}
    """
    if num_words is not None and (isinstance(num_words, bool) or not isinstance(num_words, int) or num_words < 1):
        raise EmbedkitError(f"`num_words` must be a positive integer. Received: num_words={num_words!r}")
    counts: Counter[str] = Counter()
    if isinstance(texts, str):
        texts = [texts]
    tokenize = Tokenizer.preset("keras", lower)
    for t in texts:
        counts.update(tokenize(t))
    ranked = sorted(counts, key=lambda w: -counts[w])  # stable: ties keep first-seen order
    ranked = [w for w in ranked if w != oov_token]
    words = ([oov_token] if oov_token else []) + ranked
    return {w: i for i, w in enumerate(words, start=1)}, dict(counts)
