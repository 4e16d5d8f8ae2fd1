"""word2vec text (``count dim`` header) and GloVe text (no header): read with Apache Arrow's CSV reader.

The body is read in blocks of whole lines (1 MiB, from a plain or a ``.gz`` / ``.bz2`` / ``.xz`` stream alike)
that threads parse with ``pyarrow.csv`` (space delimiter, no quoting, the word column as text, the values as
float64, then rounded to float32 by Arrow's cast in the same thread), while this thread drops duplicate words
and writes the rows into the output (:mod:`~embedkit.vectors.formats.rows`: memory, or the native set's own
matrix file). Values are parsed as float64 and rounded to float32, as gensim does (``np.float32(str)`` goes
through a double), so the vectors are bit-identical to gensim's.

What Arrow does not take is read by the line reader below, with today's rules and messages: a block with an
empty word, a value Arrow will not parse, NaN / Inf or a value beyond float32's range, bytes that are not UTF-8 (or not valid in ``encoding``), a
lone carriage return, or rows with the wrong number of fields goes through it line by line, which finds the
global line number of the first bad line. Rows whose word holds spaces are taken row by row (Arrow reports
them; the rest of the block stays Arrow's): a word may contain spaces only when the token before the values
is not a number, so a row with one value too many is an error, not a word glued to a number.
:class:`Word2VecTextFormat` and :class:`GloveTextFormat` are the entries of the formats registry.

>>> import numpy as np, tempfile, os
>>> from embedkit.vectors.word_vectors import WordVectors
>>> p = os.path.join(tempfile.mkdtemp(), "v.txt")
>>> WordVectors(["a", "b"], np.array([[0.5, 1], [2, 3]], np.float32)).save(p, format="glove")
>>> open(p).read()
'a 0.5 1\\nb 2 3\\n'
>>> read_text(p).vectors.tolist()
[[0.5, 1.0], [2.0, 3.0]]
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from embedkit.errors import EmbedkitError, FormatError, check_input_file
from embedkit.files.atomic import atomic_path
from embedkit.vectors.formats.base import VectorFormat, VectorTable
from embedkit.vectors.formats.common import (
    UTF8_BOM,
    KeyTable,
    check_declared_size,
    check_dim,
    check_encoding,
    check_limit,
    is_compressed,
    is_utf8,
    open_maybe_compressed,
    uncompressed_size_hint,
)
from embedkit.vectors.formats.rows import RowsFactory, memory_rows

BLOCK = 1 << 20  # 1 MiB of text per parse step (measured: 4 MiB blocks held 45-65 MB more at the peak, no faster)
MAX_LINE = 1 << 24  # 16 MiB: a longer line is not a vector (MAX_DIM values of 25 characters fit in 2.5 MiB)
MAX_ARROW_INVALID_ROWS = 256  # more rows of the wrong width in one block: read that block line by line
MAX_WORKERS = 8
FLOAT32_OVERFLOW = float.fromhex("0x1.ffffffp+127")  # the smallest magnitude that rounds to float32 infinity
ARROW_PIECE = 2 * BLOCK  # Arrow tokenises a block in one piece (a piece cut just past a block's end costs a second pass)


@dataclass
class _Ctx:
    """What every parse step needs to know about the file."""

    name: str
    dim: int
    encoding: str
    skip_bad_lines: bool
    declared: tuple[int, int] | None
    ascii_compatible: bool
    utf8: bool
    trailing_space: bool  # every line ends with a space (fastText's .vec files)
    line_bytes: int = 0  # length of the first line (sizes Arrow's pieces)


@dataclass
class _Layout:
    """Where the body starts, found from the first non-blank line."""

    header: bool
    declared: tuple[int, int] | None
    dim: int
    body: bytes  # the bytes read so far from the start of the body
    body_offset: int  # offset of the body in the (decompressed) stream
    lines_before: int  # number of lines before the body
    trailing_space: bool


@dataclass
class _Parsed:
    """One block as Arrow read it: words and float32 rows (``values`` None: read ``block`` line by line)."""

    words: list[str]
    values: np.ndarray | None
    lines: int
    block: bytes | bytearray = b""


def _line_count(block: bytes | bytearray) -> int:
    """Lines in ``block`` (the last may lack its newline), counted without holding the GIL for long
    (in 256 KiB steps: a block-sized temporary would stay in the thread's malloc arena)."""
    raw = np.frombuffer(block, np.uint8)
    step = 1 << 18
    n = sum(int(np.count_nonzero(raw[i : i + step] == 10)) for i in range(0, len(raw), step))
    return n + (0 if block.endswith(b"\n") else 1)


def read_text(
    path: str | os.PathLike[str],
    header: bool | None = None,
    encoding: str = "utf-8",
    skip_bad_lines: bool = False,
    limit: int | None = None,
    report: dict[str, Any] | None = None,
    workers: int | None = None,
    rows: RowsFactory | None = None,
) -> VectorTable:
    """Read word2vec text (``header=True``), GloVe text (``header=False``) or autodetect (``None``).

    Args:
        encoding: encoding of the words (values are ASCII).
        skip_bad_lines: skip lines with the wrong number of values, unparsable or non-finite values or
            undecodable words instead of failing; the number skipped goes to ``report["skipped_lines"]``.
        limit: read at most this many vectors.
        report: optional dict filled with ``skipped_lines``, ``duplicates`` and ``lines``.
        workers: threads parsing blocks with Arrow (default: the CPUs this process may use, at most 8;
            1 parses in this thread).
        rows: where the rows go (a :data:`~embedkit.vectors.formats.rows.RowsFactory`; default memory).

    Duplicate words keep their first vector; their count goes to ``report["duplicates"]``.
    NaN / Inf values, an empty file, a header that disagrees with the body or with the file size, or more
    than :data:`~embedkit.vectors.formats.common.MAX_DIM` values per line raise :class:`FormatError`.
    A UTF-8 byte order mark before the first line is skipped.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "w.txt")
        >>> _ = open(p, "w").write("2 3\\nx 1 2 3\\ny 4 5 6\\n")
        >>> wv = read_text(p)
        >>> wv.keys, wv.dim
        (['x', 'y'], 3)
    """
    p = check_input_file(path, "vectors file")
    name = str(p)
    check_encoding(encoding)
    check_limit(limit)
    if workers is None:
        workers = min(_available_cpus(), MAX_WORKERS)
    elif isinstance(workers, bool) or not isinstance(workers, int) or workers <= 0:
        raise EmbedkitError(f"`workers` must be a positive integer. Received: workers={workers!r}")
    probe = "\n a".encode(encoding)

    with open_maybe_compressed(p) as fh:
        layout = _sniff(fh, name, header)
        first_line = layout.body.find(b"\n")
        ctx = _Ctx(name, layout.dim, encoding, skip_bad_lines, layout.declared, probe == b"\n a",
                   is_utf8(encoding), layout.trailing_space, first_line if first_line >= 0 else len(layout.body))
        capacity = _capacity(name, layout, limit)
        vocab, vectors, skipped, lines = _read_body(fh, layout, ctx, limit, rows or memory_rows, capacity, workers)

    if layout.declared is not None and limit is None and not skip_bad_lines and vocab.rows != layout.declared[0]:
        raise FormatError(
            f"Header of {name} declares {layout.declared[0]} vectors of dim {layout.declared[1]}. "
            f"Received: {vocab.rows} vectors"
        )
    words = vocab.words
    if limit is not None and len(words) > limit:
        words = words[:limit]
    if report is not None:
        report.update(skipped_lines=skipped, duplicates=vocab.duplicates, lines=lines)
    return VectorTable(words, vectors, source=name, key_index=vocab.k2i if len(vocab.k2i) == len(words) else None)


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _capacity(name: str, layout: _Layout, limit: int | None) -> int:
    """Rows to reserve: the header's count when the file can hold it, else an estimate from the size."""
    total = uncompressed_size_hint(name)
    if total is None and is_compressed(name):
        total = os.path.getsize(name) * 4
    sample = layout.body[: 1 << 16]
    per_line = len(sample) / max(sample.count(b"\n"), 1) if sample else 1
    guess = int((max(total or 0, 1) - layout.body_offset) / max(per_line, 1) * 1.1) + 1024
    cap = guess if layout.declared is None else min(layout.declared[0], max(guess, 1024))
    if limit is not None:
        cap = min(cap, limit)
    return max(cap, 1)


# -- the first line ------------------------------------------------------------------------------------
def _read_line(fh: IO[bytes], buf: bytes, start: int, name: str, line_no: int) -> tuple[bytes, int]:
    """Read on until ``buf`` holds a newline at or after ``start`` (or the stream ends)."""
    while buf.find(b"\n", start) < 0:
        if len(buf) - start > MAX_LINE:
            raise FormatError(
                f"Expected a word and at most {MAX_LINE >> 20} MiB of values on line {line_no} of {name} "
                f"(is it a vectors file?). Received: a longer line"
            )
        chunk = fh.read(1 << 20)
        if not chunk:
            break
        buf += chunk
    end = buf.find(b"\n", start)
    return buf, len(buf) if end < 0 else end


def _sniff(fh: IO[bytes], name: str, header: bool | None) -> _Layout:
    """Read up to the first non-blank line (and the first body line) and decide header / dim from it."""
    buf = fh.read(1 << 16)
    bom = len(UTF8_BOM) if buf.startswith(UTF8_BOM) else 0
    s = bom
    while True:  # skip leading blank lines
        stripped = buf[s:].lstrip()
        if stripped:
            s = len(buf) - len(stripped)
            break
        s = len(buf)
        if len(buf) > MAX_LINE:
            raise FormatError(f"Expected a vector in the first {MAX_LINE >> 20} MiB of {name}. Received: blank lines")
        chunk = fh.read(1 << 20)
        if not chunk:
            raise FormatError(f"Expected at least one vector. Received: empty file {name!r}")
        buf += chunk
    ls = max(buf.rfind(b"\n", bom, s) + 1, bom)
    lines_before = buf.count(b"\n", 0, ls)
    buf, le = _read_line(fh, buf, ls, name, lines_before + 1)
    line = buf[ls:le]
    head = line.split()
    is_header = len(head) == 2 and head[0].isdigit() and head[1].isdigit()
    if header is None:
        header = is_header
    if header:
        if not is_header:
            raise FormatError(
                f"Expected a word2vec header 'count dim' on line {lines_before + 1} of {name}. "
                f"Received: {line[:60]!r}"
            )
        declared = (int(head[0]), int(head[1]))
        check_dim(declared[1], name, "the header")
        body_start = min(le + 1, len(buf))
        if not is_compressed(name):
            check_declared_size(name, declared[0], declared[1], 2 * declared[1] + 2,
                                os.path.getsize(name) - body_start)
        buf, first_end = _read_line(fh, buf, body_start, name, lines_before + 2)
        trailing = buf[body_start:first_end].rstrip(b"\r").endswith(b" ")
        return _Layout(True, declared, declared[1], buf[body_start:], body_start, lines_before + 1, trailing)
    # A word may contain spaces: the values are the numeric tokens after the last non-numeric one.
    k = 1
    while k < len(head) and not _isnum(head[k]):
        k += 1
    dim = len(head) - k
    if dim <= 0:
        raise FormatError(
            f"Expected a word followed by its values on line {lines_before + 1} of {name}. "
            f"Received: {line[:60]!r}"
        )
    check_dim(dim, name, f"line {lines_before + 1}")
    if is_header:  # GloVe was asked for, but the first line looks like a word2vec header: check the next one
        buf, nxt_end = _read_line(fh, buf, min(le + 1, len(buf)), name, lines_before + 2)
        nxt = buf[min(le + 1, len(buf)) : nxt_end].split()
        if int(head[1]) != 1 and len(nxt) == int(head[1]) + 1:
            raise FormatError(
                f"Expected GloVe text (no header line) in {name}. Received: a word2vec header "
                f"{line.decode('ascii')!r} on line {lines_before + 1} (read it as word2vec)"
            )
    trailing = line.rstrip(b"\r").endswith(b" ")
    return _Layout(False, None, dim, buf[ls:], ls, lines_before, trailing)


# -- the body: blocks of whole lines, parsed by Arrow in threads ----------------------------------------------
def _blocks(first: bytes, fh: IO[bytes], name: str, offset: int) -> Iterator[bytes | bytearray]:
    """Blocks of whole lines (each ends with a newline but maybe the last): ``first`` then the stream
    (``offset``: where ``first`` starts in the stream, for the message about a line that never ends).

    Each block is read into its own buffer behind the previous block's unfinished line and cut at its last
    newline, so its bytes are copied once (by the read).
    """
    carry: bytes | bytearray = first
    while True:
        buf = bytearray(len(carry) + BLOCK)
        view = memoryview(buf)
        view[: len(carry)] = carry
        got = fh.readinto(view[len(carry) :])  # type: ignore[attr-defined]
        view.release()
        if not got:
            if carry:
                yield carry
            return
        end = len(carry) + got
        cut = buf.rfind(b"\n", len(carry), end)
        if cut < 0:
            carry = bytes(buf[:end])
            if len(carry) > MAX_LINE:
                raise FormatError(
                    f"Expected a word and at most {MAX_LINE >> 20} MiB of values per line in {name} "
                    f"(is it a vectors file?). Received: a longer line after byte {offset}"
                )
            continue
        carry = bytes(buf[cut + 1 : end])
        del buf[cut + 1 :]  # truncating a bytearray keeps its head in place
        offset += len(buf)
        yield buf


def _parsed_blocks(blocks: Iterator[bytes | bytearray], ctx: _Ctx, workers: int) -> Iterator[_Parsed]:
    """Arrow's parse of each block, in file order; ``workers`` threads parse ahead (a block's bytes stay with
    its parse only where the line reader needs them)."""
    if workers == 1:
        for block in blocks:
            yield _arrow_block(block, ctx)
        return
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers, thread_name_prefix="embedkit-text")
    pending: deque = deque()
    try:
        for block in blocks:
            pending.append(pool.submit(_arrow_block, block, ctx))
            del block
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _read_body(
    fh: IO[bytes], layout: _Layout, ctx: _Ctx, limit: int | None, rows: RowsFactory, capacity: int, workers: int
) -> tuple[KeyTable, np.ndarray, int, int]:
    vocab = KeyTable()
    sink = rows(ctx.dim, capacity)
    stored = 0
    skipped = 0
    lineno = layout.lines_before + 1  # global number of the next line
    try:
        for parsed in _parsed_blocks(_blocks(layout.body, fh, ctx.name, layout.body_offset), ctx, workers):
            first = lineno
            lineno += parsed.lines
            if parsed.values is None:
                room = None if limit is None else limit - len(vocab.words)
                words, values, sk, used = _parse_block(bytes(parsed.block), first, ctx, vocab, room)
                skipped += sk
                if used is not None:
                    lineno = first + used
            else:
                words, values = parsed.words, parsed.values
            keep = vocab.add(words)
            if keep is not None:
                values = values[keep]
            if limit is not None:
                values = values[: max(limit - stored, 0)]
            sink.put(stored, values)
            stored += len(values)
            if limit is not None and stored >= limit:
                break
        if not vocab.words:
            raise FormatError(f"Expected at least one vector. Received: no vectors in {ctx.name}")
        vectors = sink.finish(stored)
    except BaseException:
        sink.abort()
        raise
    return vocab, vectors, skipped, lineno - 1


