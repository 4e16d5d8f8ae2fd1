"""`load_vectors`: open any supported vectors file, native directory or named set.

>>> import numpy as np, tempfile, os
>>> from embedkit.vectors.word_vectors import WordVectors
>>> d = os.path.join(tempfile.mkdtemp(), "s")
>>> WordVectors(["x"], np.ones((1, 4), np.float32)).save(d)
>>> load_vectors(d).dim
4
"""

from __future__ import annotations

import os
from typing import Any

from embedkit.vectors.word_vectors import WordVectors


def load_vectors(path_or_name: str | os.PathLike[str] | None = None, **kwargs: Any) -> WordVectors:
    """Load vectors from a file (word2vec text/binary, GloVe text), a native directory or a named set.

    ``None`` loads the default set of ``EMBEDKIT_HOME``. Keyword arguments go to the reader
    (``format``, ``encoding``, ``skip_bad_lines``, ``limit``, ``report``).
    """
    from embedkit.vectors.formats import read_vectors
    from embedkit.vectors.home import resolve_vectors_path

    return read_vectors(resolve_vectors_path(path_or_name), **kwargs)
