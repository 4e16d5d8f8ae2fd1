"""The native format: a directory holding ``vectors.npy``, ``vocab.txt`` and ``meta.json``.

``vectors.npy`` is float32 (or float16 on request) and is opened with mmap, so re-opening 400k×50 vectors
takes milliseconds. ``vocab.txt`` holds one ``word<TAB>count`` per line (count -1 when unknown).
``meta.json`` records dim, size, dtype, source, created and the sha256 of ``vectors.npy``.

This module is the only one that knows the layout's file names: everyone else asks it
(:func:`is_native_set`, :func:`read_meta`, :func:`open_matrix`, :class:`NativeVocab`, :func:`vectors_file`,
:func:`vectors_sha256`, ...). :class:`NativeFormat` is its entry in the formats registry.

>>> import numpy as np, tempfile, os
>>> from embedkit.vectors.word_vectors import WordVectors
>>> d = os.path.join(tempfile.mkdtemp(), "set")
>>> WordVectors(["a", "b"], np.eye(2, dtype=np.float32)).save(d)
>>> read_native(d).keys, NativeVocab(d).row("b"), open_matrix(d).shape
(['a', 'b'], 1, (2, 2))
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError, FormatError
from embedkit.files.atomic import atomic_path
from embedkit.vectors.formats.base import VectorFormat, VectorTable

FORMAT_VERSION = 1
META_FILE = "meta.json"
VECTORS_FILE = "vectors.npy"
VOCAB_FILE = "vocab.txt"


# -- the layout ----------------------------------------------------------------------------------------------
def is_native_set(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is a native set directory (it holds the set's metadata file)."""
    return (Path(path) / META_FILE).is_file()


def check_native_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as a ``Path`` if it holds a native set's metadata and vectors, else a one-line error."""
    p = Path(path)
    if not ((p / META_FILE).is_file() and (p / VECTORS_FILE).is_file()):
        raise EmbedkitError(
            f"Expected a vectors file or a native vectors directory (with {META_FILE} and {VECTORS_FILE}). "
            f"Received: directory {str(p)!r}"
        )
    return p


def vectors_file(path: str | os.PathLike[str]) -> Path:
    """The file holding a native set's matrix (for its size, mtime or checksum)."""
    return Path(path) / VECTORS_FILE


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in 4 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while b := fh.read(chunk):
            h.update(b)
    return h.hexdigest()


def vectors_sha256(path: str | os.PathLike[str], meta: dict[str, Any] | None = None, *, recompute: bool = False) -> str:
    """The sha256 of a native set's matrix file: the one its metadata records, or (``recompute``, or none
    recorded) hashed from the file's bytes."""
    recorded = (meta if meta is not None else read_meta(path)).get("sha256")
    return recorded if recorded and not recompute else sha256_file(vectors_file(path))


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed ``meta.json`` of a native directory."""
    p = Path(path) / META_FILE
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EmbedkitError(f"Expected a native vectors directory with {META_FILE}. Received: {str(path)!r}") from None
    except json.JSONDecodeError as e:
        raise FormatError(f"{META_FILE} must be valid JSON. Received: {p}: {e.msg} at line {e.lineno}") from None
    if not isinstance(meta, dict) or "dim" not in meta or "size" not in meta:
        raise FormatError(f"{META_FILE} must hold 'dim' and 'size'. Received: {p}")
    return meta


def open_matrix(path: str | os.PathLike[str], meta: dict[str, Any] | None = None, *, mmap: bool = True) -> np.ndarray:
    """The vectors of a native set: a read-only memory map (unless ``mmap=False``) of shape (size, dim).

    ``meta`` (from :func:`read_meta`) saves reading the metadata again.
    """
    p = Path(path)
    meta = read_meta(p) if meta is None else meta
    vec_path = p / VECTORS_FILE
    try:
        vectors = np.load(vec_path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise EmbedkitError(f"Expected {VECTORS_FILE} in the native directory. Received: {str(p)!r}") from None
    except ValueError as e:
        raise FormatError(f"{VECTORS_FILE} is not a valid .npy file: {e}. Received: {vec_path}") from None
    if vectors.ndim != 2 or vectors.shape != (meta["size"], meta["dim"]):
        raise FormatError(
            f"{VECTORS_FILE} must have shape (size, dim) = ({meta['size']}, {meta['dim']}) as {META_FILE} says. "
            f"Received: shape={vectors.shape} in {vec_path}"
        )
    return vectors


class NativeVocab:
    """A native set's vocabulary, read lazily: the row of a word and the word of a row without parsing every
    line (what a one-word query needs; parsing 400k lines would dominate its start-up).

    The file is read as bytes on the first lookup; :meth:`head` reads only the first lines.

    Example:
        >>> import numpy as np, tempfile, os
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> d = os.path.join(tempfile.mkdtemp(), "s")
        >>> WordVectors(["x", "y", "z"], np.ones((3, 2), np.float32)).save(d)
        >>> v = NativeVocab(d)
        >>> v.row("z"), v[0], len(v), v.row("w"), v.head(2)
        (2, 'x', 3, None, ['x', 'y'])
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.file = Path(path) / VOCAB_FILE
        self._raw: bytes | None = None
        self._ends: np.ndarray | None = None

    def _load(self) -> tuple[bytes, np.ndarray]:
        if self._raw is None or self._ends is None:
            try:
                self._raw = self.file.read_bytes()
            except FileNotFoundError:
                raise EmbedkitError(
                    f"Expected {VOCAB_FILE} in the native directory. Received: {str(self.file.parent)!r}"
                ) from None
            self._ends = np.flatnonzero(np.frombuffer(self._raw, np.uint8) == 10)
        return self._raw, self._ends

    def __len__(self) -> int:
        return len(self._load()[1])

    def row(self, word: str) -> int | None:
        """Row of ``word``, or None if it is not in the vocabulary."""
        if "\t" in word or "\n" in word or not word:
            return None
        raw, ends = self._load()
        needle = word.encode("utf-8") + b"\t"
        if raw.startswith(needle):
            return 0
        pos = raw.find(b"\n" + needle)
        return None if pos < 0 else int(np.searchsorted(ends, pos)) + 1

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.row(word) is not None

    def __getitem__(self, i: int) -> str:
        raw, ends = self._load()
        start = 0 if i == 0 else int(ends[i - 1]) + 1
        return raw[start : int(ends[i])].rpartition(b"\t")[0].decode("utf-8")

    def head(self, n: int) -> list[str]:
        """The first ``n`` words (reads only those lines)."""
        try:
            with open(self.file, encoding="utf-8") as fh:
                return [line.rstrip("\n").rpartition("\t")[0] for line in islice(fh, max(n, 0))]
        except FileNotFoundError:
            raise EmbedkitError(
                f"Expected {VOCAB_FILE} in the native directory. Received: {str(self.file.parent)!r}"
            ) from None


