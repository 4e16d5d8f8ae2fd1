"""`VectorIndex`: a small annoy-like FAISS index over unit vectors (inner product = cosine).

Kinds:

- ``exact``: brute-force inner product over unit vectors (what ``IndexFlatIP`` does, via ``faiss.knn`` for
  batches); stored as a ``.npy`` memory map so a one-off query needs neither FAISS nor a copy of the vectors.
- ``hnsw``: ``IndexHNSWFlat`` with ``METRIC_INNER_PRODUCT`` over unit vectors; fast approximate search.
- ``ivf``: ``IVF<nlist>,Flat`` (or ``,PQ<m>`` with ``pq=True``) for very large sets.

:func:`default_kind` picks one by size. An index over a native vector set is persisted beside it, in
``<set>/index/<kind>.faiss`` (``exact.npy`` for exact) plus ``<set>/index/<kind>.json`` (kind, dim, size, parameters and the sha256 of
``vectors.npy`` from ``meta.json``), and :meth:`VectorIndex.for_vectors` reuses it, or rebuilds it when
the vectors changed. Rows are normalised when added, so search results are cosine similarities.

>>> import numpy as np
>>> idx = VectorIndex.build(np.eye(3, dtype=np.float32), kind="exact")
>>> scores, ids = idx.search(np.array([[1.0, 0.1, 0.0]], np.float32), k=2)
>>> ids.tolist()
[[0, 1]]
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sys
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embedkit.files.atomic import atomic_path, atomic_write_text
from embedkit.errors import EmbedkitError, check_positive_int

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.vectors.word_vectors import WordVectors

KINDS = ("exact", "hnsw", "ivf")
INDEX_VERSION = 1
INDEX_DIRNAME = "index"
# Sets up to this many stored floats (n * dim) get an exact index by default (400k x 50 = 20M).
EXACT_MAX_FLOATS = 50_000_000
# Sets up to this many rows get HNSW by default when approximate search is wanted; larger ones IVF.
HNSW_MAX_ROWS = 5_000_000
DEFAULT_HNSW = {"M": 32, "ef_construction": 80, "ef_search": 48}


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
    if kind not in KINDS:
        raise EmbedkitError(f"`kind` must be one of {', '.join(KINDS)}. Received: kind={kind!r}")
    return kind


def index_dir(vectors_dir: str | os.PathLike[str]) -> Path:
    """Where the indexes of a native vector set live: ``<set>/index``."""
    return Path(vectors_dir) / INDEX_DIRNAME


def index_path(vectors_dir: str | os.PathLike[str], kind: str) -> Path:
    """The file of index ``kind`` for a native set (its metadata is the sibling ``.json``)."""
    return index_dir(vectors_dir) / (f"{check_kind(kind)}.npy" if kind == "exact" else f"{kind}.faiss")


def _meta_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _import_faiss() -> Any:
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


@dataclass
class RecallReport:
    """Result of :meth:`VectorIndex.recall_at_k`: mean recall of the index's top-k vs exact search."""

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


@dataclass
class _Meta:
    kind: str
    dim: int
    size: int
    params: dict[str, Any] = field(default_factory=dict)
    vectors_sha256: str | None = None
    vectors_bytes: int | None = None
    vectors_mtime_ns: int | None = None
    metric: str = "cosine"
    version: int = INDEX_VERSION
    created: str | None = None
    faiss_version: str | None = None


