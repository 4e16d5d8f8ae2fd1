"""What every vector format shares: the :class:`VectorTable` it reads and writes, and the
:class:`VectorFormat` interface a format class implements (listed in :data:`embedkit.vectors.formats.FORMATS`).

Format modules know nothing of :class:`~embedkit.vectors.word_vectors.WordVectors`: they turn files into
tables and tables into files; ``WordVectors.load`` / ``save`` sit above them.

>>> import numpy as np
>>> t = VectorTable(["a", "b"], np.eye(2, dtype=np.float32))
>>> len(t), t.dim, t["b"].tolist()
(2, 2, [0.0, 1.0])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from embedkit.errors import EmbedkitError, UnknownWordError

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.vectors.subwords import Subwords


@dataclass
class VectorTable:
    """Words and their rows as a reader found them (or as a writer gets them).

    Attributes:
        keys: the words, in row order.
        vectors: array of shape (len(keys), dim); may be a read-only memory map.
        counts: corpus frequency per word, or None.
        source: where the vectors came from.
        meta: the format's own metadata (a native set's ``meta`` record), or None.
        key_index: word → row when the reader built it anyway (saves building it again), else None.
        subwords: the character n-gram table of a fastText model
            (:class:`~embedkit.vectors.subwords.Subwords`), or None.

    Writers accept any object with ``keys``, ``vectors``, ``counts`` and ``source`` (a ``WordVectors`` too).
    """

    keys: list[str]
    vectors: np.ndarray
    counts: np.ndarray | None = None
    source: str | None = None
    meta: dict[str, Any] | None = None
    key_index: dict[str, int] | None = field(default=None, repr=False)
    subwords: Subwords | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def dim(self) -> int:
        """Vector dimensionality."""
        return int(self.vectors.shape[1])

    @property
    def key_to_index(self) -> dict[str, int]:
        """Word → row (built on first use unless the reader supplied it)."""
        if self.key_index is None:
            self.key_index = dict(zip(self.keys, range(len(self.keys))))
        return self.key_index

    def __getitem__(self, word: str) -> np.ndarray:
        """The row of ``word`` (unknown words raise :class:`UnknownWordError`)."""
        try:
            return np.asarray(self.vectors[self.key_to_index[word]])
        except KeyError:
            raise UnknownWordError(word) from None


class VectorFormat:
    """One file format: its name, the options its reader and writer take, and how to read and write it.

    A new format is one module with a subclass of this class plus one line in
    :data:`embedkit.vectors.formats.FORMATS`. Options are checked against ``read_options`` /
    ``write_options`` before ``read`` / ``write`` are called, so a misspelt option is a one-line error.

    Detection asks each format's :meth:`sniff` in ``sniff_rank`` order (lowest first); the first that
    recognises the file's first bytes names its format. A read-only format sets ``writable = False``.
    A reader that takes the ``rows`` option writes its rows where a
    :data:`~embedkit.vectors.formats.rows.RowsFactory` says (``convert`` streams into the output that way).
    """

    name: ClassVar[str] = ""
    read_options: ClassVar[Sequence[str]] = ()
    write_options: ClassVar[Sequence[str]] = ()
    sniff_rank: ClassVar[int] = 50
    writable: ClassVar[bool] = True
    directory: ClassVar[bool] = False  # the format is a directory (native), not a file

    @classmethod
    def sniff(cls, path: str, head: bytes) -> bool:
        """True if a file whose first (decompressed) bytes are ``head`` is in this format."""
        return False

    def read(self, path: str | os.PathLike[str], **options: Any) -> VectorTable:
        """Read the file (or directory) at ``path``."""
        raise NotImplementedError

    def read_detected(self, path: str | os.PathLike[str], **options: Any) -> VectorTable:
        """Read a file whose format was detected rather than named (text formats re-check the header)."""
        return self.read(path, **options)

    def write(self, table: VectorTable, path: str | os.PathLike[str], **options: Any) -> None:
        """Write ``table`` to ``path`` atomically."""
        raise EmbedkitError(f"The {self.name} format can only be read. Received: a request to write {str(path)!r}")