def _arrow_options(ctx: _Ctx, size: int, handler: Any = None) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = ["w"] + [f"v{i}" for i in range(ctx.dim)] + (["t"] if ctx.trailing_space else [])
    types = {n: pa.float64() for n in names[1 : ctx.dim + 1]}
    types["w"] = pa.string() if ctx.utf8 else pa.binary()
    if ctx.trailing_space:
        types["t"] = pa.binary()
    return {
        # One piece per 1 MiB block (Arrow parses ~1 MiB pieces fastest: 25% less CPU than 4 MiB ones); a
        # piece holds several lines even when they are long.
        "read_options": pacsv.ReadOptions(column_names=names, use_threads=False,
                                          block_size=max(ARROW_PIECE, 8 * ctx.line_bytes)),
        "parse_options": pacsv.ParseOptions(delimiter=" ", quote_char=False, double_quote=False, escape_char=False,
                                            newlines_in_values=False, ignore_empty_lines=True,
                                            invalid_row_handler=handler),
        "convert_options": pacsv.ConvertOptions(column_types=types, null_values=[], strings_can_be_null=False,
                                                quoted_strings_can_be_null=False),
    }


def _arrow_block(block: bytes | bytearray, ctx: _Ctx) -> _Parsed:
    """Arrow's parse of ``block`` (``values`` None where the line reader must decide: see the module docstring)."""
    lines = _line_count(block)
    parsed = _arrow_parse(block, ctx)
    if parsed is None:
        return _Parsed([], None, lines, block)
    words, values = parsed
    return _Parsed(words, values, lines)


