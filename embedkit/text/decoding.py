"""Decoding text files whose encoding nobody declared: UTF-8 first, then fallbacks that never fail, and a
refusal of bytes that are not text at all.

Used by every reader of user texts (datasets, ``coverage --texts``): the same chain everywhere.

>>> decode_bytes("café".encode("latin-1"))
('café', 'cp1252')
>>> split_lines("a\\x85b\\r\\n\\nc")
['a\\x85b', 'c']
"""

from __future__ import annotations

import codecs
import os

from embedkit.errors import EmbedkitError

__all__ = ["decode_bytes", "split_lines", "read_text", "check_text"]

# C0 control characters that text files do not contain (tab, newline, vertical tab, form feed and carriage
# return are allowed): a file with more than this share of them, or any NUL, is binary.
_CONTROL = frozenset(chr(c) for c in range(32)) - set("\t\n\x0b\x0c\r")
_MAX_CONTROL_SHARE = 0.03  # real corpora carry stray control bytes (movie_reviews: up to 0.5 %); random bytes ~11 %
_SNIFF = 1 << 16


def check_text(data: bytes, source: str = "input") -> None:
    """Raise a one-line :class:`EmbedkitError` when ``data`` does not look like text (NUL bytes or many
    control characters in its first 64 KiB); UTF-16 with a byte-order mark is text.

    >>> check_text(b"fine\\n")
    >>> check_text(b"\\x00\\x01\\x02garbage")
    Traceback (most recent call last):
    ...
    embedkit.errors.EmbedkitError: Expected a text file. Received: binary data (NUL bytes) in 'input'
    """
    head = data[:_SNIFF]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return
    if b"\x00" in head:
        raise EmbedkitError(f"Expected a text file. Received: binary data (NUL bytes) in {source!r}")
    controls = sum(head.count(bytes([c])) for c in range(32) if chr(c) in _CONTROL)
    if head and controls > _MAX_CONTROL_SHARE * len(head):
        raise EmbedkitError(
            f"Expected a text file. Received: binary data ({controls} control bytes in the first "
            f"{len(head)}) in {source!r}"
        )


def decode_bytes(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode ``data``: UTF-8 (BOM allowed) first, then ``encoding``, then cp1252, then latin-1 (never fails).

    UTF-16 with a byte-order mark is recognised. Returns ``(text, encoding_used)``.

    >>> decode_bytes("naïve".encode("utf-8"))
    ('naïve', 'utf-8')
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    candidates = ["utf-8"]
    if encoding:
        try:
            candidates.append(codecs.lookup(encoding).name)
        except LookupError:
            raise EmbedkitError(f"`encoding` must be a known codec name. Received: encoding={encoding!r}") from None
    candidates += ["cp1252", "latin-1"]
    for enc in dict.fromkeys(candidates):
        try:
            return data.decode("utf-8-sig" if enc == "utf-8" else enc), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def split_lines(text: str) -> list[str]:
    """Non-blank lines, stripped, split on ``\\n`` only.

    MR's latin-1 bytes contain ``\\x85`` (NEL) inside sentences, which ``str.splitlines()`` would treat as a
    line break.
    """
    out = []
    for line in text.split("\n"):
        line = line.strip("\r").strip()
        if line:
            out.append(line)
    return out


def read_text(path: str | os.PathLike[str], encoding: str | None = None, what: str = "text file") -> tuple[str, str]:
    """The text of a file (``.gz`` / ``.bz2`` / ``.xz`` decompressed), refusing binary data, decoded with
    :func:`decode_bytes`; returns ``(text, encoding_used)``. A missing file, a directory, a FIFO or device
    (``what`` names it in the message) and a damaged compressed stream are one-line errors."""
    from embedkit.errors import check_input_file
    from embedkit.vectors.formats.common import open_maybe_compressed

    p = check_input_file(path, what)
    try:
        with open_maybe_compressed(p) as fh:
            data = fh.read()
    except OSError as e:
        raise EmbedkitError(f"Expected a readable {what}. Received: {str(p)!r} ({e.strerror or e})") from None
    check_text(data, str(p))
    return decode_bytes(data, encoding)

