"""Vector file formats: native (mmap directory), word2vec text, GloVe text, word2vec binary, fastText ``.bin``.

Each format is one class in its own module (a :class:`~embedkit.vectors.formats.base.VectorFormat` that
declares its read and write options), listed in :data:`FORMATS`. :func:`read_table` and :func:`write_table`
dispatch through the registry and check the options first, so a misspelt option is a one-line error.
Formats read and write :class:`~embedkit.vectors.formats.base.VectorTable` objects; ``WordVectors.load`` /
``save`` and :func:`embedkit.vectors.read_vectors` / ``write_vectors`` sit above them.

>>> FORMATS.names()
['native', 'word2vec', 'glove', 'word2vec-bin', 'fasttext']
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

from embedkit.errors import EmbedkitError, check_input_file
from embedkit.registry import Registry, check_options
from embedkit.vectors.formats.base import VectorFormat, VectorTable

FORMATS: Registry[type[VectorFormat]] = Registry(
    "format",
    {
        "native": "embedkit.vectors.formats.native:NativeFormat",
        "word2vec": "embedkit.vectors.formats.text:Word2VecTextFormat",
        "glove": "embedkit.vectors.formats.text:GloveTextFormat",
        "word2vec-bin": "embedkit.vectors.formats.binary:Word2VecBinaryFormat",
        "fasttext": "embedkit.vectors.formats.fasttext:FastTextFormat",
    },
)
"""Vector formats by name; an entry is a :class:`VectorFormat` subclass."""


def get_format(name: str) -> VectorFormat:
    """The format called ``name`` (unknown names raise a one-line error)."""
    return FORMATS.get(name)()


def writable_formats() -> list[str]:
    """The formats embedkit can write (fastText's ``.bin`` is read only).

    >>> writable_formats()
    ['native', 'word2vec', 'glove', 'word2vec-bin']
    """
    return [n for n in FORMATS.names() if FORMATS.get(n).writable]


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of ``path``: a native directory, or the first file format (by ``sniff_rank``) whose
    ``sniff`` recognises the file's first 64 KiB (decompressed)."""
    p = Path(path)
    if not p.exists():
        raise EmbedkitError(f"Vectors path does not exist. Received: {str(p)!r}")
    classes = sorted((FORMATS.get(n) for n in FORMATS.names()), key=lambda c: c.sniff_rank)
    if p.is_dir():
        for cls in classes:
            if cls.directory and cls.sniff(str(p), b""):
                return cls.name
        from embedkit.vectors.formats.native import check_native_dir

        check_native_dir(p)  # the one-line error for a directory that is no vector set
    check_input_file(p, "vectors file")  # a FIFO or a device is refused before it is read (it could block)
    from embedkit.vectors.formats.common import read_head

    head = read_head(p)
    if not head:
        raise EmbedkitError(f"Expected a vectors file with at least one vector. Received: empty file {str(p)!r}")
    for cls in classes:
        if not cls.directory and cls.sniff(str(p), head):
            return cls.name
    raise EmbedkitError(f"Expected a vectors file in one of {', '.join(FORMATS.names())}. Received: {str(p)!r}")


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


def write_table(
    table: VectorTable, path: str | os.PathLike[str], format: str = "native", *, overwrite: bool = False,
    **options: Any,
) -> None:
    """Write ``table`` (or a ``WordVectors``) to ``path`` in ``format`` atomically (temp file + rename).

    ``path`` is claimed first (:func:`claim_output`): an existing file or non-empty directory that embedkit
    did not write is refused unless ``overwrite``; a FIFO, a device, or a directory where a file is meant is
    always refused; an existing native set is replaced atomically.
    """
    fmt = get_format(format)
    check_options(f"the {fmt.name} writer", options, fmt.write_options)
    if not fmt.writable:
        raise EmbedkitError(
            f"`format` must be one of {', '.join(writable_formats())} to write. Received: format={fmt.name!r}"
        )
    claim_output_for(fmt.name, path, overwrite=overwrite)
    fmt.write(table, path, **options)
    if not fmt.directory:
        from embedkit.files.outputs import record_output

        record_output(path)


def claim_output_for(format: str, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Check that ``path`` may receive an output in ``format`` (see :func:`embedkit.files.outputs.claim_output`):
    a native set may replace an existing native set, a file format an embedkit-written file."""
    from embedkit.files.outputs import claim_output
    from embedkit.vectors.formats.native import is_native_set

    fmt = FORMATS.get(FORMATS.canonical(format))
    if fmt.directory:
        return claim_output(path, "dir", overwrite=overwrite, owned=is_native_set)
    return claim_output(path, "file", overwrite=overwrite)


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


__all__ = ["FORMATS", "VectorFormat", "VectorTable", "claim_output_for", "detect_format", "get_format", "read_table",
           "reader_options", "writable_formats", "write_table", "writer_options"]
