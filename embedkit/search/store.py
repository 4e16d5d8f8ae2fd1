"""Index files on disk: the data file of a kind plus a ``.json`` record beside it, and the indexes kept
beside a native vector set, in ``<set>/index/<kind><suffix>`` (``exact.npy``, ``hnsw.faiss``, ``ivf.faiss``).

The record names the vectors the index was built from (the sha256 the set's metadata records, plus the
matrix file's size and mtime), so an index is reused only while it matches the vectors; a matrix file that
was touched but not changed is re-hashed and still trusted.

>>> index_path("/data/glove", "exact").as_posix()
'/data/glove/index/exact.npy'
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from embedkit.errors import EmbedkitError
from embedkit.files.atomic import atomic_write_text
from embedkit.search.kinds import INDEX_KINDS
from embedkit.vectors.formats import native

INDEX_VERSION = 1
INDEX_DIRNAME = "index"


@dataclass
class IndexMeta:
    """The ``.json`` record beside an index file."""

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

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def index_dir(vectors_dir: str | os.PathLike[str]) -> Path:
    """Where the indexes of a native vector set live: ``<set>/index``."""
    return Path(vectors_dir) / INDEX_DIRNAME


def index_path(vectors_dir: str | os.PathLike[str], kind: str) -> Path:
    """The file of index ``kind`` for a native set (its record is the sibling ``.json``)."""
    kind = INDEX_KINDS.canonical(kind)
    return index_dir(vectors_dir) / f"{kind}{INDEX_KINDS.get(kind).file_suffix}"


def meta_path(path: str | os.PathLike[str]) -> Path:
    """The record beside index file ``path``."""
    return Path(path).with_suffix(".json")


def write_index(index: Any, path: str | os.PathLike[str], vectors_meta: dict[str, Any] | None = None) -> IndexMeta:
    """Write an index kind's file to ``path`` and its record beside it, atomically; returns the record."""
    index.save(path)
    meta = IndexMeta(
        kind=index.kind,
        dim=index.dim,
        size=index.ntotal,
        params=index.params,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        faiss_version=getattr(index, "faiss_version", None),
        **(vectors_meta or {}),
    )
    atomic_write_text(meta_path(path), json.dumps(meta.to_dict(), indent=2) + "\n")
    return meta


def read_index_meta(path: str | os.PathLike[str]) -> IndexMeta:
    """The record beside index file ``path`` (one-line errors when missing or damaged)."""
    mp = meta_path(path)
    try:
        raw = json.loads(mp.read_text(encoding="utf-8"))
        meta = IndexMeta(**raw)
        INDEX_KINDS.canonical(meta.kind)
        if not isinstance(meta.dim, int) or not isinstance(meta.size, int):
            raise TypeError("dim/size")
    except FileNotFoundError:
        raise EmbedkitError(f"Expected index metadata beside the index. Received: no {mp}") from None
    except (ValueError, TypeError) as e:
        raise EmbedkitError(f"The index metadata is corrupted; rebuild the index. Received: {mp} ({e})") from None
    return meta


def read_index(
    path: str | os.PathLike[str], *, dim: int | None = None, size: int | None = None
) -> tuple[Any, IndexMeta]:
    """Open an index file and its record: ``(index of its kind, record)``.

    ``dim`` / ``size``, when given, must match the record; the file must hold what the record says.
    """
    path = Path(path)
    meta = read_index_meta(path)
    if dim is not None and meta.dim != dim:
        raise EmbedkitError(
            f"The index dimension must match the vectors. Received: index dim={meta.dim}, vectors dim={dim} ({path})"
        )
    if size is not None and meta.size != size:
        raise EmbedkitError(
            f"The index size must match the vectors. Received: index size={meta.size}, vectors size={size} ({path})"
        )
    if not path.is_file():
        raise EmbedkitError(f"Expected an index file. Received: {str(path)!r} does not exist")
    index = INDEX_KINDS.get(meta.kind).load(path, **meta.params)
    got = (index.ntotal, index.dim)
    if got != (meta.size, meta.dim):
        raise EmbedkitError(
            f"The index file must hold {meta.size}x{meta.dim} vectors as its metadata says; rebuild it with "
            f"`embedkit index build`. Received: {got[0]}x{got[1]} in {path}"
        )
    return index, meta


def vectors_record(vectors_dir: str | os.PathLike[str], vmeta: dict[str, Any]) -> dict[str, Any]:
    """What an index beside a native set records about the set's matrix file (sha256, bytes, mtime)."""
    st = native.vectors_file(vectors_dir).stat()
    return {"vectors_sha256": native.vectors_sha256(vectors_dir, vmeta), "vectors_bytes": st.st_size,
            "vectors_mtime_ns": st.st_mtime_ns}


def is_current(path: str | os.PathLike[str], vectors_dir: str | os.PathLike[str], vmeta: dict[str, Any]) -> bool:
    """True if the index file at ``path`` was built from the native set's current vectors."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        meta = read_index_meta(path)
    except EmbedkitError:
        return False
    if meta.dim != int(vmeta["dim"]) or meta.size != int(vmeta["size"]) or meta.version != INDEX_VERSION:
        return False
    if not meta.vectors_sha256 or meta.vectors_sha256 != vmeta.get("sha256"):
        return False
    try:
        st = native.vectors_file(vectors_dir).stat()
    except OSError:
        return False
    if st.st_size == meta.vectors_bytes and st.st_mtime_ns == meta.vectors_mtime_ns:
        return True
    # The file was touched since the index was built: trust it only if its bytes still hash the same.
    return native.vectors_sha256(vectors_dir, vmeta, recompute=True) == meta.vectors_sha256
