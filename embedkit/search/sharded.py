"""Search beyond one machine's memory: FAISS shards with a merged top-k, and IVF with on-disk inverted lists.

- :class:`ShardedIndex`: the rows split into contiguous shards, one FAISS index per shard, searched together
  through ``faiss.IndexShards`` (ids successive across shards), so the merged top-k is the top-k of one
  index over all rows. Shards are saved one file each and reopened memory-mapped (``IO_FLAG_MMAP``), so a
  process maps, not loads, them; with faiss-gpu installed, flat shards are spread over the GPUs.
- :class:`OnDiskIVF`: an ``IVF<nlist>,Flat`` index whose inverted lists live in one ``.ivfdata`` file
  (``faiss.OnDiskInvertedLists`` via ``faiss.contrib.ondisk.merge_ondisk``): trained on a sample, filled
  block by block from an array or a memory-mapped ``.npy``, so neither building nor searching needs the
  vectors in RAM. Results equal an in-memory IVF with the same training.

Rows are normalised when added (inner product = cosine), as in :mod:`embedkit.search.vector_index`; both
classes follow the :class:`~embedkit.search.base.Index` protocol.

Example:
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((1000, 8)).astype(np.float32)
    >>> idx = ShardedIndex.build(x, shards=4)
    >>> scores, ids = idx.search(x[:2], k=3)
    >>> ids[:, 0].tolist()
    [0, 1]
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embedkit.errors import EmbedkitError, UnknownWordError, check_positive_int
from embedkit.files.atomic import atomic_path, atomic_write_text
from embedkit.progress import ProgressArg, Reporter
from embedkit.search.base import as_queries, check_k, import_faiss, unit_rows

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.search.queries import NeighboursResult

SHARDED_VERSION = 1
META = "sharded.json"
BLOCK_ROWS = 200_000


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """FAISS's on-disk lists print progress with C printf: send it to stderr (stdout stays NDJSON-clean)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def gpu_count() -> int:
    """GPUs FAISS can use (0 with faiss-cpu)."""
    faiss = import_faiss()
    return int(faiss.get_num_gpus()) if hasattr(faiss, "get_num_gpus") else 0


