"""Keras embedding matrices for any tokenizer: tokenizer adapters, the matrix builder with its OOV
fallbacks and coverage report, and ready ``keras.layers.Embedding`` helpers."""

from __future__ import annotations

from embedkit.lazy import lazy_exports

_EXPORTS = {
    "build_embedding_matrix": "embedkit.matrix.builder",
    "EmbeddingMatrix": "embedkit.matrix.builder",
    "CoverageReport": "embedkit.matrix.builder",
    "as_vocab": "embedkit.matrix.adapters",
    "pretrained_embedding": "embedkit.matrix.layers",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)