def _arrow_parse(block: bytes | bytearray, ctx: _Ctx) -> tuple[list[str], np.ndarray] | None:
    if not ctx.ascii_compatible:
        return None
    if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
        return None  # Arrow ends a line at a lone carriage return, the line reader does not
    import pyarrow as pa
    import pyarrow.csv as pacsv

    invalid: list[tuple[int, str]] = []
    try:
        table = pacsv.read_csv(pa.py_buffer(block), **_arrow_options(ctx, len(block)))
    except pa.ArrowInvalid as e:
        if "columns, got" not in str(e):
            return None
        try:  # rows of the wrong width: Arrow reports them row by row, but only in valid UTF-8
            block.decode("utf-8")
        except UnicodeDecodeError:
            return None

        def handler(row: Any) -> str:
            if len(invalid) >= MAX_ARROW_INVALID_ROWS:
                return "error"
            invalid.append((row.number, row.text))
            return "skip"

        try:
            table = pacsv.read_csv(pa.py_buffer(block), **_arrow_options(ctx, len(block), handler))
        except pa.ArrowInvalid:
            return None
    return _from_table(table, invalid, ctx)


def _from_table(table: Any, invalid: list[tuple[int, str]], ctx: _Ctx) -> tuple[list[str], np.ndarray] | None:
    import pyarrow.compute as pc

    n = table.num_rows
    dim = ctx.dim
    if n:
        lengths = pc.binary_length(table.column(0))
        if pc.min(lengths).as_py() == 0:
            return None  # an empty word: the line reader decides
        if ctx.trailing_space and pc.max(pc.binary_length(table.column(dim + 1))).as_py() != 0:
            return None  # a row with one value too many, seen as a trailing field
        values = _values_matrix(table, dim)
        if not math.isfinite(values.sum(dtype=np.float64)):
            return None  # NaN, Inf, or beyond float32 (now Inf): the line reader names the line
        words = table.column(0).to_pylist()
        if not ctx.utf8:
            words = _decode_all(words, ctx.encoding)
            if words is None:
                return None
    else:
        values = np.empty((0, dim), np.float64)
        words = []
    if not invalid:
        return words, values
    return _merge_invalid(words, values, invalid, ctx)


