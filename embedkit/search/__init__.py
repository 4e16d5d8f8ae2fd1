"""Searching a vector set: indexes and queries. FAISS is imported only when an index needs it.

Stage map: ``base`` (the :class:`Index` protocol and what every index shares), ``kinds/`` (one class per index
kind: exact, hnsw, ivf, and their registry), ``store`` (index files and the indexes kept beside a native set),
``recall`` (recall@k against exact search), ``vector_index`` (:class:`VectorIndex`, the facade over the kinds),
``sharded`` (sharded and on-disk indexes for sets beyond memory), ``queries`` (neighbours, similarity,
analogies, doesnt-match).
"""

from __future__ import annotations

from embedkit.lazy import lazy_exports

_EXPORTS = {
    "Index": "embedkit.search.base",
    "INDEX_KINDS": "embedkit.search.kinds",
    "VectorIndex": "embedkit.search.vector_index",
    "RecallReport": "embedkit.search.recall",
    "neighbours": "embedkit.search.queries",
    "neighbours_of": "embedkit.search.queries",
    "most_similar": "embedkit.search.queries",
    "similarity": "embedkit.search.queries",
    "analogy": "embedkit.search.queries",
    "doesnt_match": "embedkit.search.queries",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)
