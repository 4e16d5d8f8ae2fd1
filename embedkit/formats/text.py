"""word2vec text (``count dim`` header) and GloVe text (no header) readers and writers.

The reader streams the file in blocks, splits words from values with bytes operations and parses all the
values of a block in one numpy call, so a 400k×50 GloVe file loads several times faster than gensim, to
bit-identical float32 values (values are parsed as float64 and then rounded, as gensim does).

>>> import numpy as np, tempfile, os
>>> from embedkit.vectors import WordVectors
>>> p = os.path.join(tempfile.mkdtemp(), "v.txt")
>>> WordVectors(["a", "b"], np.array([[0.5, 1], [2, 3]], np.float32)).save(p, format="glove")
>>> open(p).read()
'a 0.5 1\\nb 2 3\\n'
>>> read_text(p).vectors.tolist()
[[0.5, 1.0], [2.0, 3.0]]
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import warnings
from pathlib import Path
from typing import IO, Any

import numpy as np

from embedkit.atomic import atomic_path
from embedkit.errors import EmbedkitError, FormatError
from embedkit.vectors import WordVectors

BLOCK = 1 << 24  # 16 MiB of text per parse


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


def _is_compressed(path: str) -> bool:
    return path.endswith((".gz", ".bz2", ".xz"))


class _Rows:
    """A growable float32 matrix that avoids a final 2× concatenate when the size is known or estimated."""

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

    def result(self, keep: np.ndarray | None) -> np.ndarray:
        if keep is not None:
            return self.data[: self.n][keep]
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
    **_: Any,
) -> WordVectors:
    """Read word2vec text (``header=True``), GloVe text (``header=False``) or autodetect (``None``).

    Args:
        encoding: encoding of the words (values are ASCII).
        skip_bad_lines: skip lines with the wrong number of values or unparsable values instead of failing;
            the number skipped goes to ``report["skipped_lines"]``.
        limit: read at most this many vectors.
        report: optional dict filled with ``skipped_lines``, ``duplicates`` and ``lines``.

    Duplicate words keep their first vector; their count goes to ``report["duplicates"]``.
    NaN / Inf values, an empty file, or a header that disagrees with the body raise :class:`FormatError`.
    """
    p = Path(path)
    name = str(p)
    if p.is_dir():
        raise EmbedkitError(f"Expected a vectors file. Received: directory {name!r}")
    if not p.exists():
        raise EmbedkitError(f"Vectors file does not exist. Received: {name!r}")
    try:
        "".encode(encoding)
    except LookupError:
        raise EmbedkitError(f"`encoding` must be a known text encoding. Received: encoding={encoding!r}") from None
    if limit is not None and limit <= 0:
        raise EmbedkitError(f"`limit` must be a positive integer. Received: limit={limit!r}")

    words: list[str] = []
    key_to_index: dict[str, int] = {}
    keep_rows: list[int] | None = None  # set when duplicates appear
    skipped = 0
    duplicates = 0
    lineno = 0
    dim: int | None = None
    declared: tuple[int, int] | None = None
    rows: _Rows | None = None
    rows_seen = 0

    with open_maybe_compressed(p) as fh:
        carry = b""
        first = True
        done = False
        while not done:
            chunk = fh.read(BLOCK)
            if not chunk:
                done = True
                data = carry
                carry = b""
                if not data:
                    break
            else:
                data = carry + chunk
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                data, carry = data[: cut + 1], data[cut + 1 :]
            lines = data.split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            start = 0
            if first:
                first = False
                while start < len(lines) and not lines[start].strip():
                    start += 1
                if start == len(lines):
                    continue
                head = lines[start].split()
                is_header = len(head) == 2 and head[0].isdigit() and head[1].isdigit()
                if header is None:
                    header = is_header
                if header:
                    if not is_header:
                        raise FormatError(
                            f"Expected a word2vec header 'count dim' on line {start + 1} of {name}. "
                            f"Received: {lines[start][:60]!r}"
                        )
                    declared = (int(head[0]), int(head[1]))
                    dim = declared[1]
                    if dim <= 0:
                        raise FormatError(f"Header dim must be positive. Received: dim={dim} in {name}")
                    start += 1
                else:
                    dim = len(head) - 1
                    if dim <= 0:
                        raise FormatError(
                            f"Expected a word followed by its values on line {start + 1} of {name}. "
                            f"Received: {lines[start][:60]!r}"
                        )
                if declared is not None:
                    cap = declared[0]
                elif not _is_compressed(name):
                    sample = max(1, len(lines) - start)
                    cap = int(p.stat().st_size / (len(data) / sample) * 1.02) + 16
                else:
                    cap = 1024
                if limit is not None:
                    cap = min(cap, limit)
                rows = _Rows(dim, cap)
            assert dim is not None and rows is not None
            block_words: list[bytes] = []
            rests: list[bytes] = []
            linenos: list[int] = []
            nd = dim - 1
            for i in range(start, len(lines)):
                line = lines[i].rstrip()
                ln = lineno + i + 1
                if not line:
                    continue
                w, _, rest = line.partition(b" ")
                if rest.count(b" ") != nd or not w:
                    toks = line.split()
                    if len(toks) > dim + 1 and all(_isnum(t) for t in toks[-dim:]):
                        w, rest = b" ".join(toks[:-dim]), b" ".join(toks[-dim:])  # words with spaces
                    elif len(toks) == dim + 1:
                        w, rest = toks[0], b" ".join(toks[1:])
                    else:
                        if skip_bad_lines:
                            skipped += 1
                            continue
                        raise FormatError(
                            f"Expected {dim} values after the word on line {ln} of {name}. "
                            f"Received: {max(len(toks) - 1, 0)} values"
                        )
                block_words.append(w)
                rests.append(rest)
                linenos.append(ln)
                if limit is not None and rows_seen + len(block_words) >= limit:
                    done = True
                    break
            lineno += len(lines)
            if not rests:
                continue
            values = _parse_values(rests, dim, linenos, name, skip_bad_lines)
            if isinstance(values, tuple):  # some lines were dropped in the slow path
                values, good = values
                skipped += len(rests) - len(good)
                block_words = [block_words[j] for j in good]
                linenos = [linenos[j] for j in good]
            bad = ~np.isfinite(values).all(axis=1)
            if bad.any():
                j = int(np.flatnonzero(bad)[0])
                if not skip_bad_lines:
                    raise FormatError(
                        f"Expected finite numbers on line {linenos[j]} of {name}. Received: NaN or Inf"
                    )
                skipped += int(bad.sum())
                good_mask = ~bad
                values = values[good_mask]
                block_words = [w for w, g in zip(block_words, good_mask.tolist()) if g]
                linenos = [x for x, g in zip(linenos, good_mask.tolist()) if g]
            base = rows.n
            for j, wb in enumerate(block_words):
                try:
                    word = wb.decode(encoding)
                except UnicodeDecodeError as e:
                    if skip_bad_lines:
                        skipped += 1
                        if keep_rows is None:
                            keep_rows = list(range(base + j))
                        continue
                    raise FormatError(
                        f"Expected {encoding} text on line {linenos[j]} of {name} (use --encoding). "
                        f"Received: bytes {wb[max(0, e.start - 4) : e.end + 4]!r}"
                    ) from None
                if word in key_to_index:
                    duplicates += 1
                    if keep_rows is None:
                        keep_rows = list(range(base + j))
                    continue
                key_to_index[word] = len(words)
                words.append(word)
                if keep_rows is not None:
                    keep_rows.append(base + j)
            rows.extend(values.astype(np.float32))
            rows_seen = len(words)

    if rows is None or not words:
        raise FormatError(f"Expected at least one vector. Received: no vectors in {name}")
    if declared is not None and limit is None and not skip_bad_lines:
        n_body = rows.n
        if n_body != declared[0]:
            raise FormatError(
                f"Header of {name} declares {declared[0]} vectors of dim {declared[1]}. Received: {n_body} vectors"
            )
    keep = np.array(keep_rows, dtype=np.int64) if keep_rows is not None else None
    vectors = rows.result(keep)
    if limit is not None and len(words) > limit:
        words = words[:limit]
        vectors = vectors[:limit]
    if report is not None:
        report.update(skipped_lines=skipped, duplicates=duplicates, lines=lineno)
    wv = WordVectors(words, vectors, source=name)
    wv._key_to_index = key_to_index if len(key_to_index) == len(words) else None
    return wv


def _isnum(tok: bytes) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _parse_values(
    rests: list[bytes], dim: int, linenos: list[int], name: str, skip_bad_lines: bool
) -> np.ndarray | tuple[np.ndarray, list[int]]:
    """Parse every row's values in one call; fall back to per-line parsing to locate bad tokens."""
    n = len(rests)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flat = np.fromstring(b" ".join(rests), dtype=np.float64, sep=" ")  # type: ignore[call-overload]
    if flat.size == n * dim:
        return flat.reshape(n, dim)
    out = np.empty((n, dim), dtype=np.float64)
    good: list[int] = []
    for j, rest in enumerate(rests):
        try:
            out[len(good)] = [float(t) for t in rest.split()]
            good.append(j)
        except ValueError:
            if not skip_bad_lines:
                bad_tok = next(t for t in rest.split() if not _isnum(t))
                raise FormatError(
                    f"Expected numeric values on line {linenos[j]} of {name}. Received: {bad_tok[:30]!r}"
                ) from None
    return out[: len(good)], good


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
    wv: WordVectors,
    path: str | os.PathLike[str],
    header: bool = True,
    precision: int | None = None,
    **_: Any,
) -> None:
    """Write word2vec text (``header=True``) or GloVe text (``header=False``), atomically.

    ``precision`` is the number of significant digits (``%.Ng``); by default each row gets the fewest
    digits that read back to the identical float32 values (GloVe's own 5 digits when they suffice).
    """
    if precision is not None and not (1 <= precision <= 17):
        raise EmbedkitError(f"`precision` must be an integer in 1..17. Received: precision={precision!r}")
    bad = next((k for k in wv.keys if not k or any(c in k for c in " \n\r\t")), None)
    if bad is not None:
        raise EmbedkitError(f"Words written as text must be non-empty with no whitespace. Received: {bad!r}")
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        if header:
            fh.write(f"{len(wv)} {wv.dim}\n")
        step = 8192
        for s in range(0, len(wv), step):
            block = np.asarray(wv.vectors[s : s + step], dtype=np.float32)
            lines = _format_rows(block, precision)
            fh.write("".join(f"{w} {v}\n" for w, v in zip(wv.keys[s : s + step], lines)))