def _values_matrix(table: Any, dim: int) -> np.ndarray:
    """Columns 1..dim (parsed as float64) rounded to float32, as one row-major array.

    Each column is written into its place in the float32 matrix by numpy's casting copy (round to nearest,
    as ``np.float32(float(text))``), so the values stay gensim's; a double beyond float32's range becomes Inf,
    which the caller's finiteness check sends to the line reader. Measured on GloVe 6B 50d: half the CPU of
    Arrow's cast followed by its row-major ``to_tensor``.
    """
    out = np.empty((table.num_rows, dim), np.float32)
    with np.errstate(over="ignore"):
        for j in range(dim):
            out[:, j] = table.column(j + 1).to_numpy()
    return out


def _decode_all(raw: list[bytes], encoding: str) -> list[str] | None:
    try:
        out = b"\n".join(raw).decode(encoding).split("\n")
    except UnicodeDecodeError:
        return None
    return out if len(out) == len(raw) else None


def _merge_invalid(
    words: list[str], values: np.ndarray, invalid: list[tuple[int, str]], ctx: _Ctx
) -> tuple[list[str], np.ndarray] | None:
    """Put the rows Arrow reported as the wrong width (words with spaces, trailing blanks) back in place.

    Arrow numbers rows from 1 among the non-empty lines of the block. Any row that is not a valid vector
    sends the whole block to the line reader (which knows line numbers and ``skip_bad_lines``).
    """
    total = len(words) + len(invalid)
    pos = np.array([num - 1 for num, _ in invalid], dtype=np.int64)
    if len(set(pos.tolist())) != len(pos) or (pos.size and (pos.min() < 0 or pos.max() >= total)):
        return None
    out_words: list[str | None] = [None] * total
    out_values = np.empty((total, ctx.dim), values.dtype)
    valid = np.ones(total, bool)
    valid[pos] = False
    idx = np.flatnonzero(valid)
    out_values[idx] = values
    for j, w in zip(idx.tolist(), words):
        out_words[j] = w
    blank = []
    for j, (_, text) in zip(pos.tolist(), invalid):
        row = _split_line(text.encode("utf-8").rstrip(), ctx.dim)
        if row is None:
            blank.append(j)
            continue
        if isinstance(row, str):
            return None
        w, rest = row
        try:
            vals = [float(t) for t in rest.split()]
            word = w.decode(ctx.encoding)
        except (ValueError, UnicodeDecodeError):
            return None
        if len(vals) != ctx.dim or not all(map(math.isfinite, vals)) or max(map(abs, vals)) >= FLOAT32_OVERFLOW:
            return None
        out_words[j] = word
        out_values[j] = vals
    if blank:
        keep = np.ones(total, bool)
        keep[blank] = False
        out_values = out_values[keep]
        out_words = [w for w, k in zip(out_words, keep.tolist()) if k]
    return out_words, out_values  # type: ignore[return-value]