class VectorIndex:
    """A FAISS index over unit vectors with a small annoy-like API: build / add, save, load, search.

    Args:
        dim: dimensionality of the vectors.
        kind: ``exact``, ``hnsw`` or ``ivf``.
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
        self.kind = check_kind(kind)
        self.dim = dim
        self.params: dict[str, Any] = _complete_params(kind, params)
        self._index: Any = None  # the faiss index (hnsw / ivf)
        self._codes: np.ndarray = np.zeros((0, dim), np.float32)  # unit vectors (exact; memory map when loaded)
        self.meta: _Meta | None = None
        self.source_vectors: Any = None  # what the index was built from (for recall_at_k)

    # -- construction -------------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        vectors: WordVectors | np.ndarray,
        kind: str | None = None,
        *,
        progress: bool = False,
        batch_size: int = 50_000,
        **params: Any,
    ) -> VectorIndex:
        """Build an index over ``vectors`` (a ``WordVectors`` or an N×d array); rows are normalised.

        ``kind=None`` uses :func:`default_kind`. ``progress=True`` shows a rich progress bar on stderr.

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
        if unit.ndim != 2:
            raise EmbedkitError(f"`unit` must be a 2-D array. Received: shape={unit.shape}")
        idx = cls(int(unit.shape[1]), "exact")
        idx._codes = unit
        return idx

    @property
    def unit_vectors(self) -> np.ndarray | None:
        """The stored unit vectors of an exact index (a read-only memory map when loaded), else None."""
        return self._codes if self.kind == "exact" else None

    @property
    def faiss_index(self) -> Any:
        """The underlying FAISS index (for ``exact``, an ``IndexFlatIP`` copy of the unit vectors)."""
        faiss = _import_faiss()
        if self.kind == "exact":
            flat = faiss.IndexFlatIP(self.dim)
            if len(self._codes):
                flat.add(np.ascontiguousarray(self._codes, dtype=np.float32))
            return flat
        if self._index is None:
            if self.kind == "ivf":
                raise EmbedkitError("An IVF index is created when vectors are first added. Received: an empty index")
            self._index = _new_hnsw(faiss, self.dim, self.params)
        return self._index

    @property
    def ntotal(self) -> int:
        """Number of indexed vectors."""
        if self.kind == "exact":
            return int(self._codes.shape[0])
        return 0 if self._index is None else int(self._index.ntotal)

    def __len__(self) -> int:
        return self.ntotal

    def __repr__(self) -> str:
        return f"VectorIndex(kind={self.kind!r}, dim={self.dim}, ntotal={self.ntotal}, params={self.params})"

    def add(self, vectors: np.ndarray, *, progress: bool = False, batch_size: int = 50_000) -> None:
        """Normalise and append rows (ids continue from :attr:`ntotal`); an IVF index is trained first.

        Example:
            >>> import numpy as np
            >>> idx = VectorIndex(2)
            >>> idx.add(np.array([[3.0, 4.0]]))
            >>> float(idx.search(np.array([[1.0, 0.0]]), k=1)[0][0, 0])  # doctest: +ELLIPSIS
            0.6000...
        """
        vectors = vectors if isinstance(vectors, np.ndarray) else np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise EmbedkitError(
                f"Vectors must have dimension {self.dim} to match the index. Received: shape={vectors.shape}"
            )
        n = vectors.shape[0]
        if n == 0:
            return
        with _progress(progress, f"Building {self.kind} index", n) as advance:
            if self.kind == "exact":
                out = np.empty((self.ntotal + n, self.dim), np.float32)
                out[: self.ntotal] = self._codes
                for s in range(0, n, batch_size):
                    out[self.ntotal + s : self.ntotal + s + batch_size] = unit_rows(vectors[s : s + batch_size])
                    advance(min(batch_size, n - s))
                self._codes = out
                return
            faiss = _import_faiss()
            if self.kind == "ivf" and self._index is None:
                train = _training_sample(vectors, self.params)
                advance(0, f"training IVF{self.params['nlist']} on {len(train)} vectors")
                self._index = _new_ivf(faiss, self.dim, self.params)
                self._index.train(train)
                advance(0)
            index = self.faiss_index
            for s in range(0, n, batch_size):
                block = unit_rows(vectors[s : s + batch_size])
                index.add(block)
                advance(len(block))

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
        results (fewer than k candidates) have id -1 and score -inf.

        Example:
            >>> import numpy as np
            >>> idx = VectorIndex.build(np.eye(3, dtype=np.float32))
            >>> idx.search(np.eye(3, dtype=np.float32)[:1], k=1, exclude=[{0}])[1].shape
            (1, 1)
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise EmbedkitError(f"`k` must be a positive integer. Received: k={k!r}")
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise EmbedkitError(
                f"Query vectors must have dimension {self.dim} to match the index. Received: shape={q.shape}"
            )
        n = self.ntotal
        if n == 0:
            raise EmbedkitError("Expected an index with at least one vector. Received: an empty index")
        limit = n if restrict_vocab is None else min(check_positive_int("restrict_vocab", restrict_vocab), n)
        if exclude is not None and len(exclude) != len(q):
            raise EmbedkitError(f"`exclude` must have one entry per query. Received: {len(exclude)} for {len(q)}")
        extra = max((len(e) for e in exclude), default=0) if exclude is not None else 0
        kk = min(int(k) + extra, limit)
        q = unit_rows(q)
        if self.kind == "exact":
            scores, ids = exact_search(self._codes[:limit], q, kk)
        else:
            scores, ids = self._search_approx(q, kk, limit, ef_search, nprobe)
        return _finish(scores, ids, int(k), exclude)

    def _search_approx(
        self, q: np.ndarray, k: int, limit: int, ef_search: int | None, nprobe: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        faiss = _import_faiss()
        index = self.faiss_index
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW()
            params.efSearch = max(int(ef_search or self.params["ef_search"]), k)
        else:
            params = faiss.SearchParametersIVF()
            params.nprobe = int(nprobe or self.params["nprobe"])
        if limit < index.ntotal:
            sel = faiss.IDSelectorRange(0, limit)
            params.sel = sel
        return index.search(q, k, params=params)

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
        path = Path(path)
        faiss_version = None
        if self.kind == "exact":
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                np.save(fh, np.asarray(self._codes, dtype=np.float32), allow_pickle=False)
        else:
            faiss = _import_faiss()
            faiss_version = getattr(faiss, "__version__", None)
            index = self.faiss_index
            with atomic_path(path) as tmp:
                faiss.write_index(index, str(tmp))
        meta = _Meta(
            kind=self.kind,
            dim=self.dim,
            size=self.ntotal,
            params=self.params,
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            faiss_version=faiss_version,
            **(vectors_meta or {}),
        )
        atomic_write_text(_meta_path(path), json.dumps(asdict(meta), indent=2) + "\n")
        self.meta = meta

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, dim: int | None = None, size: int | None = None) -> VectorIndex:
        """Open an index written by :meth:`save`; an exact index is memory-mapped (opens instantly).

        ``dim``/``size``, when given, must match the index (else a one-line error). A damaged file gives a
        one-line error that says to rebuild it.
        """
        path = Path(path)
        meta = _read_index_meta(path)
        if dim is not None and meta.dim != dim:
            raise EmbedkitError(
                f"The index dimension must match the vectors. Received: index dim={meta.dim}, vectors dim={dim} "
                f"({path})"
            )
        if size is not None and meta.size != size:
            raise EmbedkitError(
                f"The index size must match the vectors. Received: index size={meta.size}, vectors size={size} "
                f"({path})"
            )
        if not path.is_file():
            raise EmbedkitError(f"Expected an index file. Received: {str(path)!r} does not exist")
        idx = cls(meta.dim, meta.kind, **meta.params)
        idx.meta = meta
        if meta.kind == "exact":
            idx._codes = _read_npy(path)
            got = idx._codes.shape
        else:
            idx._index = _read_faiss(_import_faiss(), path)
            got = (int(idx._index.ntotal), int(idx._index.d))
        if got != (meta.size, meta.dim):
            raise EmbedkitError(
                f"The index file must hold {meta.size}x{meta.dim} vectors as its metadata says; rebuild it with "
                f"`embedkit index build`. Received: {got[0]}x{got[1]} in {path}"
            )
        return idx

    @classmethod
    def for_vectors(
        cls,
        vectors_dir: str | os.PathLike[str],
        kind: str | None = None,
        *,
        wv: WordVectors | None = None,
        rebuild: bool = False,
        progress: bool = False,
        **params: Any,
    ) -> VectorIndex:
        """The persisted index of a native set: reused when it matches the vectors, else (re)built and saved.

        The index is trusted only when its metadata names the same ``vectors.npy`` (sha256 from
        ``meta.json``, plus size and mtime; a changed file is re-hashed), dimension and size. Passing
        ``params`` or ``rebuild=True`` always builds. ``wv`` (the opened set) saves re-reading it for a build.

        Example:
            >>> import numpy as np, tempfile, os
            >>> from embedkit.vectors.word_vectors import WordVectors
            >>> d = os.path.join(tempfile.mkdtemp(), "set")
            >>> WordVectors(["a", "b"], np.eye(2, dtype=np.float32)).save(d)
            >>> VectorIndex.for_vectors(d).kind, os.path.exists(os.path.join(d, "index", "exact.npy"))
            ('exact', True)
        """
        from embedkit.vectors.formats.native import read_meta

        vdir = Path(vectors_dir)
        vmeta = read_meta(vdir)
        if int(vmeta["size"]) == 0:
            raise EmbedkitError(f"Expected a vector set with at least one word. Received: an empty vocabulary in {vdir}")
        kind = check_kind(kind) if kind is not None else default_kind(int(vmeta["size"]), int(vmeta["dim"]))
        path = index_path(vdir, kind)
        if not rebuild and not params and _index_is_current(path, vdir, vmeta):
            idx = cls.load(path, dim=int(vmeta["dim"]), size=int(vmeta["size"]))
            idx.source_vectors = wv
            return idx
        if wv is None:
            from embedkit.vectors.formats.native import read_native

            wv = read_native(vdir)
        if len(wv) != int(vmeta["size"]) or wv.dim != int(vmeta["dim"]):
            raise EmbedkitError(
                f"The vectors must match meta.json. Received: {len(wv)}x{wv.dim}, meta says "
                f"{vmeta['size']}x{vmeta['dim']} in {vdir}"
            )
        idx = cls.build(wv, kind, progress=progress, **params)
        st = (vdir / "vectors.npy").stat()
        sha = vmeta.get("sha256")
        if not sha:
            from embedkit.vectors.formats.native import sha256_file

            sha = sha256_file(vdir / "vectors.npy")
        vm = {"vectors_sha256": sha, "vectors_bytes": st.st_size, "vectors_mtime_ns": st.st_mtime_ns}
        try:
            idx.save(path, vectors_meta=vm)
        except PermissionError:
            print(f"Note: could not save the index beside the vectors ({path}); it was built in memory.", file=sys.stderr)
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
        ``vectors`` defaults to what the index was built from.

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
        arr = getattr(src, "vectors", src)
        if arr.shape[0] != self.ntotal or arr.shape[1] != self.dim:
            raise EmbedkitError(
                f"The vectors must be the indexed ones. Received: shape={arr.shape}, index has "
                f"{self.ntotal}x{self.dim}"
            )
        rng = np.random.default_rng(seed)
        limit = self.ntotal if restrict_vocab is None else min(restrict_vocab, self.ntotal)
        rows = np.sort(rng.choice(limit, size=min(sample, limit), replace=False))
        q = unit_rows(arr[rows])
        exclude = [{int(r)} for r in rows]
        exact = self if self.kind == "exact" else VectorIndex.from_unit_vectors(unit_rows(arr))
        exact_qps, (_, truth) = _timed(lambda: exact.search(q, k, exclude=exclude, restrict_vocab=restrict_vocab), len(q))
        qps, (_, got) = _timed(lambda: self.search(q, k, exclude=exclude, restrict_vocab=restrict_vocab), len(q))
        hits = sum(len(set(t[t >= 0].tolist()) & set(g[g >= 0].tolist())) for t, g in zip(truth, got))
        total = int((truth >= 0).sum()) or 1
        return RecallReport(self.kind, k, len(rows), hits / total, qps, exact_qps)


