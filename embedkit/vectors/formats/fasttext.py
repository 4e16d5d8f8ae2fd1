"""fastText models: Facebook's ``.bin`` format (read only), word vectors plus the subword n-gram table.

The file holds the training arguments, the dictionary (words with counts) and the input matrix: one row per
word, then one row per n-gram bucket. Like fastText's ``getWordVector`` (and gensim's
``load_facebook_vectors``), a word's vector is the mean of its own row and its n-gram rows
(:meth:`~embedkit.vectors.subwords.Subwords.compose`); the n-gram rows become the table's
:class:`~embedkit.vectors.subwords.Subwords`, from which out-of-vocabulary words get their vectors. The
matrix of a plain file is memory-mapped, not read: the n-gram table stays on disk until used.

Both layouts are read: the current one (magic 793712314, version 11 or 12) and the older one without magic
(fastText before 0.2). Supervised (labelled) and quantized (``.ftz``) models are refused with one line.

>>> import numpy as np, tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "m.bin")
>>> write_fasttext_for_tests(p, ["hi"], np.ones((1 + 3, 2), np.float32), minn=3, maxn=3)
>>> t = read_fasttext(p)
>>> t.keys, t.subwords
(['hi'], Subwords(buckets=3, dim=2, minn=3, maxn=3))
"""

from __future__ import annotations

import os
import struct
from typing import Any

import numpy as np

from embedkit.errors import FormatError, check_input_file
from embedkit.vectors.formats.base import VectorFormat, VectorTable
from embedkit.vectors.formats.common import (
    KeyTable,
    check_dim,
    check_encoding,
    check_limit,
    is_compressed,
    open_maybe_compressed,
)
from embedkit.vectors.formats.rows import RowsFactory, memory_rows
from embedkit.vectors.subwords import Subwords

MAGIC = 793712314
_NEW_ARGS = struct.Struct("<12id")  # dim ws epoch min_count neg word_ngrams loss model bucket minn maxn lr_update_rate t
_OLD_ARGS = struct.Struct("<10id")  # (dim and ws came first, in place of magic and version)
_ARG_NAMES = ("epoch", "min_count", "neg", "word_ngrams", "loss", "model", "bucket", "minn", "maxn", "lr_update_rate", "t")


def _args_plausible(a: dict[str, Any]) -> bool:
    return (
        0 < a["dim"] <= 100_000 and 0 < a["ws"] <= 10_000 and 0 < a["epoch"] <= 10**6 and a["min_count"] >= 0
        and a["neg"] >= 0 and 0 < a["word_ngrams"] <= 100 and 1 <= a["loss"] <= 4 and 1 <= a["model"] <= 3
        and 0 <= a["bucket"] <= 10**9 and 0 <= a["minn"] <= a["maxn"] <= 1000 and a["lr_update_rate"] > 0
        and 0.0 <= a["t"] <= 1.0
    )


def parse_args(head: bytes) -> tuple[dict[str, Any], int, bool] | None:
    """The training arguments at the start of a fastText file: ``(args, bytes used, new layout)``, or None."""
    if len(head) < 8:
        return None
    magic, version = struct.unpack_from("<2i", head)
    if magic == MAGIC:
        if len(head) < 8 + _NEW_ARGS.size:
            return None
        vals = _NEW_ARGS.unpack_from(head, 8)
        args = dict(zip(("dim", "ws") + _ARG_NAMES, vals))
        args["version"] = version
        return args, 8 + _NEW_ARGS.size, True
    if len(head) < 8 + _OLD_ARGS.size:
        return None
    vals = _OLD_ARGS.unpack_from(head, 8)
    args = dict(zip(_ARG_NAMES, vals), dim=magic, ws=version, version=0)
    return (args, 8 + _OLD_ARGS.size, False) if _args_plausible(args) else None


class _Stream:
    """Sequential reads from a (maybe compressed) file with an offset and a one-line error at the end."""

    def __init__(self, fh: Any, name: str) -> None:
        self.fh = fh
        self.name = name
        self.buf = b""
        self.pos = 0
        self.offset = 0  # of buf[0] in the stream

    def need(self, n: int, what: str) -> None:
        while len(self.buf) - self.pos < n:
            chunk = self.fh.read(max(1 << 20, n))
            if not chunk:
                raise FormatError(f"Expected a complete fastText model in {self.name}. Received: it ends inside {what}")
            self.offset += self.pos
            self.buf = self.buf[self.pos :] + chunk
            self.pos = 0

    def take(self, fmt: struct.Struct, what: str) -> tuple[Any, ...]:
        self.need(fmt.size, what)
        out = fmt.unpack_from(self.buf, self.pos)
        self.pos += fmt.size
        return out

    def tell(self) -> int:
        return self.offset + self.pos


_I3 = struct.Struct("<3i")
_Q = struct.Struct("<q")
_QQ = struct.Struct("<2q")
_ENTRY_TAIL = struct.Struct("<qb")