# -- the line reader: what Arrow did not take ----------------------------------------------------------------
def _split_line(line: bytes, dim: int) -> tuple[bytes, bytes] | str | None:
    """``(word, values text)`` of a stripped line, None for a blank one, or ``"bad"``.

    A word may contain spaces only when the token just before the ``dim`` values is not a number.
    """
    if not line:
        return None
    w, _, rest = line.partition(b" ")
    if rest.count(b" ") == dim - 1 and w:
        return w, rest
    toks = line.split()
    if len(toks) == dim + 1:
        return toks[0], b" ".join(toks[1:])
    if len(toks) > dim + 1 and not _isnum(toks[-dim - 1]) and all(_isnum(t) for t in toks[-dim:]):
        return b" ".join(toks[:-dim]), b" ".join(toks[-dim:])
    return "bad"


def _parse_block(
    block: bytes, first: int, ctx: _Ctx, vocab: KeyTable, room: int | None
) -> tuple[list[str], np.ndarray, int, int | None]:
    """Line by line; with ``room`` (vectors still wanted under ``limit``) stop once that many are read.

    Returns words, float64 rows, lines skipped and, when it stopped early, the lines it used.
    """
    lines = block.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if room is None:
        words, values, skipped = _parse_lines(lines, first, ctx)
        return words, values, skipped, None
    out_w: list[str] = []
    out_v: list[np.ndarray] = []
    skipped = 0
    start = 0
    seen = set(vocab.k2i)
    while start < len(lines):
        stop = start + max(room - len(out_w), 1)
        w, v, sk = _parse_lines(lines[start:stop], first + start, ctx)
        skipped += sk
        out_w += w
        out_v.append(v)
        start = min(stop, len(lines))
        if len(set(out_w) - seen) >= room:
            break
    values = np.concatenate(out_v) if out_v else np.empty((0, ctx.dim))
    return out_w, values, skipped, (start if start < len(lines) else None)


