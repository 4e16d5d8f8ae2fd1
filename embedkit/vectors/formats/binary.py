"""The word2vec C binary format: a ``count dim`` text header, then per word ``word<space>`` + ``dim`` float32.

Interoperable with word2vec C and gensim (``KeyedVectors.load_word2vec_format(path, binary=True)``):
floats are little-endian float32; the newline word2vec C writes after each vector is optional on reading.
The reader streams the file in blocks, so memory stays at the output matrix plus one block.

>>> import numpy as np, tempfile, os
>>> from embedkit.vectors.word_vectors import WordVectors
>>> p = os.path.join(tempfile.mkdtemp(), "v.bin")
>>> write_word2vec_binary(WordVectors(["a", "b"], np.array([[0.5, 1], [2, 3]], np.float32)), p)
>>> read_word2vec_binary(p).vectors.tolist()
[[0.5, 1.0], [2.0, 3.0]]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError, FormatError, check_input_file
from embedkit.files.atomic import atomic_path
from embedkit.vectors.formats.base import VectorFormat, VectorTable
from embedkit.vectors.formats.common import (
    KeyTable,
    check_declared_size,
    check_dim,
    check_encoding,
    check_limit,
    is_compressed,
    open_maybe_compressed,
)
from embedkit.vectors.formats.rows import Rows, RowsFactory, memory_rows

CHUNK = 1 << 20  # bytes read per step
_WS = b" \t\n\r\x0b\x0c"


def read_word2vec_binary(
    path: str | os.PathLike[str],
    limit: int | None = None,
    report: dict[str, Any] | None = None,
    encoding: str = "utf-8",
    skip_bad_lines: bool = False,
    rows: RowsFactory | None = None,
) -> VectorTable:
    """Read a word2vec C binary file (``.gz`` / ``.bz2`` / ``.xz`` are decompressed on the fly).

    Args:
        limit: read only the first ``limit`` vectors.
        report: optional dict filled with ``skipped_lines`` (undecodable words and non-finite vectors
            dropped with ``skip_bad_lines``), ``duplicates`` and ``lines`` (entries read).
        encoding: encoding of the words.
        skip_bad_lines: drop undecodable words and vectors with NaN / Inf instead of failing.
        rows: where the rows go (a :data:`~embedkit.vectors.formats.rows.RowsFactory`; default memory).

    A truncated file, a malformed header, NaN / Inf values or undecodable words raise :class:`FormatError`
    naming the entry. Duplicate words keep their first vector.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "x.bin")
        >>> _ = open(p, "wb").write(b"1 2\\nhi " + np.array([1, 2], "<f4").tobytes() + b"\\n")
        >>> read_word2vec_binary(p)["hi"].tolist()
        [1.0, 2.0]
    """
    p = check_input_file(path, "vectors file")
    name = str(p)
    check_encoding(encoding)
    check_limit(limit)

    with open_maybe_compressed(p) as fh:
        head = fh.readline(256)
        parts = head.split()
        if not head:
            raise FormatError(f"Expected a word2vec binary header 'count dim'. Received: empty file {name!r}")
        if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit() or not head.endswith(b"\n"):
            raise FormatError(
                f"Expected a word2vec binary header 'count dim' on line 1 of {name}. Received: {head[:60]!r}"
            )
        count, dim = int(parts[0]), int(parts[1])
        check_dim(dim, name, "the header")
        want = count if limit is None else min(count, limit)
        rec = 4 * dim
        cap = want
        if not is_compressed(name):  # don't trust a huge count in a small file
            available = p.stat().st_size - len(head)
            check_declared_size(name, count, dim, rec + 2, available)
            cap = min(cap, available // (rec + 2) + 1)
        else:
            cap = min(cap, max(os.path.getsize(name) // rec, 1024))
        out = (rows or memory_rows)(dim, max(cap, 1))
        try:
            vocab, n = _read_entries(fh, out, name, count, dim, want, encoding, skip_bad_lines, limit)
        except BaseException:
            out.abort()
            raise
    if report is not None:
        report.update(skipped_lines=vocab.skipped, duplicates=vocab.duplicates, lines=n)
    return VectorTable(vocab.words, vocab.matrix, source=name, key_index=vocab.k2i)


class _Vocab(KeyTable):
    """The word table plus what the binary reader needs at the end."""

    skipped = 0
    matrix: np.ndarray


def _read_entries(fh: Any, out: Rows, name: str, count: int, dim: int, want: int, encoding: str,
                  skip_bad_lines: bool, limit: int | None) -> tuple[_Vocab, int]:
    """Read ``want`` entries into ``out``; the words, the matrix and what was skipped come back in a _Vocab."""
    rec = 4 * dim
    n = 0  # entries read
    vocab = _Vocab()
    stored = 0
    skipped = 0
    buf = b""
    pos = 0
    eof = False
    lane = np.arange(rec, dtype=np.int64)
    while n < want:
        words_b: list[bytes] = []
        offs: list[int] = []
        while n + len(offs) < want:
            while pos < len(buf) and buf[pos] in _WS:  # the optional newline after each vector
                pos += 1
            sp = buf.find(b" ", pos)
            if sp < 0 or sp + 1 + rec > len(buf):
                break
            words_b.append(buf[pos:sp])
            offs.append(sp + 1)
            pos = sp + 1 + rec
        if offs:
            raw = np.frombuffer(buf, dtype=np.uint8)[np.add.outer(np.asarray(offs, np.int64), lane)]
            rows = raw.view("<f4").reshape(len(offs), dim)
            keep = np.isfinite(rows).all(axis=1)
            words = []
            bad_word: tuple[int, UnicodeDecodeError] | None = None
            for j, wb in enumerate(words_b):
                try:
                    words.append(wb.decode(encoding))
                except UnicodeDecodeError as e:
                    bad_word = bad_word or (j, e)
                    keep[j] = False
                    words.append("")
            if not keep.all() and not skip_bad_lines:  # report the first bad entry in file order
                j = int(np.flatnonzero(~keep)[0])
                if bad_word is not None and bad_word[0] == j:
                    e, wb = bad_word[1], words_b[j]
                    raise FormatError(
                        f"Expected {encoding} text in word {n + j + 1} of {name} (use --encoding). "
                        f"Received: bytes {wb[max(0, e.start - 4) : e.end + 4]!r}"
                    )
                raise FormatError(
                    f"Expected finite numbers in vector {n + j + 1} ({_show(words_b[j])}) of {name}. "
                    f"Received: NaN or Inf"
                )
            if not keep.all():
                skipped += int((~keep).sum())
                rows = rows[keep]
                words = [w for w, k in zip(words, keep.tolist()) if k]
            n += len(offs)
            keep_rows = vocab.add(words)
            if keep_rows is not None:
                rows = rows[keep_rows]
            out.put(stored, rows)
            stored += len(rows)
        if n >= want:
            break
        if eof:
            got = buf[pos:].lstrip(_WS)
            if not got:
                where = f"the file ends after {n} vectors"
            else:
                sp = got.find(b" ")
                word = got if sp < 0 else got[:sp]
                where = f"the file ends inside vector {n + 1} ({_show(word)})"
            raise FormatError(f"Expected {count} vectors of dim {dim} ({rec} bytes each) in {name}. Received: {where}")
        chunk = fh.read(CHUNK)
        if not chunk:
            eof = True
        buf = buf[pos:] + chunk
        pos = 0
    if limit is None:
        rest = buf[pos:] + fh.read(1 << 16)
        if rest.strip(_WS):
            raise FormatError(
                f"Header of {name} declares {count} vectors of dim {dim}. Received: more data after vector {count}"
            )
    if not vocab.words:
        raise FormatError(f"Expected at least one vector. Received: no vectors in {name}")
    vocab.matrix = out.finish(stored)
    vocab.skipped = skipped
    return vocab, n


def _looks_binary(body: bytes, dim: int) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        # Text files with non-UTF-8 words exist, but their value part is plain ASCII digits.
        line = body.split(b"\n", 1)[0]
        toks = line.split(b" ")
        return len(toks) < dim + 1 or not all(_is_number(t) for t in toks[1 : dim + 1])
    return False


def _is_number(tok: bytes) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _show(word: bytes) -> str:
    return repr(word[:40].decode("utf-8", "replace"))


def write_word2vec_binary(table: VectorTable, path: str | os.PathLike[str]) -> None:
    """Write ``table`` (or a ``WordVectors``) as word2vec C binary.

    Words are UTF-8, floats little-endian float32, and a newline follows each vector (as word2vec C writes).

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "y.bin")
        >>> write_word2vec_binary(VectorTable(["z"], np.ones((1, 2), np.float32)), p)
        >>> os.path.getsize(p)
        15
    """
    bad = next((k for k in table.keys if not k or any(c in k for c in " \t\n\r")), None)
    if bad is not None:
        raise EmbedkitError(f"Words written as word2vec binary must be non-empty with no whitespace. Received: {bad!r}")
    dim = table.dim
    rec = 4 * dim
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(f"{len(table)} {dim}\n".encode("ascii"))
        step = 16384
        for s in range(0, len(table), step):
            raw = np.ascontiguousarray(table.vectors[s : s + step], dtype="<f4").tobytes()
            fh.write(
                b"".join(
                    w.encode("utf-8") + b" " + raw[j * rec : (j + 1) * rec] + b"\n"
                    for j, w in enumerate(table.keys[s : s + step])
                )
            )


class Word2VecBinaryFormat(VectorFormat):
    """The word2vec C binary format (the ``word2vec-bin`` entry of the formats registry)."""

    name = "word2vec-bin"
    read_options = ("limit", "report", "encoding", "skip_bad_lines", "rows")
    write_options = ()
    sniff_rank = 20

    @classmethod
    def sniff(cls, path: str, head: bytes) -> bool:
        """A ``count dim`` first line followed by bytes that are not text."""
        first, _, rest = head.partition(b"\n")
        parts = first.split()
        if not (len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit()):
            return False
        body = rest[:4096]
        return b"\x00" in body or _looks_binary(body, int(parts[1]))

    def read(self, path: str | os.PathLike[str], **options: Any) -> VectorTable:
        return read_word2vec_binary(path, **options)

    def write(self, table: VectorTable, path: str | os.PathLike[str], **options: Any) -> None:
        write_word2vec_binary(table, path, **options)
