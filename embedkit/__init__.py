"""embedkit: word embeddings for Keras users.

Train CBOW word2vec in Keras, load GloVe / word2vec files fast, search neighbours with FAISS, build Keras
embedding matrices for any tokenizer, and evaluate vectors intrinsically and downstream.

>>> import embedkit
>>> embedkit.__version__
'0.1.0'

Heavy dependencies (TensorFlow, FAISS) are imported only by the functions that need them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_EXPORTS = {
    "WordVectors": "embedkit.vectors.word_vectors",
    "load_vectors": "embedkit.vectors.loading",
    "open_vectors": "embedkit.vectors.vector_set",
    "EmbedkitError": "embedkit.errors",
    "FormatError": "embedkit.errors",
    "UnknownWordError": "embedkit.errors",
    "read_vectors": "embedkit.vectors.loading",
    "write_vectors": "embedkit.vectors.loading",
    "train_cbow": "embedkit.train.trainer",
    "CBOWConfig": "embedkit.train.trainer",
    "build_embedding_matrix": "embedkit.matrix.builder",
    "VectorIndex": "embedkit.search.vector_index",
    "evaluate_analogies": "embedkit.evaluate.analogies",
    "evaluate_word_pairs": "embedkit.evaluate.word_pairs",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'embedkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
