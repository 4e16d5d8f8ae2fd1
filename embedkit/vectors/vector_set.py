"""`open_vectors`: the one way to open a vector set a user names (a path, a set name, or the default set).

The name is resolved once; the returned :class:`VectorSet` says where the set is and opens what a caller
needs, when it needs it: the :class:`~embedkit.vectors.word_vectors.WordVectors` (memory-mapped for a
native set).

>>> import numpy as np, tempfile, os
>>> from embedkit.vectors.word_vectors import WordVectors
>>> d = os.path.join(tempfile.mkdtemp(), "s")
>>> WordVectors(["x", "y"], np.ones((2, 4), np.float32)).save(d)
>>> vs = open_vectors(d)
>>> vs.native, vs.name, vs.wv.dim
(True, 's', 4)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedkit.errors import EmbedkitError
from embedkit.vectors.word_vectors import WordVectors


@dataclass
class VectorSet:
    """A resolved vector set: where it is and, opened on first use, its vectors.

    Attributes:
        path: the file or native directory.
        name: what to call it in reports (the set name, or the file name).
        native: True for a native (memory-mapped) directory.
        read_options: reader options used when the vectors are opened (``encoding``, ``skip_bad_lines``, ...).
    """

    path: Path
    name: str
    native: bool
    read_options: dict[str, Any] = field(default_factory=dict)
    _wv: WordVectors | None = field(default=None, repr=False)

    @property
    def wv(self) -> WordVectors:
        """The vectors (read on first access; a native set's matrix is a read-only memory map)."""
        if self._wv is None:
            from embedkit.vectors.formats import read_vectors

            self._wv = read_vectors(self.path, **self.read_options)
        return self._wv

    def require_words(self) -> WordVectors:
        """:attr:`wv`, or a one-line error when the set holds no word."""
        wv = self.wv
        if len(wv) == 0:
            raise EmbedkitError(
                f"Expected a vector set with at least one word. Received: an empty vocabulary in {self.path}"
            )
        return wv


def open_vectors(spec: str | os.PathLike[str] | None = None, **read_options: Any) -> VectorSet:
    """Resolve ``spec`` (a path, a set name in ``EMBEDKIT_HOME``, a known installable set, or None for the
    default set) once, and return the :class:`VectorSet`; ``read_options`` go to the reader."""
    from embedkit.vectors.home import resolve_vectors_path

    path = resolve_vectors_path(spec)
    native = path.is_dir()
    return VectorSet(path=path, name=path.name, native=native, read_options=dict(read_options))
