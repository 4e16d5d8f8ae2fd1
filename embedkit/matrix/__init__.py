"""Keras embedding matrices for any tokenizer: tokenizer adapters, the matrix builder with its OOV
fallbacks and coverage report, and ready ``keras.layers.Embedding`` helpers.

- :mod:`~embedkit.matrix.adapters`: tokenizer / vocabulary objects → :class:`~embedkit.text.vocabulary.Vocabulary`
  (the ``ADAPTERS`` registry, ``as_vocab``, vocabulary files);
- :mod:`~embedkit.matrix.builder`: :func:`build_embedding_matrix` (fallback chain, OOV initialisers, coverage);
- :mod:`~embedkit.matrix.layers`: ``pretrained_embedding`` and the legacy Keras ``word_index``.
"""

from __future__ import annotations

from embedkit.lazy import lazy_exports

_EXPORTS = {
    "build_embedding_matrix": "embedkit.matrix.builder",
    "EmbeddingMatrix": "embedkit.matrix.builder",
    "CoverageReport": "embedkit.matrix.builder",
    "as_vocab": "embedkit.matrix.adapters",
    "ADAPTERS": "embedkit.matrix.adapters",
    "read_vocab_file": "embedkit.matrix.adapters",
    "pretrained_embedding": "embedkit.matrix.layers",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)
