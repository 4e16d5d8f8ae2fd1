"""`VectorIndex`: a small annoy-like index over unit vectors (inner product = cosine), whatever its kind.

The kinds are classes listed in :data:`embedkit.search.kinds.INDEX_KINDS` (``exact``, ``hnsw``, ``ivf``;
see :mod:`embedkit.search.kinds`); :class:`VectorIndex` holds one and adds what every kind shares: search
restricted to the first N ids and with ids excluded per query (:func:`embedkit.search.base.top_k`), the file
record (:mod:`embedkit.search.store`), the index persisted beside a native set (:meth:`VectorIndex.for_vectors`,
reused while it matches the vectors, rebuilt when they changed) and recall (:mod:`embedkit.search.recall`).
:func:`default_kind` picks a kind by size. Rows are normalised when added, so results are cosine similarities.

>>> import numpy as np
>>> idx = VectorIndex.build(np.eye(3, dtype=np.float32), kind="exact")
>>> scores, ids = idx.search(np.array([[1.0, 0.1, 0.0]], np.float32), k=2)
>>> ids.tolist()
[[0, 1]]
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embedkit.errors import EmbedkitError, check_positive_int
from embedkit.progress import ProgressArg
from embedkit.search import store
from embedkit.search.base import top_k, unit_rows
from embedkit.search.kinds import INDEX_KINDS
from embedkit.search.kinds.exact import ExactIndex, exact_search
from embedkit.search.store import IndexMeta, index_dir, index_path

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.vectors.word_vectors import WordVectors
    from embedkit.search.recall import RecallReport

log = logging.getLogger("embedkit.search.vector_index")
SLOW_BUILD_ROWS = 50_000  # approximate builds of at least this many rows get a note before they start

KINDS = tuple(INDEX_KINDS.names())
# Sets up to this many stored floats (n * dim) get an exact index by default (400k x 50 = 20M).
EXACT_MAX_FLOATS = 50_000_000
# Sets up to this many rows get HNSW by default when approximate search is wanted; larger ones IVF.
HNSW_MAX_ROWS = 5_000_000

__all__ = ["KINDS", "VectorIndex", "IndexMeta", "default_kind", "check_kind", "index_dir",
           "index_path", "unit_rows", "exact_search"]


def default_kind(size: int, dim: int, approx: bool | None = None) -> str:
    """The index kind embedkit uses for a set of ``size`` vectors of ``dim`` dimensions.

    ``approx=None`` chooses by size (exact while the set is small enough for brute force), ``False``
    always gives ``exact``, ``True`` the approximate kind for the size.

    >>> default_kind(400_000, 50), default_kind(400_000, 50, approx=True), default_kind(10**8, 100)
    ('exact', 'hnsw', 'ivf')
    """
    if approx is False or (approx is None and size * dim <= EXACT_MAX_FLOATS):
        return "exact"
    return "hnsw" if size <= HNSW_MAX_ROWS else "ivf"


def check_kind(kind: str) -> str:
    """Validate an index kind name."""
    return INDEX_KINDS.canonical(kind)


class VectorIndex:
    """An index over unit vectors with a small annoy-like API: build / add, save, load, search.

    Args:
        dim: dimensionality of the vectors.
        kind: ``exact``, ``hnsw`` or ``ivf`` (any name in :data:`~embedkit.search.kinds.INDEX_KINDS`).
        **params: kind parameters: ``M``, ``ef_construction``, ``ef_search`` (hnsw); ``nlist``, ``nprobe``,
            ``pq`` (bool), ``pq_m``, ``pq_bits`` (ivf). IVF is trained on the first vectors added.

    Example:
        >>> import numpy as np
        >>> idx = VectorIndex(4, kind="hnsw")
        >>> idx.add(np.random.default_rng(0).standard_normal((100, 4)))
        >>> idx.ntotal
        100
    """

    def __init__(self, dim: int, kind: str = "exact", **params: Any) -> None:
        check_positive_int("dim", dim)
        self.impl: Any = INDEX_KINDS.get(kind)(dim, **params)  # the index of its kind
        self.meta: IndexMeta | None = None
        self.source_vectors: Any = None  # what the index was built from (for recall_at_k)

    @classmethod
    def _of(cls, impl: Any, meta: IndexMeta | None = None) -> VectorIndex:
        idx = cls.__new__(cls)
        idx.impl, idx.meta, idx.source_vectors = impl, meta, None
        return idx

    @property
    def kind(self) -> str:
        """The index kind (``exact``, ``hnsw``, ``ivf``)."""
        return self.impl.kind

    @property
    def dim(self) -> int:
        """Dimensionality of the vectors."""
        return self.impl.dim

    @property
    def params(self) -> dict[str, Any]:
        """The kind's parameters (with defaults and, for IVF, the values chosen when training)."""
        return self.impl.params

    # -- construction -------------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        vectors: WordVectors | np.ndarray,
        kind: str | None = None,
        *,
        progress: ProgressArg = None,
        batch_size: int = 50_000,
        **params: Any,
    ) -> VectorIndex:
        """Build an index over ``vectors`` (a ``WordVectors`` or an N×d array); rows are normalised.

        ``kind=None`` uses :func:`default_kind`. ``progress`` receives ``index`` progress events
        (see :mod:`embedkit.progress`; the CLI draws them with ``RichProgress``).

        Example:
            >>> import numpy as np
            >>> VectorIndex.build(np.ones((5, 3), np.float32)).kind
            'exact'
        """
        arr = getattr(vectors, "vectors", vectors)
        if not isinstance(arr, np.ndarray):
            arr = np.asarray(arr, dtype=np.float32)
        if arr.ndim != 2:
            raise EmbedkitError(f"`vectors` must be a 2-D array. Received: shape={arr.shape}")
        if arr.shape[0] == 0:
            raise EmbedkitError("Expected at least one vector to index. Received: an empty vocabulary")
        kind = check_kind(kind) if kind is not None else default_kind(arr.shape[0], arr.shape[1])
        idx = cls(int(arr.shape[1]), kind, **params)
        idx.add(arr, progress=progress, batch_size=batch_size)
        idx.source_vectors = vectors
        return idx

    @classmethod
    def from_unit_vectors(cls, unit: np.ndarray) -> VectorIndex:
        """An exact index over rows that are already unit length, sharing ``unit`` (no copy).

        Example:
            >>> import numpy as np
            >>> VectorIndex.from_unit_vectors(np.eye(2, dtype=np.float32)).ntotal
            2
        """
        return cls._of(ExactIndex.from_unit_vectors(unit))

    @property
    def unit_vectors(self) -> np.ndarray | None:
        """The stored unit vectors of an exact index (a read-only memory map when loaded), else None."""
        return getattr(self.impl, "unit_vectors", None)

    @property
    def faiss_index(self) -> Any:
        """The underlying FAISS index (for ``exact``, an ``IndexFlatIP`` copy of the unit vectors)."""
        return self.impl.faiss_index

    @property
    def ntotal(self) -> int:
        """Number of indexed vectors."""
        return self.impl.ntotal

    def __len__(self) -> int:
        return self.ntotal

    def __repr__(self) -> str:
        return f"VectorIndex(kind={self.kind!r}, dim={self.dim}, ntotal={self.ntotal}, params={self.params})"

    def add(self, vectors: np.ndarray, *, progress: ProgressArg = None, batch_size: int = 50_000) -> None:
        """Normalise and append rows (ids continue from :attr:`ntotal`); an IVF index is trained first.

        Example:
            >>> import numpy as np
            >>> idx = VectorIndex(2)
            >>> idx.add(np.array([[3.0, 4.0]]))
            >>> float(idx.search(np.array([[1.0, 0.0]]), k=1)[0][0, 0])  # doctest: +ELLIPSIS
            0.6000...
        """
        self.impl.add(vectors, progress=progress, batch_size=batch_size)

    # -- search -------------------------------------------------------------------------------------------
    def search(
        self,
        queries: np.ndarray,
        k: int = 10,
        *,
        restrict_vocab: int | None = None,
        exclude: Sequence[Collection[int]] | None = None,
        ef_search: int | None = None,
        nprobe: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` cosine neighbours of each query row: ``(scores, ids)``, both shaped (nq, k).

        Queries are normalised. ``restrict_vocab=N`` searches only ids < N (the N most frequent words of a
        frequency-sorted set); ``exclude[i]`` lists ids dropped from the results of query ``i``. Missing
        results (fewer than k candidates) have id -1 and score -inf. ``ef_search`` (hnsw) and ``nprobe``
        (ivf) apply to the kinds that have them.

        Example:
            >>> import numpy as np
            >>> idx = VectorIndex.build(np.eye(3, dtype=np.float32))
            >>> idx.search(np.eye(3, dtype=np.float32)[:1], k=1, exclude=[{0}])[1].shape
            (1, 1)
        """
        return top_k(self.impl, queries, k, restrict_vocab=restrict_vocab, exclude=exclude, ef_search=ef_search,
                     nprobe=nprobe)

    # -- persistence ----------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, vectors_meta: dict[str, Any] | None = None) -> None:
        """Write the index to ``path`` and its metadata beside it (same name, ``.json``), atomically.

        An exact index is a ``.npy`` of unit vectors, the others FAISS files (``.faiss``).

        Example:
            >>> import numpy as np, tempfile, os
            >>> p = os.path.join(tempfile.mkdtemp(), "exact.npy")
            >>> VectorIndex.build(np.eye(2, dtype=np.float32)).save(p)
            >>> VectorIndex.load(p).ntotal
            2
        """
        self.meta = store.write_index(self.impl, path, vectors_meta)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, dim: int | None = None, size: int | None = None) -> VectorIndex:
        """Open an index written by :meth:`save`; an exact index is memory-mapped (opens instantly).

        ``dim``/``size``, when given, must match the index (else a one-line error). A damaged file gives a
        one-line error that says to rebuild it.
        """
        impl, meta = store.read_index(path, dim=dim, size=size)
        return cls._of(impl, meta)

    @classmethod
    def for_vectors(
        cls,
        vectors_dir: str | os.PathLike[str],
        kind: str | None = None,
        *,
        wv: WordVectors | None = None,
        rebuild: bool = False,
        progress: ProgressArg = None,
        **params: Any,
    ) -> VectorIndex:
        """The persisted index of a native set: reused when it matches the vectors, else (re)built and saved.

        The index is trusted only when its record names the same vectors (the sha256 the set's metadata
        records, plus size and mtime; a changed file is re-hashed), dimension and size. Passing ``params`` or
        ``rebuild=True`` always builds. ``wv`` (the opened set) is what a build indexes; without it the
        set's memory-mapped matrix is.

        Example:
            >>> import numpy as np, tempfile, os
            >>> from embedkit.vectors.word_vectors import WordVectors
            >>> d = os.path.join(tempfile.mkdtemp(), "set")
            >>> WordVectors(["a", "b"], np.eye(2, dtype=np.float32)).save(d)
            >>> VectorIndex.for_vectors(d).kind, os.path.exists(os.path.join(d, "index", "exact.npy"))
            ('exact', True)
        """
        from embedkit.vectors.formats import native

        vdir = Path(vectors_dir)
        vmeta = native.read_meta(vdir)
        size, dim = int(vmeta["size"]), int(vmeta["dim"])
        if size == 0:
            raise EmbedkitError(f"Expected a vector set with at least one word. Received: an empty vocabulary in {vdir}")
        kind = check_kind(kind) if kind is not None else default_kind(size, dim)
        path = index_path(vdir, kind)
        if not rebuild and not params and store.is_current(path, vdir, vmeta):
            idx = cls.load(path, dim=dim, size=size)
            idx.source_vectors = wv
            return idx
        if wv is not None and (len(wv) != size or wv.dim != dim):
            raise EmbedkitError(
                f"The vectors must match {native.META_FILE}. Received: {len(wv)}x{wv.dim}, meta says "
                f"{size}x{dim} in {vdir}"
            )
        source = wv if wv is not None else native.open_matrix(vdir, vmeta)
        if kind != "exact" and size >= SLOW_BUILD_ROWS:
            log.info("Note: building the %s index of %s (%s vectors) once; it takes a while (tens of seconds per "
                     "400,000 vectors) and is kept beside the set for later queries.", kind, vdir, f"{size:,}")
        idx = cls.build(source, kind, progress=progress, **params)
        try:
            idx.save(path, vectors_meta=store.vectors_record(vdir, vmeta))
        except PermissionError:
            log.warning("Note: could not save the index beside the vectors (%s); it was built in memory.", path)
        return idx

    # -- quality ------------------------------------------------------------------------------------------
    def recall_at_k(
        self,
        vectors: WordVectors | np.ndarray | None = None,
        *,
        k: int = 10,
        sample: int = 1000,
        seed: int = 0,
        restrict_vocab: int | None = None,
    ) -> RecallReport:
        """Mean recall@k of this index against exact search, on ``sample`` rows used as queries.

        Each sampled word is a query; it is excluded from both result lists (neighbour semantics).
        ``vectors`` defaults to what the index was built from. See :func:`embedkit.search.recall.recall_at_k`.

        Example:
            >>> import numpy as np
            >>> x = np.random.default_rng(0).standard_normal((500, 8)).astype(np.float32)
            >>> VectorIndex.build(x, kind="hnsw").recall_at_k(x, k=5, sample=50).recall > 0.9
            True
        """
        check_positive_int("k", k)
        check_positive_int("sample", sample)
        src = vectors if vectors is not None else self.source_vectors
        if src is None:
            raise EmbedkitError("`recall_at_k` needs the indexed vectors. Received: vectors=None")
        from embedkit.search.recall import recall_at_k

        return recall_at_k(self, src, k=k, sample=sample, seed=seed, restrict_vocab=restrict_vocab)