def _as_rows(vectors: Any) -> np.ndarray:
    arr = getattr(vectors, "vectors", vectors)
    if not isinstance(arr, np.ndarray):
        arr = np.asarray(arr, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise EmbedkitError(f"`vectors` must be a non-empty 2-D array. Received: shape={arr.shape}")
    return arr


def _blocks(arr: np.ndarray, lo: int, hi: int, size: int = BLOCK_ROWS) -> Iterator[np.ndarray]:
    for s in range(lo, hi, size):
        yield unit_rows(arr[s : min(s + size, hi)])


@dataclass
class ShardInfo:
    """Metadata of a saved sharded or on-disk index (``sharded.json``)."""

    kind: str  # "sharded-flat" | "ondisk-ivf"
    dim: int
    ntotal: int
    shards: list[dict[str, Any]] = field(default_factory=list)  # file + rows of each shard
    params: dict[str, Any] = field(default_factory=dict)
    vectors: str | None = None  # the vector set it was built from, for word queries
    version: int = SHARDED_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ShardedIndex:
    """Exact cosine search over rows split into shards; merged top-k equals one flat index over all rows.

    Example:
        >>> import numpy as np
        >>> x = np.eye(4, dtype=np.float32)
        >>> ShardedIndex.build(x, shards=2).search(x[3:], k=1)[1].tolist()
        [[3]]
    """

    kind = "sharded-flat"

    def __init__(self, dim: int, shards: list[Any], info: ShardInfo | None = None) -> None:
        faiss = import_faiss()
        self.dim = dim
        self.shards = shards
        self.info = info or ShardInfo("sharded-flat", dim, sum(int(s.ntotal) for s in shards),
                                      [{"rows": int(s.ntotal)} for s in shards])
        self._gpu = gpu_count() > 0
        parts = shards
        if self._gpu:  # pragma: no cover - needs faiss-gpu and a GPU
            parts = [faiss.index_cpu_to_all_gpus(s) for s in shards]
        self._merged = faiss.IndexShards(dim, True, True)  # threaded, successive ids
        for s in parts:
            self._merged.add_shard(s)
        self._parts = list(parts)  # keep the Python objects alive while IndexShards points at them

    @classmethod
    def build(cls, vectors: Any, shards: int = 2) -> ShardedIndex:
        """Split ``vectors`` (array, memmap or ``WordVectors``) into ``shards`` contiguous flat indexes."""
        check_positive_int("shards", shards)
        arr = _as_rows(vectors)
        n, dim = arr.shape
        if shards > n:
            raise EmbedkitError(f"`shards` must not exceed the number of vectors ({n}). Received: shards={shards}")
        faiss = import_faiss()
        bounds = np.linspace(0, n, shards + 1).astype(np.int64)
        out = []
        for i in range(shards):
            idx = faiss.IndexFlatIP(int(dim))
            for block in _blocks(arr, int(bounds[i]), int(bounds[i + 1])):
                idx.add(block)
            out.append(idx)
        return cls(int(dim), out)

    @property
    def ntotal(self) -> int:
        """Number of indexed vectors (all shards)."""
        return int(self._merged.ntotal)

    @property
    def params(self) -> dict[str, Any]:
        """``{"shards": n}``."""
        return {"shards": len(self.shards)}

    def add(self, vectors: Any, *, progress: ProgressArg = None, batch_size: int = BLOCK_ROWS) -> None:
        """Append ``vectors`` as one more shard (their ids continue from :attr:`ntotal`)."""
        arr = _as_rows(vectors)
        if arr.shape[1] != self.dim:
            raise EmbedkitError(f"Vectors must have dimension {self.dim} to match the index. Received: shape={arr.shape}")
        faiss = import_faiss()
        shard = faiss.IndexFlatIP(self.dim)
        with Reporter(progress, "index", total=len(arr), unit="vectors", description="Adding a shard") as rep:
            for block in _blocks(arr, 0, len(arr), batch_size):
                shard.add(block)
                rep.advance(len(block))
        part = faiss.index_cpu_to_all_gpus(shard) if self._gpu else shard
        self.shards.append(shard)
        self._parts.append(part)
        self._merged.add_shard(part)
        self.info = ShardInfo("sharded-flat", self.dim, self.ntotal, [{"rows": int(s.ntotal)} for s in self.shards],
                              vectors=self.info.vectors)

    def __len__(self) -> int:
        return self.ntotal

    def search(self, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` cosine neighbours over all shards: ``(scores, ids)``, ids global (row numbers)."""
        return _search(self._merged, self.dim, queries, k, self.ntotal)

    def save(self, directory: str | os.PathLike[str], *, vectors: str | None = None, overwrite: bool = False) -> Path:
        """Write one ``shard_NNN.faiss`` per shard and ``sharded.json`` into ``directory`` (atomically).

        An existing directory is replaced only when it is an index embedkit wrote (or ``overwrite=True``)."""
        directory = claim_index_dir(directory, overwrite=overwrite)
        faiss = import_faiss()
        with atomic_path(directory) as tmp:
            tmp.mkdir(parents=True)
            shards = []
            for i, s in enumerate(self.shards):
                name = f"shard_{i:03d}.faiss"
                faiss.write_index(s, str(tmp / name))
                shards.append({"file": name, "rows": int(s.ntotal)})
            info = ShardInfo("sharded-flat", self.dim, self.ntotal, shards, vectors=vectors)
            atomic_write_text(tmp / META, json.dumps(info.to_dict(), indent=2) + "\n")
        self.info = info
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike[str], *, mmap: bool = True) -> ShardedIndex:
        """Reopen a saved sharded index; shards are memory-mapped unless ``mmap=False``."""
        faiss = import_faiss()
        info = read_info(directory, "sharded-flat")
        flag = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        shards = []
        for s in info.shards:
            p = Path(directory) / s["file"]
            if not p.is_file():
                raise EmbedkitError(f"A shard of the index is missing. Received: no {str(p)!r}")
            shards.append(faiss.read_index(str(p), flag))
        return cls(info.dim, shards, info)


class OnDiskIVF:
    """IVF-Flat cosine index whose inverted lists are in one file on disk (searched memory-mapped).

    Example:
        >>> import numpy as np, tempfile
        >>> x = np.random.default_rng(0).standard_normal((2000, 8)).astype(np.float32)
        >>> idx = OnDiskIVF.build(x, tempfile.mkdtemp() + "/ivf", nlist=16)
        >>> int(idx.search(x[:1], k=1, nprobe=16)[1][0, 0])
        0
    """

    kind = "ondisk-ivf"

    def __init__(self, index: Any, info: ShardInfo, directory: str | os.PathLike[str] | None = None) -> None:
        self.index = index
        self.info = info
        self.dim = info.dim
        self.directory = None if directory is None else Path(directory)

    @staticmethod
    def train(sample: np.ndarray, nlist: int, *, seed: int = 1) -> Any:
        """An empty, trained ``IVF<nlist>,Flat`` inner-product index (k-means on ``sample``)."""
        faiss = import_faiss()
        check_positive_int("nlist", nlist)
        sample = unit_rows(sample)
        if sample.shape[0] < nlist:
            raise EmbedkitError(f"IVF training needs at least nlist={nlist} vectors. Received: {sample.shape[0]}")
        quantizer = faiss.IndexFlatIP(sample.shape[1])
        index = faiss.IndexIVFFlat(quantizer, sample.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = seed
        index.train(sample)
        index.own_fields = True
        quantizer.this.disown()
        return index

    @classmethod
    def build(
        cls,
        vectors: Any,
        directory: str | os.PathLike[str],
        *,
        nlist: int | None = None,
        nprobe: int = 16,
        train_size: int | None = None,
        trained: Any = None,
        block_rows: int = BLOCK_ROWS,
        vectors_name: str | None = None,
        overwrite: bool = False,
    ) -> OnDiskIVF:
        """Train on a sample (or use ``trained``), add ``vectors`` block by block, merge the lists on disk.

        ``vectors`` may be a memory-mapped array larger than RAM: only one block is in memory at a time.
        The directory holds ``trained.faiss``, ``populated.faiss`` (the index) and ``lists.ivfdata``.
        """
        directory = claim_index_dir(directory, overwrite=overwrite)
        from faiss.contrib.ondisk import merge_ondisk

        faiss = import_faiss()
        arr = _as_rows(vectors)
        n, dim = arr.shape
        if nlist is None:
            nlist = int(max(1, min(65536, 4 * np.sqrt(n))))
        check_positive_int("nprobe", nprobe)
        check_positive_int("block_rows", block_rows)
        if trained is None:
            m = min(n, train_size or max(nlist * 64, 10_000))
            pick = np.sort(np.random.default_rng(1).choice(n, size=m, replace=False))
            trained = cls.train(arr[pick], nlist)
        with atomic_path(directory) as tmp:
            tmp.mkdir(parents=True)
            faiss.write_index(trained, str(tmp / "trained.faiss"))
            work = Path(tempfile.mkdtemp(prefix="blocks-", dir=tmp))
            names = []
            for b, s in enumerate(range(0, n, block_rows)):
                part = faiss.read_index(str(tmp / "trained.faiss"))
                part.add_with_ids(unit_rows(arr[s : s + block_rows]), np.arange(s, min(s + block_rows, n), dtype=np.int64))
                names.append(str(work / f"block_{b:05d}.faiss"))
                faiss.write_index(part, names[-1])
                del part
            index = faiss.read_index(str(tmp / "trained.faiss"))
            with _stdout_to_stderr():
                merge_ondisk(index, names, str(tmp / "lists.ivfdata"))
                faiss.write_index(index, str(tmp / "populated.faiss"))
            del index
            shutil.rmtree(work)
            info = ShardInfo("ondisk-ivf", int(dim), int(n), [{"file": "populated.faiss", "rows": int(n)}],
                             {"nlist": int(nlist), "nprobe": int(nprobe)}, vectors=vectors_name)
            atomic_write_text(tmp / META, json.dumps(info.to_dict(), indent=2) + "\n")
        return cls.open(directory)

    @classmethod
    def open(cls, directory: str | os.PathLike[str]) -> OnDiskIVF:
        """Reopen a built index; its inverted lists stay on disk (memory-mapped), wherever the directory moved."""
        faiss = import_faiss()
        info = read_info(directory, "ondisk-ivf")
        p = Path(directory) / "populated.faiss"
        if not p.is_file() or not (Path(directory) / "lists.ivfdata").is_file():
            raise EmbedkitError(f"The on-disk index is incomplete. Received: {str(directory)!r}")
        with _stdout_to_stderr():
            index = faiss.read_index(str(p), faiss.IO_FLAG_ONDISK_SAME_DIR)
        return cls(index, info, directory)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> OnDiskIVF:
        """Same as :meth:`open` (the :class:`~embedkit.search.base.Index` protocol's name)."""
        return cls.open(directory)

    def save(self, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Copy the index (its directory: lists file included) to ``directory``, atomically."""
        directory = Path(directory)
        if directory.resolve() != (self.directory or directory).resolve():
            claim_index_dir(directory, overwrite=overwrite)
        if self.directory is None:
            raise EmbedkitError("Expected an on-disk index opened from its directory. Received: one without a directory")
        if directory.resolve() != self.directory.resolve():
            with atomic_path(directory) as tmp:
                shutil.copytree(self.directory, tmp)
        return directory

    @property
    def ntotal(self) -> int:
        """Number of indexed vectors."""
        return int(self.index.ntotal)

    @property
    def params(self) -> dict[str, Any]:
        """``nlist`` and the default ``nprobe``."""
        return dict(self.info.params)

    def add(self, vectors: Any, *, progress: ProgressArg = None) -> None:
        """Not supported: the inverted lists are written once, by :meth:`build` (a one-line error)."""
        raise EmbedkitError(
            "Expected the vectors of an on-disk IVF index to be added by OnDiskIVF.build (its lists are written "
            "once). Received: add() on a built index"
        )

    def __len__(self) -> int:
        return self.ntotal

    def search(self, queries: np.ndarray, k: int = 10, *, nprobe: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` cosine neighbours probing ``nprobe`` lists (default: the build's ``nprobe``)."""
        self.index.nprobe = int(check_positive_int("nprobe", nprobe) if nprobe is not None else self.info.params["nprobe"])
        return _search(self.index, self.dim, queries, k, self.ntotal)


def _search(index: Any, dim: int, queries: np.ndarray, k: int, ntotal: int) -> tuple[np.ndarray, np.ndarray]:
    k = check_k(k)
    q = as_queries(queries, dim)
    kk = int(min(k, ntotal))
    scores, ids = index.search(unit_rows(q), kk)
    scores = np.where(ids < 0, -np.inf, scores).astype(np.float32)
    return scores, ids


def is_index_dir(path: Path) -> bool:
    """True for a directory holding an index ``embedkit index shard`` wrote."""
    return (Path(path) / META).is_file()


def claim_index_dir(directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """``directory`` if an index may be written there (see :func:`embedkit.files.outputs.claim_output`)."""
    from embedkit.files.outputs import claim_output

    return claim_output(directory, "dir", overwrite=overwrite, owned=is_index_dir)


def read_info(directory: str | os.PathLike[str], kind: str | None = None) -> ShardInfo:
    """The ``sharded.json`` of a saved index (one-line error when missing or of another kind)."""
    p = Path(directory) / META
    try:
        raw = json.loads(p.read_text())
        info = ShardInfo(**raw)
    except FileNotFoundError:
        raise EmbedkitError(f"Expected a sharded or on-disk index directory. Received: {str(directory)!r} (no {META})") from None
    except (ValueError, TypeError) as e:
        raise EmbedkitError(f"The index metadata is unreadable ({e}). Received: {str(p)!r}") from None
    if kind is not None and info.kind != kind:
        raise EmbedkitError(f"Expected a {kind} index. Received: a {info.kind} index in {str(directory)!r}")
    return info


def open_index(directory: str | os.PathLike[str]) -> ShardedIndex | OnDiskIVF:
    """Open whichever kind of saved index ``directory`` holds."""
    info = read_info(directory)
    return ShardedIndex.load(directory) if info.kind == "sharded-flat" else OnDiskIVF.open(directory)


def query_index(
    directory: str | os.PathLike[str], words: Sequence[str], k: int = 10, *, nprobe: int | None = None
) -> list[NeighboursResult]:
    """Nearest neighbours of ``words`` (each excluded from its own results) in a saved sharded or on-disk index,
    looked up in the vector set the index records.

    An unknown word raises :class:`~embedkit.errors.UnknownWordError`; a set whose size changed since the
    build raises a one-line error. ``nprobe`` applies to an on-disk IVF index.
    """
    from embedkit.search.queries import NeighboursResult, to_neighbours
    from embedkit.vectors.vector_set import open_vectors

    k = check_k(k)
    info = read_info(directory)
    if not info.vectors:
        raise EmbedkitError(f"The index does not record its vector set. Received: {str(directory)!r}")
    vs = open_vectors(info.vectors)
    if vs.size != info.ntotal:
        raise EmbedkitError(f"The vector set changed since the index was built. Received: {vs.size} words, "
                            f"index of {info.ntotal}")
    rows = []
    for w in words:
        row = vs.vocab.row(w)
        if row is None:
            raise UnknownWordError(w)
        rows.append(row)
    index = open_index(directory)
    options = {"nprobe": nprobe} if isinstance(index, OnDiskIVF) else {}
    scores, found = index.search(np.asarray(vs.matrix[rows]), k + 1, **options)
    out = []
    for w, row, srow, irow in zip(words, rows, scores, found):
        keep = [(s, i) for s, i in zip(srow, irow) if i >= 0 and int(i) != row][:k]
        out.append(NeighboursResult(w, to_neighbours(vs.vocab, np.array([s for s, _ in keep]),  # type: ignore[arg-type]
                                                     np.array([i for _, i in keep], np.int64))))
    return out