def _parse_lines(lines: list[bytes], first: int, ctx: _Ctx) -> tuple[list[str], np.ndarray, int]:
    """Parse ``lines`` (global line number of ``lines[0]`` is ``first``) into words and float64 rows.

    Each line is checked in turn (its width, its values, their finiteness, its word's encoding), so the error
    names the first bad line of the file whatever the block size; ``skip_bad_lines`` drops bad lines instead.
    """
    dim = ctx.dim
    words: list[str] = []
    rows: list[list[float]] = []
    skipped = 0
    said = " (as its header declares)" if ctx.declared is not None else ""
    for i, raw in enumerate(lines):
        row = _split_line(raw.rstrip(), dim)
        if row is None:
            continue
        if isinstance(row, str):
            error = (f"Expected {dim} values after the word on line {first + i} of {ctx.name}{said}. "
                     f"Received: {max(len(raw.split()) - 1, 0)} values")
        else:
            error = None
            wb, rest = row
            toks = rest.split()
            try:
                if len(toks) != dim:
                    raise ValueError
                vals = [float(t) for t in toks]
            except ValueError:
                bad_tok = next((t for t in toks if not _isnum(t)), None)
                got = f"{bad_tok[:30]!r}" if bad_tok is not None else f"{len(toks)} values"
                error = f"Expected {dim} numeric values on line {first + i} of {ctx.name}. Received: {got}"
            else:
                if not all(map(math.isfinite, vals)):
                    error = f"Expected finite numbers on line {first + i} of {ctx.name}. Received: NaN or Inf"
                elif any(abs(v) >= FLOAT32_OVERFLOW for v in vals):
                    big = next(t for t, v in zip(toks, vals) if abs(v) >= FLOAT32_OVERFLOW)
                    error = (f"Expected values within float32's range (|x| < 3.4e38) on line {first + i} of "
                             f"{ctx.name}. Received: {big[:30].decode('ascii', 'replace')}")
                else:
                    try:
                        word = wb.decode(ctx.encoding)
                    except UnicodeDecodeError as e:
                        error = (f"Expected {ctx.encoding} text on line {first + i} of {ctx.name} (use --encoding). "
                                 f"Received: bytes {wb[max(0, e.start - 4) : e.end + 4]!r}")
        if error is not None:
            if not ctx.skip_bad_lines:
                raise FormatError(error)
            skipped += 1
            continue
        words.append(word)
        rows.append(vals)
    values = np.array(rows, dtype=np.float64).reshape(len(rows), dim)
    return words, values, skipped


