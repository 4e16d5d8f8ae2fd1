"""word2vec text (``count dim`` header) and GloVe text (no header) readers and writers.

Values are parsed as float64 and rounded to float32, as gensim does, so the vectors are bit-identical to
gensim's. Large uncompressed files are split into newline-aligned byte ranges that forked worker
processes parse in parallel, each writing its rows straight into one shared float32 matrix; error messages
still name the global line number. Compressed files (``.gz``, ``.bz2``, ``.xz``) stream in one process.
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

import mmap
import os
import signal
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from embedkit.errors import EmbedkitError, FormatError, check_input_file
from embedkit.files.atomic import atomic_path
from embedkit.vectors.formats.base import VectorFormat, VectorTable
from embedkit.vectors.formats.common import KeyTable, check_encoding, check_limit, is_compressed, open_maybe_compressed

BLOCK = 1 << 22  # 4 MiB of text per parse step when streaming
RANGE_BLOCK = 1 << 20  # 1 MiB per step in the parallel reader (keeps each process's working set small)
PARALLEL_MIN_BYTES = 1 << 23  # files smaller than 8 MiB are read in one process


@dataclass
class _Ctx:
    """What every parse step needs to know about the file."""

    name: str
    dim: int
    encoding: str
    skip_bad_lines: bool
    declared: tuple[int, int] | None
    ascii_compatible: bool


@dataclass
class _Layout:
    """Where the body starts, found from the first non-blank line."""

    header: bool
    declared: tuple[int, int] | None
    dim: int
    body_start: int  # byte offset of the first body line
    lines_before: int  # number of lines before body_start
    head: bytes  # the bytes read so far from the start of the stream


@dataclass
class _Part:
    """What parsing one byte range produced (rows are written to the shared matrix)."""

    words: list[str] | str  # a worker sends its words as one newline-joined string (far smaller to ship)
    rows: int
    skipped: int
    lines: int


class _Rows:
    """A growable float32 matrix (used when streaming, where the row count is only estimated)."""

    def __init__(self, dim: int, capacity: int) -> None:
        self.dim = dim
        self.data = np.empty((max(capacity, 1), dim), dtype=np.float32)
        self.n = 0

    def extend(self, block: np.ndarray) -> None:
        need = self.n + block.shape[0]
        if need > self.data.shape[0]:
            grown = np.empty((max(need, int(self.data.shape[0] * 1.25) + 1024), self.dim), dtype=np.float32)
            grown[: self.n] = self.data[: self.n]
            self.data = grown
        self.data[self.n : need] = block
        self.n = need

    def result(self) -> np.ndarray:
        if self.n < self.data.shape[0] * 0.9:
            return self.data[: self.n].copy()
        return self.data[: self.n]


def read_text(
    path: str | os.PathLike[str],
    header: bool | None = None,
    encoding: str = "utf-8",
    skip_bad_lines: bool = False,
    limit: int | None = None,
    report: dict[str, Any] | None = None,
    workers: int | None = None,
) -> VectorTable:
    """Read word2vec text (``header=True``), GloVe text (``header=False``) or autodetect (``None``).

    Args:
        encoding: encoding of the words (values are ASCII).
        skip_bad_lines: skip lines with the wrong number of values, unparsable or non-finite values or
            undecodable words instead of failing; the number skipped goes to ``report["skipped_lines"]``.
        limit: read at most this many vectors.
        report: optional dict filled with ``skipped_lines``, ``duplicates`` and ``lines``.
        workers: processes for large uncompressed files (default: the CPUs this process may use;
            1 reads in this process only).

    Duplicate words keep their first vector; their count goes to ``report["duplicates"]``.
    NaN / Inf values, an empty file, or a header that disagrees with the body raise :class:`FormatError`.

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
    probe = "\n a".encode(encoding)
    check_limit(limit)
    if workers is None:
        workers = _available_cpus()
    elif isinstance(workers, bool) or not isinstance(workers, int) or workers <= 0:
        raise EmbedkitError(f"`workers` must be a positive integer. Received: workers={workers!r}")

    with open_maybe_compressed(p) as fh:
        layout = _sniff(fh, name, header)
        ctx = _Ctx(name, layout.dim, encoding, skip_bad_lines, layout.declared, probe == b"\n a")
        parallel = (
            workers > 1
            and limit is None
            and not is_compressed(name)
            and p.stat().st_size >= PARALLEL_MIN_BYTES
            and _can_fork()
        )
        if parallel:
            if PARALLEL_MIN_BYTES > 0:  # at least half the threshold of text per worker
                workers = min(workers, max(2, p.stat().st_size // max(PARALLEL_MIN_BYTES // 2, 1)))
            vocab, vectors, skipped, lines = _read_parallel(p, layout, ctx, workers)
        else:
            vocab, vectors, skipped, lines = _read_stream(fh, p, layout, ctx, limit)

    if not vocab.words:
        raise FormatError(f"Expected at least one vector. Received: no vectors in {name}")
    if layout.declared is not None and limit is None and not skip_bad_lines and vocab.rows != layout.declared[0]:
        raise FormatError(
            f"Header of {name} declares {layout.declared[0]} vectors of dim {layout.declared[1]}. "
            f"Received: {vocab.rows} vectors"
        )
    words = vocab.words
    if limit is not None and len(words) > limit:
        words = words[:limit]
        vectors = vectors[:limit]
    if report is not None:
        report.update(skipped_lines=skipped, duplicates=vocab.duplicates, lines=lines)
    return VectorTable(words, vectors, source=name, key_index=vocab.k2i if len(vocab.k2i) == len(words) else None)


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


# -- the first line ------------------------------------------------------------------------------------
def _sniff(fh: IO[bytes], name: str, header: bool | None) -> _Layout:
    """Read up to the first non-blank line and decide header / dim from it."""
    buf = b""
    while True:
        chunk = fh.read(1 << 16)
        buf += chunk
        s = len(buf) - len(buf.lstrip())
        if not chunk or (s < len(buf) and buf.find(b"\n", s) >= 0):
            break
    if not buf.strip():
        raise FormatError(f"Expected at least one vector. Received: empty file {name!r}")
    ls = buf.rfind(b"\n", 0, s) + 1
    le = buf.find(b"\n", s)
    le = len(buf) if le < 0 else le
    line = buf[ls:le]
    lines_before = buf.count(b"\n", 0, ls)
    head = line.split()
    is_header = len(head) == 2 and head[0].isdigit() and head[1].isdigit()
    if header is None:
        header = is_header
    declared = None
    if header:
        if not is_header:
            raise FormatError(
                f"Expected a word2vec header 'count dim' on line {lines_before + 1} of {name}. "
                f"Received: {line[:60]!r}"
            )
        declared = (int(head[0]), int(head[1]))
        dim = declared[1]
        if dim <= 0:
            raise FormatError(f"Expected a positive dim in the header of {name}. Received: dim={dim}")
        return _Layout(True, declared, dim, min(le + 1, len(buf)), lines_before + 1, buf)
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
    return _Layout(False, None, dim, ls, lines_before, buf)


# -- parsing lines ---------------------------------------------------------------------------------------
def _parse_lines(lines: list[bytes], first: int, ctx: _Ctx) -> tuple[list[str], np.ndarray, int]:
    """Parse ``lines`` (global line number of ``lines[0]`` is ``first``) into words and float32 rows."""
    dim = ctx.dim
    nd = dim - 1
    words_b: list[bytes] = []
    rests: list[bytes] = []
    where: list[int] = []
    skipped = 0
    for i, raw in enumerate(lines):
        line = raw.rstrip()
        if not line:
            continue
        w, _, rest = line.partition(b" ")
        if rest.count(b" ") != nd or not w:
            toks = line.split()
            if len(toks) == dim + 1:
                w, rest = toks[0], b" ".join(toks[1:])
            elif len(toks) > dim + 1 and all(_isnum(t) for t in toks[-dim:]):
                w, rest = b" ".join(toks[:-dim]), b" ".join(toks[-dim:])  # a word with spaces
            else:
                if ctx.skip_bad_lines:
                    skipped += 1
                    continue
                said = " (as its header declares)" if ctx.declared is not None else ""
                raise FormatError(
                    f"Expected {dim} values after the word on line {first + i} of {ctx.name}{said}. "
                    f"Received: {max(len(toks) - 1, 0)} values"
                )
        words_b.append(w)
        rests.append(rest)
        where.append(i)
    if not rests:
        return [], np.empty((0, dim), np.float32), skipped
    values, keep = _parse_values(rests, dim, where, first, ctx)
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        if not ctx.skip_bad_lines:
            j = int(np.flatnonzero(bad)[0])
            raise FormatError(f"Expected finite numbers on line {first + where[j]} of {ctx.name}. Received: NaN or Inf")
        keep &= ~bad
    words = _decode(words_b, where, first, ctx, keep)
    if not keep.all():
        skipped += int((~keep).sum())
        values = values[keep]
        words = [w for w, k in zip(words, keep.tolist()) if k]
    return words, values.astype(np.float32), skipped


def _decode(words_b: list[bytes], where: list[int], first: int, ctx: _Ctx, keep: np.ndarray) -> list[str]:
    """Decode the words; undecodable ones fail (or are dropped from ``keep`` with skip_bad_lines)."""
    if ctx.ascii_compatible:
        try:
            out = b"\n".join(words_b).decode(ctx.encoding).split("\n")
            if len(out) == len(words_b):
                return out
        except UnicodeDecodeError:
            pass
    out = []
    for j, wb in enumerate(words_b):
        try:
            out.append(wb.decode(ctx.encoding))
        except UnicodeDecodeError as e:
            if not ctx.skip_bad_lines:
                raise FormatError(
                    f"Expected {ctx.encoding} text on line {first + where[j]} of {ctx.name} (use --encoding). "
                    f"Received: bytes {wb[max(0, e.start - 4) : e.end + 4]!r}"
                ) from None
            keep[j] = False
            out.append("")
    return out


def _isnum(tok: bytes) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _parse_values(
    rests: list[bytes], dim: int, where: list[int], first: int, ctx: _Ctx
) -> tuple[np.ndarray, np.ndarray]:
    """Parse every row's values in one numpy call; fall back to per-line parsing to locate bad tokens.

    Returns float64 rows and a boolean mask of the rows that parsed.
    """
    n = len(rests)
    flat = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            flat = np.fromstring(b" ".join(rests), dtype=np.float64, sep=" ")  # type: ignore[call-overload]
        except ValueError:
            pass
    if flat is not None and flat.size == n * dim:
        return flat.reshape(n, dim), np.ones(n, dtype=bool)
    out = np.zeros((n, dim), dtype=np.float64)
    keep = np.ones(n, dtype=bool)
    for j, rest in enumerate(rests):
        toks = rest.split()
        try:
            if len(toks) != dim:
                raise ValueError
            out[j] = [float(t) for t in toks]
        except ValueError:
            if not ctx.skip_bad_lines:
                bad_tok = next((t for t in toks if not _isnum(t)), None)
                got = f"{bad_tok[:30]!r}" if bad_tok is not None else f"{len(toks)} values"
                raise FormatError(
                    f"Expected {dim} numeric values on line {first + where[j]} of {ctx.name}. Received: {got}"
                ) from None
            keep[j] = False
    return out, keep


def _blocks(first: bytes, read: Callable[[], bytes]) -> Iterator[list[bytes]]:
    """Yield lists of whole lines (without newlines) from ``first`` followed by ``read()`` chunks."""
    carry = first
    while True:
        chunk = read()
        if not chunk:
            if carry:
                lines = carry.split(b"\n")
                if lines[-1] == b"":
                    lines.pop()
                yield lines
            return
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        carry = data[cut + 1 :]
        yield data[:cut].split(b"\n")


# -- one process, streaming -------------------------------------------------------------------------------
def _read_stream(
    fh: IO[bytes], p: Path, layout: _Layout, ctx: _Ctx, limit: int | None
) -> tuple[KeyTable, np.ndarray, int, int]:
    name = str(p)
    body = layout.head[layout.body_start :]
    if layout.declared is not None:
        cap = layout.declared[0]
    elif not is_compressed(name):
        first_nl = body.find(b"\n")
        per_line = first_nl + 1 if first_nl > 0 else max(len(body), 1)
        cap = int(p.stat().st_size / per_line * 1.05) + 16
    else:
        cap = 1024
    if limit is not None:
        cap = min(cap, limit)
    rows = _Rows(ctx.dim, max(cap, 1))
    vocab = KeyTable()
    skipped = 0
    lineno = layout.lines_before + 1  # global number of the next line
    for lines in _blocks(body, lambda: fh.read(BLOCK)):
        start = 0
        while start < len(lines):
            stop = len(lines) if limit is None else start + max(limit - len(vocab.words), 1)
            words, values, sk = _parse_lines(lines[start:stop], lineno + start, ctx)
            skipped += sk
            vocab.add(words)
            rows.extend(values)
            start = min(stop, len(lines))
            if limit is not None and len(vocab.words) >= limit:
                break
        lineno += start
        if limit is not None and len(vocab.words) >= limit:
            break
    vectors = rows.result()
    if vocab.keep is not None:
        vectors = vectors[np.asarray(vocab.keep, dtype=np.int64)]
    return vocab, vectors, skipped, lineno - 1


# -- several processes, one shared matrix --------------------------------------------------------------------
def _count_lines(f: IO[bytes], a: int, b: int, buf: bytearray) -> int:
    """Lines in bytes ``[a, b)`` of ``f``, read through ``buf`` (no mapping: memory stays flat)."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    f.seek(a)
    n, left, last = 0, b - a, 10
    while left > 0:
        k = f.readinto(memoryview(buf)[: min(len(buf), left)])  # type: ignore[attr-defined]
        if not k:
            break
        n += int(np.count_nonzero(arr[:k] == 10))
        last = buf[k - 1]
        left -= k
    return n + (1 if b > a and last != 10 else 0)  # a last line without a newline


def _next_line_start(f: IO[bytes], pos: int, size: int) -> int:
    """Offset just after the first newline at or after ``pos - 1`` (``size`` if none)."""
    f.seek(max(pos - 1, 0))
    at = max(pos - 1, 0)
    while True:
        chunk = f.read(1 << 16)
        if not chunk:
            return size
        i = chunk.find(b"\n")
        if i >= 0:
            return at + i + 1
        at += len(chunk)


def _read_parallel(
    p: Path, layout: _Layout, ctx: _Ctx, workers: int
) -> tuple[KeyTable, np.ndarray, int, int]:
    import multiprocessing

    size = p.stat().st_size
    start = layout.body_start
    with open(p, "rb", buffering=0) as f:
        bounds = [start]
        for i in range(1, workers):
            bounds.append(max(_next_line_start(f, start + (size - start) * i // workers, size), bounds[-1]))
        bounds.append(size)
        buf = bytearray(RANGE_BLOCK)
        counts = [_count_lines(f, bounds[i], bounds[i + 1], buf) for i in range(workers)]
        del buf
    cap = sum(counts)
    shared = mmap.mmap(-1, max(cap * ctx.dim * 4, 4))  # MAP_SHARED: the workers' writes land here
    out = np.frombuffer(shared, dtype=np.float32, count=cap * ctx.dim).reshape(cap, ctx.dim)
    row_off = [sum(counts[:i]) for i in range(workers)]
    first_line = [layout.lines_before + 1 + r for r in row_off]
    jobs = [(p, bounds[i], bounds[i + 1], first_line[i], out, row_off[i], ctx) for i in range(workers)]

    import gc

    mp = multiprocessing.get_context("fork")
    procs = []
    gc.freeze()  # the children's garbage collector then leaves the parent's objects (and their pages) alone
    try:
        for i in range(1, workers):
            if bounds[i] >= bounds[i + 1]:
                procs.append(None)
                continue
            recv, send = mp.Pipe(duplex=False)
            proc = mp.Process(target=_worker, args=(send, jobs[i]), daemon=True)
            proc.start()
            send.close()
            procs.append((proc, recv))
        gc.unfreeze()
        parts = [_parse_range(*jobs[0])]
        for i, item in enumerate(procs, start=1):
            if item is None:
                parts.append(_Part([], 0, 0, 0))
                continue
            proc, recv = item
            try:
                status, value = recv.recv()
            except EOFError:
                raise EmbedkitError(
                    f"Expected a reader process for lines {first_line[i]}+ of {ctx.name} to finish. "
                    f"Received: it exited with code {proc.exitcode}"
                ) from None
            if status != "ok":
                raise value
            parts.append(value)
    finally:
        gc.unfreeze()
        for item in procs:
            if item is not None:
                proc, recv = item
                if proc.is_alive():
                    proc.terminate()
                proc.join()
                recv.close()

    vocab = KeyTable()
    dest = 0
    for part, off in zip(parts, row_off):
        if off != dest:  # lines were skipped: close the gap (forward copy in chunks)
            step = 1 << 16
            for s in range(0, part.rows, step):
                e = min(s + step, part.rows)
                out[dest + s : dest + e] = out[off + s : off + e]
        words = part.words
        if isinstance(words, str):
            words = words.split("\n") if words else []
            part.words = ""
        vocab.add(words)
        del words
        dest += part.rows
    vectors = out[:dest]
    if vocab.keep is not None:
        vectors = vectors[np.asarray(vocab.keep, dtype=np.int64)]
    elif dest < 0.9 * cap:
        vectors = vectors.copy()
    return vocab, vectors, sum(x.skipped for x in parts), layout.lines_before + sum(counts)


def _worker(conn: Any, job: tuple) -> None:  # pragma: no cover - runs in a forked child
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    try:
        conn.send(("ok", _parse_range(*job, joined=True)))
    except EmbedkitError as e:
        conn.send(("err", e))
    except BaseException as e:  # noqa: BLE001 - report anything else as one line
        conn.send(("err", EmbedkitError(f"Expected to parse {job[0]}. Received: {type(e).__name__}: {e}")))
    finally:
        conn.close()


def _parse_range(
    p: Path, a: int, b: int, first: int, out: np.ndarray, row: int, ctx: _Ctx, joined: bool = False
) -> _Part:
    """Parse bytes ``[a, b)`` of ``p`` (whole lines; ``first`` is the global number of the first one).

    Rows go to ``out[row:]``; with ``joined`` the words come back as one newline-joined string.
    """
    words: list[str] = []
    texts: list[str] = []
    skipped = 0
    lineno = first
    n = 0
    with open(p, "rb") as f:
        f.seek(a)
        left = [b - a]

        def read() -> bytes:
            k = min(RANGE_BLOCK, left[0])
            left[0] -= k
            return f.read(k) if k else b""

        for lines in _blocks(b"", read):
            w, values, sk = _parse_lines(lines, lineno, ctx)
            out[row + n : row + n + len(w)] = values
            n += len(w)
            if joined:
                if w:
                    texts.append("\n".join(w))
            else:
                words.extend(w)
            skipped += sk
            lineno += len(lines)
    return _Part("\n".join(texts) if joined else words, n, skipped, lineno - first)


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
    if precision is not None and not (1 <= precision <= 17):
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


class _TextFormat(VectorFormat):
    """Shared by the two text formats; ``header`` says whether the format has a ``count dim`` line."""

    header: bool = True
    read_options = ("encoding", "skip_bad_lines", "limit", "report", "workers")
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


class GloveTextFormat(_TextFormat):
    """GloVe text: ``word v1 ... vd`` per line, no header."""

    name = "glove"
    header = False