# -- reading and writing ------------------------------------------------------------------------------------
def read_native(path: str | os.PathLike[str], mmap: bool = True, verify: bool = False) -> VectorTable:
    """Open a native directory; ``vectors`` is a read-only memory map unless ``mmap=False``.

    With ``verify=True`` the sha256 of ``vectors.npy`` is checked against ``meta.json``.
    """
    p = Path(path)
    meta = read_meta(p)
    vectors = open_matrix(p, meta, mmap=mmap)
    vec_path = p / VECTORS_FILE
    if verify and meta.get("sha256") and sha256_file(vec_path) != meta["sha256"]:
        raise FormatError(f"{VECTORS_FILE} does not match the sha256 in {META_FILE}. Received: {vec_path}")
    keys, counts = _read_vocab(p / VOCAB_FILE, with_counts=meta.get("has_counts", True))
    if len(keys) != meta["size"]:
        raise FormatError(
            f"{VOCAB_FILE} must list {meta['size']} words as {META_FILE} says. "
            f"Received: {len(keys)} in {p / VOCAB_FILE}"
        )
    return VectorTable(keys, vectors, counts, source=meta.get("source"), meta=meta)


def _read_vocab(path: Path, with_counts: bool = True) -> tuple[list[str], np.ndarray | None]:
    """Words and counts of ``vocab.txt`` (one ``word<TAB>count`` per line; words hold no tab or newline).

    Splitting the whole text at once keeps re-opening 400k words well under 0.1 s.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EmbedkitError(f"Expected {VOCAB_FILE} in the native directory. Received: {str(path.parent)!r}") from None
    if text.endswith("\n"):
        text = text[:-1]
    if not text:
        return [], None
    if not with_counts:  # every count is -1: drop them before splitting (half the strings to create)
        words_only = (text + "\n").replace("\t-1\n", "\n")
        if "\t" not in words_only and text.count("\t") == text.count("\n") + 1:  # one "\t-1" per line
            return words_only[:-1].split("\n"), None
    fields = text.replace("\n", "\t").split("\t")
    if len(fields) % 2:
        raise FormatError(f"Expected 'word<TAB>count' on every line of {path}. Received: a line without a tab")
    keys = fields[0::2]
    if not with_counts:
        return keys, None
    try:
        arr = np.array(fields[1::2], dtype=np.int64)
    except ValueError:
        raise FormatError(f"Expected integer counts in {path}. Received: a non-integer count") from None
    return keys, (None if (arr < 0).all() else arr)


def write_native(
    table: VectorTable,
    path: str | os.PathLike[str],
    dtype: str = "float32",
    source: str | None = None,
    extra_meta: dict[str, Any] | None = None,
) -> None:
    """Write ``table`` (or a ``WordVectors``) as a native directory at ``path`` (atomically; an existing set
    is replaced)."""
    if dtype not in ("float32", "float16"):
        raise EmbedkitError(f"`dtype` must be 'float32' or 'float16'. Received: dtype={dtype!r}")
    bad = next((k for k in table.keys if "\t" in k or "\n" in k or "\r" in k), None)
    if bad is not None:
        raise EmbedkitError(f"Words must not contain tabs or newlines. Received: {bad!r}")
    with atomic_path(path) as tmp:
        tmp.mkdir()
        vec_path = tmp / VECTORS_FILE
        arr = np.lib.format.open_memmap(vec_path, mode="w+", dtype=dtype, shape=table.vectors.shape)
        step = 65536
        for s in range(0, len(table), step):
            arr[s : s + step] = table.vectors[s : s + step]
        arr.flush()
        del arr
        counts = table.counts if table.counts is not None else np.full(len(table), -1, np.int64)
        with open(tmp / VOCAB_FILE, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("".join(f"{k}\t{c}\n" for k, c in zip(table.keys, counts.tolist())))
        meta = {
            "format_version": FORMAT_VERSION,
            "dim": table.dim,
            "size": len(table),
            "dtype": dtype,
            "source": source or table.source,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "sha256": sha256_file(vec_path),
            "has_counts": table.counts is not None,
        }
        if extra_meta:
            meta.update(extra_meta)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


class NativeFormat(VectorFormat):
    """The native directory format (the ``native`` entry of the formats registry)."""

    name = "native"
    read_options = ("mmap", "verify")
    write_options = ("dtype", "source", "extra_meta")

    def read(self, path: str | os.PathLike[str], **options: Any) -> VectorTable:
        return read_native(path, **options)

    def write(self, table: VectorTable, path: str | os.PathLike[str], **options: Any) -> None:
        write_native(table, path, **options)
