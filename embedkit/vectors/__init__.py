"""Word vectors at rest: the :class:`WordVectors` object, file formats, named sets, opening a set.

Stage map: ``formats/`` reads and writes files (native mmap directory, word2vec text / binary, GloVe text)
as tables; ``word_vectors`` is the in-memory set; ``loading`` reads / writes it (``read_vectors``,
``write_vectors``, ``load_vectors``); ``home`` knows ``EMBEDKIT_HOME`` (paths, names, the default),
``named`` the known installable sets, ``catalog`` (above both) resolves what a user names; ``vector_set``
opens a set once (``open_vectors``); ``info`` summarises one.

>>> from embedkit.vectors import WordVectors
>>> WordVectors(["a"], [[1.0, 2.0]]).dim
2
"""

from __future__ import annotations

from embedkit.lazy import lazy_exports

_EXPORTS = {
    "WordVectors": "embedkit.vectors.word_vectors",
    "load_vectors": "embedkit.vectors.loading",
    "open_vectors": "embedkit.vectors.vector_set",
    "VectorSet": "embedkit.vectors.vector_set",
    "read_vectors": "embedkit.vectors.loading",
    "write_vectors": "embedkit.vectors.loading",
    "describe": "embedkit.vectors.info",
    "describe_set": "embedkit.vectors.info",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)
