"""`convert_vectors`: one vector format to another, streaming where it can.

The output is claimed before anything is read (:func:`embedkit.files.outputs.claim_output`: what embedkit did
not write is never replaced without ``overwrite``; FIFOs, devices and directories where a file is meant never
are). A text, word2vec binary or fastText input converted to native is parsed straight into the new set's
matrix file (one copy of the matrix: the file's own pages), then the vocabulary, the n-gram table of a
fastText model and the metadata with the matrix's sha256 are written, and the set is renamed into place
(replacing an older embedkit set atomically). Other conversions read the table, then write it atomically.

>>> import numpy as np, tempfile, os
>>> d = tempfile.mkdtemp()
>>> _ = open(os.path.join(d, "v.txt"), "w").write("a 1 2\\nb 3 4\\n")
>>> res = convert_vectors(os.path.join(d, "v.txt"), os.path.join(d, "set"))
>>> res.size, res.dim, res.to_format, res.from_format
(2, 2, 'native', 'glove')
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from embedkit.errors import EmbedkitError


@dataclass
class ConvertResult:
    """What :func:`convert_vectors` wrote.

    Attributes:
        source / target: the input and output paths.
        from_format / to_format: the formats read and written.
        size / dim: vectors written and their dimension.
        skipped_lines / duplicates: what the reader dropped (``skip_bad_lines``; repeated words keep the first).
        subwords: the fastText n-gram buckets kept in the output (0 when none).
        seconds: wall time of the whole conversion.
    """

    source: str
    target: str
    from_format: str
    to_format: str
    size: int
    dim: int
    skipped_lines: int = 0
    duplicates: int = 0
    subwords: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def convert_vectors(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    to: str = "native",
    from_format: str | None = None,
    encoding: str = "utf-8",
    skip_bad_lines: bool = False,
    dtype: str = "float32",
    precision: int | None = None,
    overwrite: bool = False,
) -> ConvertResult:
    """Convert the vectors at ``src`` (a file or native directory) to ``to`` at ``dst``.

    Args:
        to: the output format (one of :func:`~embedkit.vectors.formats.writable_formats`).
        from_format: the input format (detected when None).
        encoding / skip_bad_lines: for readers that take them (text, word2vec binary, fastText).
        dtype: ``float32`` or ``float16``, for native output.
        precision: significant digits, for text output.
        overwrite: replace an existing output that embedkit did not write.

    Returns:
        a :class:`ConvertResult`.
    """
    from embedkit.vectors.formats import (
        FORMATS,
        claim_output_for,
        detect_format,
        get_format,
        read_table,
        reader_options,
        writable_formats,
        write_table,
        writer_options,
    )
    from embedkit.vectors.formats.native import native_writer

    t0 = time.perf_counter()
    if to not in writable_formats():
        raise EmbedkitError(f"`to` must be one of {', '.join(writable_formats())}. Received: to={to!r}")
    if from_format is not None and from_format not in FORMATS:
        raise EmbedkitError(f"`from_format` must be one of {', '.join(FORMATS)}. Received: from_format={from_format!r}")
    src_p, dst_p = Path(src), Path(dst)
    if not src_p.exists():
        raise EmbedkitError(f"Vectors path does not exist. Received: {str(src_p)!r}")
    if dst_p.exists() and src_p.resolve() == dst_p.resolve():
        raise EmbedkitError(f"The output must not be the input. Received: {str(dst_p)!r} for both")
    claim_output_for(to, dst_p, overwrite=overwrite)
    in_fmt = from_format or detect_format(src_p)
    report: dict[str, int] = {}
    given = {"encoding": encoding, "skip_bad_lines": skip_bad_lines, "report": report}
    opts = reader_options(in_fmt, given)
    if to == "native" and "rows" in get_format(in_fmt).read_options:
        with native_writer(dst_p, dtype=dtype) as w:
            table = read_table(src_p, format=from_format, rows=w.rows, **opts)
            w.finish(table)
    else:
        table = read_table(src_p, format=from_format, **opts)
        write_table(table, dst_p, format=to, overwrite=True,
                    **writer_options(to, {"dtype": dtype, "precision": precision}))
    subwords = getattr(table, "subwords", None)
    return ConvertResult(
        source=str(src_p), target=str(dst_p), from_format=in_fmt, to_format=to, size=len(table), dim=table.dim,
        skipped_lines=int(report.get("skipped_lines", 0)), duplicates=int(report.get("duplicates", 0)),
        subwords=subwords.bucket if subwords is not None and to == "native" else 0,
        seconds=time.perf_counter() - t0,
    )
