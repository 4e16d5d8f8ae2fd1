"""The ``hnsw`` index kind: FAISS ``IndexHNSWFlat`` with inner product over unit vectors (fast, approximate).

Parameters: ``M`` (links per node), ``ef_construction`` and ``ef_search`` (candidate list sizes).

>>> import numpy as np
>>> idx = HNSWIndex(4)
>>> idx.add(np.random.default_rng(0).standard_normal((100, 4)))
>>> idx.ntotal, idx.params["M"]
(100, 32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedkit.progress import ProgressArg, Reporter
from embedkit.search.base import FaissIndex, as_rows, check_params, import_faiss, unit_rows

DEFAULT_HNSW = {"M": 32, "ef_construction": 80, "ef_search": 48}


class HNSWIndex(FaissIndex):
    """Approximate cosine search with a FAISS HNSW graph (see the module docstring for parameters)."""

    kind = "hnsw"
    search_options = ("ef_search",)

    def complete_params(self, params: dict[str, Any]) -> dict[str, Any]:
        check_params(self.kind, params, DEFAULT_HNSW)
        return {**params, **{k: v for k, v in DEFAULT_HNSW.items() if k not in params}}

    @property
    def faiss_index(self) -> Any:
        """The ``IndexHNSWFlat`` (created empty on first use)."""
        if self.index is None:
            faiss = import_faiss()
            index = faiss.IndexHNSWFlat(self.dim, int(self.params["M"]), faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = int(self.params["ef_construction"])
            index.hnsw.efSearch = int(self.params["ef_search"])
            self.index = index
        return self.index

    def add(self, vectors: np.ndarray, *, progress: ProgressArg = None, batch_size: int = 50_000) -> None:
        """Normalise and append rows; ``progress`` receives ``index`` events."""
        vectors = as_rows(vectors, self.dim)
        n = vectors.shape[0]
        if n == 0:
            return
        with Reporter(progress, "index", total=n, unit="vectors", description=f"Building {self.kind} index") as rep:
            index = self.faiss_index
            for s in range(0, n, batch_size):
                block = unit_rows(vectors[s : s + batch_size])
                index.add(block)
                rep.advance(len(block))

    def _search_params(self, faiss: Any, k: int, ef_search: int | None = None) -> Any:
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(int(ef_search or self.params["ef_search"]), k)
        return params
