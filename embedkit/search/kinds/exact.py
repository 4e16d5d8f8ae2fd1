"""The ``exact`` index kind: brute-force inner product over stored unit vectors (what ``IndexFlatIP`` does).

Stored as a ``.npy`` of unit vectors and opened as a memory map, so a one-off query needs neither FAISS nor a
copy of the vectors; a few queries use one numpy matrix product, batches ``faiss.knn``.

>>> import numpy as np
>>> idx = ExactIndex(2)
>>> idx.add(np.array([[3.0, 4.0], [1.0, 0.0]]))
>>> idx.search(np.array([[1.0, 0.0]]), k=1)[1].tolist()
[[1]]
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np

from embedkit.errors import EmbedkitError, check_positive_int
from embedkit.files.atomic import atomic_path
from embedkit.progress import ProgressArg, Reporter
from embedkit.search.base import as_queries, as_rows, check_k, check_params, corrupt_error, import_faiss, unit_rows


class ExactIndex:
    """Exact cosine search over unit vectors kept in one float32 array (a read-only memory map when loaded).

    Args:
        dim: dimensionality of the vectors.
        **params: none (an unknown parameter raises).
    """

    kind: ClassVar[str] = "exact"
    file_suffix: ClassVar[str] = ".npy"
    search_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, dim: int, **params: Any) -> None:
        check_params(self.kind, params, ())
        self.dim = check_positive_int("dim", dim)
        self.params: dict[str, Any] = {}
        self.unit_vectors: np.ndarray = np.zeros((0, dim), np.float32)

    @classmethod
    def from_unit_vectors(cls, unit: np.ndarray) -> ExactIndex:
        """An index over rows that are already unit length, sharing ``unit`` (no copy)."""
        if unit.ndim != 2:
            raise EmbedkitError(f"`unit` must be a 2-D array. Received: shape={unit.shape}")
        idx = cls(int(unit.shape[1]))
        idx.unit_vectors = unit
        return idx

    @property
    def ntotal(self) -> int:
        """Number of indexed vectors."""
        return int(self.unit_vectors.shape[0])

    @property
    def faiss_index(self) -> Any:
        """An ``IndexFlatIP`` holding a copy of the unit vectors."""
        faiss = import_faiss()
        flat = faiss.IndexFlatIP(self.dim)
        if self.ntotal:
            flat.add(np.ascontiguousarray(self.unit_vectors, dtype=np.float32))
        return flat

    def add(self, vectors: np.ndarray, *, progress: ProgressArg = None, batch_size: int = 50_000) -> None:
        """Normalise and append rows; ``progress`` receives ``index`` events."""
        vectors = as_rows(vectors, self.dim)
        n = vectors.shape[0]
        if n == 0:
            return
        with Reporter(progress, "index", total=n, unit="vectors", description=f"Building {self.kind} index") as rep:
            have = self.ntotal
            out = np.empty((have + n, self.dim), np.float32)
            out[:have] = self.unit_vectors
            for s in range(0, n, batch_size):
                out[have + s : have + s + batch_size] = unit_rows(vectors[s : s + batch_size])
                rep.advance(min(batch_size, n - s))
            self.unit_vectors = out

    def search(self, queries: np.ndarray, k: int = 10, *, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` cosine neighbours among ids < ``limit`` (all by default): ``(scores, ids)``."""
        q = unit_rows(as_queries(queries, self.dim))
        codes = self.unit_vectors if limit is None else self.unit_vectors[:limit]
        return exact_search(codes, q, check_k(k))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the unit vectors as a ``.npy`` file, atomically."""
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.asarray(self.unit_vectors, dtype=np.float32), allow_pickle=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str], **params: Any) -> ExactIndex:
        """Open a file written by :meth:`save` as a read-only memory map (instant)."""
        try:
            codes = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:
            raise corrupt_error(path, str(e).splitlines()[0][:160] if str(e) else type(e).__name__) from None
        if codes.ndim != 2 or codes.dtype != np.float32:
            raise corrupt_error(path, f"expected a 2-D float32 array, got {codes.dtype} {codes.shape}")
        idx = cls(int(codes.shape[1]), **params)
        idx.unit_vectors = codes
        return idx


def exact_search(codes: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` inner products of each query row against ``codes`` (both float32): ``(scores, ids)``.

    A few queries use one numpy matrix product (no FAISS import: fast for one-off CLI queries); batches
    use ``faiss.knn`` (blocked BLAS + heaps, like ``IndexFlatIP``).

    >>> import numpy as np
    >>> exact_search(np.eye(3, dtype=np.float32), np.array([[0.0, 2.0, 1.0]], np.float32), 2)[1].tolist()
    [[1, 2]]
    """
    k = min(k, len(codes))
    if len(queries) <= 4:
        sims = queries @ np.asarray(codes).T
        if k < sims.shape[1]:
            part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(sims.shape[1]), sims.shape)
        top = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-top, axis=1, kind="stable")
        return np.take_along_axis(top, order, 1), np.take_along_axis(part, order, 1).astype(np.int64)
    faiss = import_faiss()
    codes = np.ascontiguousarray(codes, dtype=np.float32)
    return faiss.knn(np.ascontiguousarray(queries, dtype=np.float32), codes, k, metric=faiss.METRIC_INNER_PRODUCT)
