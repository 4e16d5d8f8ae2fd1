"""The native format: a directory holding ``vectors.npy``, ``vocab.txt`` and ``meta.json`` (and, for a
fastText model, ``ngrams.npy``).

``vectors.npy`` is float32 (or float16 on request) and is opened with mmap, so re-opening 400k×50 vectors
takes milliseconds. ``vocab.txt`` holds one ``word<TAB>count`` per line (count -1 when unknown).
``meta.json`` records dim, size, dtype, source, created and the sha256 of ``vectors.npy``; a set converted
from a fastText model also records its ``subwords`` (minn, maxn, buckets, the sha256 of ``ngrams.npy``, the
n-gram table, memory-mapped on use like the vectors).

Everything read from a set is checked before use, so a damaged set is a one-line :class:`FormatError`
wherever it is opened (``convert``, ``info``, queries): metadata that is not UTF-8 JSON with integer ``dim``
and ``size``, a vocabulary that is not UTF-8 ``word<TAB>count`` lines, a matrix file that is not a float32 /
float16 ``.npy`` array of the recorded shape (garbage, truncated, strings, objects, a pickle).
:func:`native_writer` writes a set whose matrix a reader fills in place (what ``convert`` streams into).

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

import contextlib
import datetime as _dt
import hashlib
import json
import os
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embedkit.errors import EmbedkitError, FormatError
from embedkit.files.atomic import atomic_path
from embedkit.vectors.formats.base import VectorFormat, VectorTable
from embedkit.vectors.formats.common import MAX_DIM

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.vectors.formats.rows import Rows
    from embedkit.vectors.subwords import Subwords

FORMAT_VERSION = 1
META_FILE = "meta.json"
VECTORS_FILE = "vectors.npy"
VOCAB_FILE = "vocab.txt"
NGRAMS_FILE = "ngrams.npy"
DTYPES = ("float32", "float16")


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


def _vocab_lines(keys: list[str], counts: np.ndarray | None) -> str:
    """``word<TAB>count`` lines of ``vocab.txt`` (count -1: unknown), built by one join; a word holding a tab, a
    newline or a carriage return is refused (each would break the file's lines)."""
    text = ("\t-1\n".join(keys) + "\t-1\n" if keys else "") if counts is None else \
        "".join(map("{}\t{}\n".format, keys, counts.tolist()))
    if text.count("\t") != len(keys) or text.count("\n") != len(keys) or "\r" in text:
        bad = next(k for k in keys if "\t" in k or "\n" in k or "\r" in k)
        raise EmbedkitError(f"Words must not contain tabs or newlines. Received: {bad!r}")
    return text


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
    """The parsed, checked ``meta.json`` of a native directory (``dim`` and ``size`` are integers)."""
    p = Path(path) / META_FILE
    try:
        meta = json.loads(p.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise EmbedkitError(f"Expected a native vectors directory with {META_FILE}. Received: {str(path)!r}") from None
    except IsADirectoryError:
        raise FormatError(f"{META_FILE} must be a file. Received: a directory {str(p)!r}") from None
    except UnicodeDecodeError as e:
        raise FormatError(f"{META_FILE} must be UTF-8 JSON. Received: {p}: byte {e.start} is not UTF-8") from None
    except json.JSONDecodeError as e:
        raise FormatError(f"{META_FILE} must be valid JSON. Received: {p}: {e.msg} at line {e.lineno}") from None
    except RecursionError:
        raise FormatError(f"{META_FILE} must be valid JSON. Received: {p}: nested too deeply") from None
    if not isinstance(meta, dict) or "dim" not in meta or "size" not in meta:
        raise FormatError(f"{META_FILE} must hold 'dim' and 'size'. Received: {p}")
    for key, low in (("dim", 1), ("size", 0)):
        v = meta[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < low or (key == "dim" and v > MAX_DIM):
            bound = f"in 1..{MAX_DIM}" if key == "dim" else "a non-negative integer"
            raise FormatError(f"{META_FILE} must give '{key}' as {bound}. Received: {key}={v!r} in {p}")
    if "dtype" in meta and meta["dtype"] not in DTYPES:
        raise FormatError(f"{META_FILE} must give 'dtype' as one of {', '.join(DTYPES)}. Received: {meta['dtype']!r} in {p}")
    sub = meta.get("subwords")
    if sub is not None:
        ok = isinstance(sub, dict) and all(
            isinstance(sub.get(k), int) and not isinstance(sub.get(k), bool) and sub.get(k) >= 0
            for k in ("minn", "maxn", "buckets"))
        if not ok:
            raise FormatError(f"{META_FILE} must give 'subwords' as minn, maxn and buckets. Received: {sub!r} in {p}")
    return meta


def _load_npy(path: Path, shape: tuple[int, int], what: str, mmap: bool = True) -> np.ndarray:
    """A float32 / float16 ``.npy`` array of ``shape`` (read-only memory map unless ``mmap=False``)."""
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise EmbedkitError(f"Expected {path.name} in the native directory. Received: {str(path.parent)!r}") from None
    except IsADirectoryError:
        raise FormatError(f"{path.name} must be a file. Received: a directory {str(path)!r}") from None
    except MemoryError:
        raise FormatError(f"{path.name} must be a .npy array of {what}. Received: a header claiming too much memory in {path}") from None
    except Exception as e:  # noqa: BLE001 - numpy raises many kinds for a damaged file; all mean the same
        why = str(e).split("\n")[0][:120] or type(e).__name__
        raise FormatError(f"{path.name} must be a .npy array of {what}. Received: {path}: {why}") from None
    if not isinstance(arr, np.ndarray):
        if hasattr(arr, "close"):
            arr.close()
        raise FormatError(f"{path.name} must be a .npy array of {what}. Received: {path} is an .npz archive")
    if arr.dtype not in (np.float32, np.float16):
        raise FormatError(f"{path.name} must hold float32 or float16 values. Received: dtype {arr.dtype} in {path}")
    if arr.ndim != 2 or arr.shape != shape:
        raise FormatError(
            f"{path.name} must have shape {shape} as {META_FILE} says. Received: shape={arr.shape} in {path}"
        )
    return arr


def open_matrix(path: str | os.PathLike[str], meta: dict[str, Any] | None = None, *, mmap: bool = True) -> np.ndarray:
    """The vectors of a native set: a read-only memory map (unless ``mmap=False``) of shape (size, dim).

    ``meta`` (from :func:`read_meta`) saves reading the metadata again.
    """
    p = Path(path)
    meta = read_meta(p) if meta is None else meta
    return _load_npy(p / VECTORS_FILE, (meta["size"], meta["dim"]), "the vectors", mmap=mmap)


def open_subwords(path: str | os.PathLike[str], meta: dict[str, Any] | None = None) -> Subwords | None:
    """The fastText n-gram table of a native set (memory-mapped), or None if it has none."""
    p = Path(path)
    meta = read_meta(p) if meta is None else meta
    sub = meta.get("subwords")
    if not sub:
        return None
    from embedkit.vectors.subwords import Subwords

    table = _load_npy(p / NGRAMS_FILE, (sub["buckets"], meta["dim"]), "the n-gram vectors")
    return Subwords(table, sub["minn"], sub["maxn"])


class NativeVocab:
    """A native set's vocabulary, read lazily: the row of a word and the word of a row without parsing every
    line (what a one-word query needs; parsing 400k lines would dominate its start-up).

    The file is read as bytes on the first lookup and checked then (UTF-8, one tab per line);
    :meth:`head` reads only the first lines; :meth:`check` checks everything ``read_native`` would.

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
            except IsADirectoryError:
                raise FormatError(f"{VOCAB_FILE} must be a file. Received: a directory {str(self.file)!r}") from None
            if self._raw and not self._raw.endswith(b"\n"):
                self._raw += b"\n"  # a last line without its newline reads as read_native reads it
            self._ends = _check_vocab_bytes(self._raw, self.file)
        return self._raw, self._ends

    def check(self, size: int) -> None:
        """A one-line error unless the vocabulary is ``size`` valid ``word<TAB>count`` lines."""
        _, ends = self._load()
        if len(ends) != size:
            raise FormatError(
                f"{VOCAB_FILE} must list {size} words as {META_FILE} says. Received: {len(ends)} in {self.file}"
            )

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
        except IsADirectoryError:
            raise FormatError(f"{VOCAB_FILE} must be a file. Received: a directory {str(self.file)!r}") from None
        except UnicodeDecodeError as e:
            raise FormatError(f"{VOCAB_FILE} must be UTF-8. Received: {self.file}: {e.reason} near byte {e.start}") from None


def _check_vocab_bytes(raw: bytes, file: Path) -> np.ndarray:
    """Newline offsets of ``raw`` once it is checked: UTF-8, every line one ``word<TAB>integer``."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"{VOCAB_FILE} must be UTF-8. Received: {file}: {e.reason} near byte {e.start}") from None
    arr = np.frombuffer(raw, np.uint8)
    ends = np.flatnonzero(arr == 10)
    tabs = np.flatnonzero(arr == 9)
    if len(tabs) != len(ends) or (len(ends) and not ((tabs < ends).all() and (tabs[1:] > ends[:-1]).all())):
        raise FormatError(f"Expected 'word<TAB>count' on every line of {file}. Received: a line without exactly one tab")
    if len(ends):
        sizes = ends - tabs - 1  # bytes of each count
        first = tabs + 1
        if (sizes < 1).any() or ((sizes == 1) & (arr[np.minimum(first, len(arr) - 1)] == 45)).any():
            raise FormatError(f"Expected integer counts in {file}. Received: an empty count")
        starts = np.cumsum(sizes) - sizes
        pos = np.repeat(first - starts, sizes) + np.arange(int(sizes.sum()))
        b = arr[pos]
        lead = np.zeros(len(pos), bool)
        lead[starts] = True
        if (((b < 48) | (b > 57)) & ~(lead & (b == 45))).any():
            raise FormatError(f"Expected integer counts in {file}. Received: a non-integer count")
    return ends


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
    subwords = open_subwords(p, meta)
    return VectorTable(keys, vectors, counts, source=meta.get("source"), meta=meta, subwords=subwords)


def check_native_set(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Everything :func:`read_native` checks, without building the word list: metadata, the matrix's
    dtype and shape, every vocabulary line, the n-gram table. Returns the metadata.

    What ``embedkit info`` calls, so that it refuses exactly what ``convert`` refuses.
    """
    p = Path(path)
    meta = read_meta(p)
    open_matrix(p, meta)
    NativeVocab(p).check(meta["size"])
    open_subwords(p, meta)
    return meta


def _read_vocab(path: Path, with_counts: bool = True) -> tuple[list[str], np.ndarray | None]:
    """Words and counts of ``vocab.txt`` (one ``word<TAB>count`` per line; words hold no tab or newline).

    Splitting the whole text at once keeps re-opening 400k words well under 0.1 s.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EmbedkitError(f"Expected {VOCAB_FILE} in the native directory. Received: {str(path.parent)!r}") from None
    except IsADirectoryError:
        raise FormatError(f"{VOCAB_FILE} must be a file. Received: a directory {str(path)!r}") from None
    _check_vocab_bytes(raw if not raw or raw.endswith(b"\n") else raw + b"\n", path)  # as NativeVocab checks
    text = raw.decode("utf-8")
    if text.endswith("\n"):
        text = text[:-1]
    if not text:
        return [], None
    if not with_counts:  # every count is -1: drop them before splitting (half the strings to create)
        words_only = (text + "\n").replace("\t-1\n", "\n")
        if "\t" not in words_only and text.count("\t") == text.count("\n") + 1:  # one "\t-1" per line
            return words_only[:-1].split("\n"), None
    fields = text.replace("\n", "\t").split("\t")
    keys = fields[0::2]
    if not with_counts:
        return keys, None
    arr = np.array(fields[1::2], dtype=np.int64)  # checked above: every count is an integer
    return keys, (None if (arr < 0).all() else arr)


def write_native(
    table: VectorTable,
    path: str | os.PathLike[str],
    dtype: str = "float32",
    source: str | None = None,
    extra_meta: dict[str, Any] | None = None,
) -> None:
    """Write ``table`` (or a ``WordVectors``) as a native directory at ``path`` (atomically; an existing set
    is replaced). A table with a fastText n-gram table (``subwords``) keeps it in the set."""
    with native_writer(path, dtype=dtype, source=source, extra_meta=extra_meta) as w:
        w.finish(table)


class NativeWriter:
    """A native set being written in a temporary directory (see :func:`native_writer`).

    ``rows`` is a :data:`~embedkit.vectors.formats.rows.RowsFactory` whose rows land in the set's own matrix
    file; :meth:`finish` writes the rest (the matrix too, if the table's rows are elsewhere).
    """

    def __init__(self, tmp: Path, dtype: str, source: str | None, extra_meta: dict[str, Any] | None) -> None:
        self.tmp = tmp
        self.dtype = dtype
        self.source = source
        self.extra_meta = extra_meta
        self.finished = False
        self._rows: Rows | None = None

    def rows(self, dim: int, capacity: int) -> Rows:
        """Rows written in place into the set's matrix file."""
        from embedkit.vectors.formats.rows import NpyRows

        if self._rows is not None:
            raise EmbedkitError("A native writer fills one matrix. Received: a second request for rows")
        self._rows = NpyRows(self.tmp / VECTORS_FILE, dim, capacity, dtype=self.dtype)
        return self._rows

    def finish(self, table: VectorTable) -> dict[str, Any]:
        """Write vocabulary, n-gram table and metadata (and the matrix unless a reader filled it); return the
        metadata."""
        # The vocabulary first: it refuses a word that would break its lines before the matrix is written.
        with open(self.tmp / VOCAB_FILE, "w", encoding="utf-8", newline="\n") as fh:
            step = 1 << 16
            for s in range(0, len(table), step):
                fh.write(_vocab_lines(table.keys[s : s + step],
                                      None if table.counts is None else table.counts[s : s + step]))
        vec_path = self.tmp / VECTORS_FILE
        vectors = table.vectors
        filled = (isinstance(vectors, np.memmap) and self._rows is not None
                  and Path(str(vectors.filename)).resolve() == vec_path.resolve())
        if not filled:
            _write_matrix(vec_path, vectors, self.dtype)
        meta: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "dim": table.dim,
            "size": len(table),
            "dtype": self.dtype,
            "source": self.source or table.source,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "sha256": sha256_file(vec_path),
            "has_counts": table.counts is not None,
        }
        subwords = getattr(table, "subwords", None)
        if subwords is not None:
            ng_path = self.tmp / NGRAMS_FILE
            _write_matrix(ng_path, subwords.ngrams, self.dtype)
            meta["subwords"] = {**subwords.to_meta(), "sha256": sha256_file(ng_path)}
        if self.extra_meta:
            meta.update(self.extra_meta)
        (self.tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        self.finished = True
        return meta

    def abort(self) -> None:
        if self._rows is not None:
            self._rows.abort()


def _write_matrix(path: Path, vectors: np.ndarray, dtype: str) -> None:
    """``vectors`` as a ``.npy`` file of ``dtype``, written in steps (float16 via float32, like the rows).

    Plain writes, not a memory map of the file: a mapped file's pages count in the writer's resident memory
    (400k x 300: 480 MB more at the end of a training run that saves its vectors)."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": tuple(int(x) for x in vectors.shape)}
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        step = 65536
        for s in range(0, vectors.shape[0], step):
            block = vectors[s : s + step]
            if dtype != "float32" and block.dtype != np.float32:
                block = np.asarray(block, np.float32)
            fh.write(np.ascontiguousarray(block, dtype=dtype).data)


@contextlib.contextmanager
def native_writer(
    path: str | os.PathLike[str], dtype: str = "float32", source: str | None = None,
    extra_meta: dict[str, Any] | None = None,
) -> Iterator[NativeWriter]:
    """A :class:`NativeWriter` for the set at ``path``: renamed into place (replacing an old set atomically)
    when the block ends after :meth:`NativeWriter.finish`; removed on an error.

    Example:
        >>> import tempfile
        >>> from embedkit.vectors.formats.text import read_text
        >>> src = os.path.join(tempfile.mkdtemp(), "v.txt")
        >>> _ = open(src, "w").write("a 1 2\\nb 3 4\\n")
        >>> out = os.path.join(tempfile.mkdtemp(), "set")
        >>> with native_writer(out) as w:
        ...     meta = w.finish(read_text(src, rows=w.rows))
        >>> meta["size"], read_native(out).vectors.tolist()
        (2, [[1.0, 2.0], [3.0, 4.0]])
    """
    if dtype not in DTYPES:
        raise EmbedkitError(f"`dtype` must be 'float32' or 'float16'. Received: dtype={dtype!r}")
    with atomic_path(path) as tmp:
        tmp.mkdir()
        w = NativeWriter(tmp, dtype, source, extra_meta)
        try:
            yield w
        except BaseException:
            w.abort()
            raise
        if not w.finished:
            raise EmbedkitError("A native set must be finished before it is kept. Received: no finish() call")


class NativeFormat(VectorFormat):
    """The native directory format (the ``native`` entry of the formats registry)."""

    name = "native"
    read_options = ("mmap", "verify")
    write_options = ("dtype", "source", "extra_meta")
    directory = True
    sniff_rank = 0

    @classmethod
    def sniff(cls, path: str, head: bytes) -> bool:
        """A directory with the set's metadata and matrix files."""
        p = Path(path)
        return (p / META_FILE).is_file() and (p / VECTORS_FILE).is_file()

    def read(self, path: str | os.PathLike[str], **options: Any) -> VectorTable:
        return read_native(path, **options)

    def write(self, table: VectorTable, path: str | os.PathLike[str], **options: Any) -> None:
        write_native(table, path, **options)
