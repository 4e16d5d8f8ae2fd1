"""Index kinds: one class per kind, one module each, listed in :data:`INDEX_KINDS`.

- ``exact`` (:class:`~embedkit.search.kinds.exact.ExactIndex`): brute-force inner product over unit vectors,
  stored as a memory-mapped ``.npy`` (a one-off query needs neither FAISS nor a copy of the vectors);
- ``hnsw`` (:class:`~embedkit.search.kinds.hnsw.HNSWIndex`): FAISS ``IndexHNSWFlat``, fast approximate search;
- ``ivf`` (:class:`~embedkit.search.kinds.ivf.IVFIndex`): FAISS ``IVF<nlist>,Flat`` (or ``,PQ<m>``) for very
  large sets.

A new kind is one module with a class that follows :class:`~embedkit.search.base.Index` (plus ``file_suffix``,
``search_options`` and ``search(queries, k, *, limit=None, ...)``) and one line here.

>>> INDEX_KINDS.names()
['exact', 'hnsw', 'ivf']
"""

from __future__ import annotations

from typing import Any

from embedkit.registry import Registry

INDEX_KINDS: Registry[Any] = Registry(
    "kind",
    {
        "exact": "embedkit.search.kinds.exact:ExactIndex",
        "hnsw": "embedkit.search.kinds.hnsw:HNSWIndex",
        "ivf": "embedkit.search.kinds.ivf:IVFIndex",
    },
)
"""Index kinds by name; an entry is an index class (see the module docstring)."""
