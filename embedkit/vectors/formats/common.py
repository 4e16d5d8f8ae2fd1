"""Helpers the file readers share: compressed input, the first-wins word table, option checks.

>>> keys = KeyTable()
>>> keys.add(["a", "b", "a"])
>>> keys.words, keys.duplicates, keys.keep
(['a', 'b'], 1, [0, 1])
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from typing import IO

from embedkit.errors import EmbedkitError

COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")


def open_maybe_compressed(path: str | os.PathLike[str], mode: str = "rb") -> IO[bytes]:
    """Open ``path`` for binary reading, decompressing ``.gz``, ``.bz2`` and ``.xz`` transparently."""
    p = str(path)
    if p.endswith(".gz"):
        return gzip.open(p, mode)  # type: ignore[return-value]
    if p.endswith(".bz2"):
        return bz2.open(p, mode)  # type: ignore[return-value]
    if p.endswith(".xz"):
        return lzma.open(p, mode)  # type: ignore[return-value]
    return open(p, mode)  # type: ignore[return-value]


def is_compressed(path: str) -> bool:
    """True if ``path`` names a file :func:`open_maybe_compressed` decompresses."""
    return path.endswith(COMPRESSED_SUFFIXES)


def check_encoding(encoding: str) -> None:
    """A one-line error unless ``encoding`` is a known text encoding."""
    try:
        "".encode(encoding)
    except LookupError:
        raise EmbedkitError(f"`encoding` must be a known text encoding. Received: encoding={encoding!r}") from None


def check_limit(limit: int | None) -> None:
    """A one-line error unless ``limit`` is None or a positive integer."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise EmbedkitError(f"`limit` must be a positive integer. Received: limit={limit!r}")


class KeyTable:
    """Words in row order; duplicates keep their first row and are counted."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.k2i: dict[str, int] = {}
        self.duplicates = 0
        self.rows = 0  # rows seen, duplicates included
        self.keep: list[int] | None = None  # row indices to keep, once a duplicate was seen

    def add(self, words: list[str]) -> None:
        """Append the words of the next rows."""
        n0 = len(self.words)
        if self.keep is None:
            self.k2i.update(zip(words, range(n0, n0 + len(words))))
            if len(self.k2i) == n0 + len(words):  # no duplicates: the common, fast case
                self.words.extend(words)
                self.rows += len(words)
                return
            self.k2i = dict(zip(self.words, range(n0)))  # undo, then go word by word
            self.keep = list(range(self.rows))
        k2i, keep, out = self.k2i, self.keep, self.words
        for j, w in enumerate(words):
            if w in k2i:
                self.duplicates += 1
                continue
            k2i[w] = len(out)
            out.append(w)
            keep.append(self.rows + j)
        self.rows += len(words)
