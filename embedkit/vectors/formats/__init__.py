"""Vector file formats: native (mmap directory), word2vec text, GloVe text, word2vec binary.

Each format is one class in its own module (a :class:`~embedkit.vectors.formats.base.VectorFormat` that
declares its read and write options), listed in :data:`FORMATS`. :func:`read_table` and :func:`write_table`
dispatch through the registry and check the options first, so a misspelt option is a one-line error.
Formats read and write :class:`~embedkit.vectors.formats.base.VectorTable` objects; ``WordVectors.load`` /
``save`` and :func:`embedkit.vectors.read_vectors` / ``write_vectors`` sit above them.

>>> FORMATS.names()
['native', 'word2vec', 'glove', 'word2vec-bin']
>>> import numpy as np, tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "v.txt")
>>> write_table(VectorTable(["a"], np.ones((1, 2), np.float32)), p, format="glove", precison=3)
Traceback (most recent call last):
...
embedkit.errors.EmbedkitError: Options of the glove writer must be among precision. Received: precison
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from embedkit.errors import EmbedkitError
from embedkit.registry import Registry, check_options
from embedkit.vectors.formats.base import VectorFormat, VectorTable

FORMATS: Registry[type[VectorFormat]] = Registry(
    "format",
    {
        "native": "embedkit.vectors.formats.native:NativeFormat",
        "word2vec": "embedkit.vectors.formats.text:Word2VecTextFormat",
        "glove": "embedkit.vectors.formats.text:GloveTextFormat",
        "word2vec-bin": "embedkit.vectors.formats.binary:Word2VecBinaryFormat",
    },
)
"""Vector formats by name; an entry is a :class:`VectorFormat` subclass."""


def get_format(name: str) -> VectorFormat:
    """The format called ``name`` (unknown names raise a one-line error)."""
    return FORMATS.get(name)()


def detect_format(path: str | os.PathLike[str]) -> str:
    """Guess the format of ``path``: a native directory, word2vec binary, or text (with or without header)."""
    p = Path(path)
    if not p.exists():
        raise EmbedkitError(f"Vectors path does not exist. Received: {str(p)!r}")
    if p.is_dir():
        from embedkit.vectors.formats.native import check_native_dir

        check_native_dir(p)
        return "native"
    from embedkit.vectors.formats.common import open_maybe_compressed

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


def read_table(path: str | os.PathLike[str], format: str | None = None, **options: Any) -> VectorTable:
    """Read ``path`` in ``format`` (detected when None) with the format's reader ``options``.

    Example:
        >>> import numpy as np, tempfile, os
        >>> d = os.path.join(tempfile.mkdtemp(), "s")
        >>> write_table(VectorTable(["x"], np.ones((1, 3), np.float32)), d)
        >>> read_table(d).keys, read_table(d, format="native", verify=True).dim
        (['x'], 3)
    """
    name = FORMATS.canonical(format) if format is not None else detect_format(path)
    if Path(path).is_dir() and name != "native":
        raise EmbedkitError(f"Expected a file for format {name!r}. Received: directory {str(path)!r}")
    fmt = get_format(name)
    check_options(f"the {name} reader", options, fmt.read_options)
    return fmt.read(path, **options) if format is not None else fmt.read_detected(path, **options)


def write_table(table: VectorTable, path: str | os.PathLike[str], format: str = "native", **options: Any) -> None:
    """Write ``table`` (or a ``WordVectors``) to ``path`` in ``format`` atomically (temp file + rename)."""
    fmt = get_format(format)
    check_options(f"the {fmt.name} writer", options, fmt.write_options)
    fmt.write(table, path, **options)


def reader_options(format: str, options: dict[str, Any]) -> dict[str, Any]:
    """The part of ``options`` that the ``format`` reader takes (for a caller holding options meant for several
    formats, as ``embedkit convert`` does with ``--encoding``, which only text input uses).

    >>> reader_options("native", {"encoding": "latin-1", "verify": True})
    {'verify': True}
    """
    allowed = get_format(format).read_options
    return {k: v for k, v in options.items() if k in allowed}


def writer_options(format: str, options: dict[str, Any]) -> dict[str, Any]:
    """The part of ``options`` that the ``format`` writer takes (``--dtype`` is for native output only).

    >>> writer_options("glove", {"dtype": "float16", "precision": 5})
    {'precision': 5}
    """
    allowed = get_format(format).write_options
    return {k: v for k, v in options.items() if k in allowed}


__all__ = ["FORMATS", "VectorFormat", "VectorTable", "detect_format", "get_format", "read_table", "write_table",
           "reader_options", "writer_options"]