def read_fasttext(
    path: str | os.PathLike[str],
    encoding: str = "utf-8",
    skip_bad_lines: bool = False,
    limit: int | None = None,
    report: dict[str, Any] | None = None,
    rows: RowsFactory | None = None,
) -> VectorTable:
    """Read a fastText ``.bin`` model: its words' vectors (as fastText computes them) and its n-gram table.

    Args:
        encoding: encoding of the words in the dictionary.
        skip_bad_lines: drop words that do not decode instead of failing.
        limit: keep only the first ``limit`` words (the n-gram table is kept whole).
        report: optional dict filled with ``skipped_lines``, ``duplicates`` and ``lines`` (dictionary entries).
        rows: where the word vectors go (a :data:`~embedkit.vectors.formats.rows.RowsFactory`).

    The table's ``subwords`` is the :class:`~embedkit.vectors.subwords.Subwords` n-gram table (None for a
    model trained without subwords), ``counts`` the words' counts.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "m.bin")
        >>> write_fasttext_for_tests(p, ["a", "b"], np.arange(10, dtype=np.float32).reshape(5, 2), minn=2, maxn=2)
        >>> t = read_fasttext(p)
        >>> t.counts.tolist(), t.subwords.vector("zz").shape
        ([1, 1], (2,))
    """
    p = check_input_file(path, "fastText model")
    name = str(p)
    check_encoding(encoding)
    check_limit(limit)
    with open_maybe_compressed(p) as fh:
        st = _Stream(fh, name)
        st.need(8 + _NEW_ARGS.size, "its header")
        parsed = parse_args(st.buf)
        if parsed is None:
            raise FormatError(f"Expected a fastText .bin model in {name}. Received: an unknown header")
        args, used, new = parsed
        st.pos = used
        dim = args["dim"]
        check_dim(dim, name, "the model arguments")
        size, nwords, nlabels = st.take(_I3, "its dictionary")
        (ntokens,) = st.take(_Q, "its dictionary")
        prune = st.take(_Q, "its dictionary")[0] if new else 0
        if nlabels > 0:
            raise FormatError(
                f"Expected an unsupervised fastText model (word vectors) in {name}. "
                f"Received: a supervised model with {nlabels} labels"
            )
        if not 0 <= nwords <= size or size < 0:
            raise FormatError(f"Expected a fastText dictionary in {name}. Received: {size} entries, {nwords} words")
        if not is_compressed(name) and size > os.path.getsize(name):
            raise FormatError(
                f"The fastText dictionary of {name} declares {size} words. Received: a file of {os.path.getsize(name)} bytes"
            )
        raw_words, counts = _read_dictionary(st, size)
        if prune > 0:
            st.need(8 * prune, "its pruned index")
            st.pos += 8 * prune
        if new:
            st.need(1, "its matrix")
            quant = st.buf[st.pos]
            st.pos += 1
            if quant:
                raise FormatError(
                    f"Expected a fastText model with a full matrix in {name}. Received: a quantized model (.ftz)"
                )
        m, n = st.take(_QQ, "its matrix header")
        bucket = args["bucket"]
        if n != dim or m != nwords + bucket:
            raise FormatError(
                f"Expected a {nwords + bucket} x {dim} input matrix ({nwords} words + {bucket} buckets) in {name}. "
                f"Received: {m} x {n}"
            )
        matrix = _matrix(st, name, m, n)
    words, keep, skipped = _decode_words(raw_words[:nwords], encoding, skip_bad_lines, name)
    vocab = KeyTable()
    kept = vocab.add(words)
    sel = np.arange(nwords) if keep is None else keep
    if kept is not None:
        sel = sel[kept]
    if limit is not None:
        sel = sel[:limit]
    subwords = Subwords(matrix[nwords:], args["minn"], args["maxn"]) if bucket and args["maxn"] else None
    keys = [vocab.words[i] for i in range(len(sel))]
    sink = (rows or memory_rows)(dim, max(len(sel), 1))
    try:
        step = 65536
        for s in range(0, len(sel), step):
            idx = sel[s : s + step]
            own = np.asarray(matrix[idx], dtype=np.float32)
            block = own if subwords is None else subwords.compose(keys[s : s + step], own)
            sink.put(s, block)
        if not keys:
            raise FormatError(f"Expected at least one vector. Received: no words in {name}")
        vectors = sink.finish(len(keys))
    except BaseException:
        sink.abort()
        raise
    if report is not None:
        report.update(skipped_lines=skipped, duplicates=vocab.duplicates, lines=size)
    meta = {"fasttext": {k: args[k] for k in ("dim", "ws", "epoch", "min_count", "neg", "loss", "model", "bucket",
                                                "minn", "maxn", "version")} | {"ntokens": ntokens}}
    return VectorTable(keys, vectors, np.asarray(counts, np.int64)[sel], source=name, meta=meta,
                       key_index=vocab.k2i if len(vocab.k2i) == len(keys) else None, subwords=subwords)