def _isnum(tok: bytes) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


# -- writing --------------------------------------------------------------------------------------------------
def _format_rows(block: np.ndarray, precision: int | None) -> list[str]:
    """Format rows of float32 values; ``precision=None`` picks per row the shortest %g that round-trips."""
    n, d = block.shape
    if precision is not None:
        fmt = " ".join([f"%.{precision}g"] * d)
        return [fmt % tuple(r) for r in block.tolist()]
    out: list[str | None] = [None] * n
    pending = np.arange(n)
    for p in (5, 6, 7, 8, 9):
        fmt = " ".join([f"%.{p}g"] * d)
        sub = block[pending]
        lines = [fmt % tuple(r) for r in sub.tolist()]
        if p == 9:
            ok = np.ones(len(pending), bool)
        else:
            back = np.array([s.split(" ") for s in lines], dtype=np.float64).astype(np.float32)
            ok = (back == sub).all(axis=1) | ~np.isfinite(sub).all(axis=1)
        for idx, line, good in zip(pending.tolist(), lines, ok.tolist()):
            if good:
                out[idx] = line
        pending = pending[~ok]
        if pending.size == 0:
            break
    return out  # type: ignore[return-value]


def write_text(
    table: VectorTable,
    path: str | os.PathLike[str],
    header: bool = True,
    precision: int | None = None,
) -> None:
    """Write word2vec text (``header=True``) or GloVe text (``header=False``), atomically.

    ``precision`` is the number of significant digits (``%.Ng``); by default each row gets the fewest
    digits that read back to the identical float32 values (GloVe's own 5 digits when they suffice).
    """
    if precision is not None and (isinstance(precision, bool) or not isinstance(precision, int)
                                  or not 1 <= precision <= 17):
        raise EmbedkitError(f"`precision` must be an integer in 1..17. Received: precision={precision!r}")
    bad = next((k for k in table.keys if not k or any(c in k for c in " \n\r\t")), None)
    if bad is not None:
        raise EmbedkitError(f"Words written as text must be non-empty with no whitespace. Received: {bad!r}")
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        if header:
            fh.write(f"{len(table)} {table.dim}\n")
        step = 8192
        for s in range(0, len(table), step):
            block = np.asarray(table.vectors[s : s + step], dtype=np.float32)
            lines = _format_rows(block, precision)
            fh.write("".join(f"{w} {v}\n" for w, v in zip(table.keys[s : s + step], lines)))


