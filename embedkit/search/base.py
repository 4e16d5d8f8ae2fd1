"""What every index shares: the :class:`Index` protocol, row normalisation, the FAISS import, and
:func:`top_k`, the search semantics of :class:`~embedkit.search.vector_index.VectorIndex` over any kind
(only the first N ids, excluded ids dropped, results padded to k).

Rows are normalised when added and queries when searched, so inner products are cosine similarities.

>>> import numpy as np
>>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
[[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from embedkit.errors import EmbedkitError, check_positive_int
from embedkit.progress import ProgressArg


@runtime_checkable
class Index(Protocol):
    """A cosine-similarity index over unit vectors.

    Implemented by each index kind (``exact``, ``hnsw``, ``ivf``), by the
    :class:`~embedkit.search.vector_index.VectorIndex` facade, and by the sharded and on-disk indexes of
    :mod:`embedkit.search.sharded`. ``search`` returns ``(scores, ids)`` shaped (nq, k), id -1 where there is
    no result; ``add`` appends rows (ids continue from ``ntotal``).
    """

    kind: str
    dim: int

    @property
    def ntotal(self) -> int: ...

    @property
    def params(self) -> dict[str, Any]: ...

    def add(self, vectors: np.ndarray, *, progress: ProgressArg = None) -> None: ...

    def search(self, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, path: str | os.PathLike[str]) -> Any: ...

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Index: ...


def import_faiss() -> Any:
    """The ``faiss`` module (imported on first use), or a one-line error when it is missing."""
    try:
        import faiss
    except ImportError:  # pragma: no cover - faiss-cpu is a dependency
        raise EmbedkitError("FAISS is needed for this index. Received: no faiss module (pip install faiss-cpu)") from None
    return faiss


def unit_rows(block: np.ndarray) -> np.ndarray:
    """A float32 C-contiguous copy of ``block`` with rows scaled to unit length (zero rows stay zero)."""
    out = np.array(block, dtype=np.float32, order="C", ndmin=2)
    n = np.sqrt(np.einsum("ij,ij->i", out, out))
    n[n == 0] = 1.0
    out /= n[:, None]
    return out


PAD_LIMIT = 1 << 26  # results (queries x k) a search may pad with -1 beyond the indexed vectors


def check_k(k: object) -> int:
    """``k`` if it is a positive integer, else a one-line error."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise EmbedkitError(f"`k` must be a positive integer. Received: k={k!r}")
    return int(k)


def as_queries(queries: np.ndarray, dim: int) -> np.ndarray:
    """Query rows as a float32 (nq, dim) array (one 1-D query becomes one row); wrong shapes raise."""
    q = np.asarray(queries, dtype=np.float32)
    if q.ndim == 1:
        q = q[None, :]
    if q.ndim != 2 or q.shape[1] != dim:
        raise EmbedkitError(f"Query vectors must have dimension {dim} to match the index. Received: shape={q.shape}")
    return q


def as_rows(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Rows to add as an (n, dim) array; wrong shapes raise."""
    vectors = vectors if isinstance(vectors, np.ndarray) else np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise EmbedkitError(f"Vectors must have dimension {dim} to match the index. Received: shape={vectors.shape}")
    return vectors


def check_params(kind: str, params: dict[str, Any], allowed: Collection[str], flags: Collection[str] = ()) -> None:
    """A one-line error for a parameter ``kind`` does not take, or a non-positive value (``flags`` are bools)."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise EmbedkitError(
            f"Parameters for a {kind} index must be among {sorted(allowed) or 'none'}. Received: {', '.join(unknown)}"
        )
    for key, value in params.items():
        if key not in flags and value is not None:
            check_positive_int(key, value)


def corrupt_error(path: os.PathLike[str] | str, detail: str) -> EmbedkitError:
    """The one-line error for an index file that cannot be read."""
    return EmbedkitError(
        f"The index file is corrupted or not an embedkit index; rebuild it with `embedkit index build`. "
        f"Received: {path} ({detail})"
    )


