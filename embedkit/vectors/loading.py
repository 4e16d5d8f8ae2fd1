"""Reading and writing :class:`~embedkit.vectors.word_vectors.WordVectors`: :func:`read_vectors` /
:func:`write_vectors` for a path, :func:`load_vectors` for whatever a user names (a path, a set name, the
default set).

>>> import numpy as np, tempfile, os
>>> from embedkit.vectors.word_vectors import WordVectors
>>> d = os.path.join(tempfile.mkdtemp(), "s")
>>> write_vectors(WordVectors(["x"], np.ones((1, 4), np.float32)), d)
>>> load_vectors(d).dim, read_vectors(d, format="native").keys
(4, ['x'])
"""

from __future__ import annotations

import os
from typing import Any

from embedkit.vectors.word_vectors import WordVectors


def read_vectors(path: str | os.PathLike[str], format: str | None = None, **kwargs: Any) -> WordVectors:
    """Read vectors from ``path`` in ``format`` (detected when None). See each reader for options.

    Text readers accept ``encoding``, ``skip_bad_lines``, ``limit``, ``report`` (a dict that receives
    counts of skipped lines and duplicate words) and ``workers``; the word2vec binary reader the first four;
    the native reader ``mmap`` and ``verify``. Other options raise a one-line error.
    """
    return WordVectors.load(path, format=format, **kwargs)


def write_vectors(wv: WordVectors, path: str | os.PathLike[str], format: str = "native", **kwargs: Any) -> None:
    """Write ``wv`` to ``path`` in ``format`` atomically (temp file + rename); see :meth:`WordVectors.save`."""
    wv.save(path, format=format, **kwargs)


def load_vectors(path_or_name: str | os.PathLike[str] | None = None, **kwargs: Any) -> WordVectors:
    """Load vectors from a file (word2vec text/binary, GloVe text), a native directory or a named set.

    ``None`` loads the default set of ``EMBEDKIT_HOME``. Keyword arguments go to the reader
    (``format``, ``encoding``, ``skip_bad_lines``, ``limit``, ``report``).
    """
    from embedkit.vectors.catalog import resolve_vectors_path

    return read_vectors(resolve_vectors_path(path_or_name), **kwargs)