# -- helpers ------------------------------------------------------------------------------------------------
def _complete_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    allowed = {
        "exact": set(),
        "hnsw": {"M", "ef_construction", "ef_search"},
        "ivf": {"nlist", "nprobe", "pq", "pq_m", "pq_bits"},
    }[kind]
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise EmbedkitError(
            f"Parameters for a {kind} index must be among {sorted(allowed) or 'none'}. Received: {', '.join(unknown)}"
        )
    out = dict(params)
    if kind == "hnsw":
        for key, value in DEFAULT_HNSW.items():
            out.setdefault(key, value)
    for key, value in out.items():
        if key != "pq" and value is not None:
            check_positive_int(key, value)
    if kind == "ivf":
        out.setdefault("pq", False)
    return out


def _ivf_shape(dim: int, n: int, params: dict[str, Any]) -> tuple[int, int, int | None]:
    # ~4 sqrt(n) lists, but at least 39 training points per list (what FAISS' k-means asks for)
    nlist = params.get("nlist") or max(1, min(4 * int(np.sqrt(n)), n // 39, 65536))
    nlist = max(1, min(nlist, n))
    nprobe = params.get("nprobe") or min(nlist, max(8, nlist // 16))
    pq_m = None
    if params.get("pq"):
        pq_m = params.get("pq_m") or next(m for m in range(min(dim, 64), 0, -1) if dim % m == 0 and dim // m >= 2)
        if dim % pq_m:
            raise EmbedkitError(f"`pq_m` must divide the dimension {dim}. Received: pq_m={pq_m}")
    return nlist, nprobe, pq_m


def _new_hnsw(faiss: Any, dim: int, params: dict[str, Any]) -> Any:
    index = faiss.IndexHNSWFlat(dim, int(params["M"]), faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = int(params["ef_construction"])
    index.hnsw.efSearch = int(params["ef_search"])
    return index


def _training_sample(vectors: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    n, dim = vectors.shape
    nlist, nprobe, pq_m = _ivf_shape(dim, n, params)
    params.update(nlist=nlist, nprobe=nprobe)
    if pq_m:
        params["pq_m"] = pq_m
        params.setdefault("pq_bits", 8 if n >= 256 * 39 else 4)
    take = min(n, max(64 * nlist, 10_000 if pq_m else 0, 1), 200_000)
    rows = np.sort(np.random.default_rng(0).choice(n, size=take, replace=False))
    return unit_rows(vectors[rows])


def _new_ivf(faiss: Any, dim: int, params: dict[str, Any]) -> Any:
    codec = f"PQ{params['pq_m']}x{params['pq_bits']}" if params.get("pq") else "Flat"
    return faiss.index_factory(dim, f"IVF{params['nlist']},{codec}", faiss.METRIC_INNER_PRODUCT)


def _corrupt(path: Path, detail: str) -> EmbedkitError:
    return EmbedkitError(
        f"The index file is corrupted or not an embedkit index; rebuild it with `embedkit index build`. "
        f"Received: {path} ({detail})"
    )


def _read_faiss(faiss: Any, path: Path) -> Any:
    try:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    except RuntimeError as e:
        lines = str(e).strip().splitlines()
        raise _corrupt(path, lines[-1][:160] if lines else type(e).__name__) from None


def _read_npy(path: Path) -> np.ndarray:
    try:
        codes = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise _corrupt(path, str(e).splitlines()[0][:160] if str(e) else type(e).__name__) from None
    if codes.ndim != 2 or codes.dtype != np.float32:
        raise _corrupt(path, f"expected a 2-D float32 array, got {codes.dtype} {codes.shape}")
    return codes


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
    faiss = _import_faiss()
    codes = np.ascontiguousarray(codes, dtype=np.float32)
    return faiss.knn(np.ascontiguousarray(queries, dtype=np.float32), codes, k, metric=faiss.METRIC_INNER_PRODUCT)


def _read_index_meta(path: Path) -> _Meta:
    mp = _meta_path(path)
    try:
        raw = json.loads(mp.read_text(encoding="utf-8"))
        meta = _Meta(**raw)
        check_kind(meta.kind)
        if not isinstance(meta.dim, int) or not isinstance(meta.size, int):
            raise TypeError("dim/size")
    except FileNotFoundError:
        raise EmbedkitError(f"Expected index metadata beside the index. Received: no {mp}") from None
    except (ValueError, TypeError) as e:
        raise EmbedkitError(f"The index metadata is corrupted; rebuild the index. Received: {mp} ({e})") from None
    return meta


def _index_is_current(path: Path, vdir: Path, vmeta: dict[str, Any]) -> bool:
    if not path.is_file():
        return False
    try:
        meta = _read_index_meta(path)
    except EmbedkitError:
        return False
    if meta.dim != int(vmeta["dim"]) or meta.size != int(vmeta["size"]) or meta.version != INDEX_VERSION:
        return False
    if not meta.vectors_sha256 or meta.vectors_sha256 != vmeta.get("sha256"):
        return False
    try:
        st = (vdir / "vectors.npy").stat()
    except OSError:
        return False
    if st.st_size == meta.vectors_bytes and st.st_mtime_ns == meta.vectors_mtime_ns:
        return True
    # The file was touched since the index was built: trust it only if its bytes still hash the same.
    from embedkit.vectors.formats.native import sha256_file

    return sha256_file(vdir / "vectors.npy") == meta.vectors_sha256


def _finish(
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


def _timed(fn: Any, n: int) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    return (n / dt if dt > 0 else float("inf")), out


class _NullAdvance:
    def __call__(self, n: int, status: str | None = None) -> None:
        pass


@contextlib.contextmanager
def _progress(show: bool, title: str, total: int) -> Iterator[Any]:
    """A rich progress bar on stderr (or a no-op) yielding ``advance(n, status=None)``."""
    if not show:
        yield _NullAdvance()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    ) as bar:
        task = bar.add_task(title, total=total)

        def advance(n: int, status: str | None = None) -> None:
            bar.update(task, advance=n, description=f"{title}: {status}" if status else title)

        yield advance
