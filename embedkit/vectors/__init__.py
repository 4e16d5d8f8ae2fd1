"""Word vectors at rest: the :class:`WordVectors` object, file formats, named sets, opening a set.

Stage map: ``formats/`` reads and writes files (native mmap directory, word2vec text / binary, GloVe text);
``home`` and ``named`` resolve names in ``EMBEDKIT_HOME`` and install known sets; ``loading`` opens whatever
a user names; ``info`` summarises a set.

>>> from embedkit.vectors import WordVectors
>>> WordVectors(["a"], [[1.0, 2.0]]).dim
2
"""

from __future__ import annotations

from embedkit.lazy import lazy_exports
from embedkit.vectors.word_vectors import WordVectors

_EXPORTS = {
    "load_vectors": "embedkit.vectors.loading",
    "open_vectors": "embedkit.vectors.vector_set",
    "VectorSet": "embedkit.vectors.vector_set",
    "read_vectors": "embedkit.vectors.formats",
    "write_vectors": "embedkit.vectors.formats",
    "describe": "embedkit.vectors.info",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = ["WordVectors", *_EXPORTS]
