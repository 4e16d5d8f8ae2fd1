"""Helpers the file readers share: compressed input (with one-line errors for broken streams), the UTF-8 byte
order mark, limits on what a header may claim, the first-wins word table, option checks.

>>> keys = KeyTable()
>>> keys.add(["a", "b", "a"]).tolist(), keys.add(["c", "b"]).tolist()
([0, 1], [0])
>>> keys.words, keys.duplicates, keys.rows
(['a', 'b', 'c'], 2, 5)
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import os
import zlib
from typing import IO, Any

import numpy as np

from embedkit.errors import EmbedkitError, FormatError

COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")
UTF8_BOM = codecs.BOM_UTF8
MAX_DIM = 100_000
"""The largest vector dimension a reader accepts (real embeddings have at most a few thousand); a larger one
is a sign of a file that is not what it claims (one huge line, a header with a typo)."""

_STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError)
_KINDS = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}


class CompressedReader(io.BufferedIOBase):
    """A decompressing binary stream (an ``io.BufferedIOBase``, so ``io.TextIOWrapper`` can decode it) whose read errors are one :class:`FormatError` line naming the file.

    A truncated ``.gz`` / ``.bz2`` / ``.xz`` (``EOFError``), a corrupt one, or a file that only has the suffix
    would otherwise surface as a traceback, or, through click, as a bare ``Aborted!``.
    """

    def __init__(self, raw: IO[bytes], name: str, kind: str) -> None:
        self._raw = raw
        self.name = name
        self.kind = kind

    def _fail(self, e: BaseException) -> FormatError:
        why = "it ends before the end of the compressed stream" if isinstance(e, EOFError) else str(e) or type(e).__name__
        return FormatError(f"Expected a complete {self.kind} stream in {self.name}. Received: {why}")

    def read(self, n: int = -1) -> bytes:
        try:
            return self._raw.read(n)
        except _STREAM_ERRORS as e:
            raise self._fail(e) from None

    def read1(self, n: int = -1) -> bytes:
        try:
            return self._raw.read1(n)  # type: ignore[attr-defined]
        except _STREAM_ERRORS as e:
            raise self._fail(e) from None

    def readable(self) -> bool:
        return True

    def readline(self, n: int | None = -1) -> bytes:
        if n is None:
            n = -1
        try:
            return self._raw.readline(n)
        except _STREAM_ERRORS as e:
            raise self._fail(e) from None

    def readinto(self, buf: Any) -> int:
        try:
            return self._raw.readinto(buf)  # type: ignore[attr-defined]
        except _STREAM_ERRORS as e:
            raise self._fail(e) from None

    def close(self) -> None:
        try:
            self._raw.close()
        except _STREAM_ERRORS:
            pass
        super().close()


def open_maybe_compressed(path: str | os.PathLike[str], mode: str = "rb") -> IO[bytes]:
    """Open ``path`` for binary reading, decompressing ``.gz``, ``.bz2`` and ``.xz`` transparently.

    Errors of a compressed stream (truncated, corrupt, not compressed at all) are one-line
    :class:`FormatError` s naming the file.
    """
    p = str(path)
    for suffix, opener in ((".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)):
        if p.endswith(suffix):
            try:
                raw = opener(p, mode)
            except _STREAM_ERRORS as e:  # pragma: no cover - the openers are lazy; kept for safety
                raise FormatError(f"Expected a {_KINDS[suffix]} file. Received: {p}: {e}") from None
            return CompressedReader(raw, p, _KINDS[suffix])  # type: ignore[return-value]
    return open(p, mode)  # type: ignore[return-value]


def is_compressed(path: str) -> bool:
    """True if ``path`` names a file :func:`open_maybe_compressed` decompresses."""
    return path.endswith(COMPRESSED_SUFFIXES)


def read_head(path: str | os.PathLike[str], n: int = 65536) -> bytes:
    """The first ``n`` (decompressed) bytes of ``path``."""
    with open_maybe_compressed(path) as fh:
        return fh.read(n)


def uncompressed_size_hint(path: str) -> int | None:
    """The size of the decompressed data if it is cheap to know: the file size for a plain file, gzip's own
    record (the size modulo 4 GiB, taken as at least the compressed size) for ``.gz``; else None."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    if not is_compressed(path):
        return size
    if path.endswith(".gz") and size >= 18:
        with open(path, "rb") as fh:
            fh.seek(-4, os.SEEK_END)
            isize = int.from_bytes(fh.read(4), "little")
        while isize < size:
            isize += 1 << 32
        return isize
    return None


def is_utf8(encoding: str) -> bool:
    """True if ``encoding`` names UTF-8 (any spelling)."""
    return codecs.lookup(encoding).name == "utf-8"


def check_encoding(encoding: str) -> None:
    """A one-line error unless ``encoding`` is a known text encoding."""
    try:
        codecs.lookup(encoding)
        "".encode(encoding)
    except (LookupError, TypeError):
        raise EmbedkitError(f"`encoding` must be a known text encoding. Received: encoding={encoding!r}") from None


def check_limit(limit: int | None) -> None:
    """A one-line error unless ``limit`` is None or a positive integer."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise EmbedkitError(f"`limit` must be a positive integer. Received: limit={limit!r}")


def check_dim(dim: int, name: str, where: str) -> None:
    """A one-line error unless ``0 < dim <= MAX_DIM`` (``where`` says where the dim came from)."""
    if dim <= 0:
        raise FormatError(f"Expected a positive dim in {where} of {name}. Received: dim={dim}")
    if dim > MAX_DIM:
        raise FormatError(
            f"Expected at most {MAX_DIM} values per vector in {where} of {name} (is it a vectors file?). "
            f"Received: dim={dim}"
        )


def check_declared_size(name: str, count: int, dim: int, min_row_bytes: int, available: int | None) -> None:
    """A header that declares far more rows than the file can hold (more than twice its size, plus 64 KiB) is
    refused before anything is read; a smaller disagreement is reported with the row count once the body is read.

    ``min_row_bytes`` is the fewest bytes one row takes; ``available`` the bytes after the header (None when
    unknown, as for a compressed stream).
    """
    if available is None or count == 0:
        return
    need = count * min_row_bytes
    if need > 2 * available + 65536:
        raise FormatError(
            f"Header of {name} declares {count} vectors of dim {dim}, which need at least {need} bytes. "
            f"Received: {available} bytes after the header"
        )


class KeyTable:
    """Words in row order; duplicates keep their first row and are counted."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.k2i: dict[str, int] = {}
        self.duplicates = 0
        self.rows = 0  # rows seen, duplicates included
        self._slow = False  # set once a duplicate was seen

    def add(self, words: list[str]) -> np.ndarray | None:
        """Append the words of the next rows; return the positions (in ``words``) of the rows to keep, or None
        when every row is kept (the common case)."""
        n0 = len(self.words)
        self.rows += len(words)
        if not self._slow:
            self.k2i.update(zip(words, range(n0, n0 + len(words))))
            if len(self.k2i) == n0 + len(words):  # no duplicates: one pass over the words
                self.words.extend(words)
                return None
            self.k2i = dict(zip(self.words, range(n0)))  # undo, then go word by word from now on
            self._slow = True
        keep: list[int] = []
        k2i, out = self.k2i, self.words
        for j, w in enumerate(words):
            if w in k2i:
                self.duplicates += 1
                continue
            k2i[w] = len(out)
            out.append(w)
            keep.append(j)
        return None if len(keep) == len(words) else np.asarray(keep, dtype=np.int64)