def _read_dictionary(st: _Stream, size: int) -> tuple[list[bytes], list[int]]:
    words: list[bytes] = []
    counts: list[int] = []
    for i in range(size):
        while True:
            nul = st.buf.find(b"\x00", st.pos)
            if nul >= 0 and nul + 1 + _ENTRY_TAIL.size <= len(st.buf):
                break
            st.need(len(st.buf) - st.pos + (1 << 16), f"dictionary entry {i + 1}")
            if len(st.buf) - st.pos > (1 << 24):
                raise FormatError(f"Expected a fastText dictionary in {st.name}. Received: word {i + 1} is over 16 MiB")
        words.append(st.buf[st.pos : nul])
        count, _kind = _ENTRY_TAIL.unpack_from(st.buf, nul + 1)
        counts.append(count)
        st.pos = nul + 1 + _ENTRY_TAIL.size
    return words, counts


def _decode_words(raw: list[bytes], encoding: str, skip: bool, name: str) -> tuple[list[str], np.ndarray | None, int]:
    out: list[str] = []
    keep: list[int] = []
    for i, wb in enumerate(raw):
        try:
            out.append(wb.decode(encoding))
            keep.append(i)
        except UnicodeDecodeError as e:
            if not skip:
                raise FormatError(
                    f"Expected {encoding} text in word {i + 1} of {name} (use --encoding). "
                    f"Received: bytes {wb[max(0, e.start - 4) : e.end + 4]!r}"
                ) from None
    if len(keep) == len(raw):
        return out, None, 0
    return out, np.asarray(keep, np.int64), len(raw) - len(keep)


def _matrix(st: _Stream, name: str, m: int, n: int) -> np.ndarray:
    """The input matrix: a memory map of a plain file, read into memory from a compressed one."""
    nbytes = m * n * 4
    if not is_compressed(name):
        start = st.tell()
        size = os.path.getsize(name)
        if start + nbytes > size:
            raise FormatError(
                f"Expected a {m} x {n} float32 matrix ({nbytes} bytes) in {name}. "
                f"Received: {max(size - start, 0)} bytes after the dictionary"
            )
        if m == 0:
            return np.empty((0, n), np.float32)
        return np.memmap(name, dtype="<f4", mode="r", offset=start, shape=(m, n))
    out = np.empty(m * n, dtype="<f4")
    view = out.view(np.uint8)
    have = min(len(st.buf) - st.pos, nbytes)
    view[:have] = np.frombuffer(st.buf, np.uint8, have, st.pos)
    while have < nbytes:
        chunk = st.fh.read(min(1 << 24, nbytes - have))
        if not chunk:
            raise FormatError(f"Expected a {m} x {n} float32 matrix in {name}. Received: the stream ends inside it")
        view[have : have + len(chunk)] = np.frombuffer(chunk, np.uint8)
        have += len(chunk)
    return out.reshape(m, n)


def write_fasttext_for_tests(path: str | os.PathLike[str], words: list[str], matrix: np.ndarray, *,
                             minn: int = 3, maxn: int = 6, new: bool = True, encoding: str = "utf-8") -> None:
    """Write a minimal fastText ``.bin`` (words then ``len(matrix) - len(words)`` buckets), for tests and docs.

    Not a fastText writer for users: it writes neither training state nor an output matrix worth keeping.
    """
    dim = matrix.shape[1]
    bucket = matrix.shape[0] - len(words)
    with open(path, "wb") as fh:
        args = (5, 5, 1, 5, 1, 2, 1, bucket, minn, maxn, 100, 1e-4)
        if new:
            fh.write(struct.pack("<2i", MAGIC, 12) + _NEW_ARGS.pack(dim, *args))
        else:
            fh.write(struct.pack("<2i", dim, 5) + _OLD_ARGS.pack(*args[1:]))
        fh.write(_I3.pack(len(words), len(words), 0) + _Q.pack(len(words)))
        if new:
            fh.write(_Q.pack(-1))
        for w in words:
            fh.write(w.encode(encoding) + b"\x00" + _ENTRY_TAIL.pack(1, 0))
        if new:
            fh.write(b"\x00")
        fh.write(_QQ.pack(*matrix.shape) + np.ascontiguousarray(matrix, "<f4").tobytes())
        if new:
            fh.write(b"\x00")
        fh.write(_QQ.pack(1, dim) + np.zeros(dim, "<f4").tobytes())  # the output matrix


class FastTextFormat(VectorFormat):
    """Facebook's fastText ``.bin`` (the ``fasttext`` entry of the formats registry; read only)."""

    name = "fasttext"
    read_options = ("encoding", "skip_bad_lines", "limit", "report", "rows")
    write_options = ()
    writable = False
    sniff_rank = 10

    @classmethod
    def sniff(cls, path: str, head: bytes) -> bool:
        """fastText's magic number, or (older files) training arguments that make sense."""
        return parse_args(head) is not None

    def read(self, path: str | os.PathLike[str], **options: Any) -> VectorTable:
        return read_fasttext(path, **options)