# -- the registry entries -------------------------------------------------------------------------------------
def _looks_like_header(head: bytes) -> bool:
    first = head[len(UTF8_BOM) :] if head.startswith(UTF8_BOM) else head
    parts = first.lstrip().split(b"\n", 1)[0].split()
    return len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit()


class _TextFormat(VectorFormat):
    """Shared by the two text formats; ``header`` says whether the format has a ``count dim`` line."""

    header: bool = True
    read_options = ("encoding", "skip_bad_lines", "limit", "report", "workers", "rows")
    write_options = ("precision",)

    def read(self, path: str | os.PathLike[str], **options: Any) -> VectorTable:
        return read_text(path, header=self.header, **options)

    def read_detected(self, path: str | os.PathLike[str], **options: Any) -> VectorTable:
        return read_text(path, header=None, **options)

    def write(self, table: VectorTable, path: str | os.PathLike[str], **options: Any) -> None:
        write_text(table, path, header=self.header, **options)


class Word2VecTextFormat(_TextFormat):
    """word2vec text: a ``count dim`` header, then ``word v1 ... vd`` per line."""

    name = "word2vec"
    header = True
    sniff_rank = 30

    @classmethod
    def sniff(cls, path: str, head: bytes) -> bool:
        """A ``count dim`` first line over a text body."""
        return _looks_like_header(head)


class GloveTextFormat(_TextFormat):
    """GloVe text: ``word v1 ... vd`` per line, no header."""

    name = "glove"
    header = False
    sniff_rank = 90

    @classmethod
    def sniff(cls, path: str, head: bytes) -> bool:
        """Anything else that is not empty (the text reader then says what is wrong with it)."""
        return bool(head.strip())
