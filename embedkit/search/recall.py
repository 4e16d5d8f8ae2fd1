"""How good an approximate index is: recall@k against exact search, and both speeds.

>>> import numpy as np
>>> from embedkit.search.vector_index import VectorIndex
>>> x = np.random.default_rng(0).standard_normal((300, 8)).astype(np.float32)
>>> recall_at_k(VectorIndex.build(x, kind="hnsw"), x, k=5, sample=30).recall > 0.9
True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError, check_positive_int
from embedkit.search.base import top_k, unit_rows


@dataclass
class RecallReport:
    """Result of :func:`recall_at_k`: mean recall of the index's top-k vs exact search."""

    kind: str
    k: int
    sample: int
    recall: float
    index_qps: float
    exact_qps: float

    @property
    def speedup(self) -> float:
        """How many times faster than exact search the index answered the sample."""
        return self.index_qps / self.exact_qps if self.exact_qps else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return {**asdict(self), "speedup": self.speedup}


def recall_at_k(
    index: Any,
    vectors: Any,
    *,
    k: int = 10,
    sample: int = 1000,
    seed: int = 0,
    restrict_vocab: int | None = None,
) -> RecallReport:
    """Mean recall@k of ``index`` (a :class:`~embedkit.search.vector_index.VectorIndex`) against exact search,
    on ``sample`` rows of the indexed ``vectors`` (an array or ``WordVectors``) used as queries.

    Each sampled word is a query; it is excluded from both result lists (neighbour semantics).
    """
    from embedkit.search.kinds.exact import ExactIndex

    check_positive_int("k", k)
    check_positive_int("sample", sample)
    arr = getattr(vectors, "vectors", vectors)
    if arr.shape[0] != index.ntotal or arr.shape[1] != index.dim:
        raise EmbedkitError(
            f"The vectors must be the indexed ones. Received: shape={arr.shape}, index has {index.ntotal}x{index.dim}"
        )
    rng = np.random.default_rng(seed)
    limit = index.ntotal if restrict_vocab is None else min(restrict_vocab, index.ntotal)
    rows = np.sort(rng.choice(limit, size=min(sample, limit), replace=False))
    q = unit_rows(arr[rows])
    exclude = [{int(r)} for r in rows]
    truth_index = None if index.kind == "exact" else ExactIndex.from_unit_vectors(unit_rows(arr))

    def exact() -> Any:
        if truth_index is None:  # an exact index is its own truth
            return index.search(q, k, exclude=exclude, restrict_vocab=restrict_vocab)
        return top_k(truth_index, q, k, exclude=exclude, restrict_vocab=restrict_vocab)

    exact_qps, (_, truth) = _timed(exact, len(q))
    qps, (_, got) = _timed(lambda: index.search(q, k, exclude=exclude, restrict_vocab=restrict_vocab), len(q))
    hits = sum(len(set(t[t >= 0].tolist()) & set(g[g >= 0].tolist())) for t, g in zip(truth, got))
    total = int((truth >= 0).sum()) or 1
    return RecallReport(index.kind, k, len(rows), hits / total, qps, exact_qps)


def _timed(fn: Callable[[], Any], n: int) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    return (n / dt if dt > 0 else float("inf")), out
