"""Reading and writing vector files: native (mmap directory), word2vec text, GloVe text, word2vec binary.

>>> from embedkit.vectors.formats import FORMATS
>>> FORMATS
('native', 'word2vec', 'glove', 'word2vec-bin')
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embedkit.errors import EmbedkitError

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.vectors.word_vectors import WordVectors

FORMATS = ("native", "word2vec", "glove", "word2vec-bin")


def detect_format(path: str | os.PathLike[str]) -> str:
    """Guess the format of ``path``: a native directory, word2vec binary, or text (with or without header)."""
    p = Path(path)
    if not p.exists():
        raise EmbedkitError(f"Vectors path does not exist. Received: {str(p)!r}")
    if p.is_dir():
        if (p / "meta.json").is_file() and (p / "vectors.npy").is_file():
            return "native"
        raise EmbedkitError(
            f"Expected a vectors file or a native vectors directory (with meta.json and vectors.npy). "
            f"Received: directory {str(p)!r}"
        )
    from embedkit.vectors.formats.text import open_maybe_compressed

    with open_maybe_compressed(p) as fh:
        head = fh.read(65536)
    if not head:
        raise EmbedkitError(f"Expected a vectors file with at least one vector. Received: empty file {str(p)!r}")
    first, _, rest = head.partition(b"\n")
    parts = first.split()
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        # word2vec header; binary if the body is not text.
        body = rest[:4096]
        dim = int(parts[1])
        if b"\x00" in body or _looks_binary(body, dim):
            return "word2vec-bin"
        return "word2vec"
    return "glove"


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


def read_vectors(path: str | os.PathLike[str], format: str | None = None, **kwargs: Any) -> WordVectors:
    """Read vectors from ``path`` in ``format`` (detected when None). See each reader for options.

    Text readers accept ``encoding``, ``skip_bad_lines``, ``limit`` and ``report`` (a dict that receives
    counts of skipped lines and duplicate words).
    """
    fmt = format or detect_format(path)
    if Path(path).is_dir() and fmt != "native":
        raise EmbedkitError(f"Expected a file for format {fmt!r}. Received: directory {str(path)!r}")
    if fmt == "native":
        from embedkit.vectors.formats.native import read_native

        return read_native(path, **kwargs)
    if fmt in ("word2vec", "glove"):
        from embedkit.vectors.formats.text import read_text

        return read_text(path, header=None if format is None else fmt == "word2vec", **kwargs)
    if fmt == "word2vec-bin":
        from embedkit.vectors.formats.binary import read_word2vec_binary

        return read_word2vec_binary(path, **kwargs)
    raise EmbedkitError(f"`format` must be one of {', '.join(FORMATS)}. Received: format={fmt!r}")


def write_vectors(wv: WordVectors, path: str | os.PathLike[str], format: str = "native", **kwargs: Any) -> None:
    """Write ``wv`` to ``path`` in ``format`` atomically (temp file + rename)."""
    if format == "native":
        from embedkit.vectors.formats.native import write_native

        write_native(wv, path, **kwargs)
    elif format in ("word2vec", "glove"):
        from embedkit.vectors.formats.text import write_text

        write_text(wv, path, header=format == "word2vec", **kwargs)
    elif format == "word2vec-bin":
        from embedkit.vectors.formats.binary import write_word2vec_binary

        write_word2vec_binary(wv, path, **kwargs)
    else:
        raise EmbedkitError(f"`format` must be one of {', '.join(FORMATS)}. Received: format={format!r}")