class FaissIndex:
    """What the FAISS-backed kinds (``hnsw``, ``ivf``) share: the FAISS object, its file, its search call.

    Subclasses set ``kind``, ``search_options`` and implement ``_new_index`` / ``add`` / ``_search_params``.
    """

    kind: ClassVar[str] = ""
    file_suffix: ClassVar[str] = ".faiss"
    search_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, dim: int, **params: Any) -> None:
        self.dim = check_positive_int("dim", dim)
        self.params: dict[str, Any] = self.complete_params(params)
        self.index: Any = None  # the FAISS index (created on first add, or read by load)

    def complete_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Check ``params`` and fill in the defaults."""
        raise NotImplementedError

    @property
    def ntotal(self) -> int:
        """Number of indexed vectors."""
        return 0 if self.index is None else int(self.index.ntotal)

    @property
    def faiss_index(self) -> Any:
        """The underlying FAISS index."""
        raise NotImplementedError

    @property
    def faiss_version(self) -> str | None:
        """The version of FAISS writing the index (recorded beside it)."""
        return getattr(import_faiss(), "__version__", None)

    def _search_params(self, faiss: Any, k: int, **options: Any) -> Any:
        raise NotImplementedError

    def search(self, queries: np.ndarray, k: int = 10, *, limit: int | None = None,
               **options: Any) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` cosine neighbours among ids < ``limit`` (all by default): ``(scores, ids)``."""
        faiss = import_faiss()
        q = unit_rows(as_queries(queries, self.dim))
        index = self.faiss_index
        params = self._search_params(faiss, check_k(k), **options)
        sel = None
        if limit is not None and limit < index.ntotal:
            sel = faiss.IDSelectorRange(0, limit)  # kept referenced until the search returns
            params.sel = sel
        out = index.search(q, int(k), params=params)
        del sel
        return out

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the FAISS file to ``path`` atomically."""
        from embedkit.files.atomic import atomic_path

        faiss = import_faiss()
        index = self.faiss_index
        with atomic_path(path) as tmp:
            faiss.write_index(index, str(tmp))

    @classmethod
    def load(cls, path: str | os.PathLike[str], **params: Any) -> FaissIndex:
        """Open a FAISS file written by :meth:`save` (``params`` as recorded when it was built)."""
        faiss = import_faiss()
        try:
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
        except RuntimeError as e:
            lines = str(e).strip().splitlines()
            raise corrupt_error(path, lines[-1][:160] if lines else type(e).__name__) from None
        out = cls(int(index.d), **params)
        out.index = index
        return out


def top_k(
    index: Any,
    queries: np.ndarray,
    k: int = 10,
    *,
    restrict_vocab: int | None = None,
    exclude: Sequence[Collection[int]] | None = None,
    **options: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` cosine neighbours of each query row over an index kind: ``(scores, ids)``, shaped (nq, k).

    ``restrict_vocab=N`` searches ids < N only; ``exclude[i]`` lists ids dropped from the results of query ``i``;
    missing results have id -1 and score -inf. ``options`` (``ef_search``, ``nprobe``) go to the kinds that
    take them (``index.search_options``); None means the index's own setting.
    """
    k = check_k(k)
    q = as_queries(queries, index.dim)
    n = index.ntotal
    if n == 0:
        raise EmbedkitError("Expected an index with at least one vector. Received: an empty index")
    limit = n if restrict_vocab is None else min(check_positive_int("restrict_vocab", restrict_vocab), n)
    if exclude is not None and len(exclude) != len(q):
        raise EmbedkitError(f"`exclude` must have one entry per query. Received: {len(exclude)} for {len(q)}")
    extra = max((len(e) for e in exclude), default=0) if exclude is not None else 0
    kk = min(k + extra, limit)
    if k > n and len(q) * k > PAD_LIMIT:
        raise EmbedkitError(
            f"`k` must be at most the number of indexed vectors ({n}) when the results would be padded to "
            f"{len(q)} x k. Received: k={k}"
        )
    taken = {name: v for name, v in options.items() if v is not None and name in index.search_options}
    scores, ids = index.search(q, kk, limit=limit, **taken)
    return finish(scores, ids, k, exclude)


def finish(
    scores: np.ndarray, ids: np.ndarray, k: int, exclude: Sequence[Collection[int]] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Drop excluded and missing ids (keeping the order of the rest), cut to ``k``, pad with -1 / -inf."""
    scores = np.asarray(scores, dtype=np.float32)
    ids = np.asarray(ids, dtype=np.int64)
    drop = ids < 0
    width = max((len(e) for e in exclude), default=0) if exclude is not None else 0
    if width:
        ex = np.full((len(ids), width), -2, np.int64)
        for r, e in enumerate(exclude or ()):
            if e:
                ex[r, : len(e)] = list(e)
        drop |= (ids[:, :, None] == ex[:, None, :]).any(axis=2)
    if drop.any():
        order = np.argsort(drop, axis=1, kind="stable")  # kept results first, in their order
        ids, scores, drop = (np.take_along_axis(a, order, axis=1) for a in (ids, scores, drop))
        ids[drop], scores[drop] = -1, -np.inf
    out_s = np.full((len(ids), k), -np.inf, np.float32)
    out_i = np.full((len(ids), k), -1, np.int64)
    width = min(k, ids.shape[1])
    out_s[:, :width], out_i[:, :width] = scores[:, :width], ids[:, :width]
    return out_s, out_i
