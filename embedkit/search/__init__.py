"""Searching a vector set: FAISS indexes (exact, HNSW, IVF, sharded, on-disk) and queries (neighbours,
similarity, analogies, doesnt-match). FAISS is imported only when an index needs it."""

from __future__ import annotations

from embedkit.lazy import lazy_exports

_EXPORTS = {
    "VectorIndex": "embedkit.search.vector_index",
    "neighbours": "embedkit.search.queries",
    "most_similar": "embedkit.search.queries",
    "similarity": "embedkit.search.queries",
    "analogy": "embedkit.search.queries",
    "doesnt_match": "embedkit.search.queries",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)
