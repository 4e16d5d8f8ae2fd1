"""`open_vectors`: the one way to open a vector set a user names (a path, a set name, or the default set).

The name is resolved once; the returned :class:`VectorSet` says where the set is and opens what a caller
needs, when it needs it. For a native set: its ``meta``, the memory-mapped ``matrix``, a lazy ``vocab``
(the row of a word and the word of a row without parsing the whole vocabulary), the full
:class:`~embedkit.vectors.word_vectors.WordVectors` only when asked, and the search ``index`` persisted
beside it. A plain file is read whole on first use, and its index is built in memory.

>>> import numpy as np, tempfile, os
>>> from embedkit.vectors.word_vectors import WordVectors
>>> d = os.path.join(tempfile.mkdtemp(), "s")
>>> WordVectors(["x", "y"], np.ones((2, 4), np.float32)).save(d)
>>> vs = open_vectors(d)
>>> vs.native, vs.name, vs.size, vs.vocab.row("y"), vs.matrix.shape, vs.wv.dim
(True, 's', 2, 1, (2, 4), 4)
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.progress import ProgressArg
from embedkit.vectors.word_vectors import WordVectors

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.search.vector_index import VectorIndex
    from embedkit.vectors.subwords import Subwords

log = logging.getLogger("embedkit.vectors.vector_set")


class WordRows(Protocol):
    """What :attr:`VectorSet.vocab` offers, for a native set or a plain file alike: the row of a word, the
    word of a row (a set's rows, not a text :class:`~embedkit.text.vocabulary.Vocabulary`)."""

    def __len__(self) -> int: ...
    def __getitem__(self, row: int) -> str: ...
    def row(self, word: str) -> int | None: ...
    def head(self, n: int) -> list[str]: ...


class WordList:
    """The :class:`WordRows` of vectors already in memory (a plain file's, or a native set read whole).

    >>> WordList(WordVectors(["a", "b"], np.eye(2, dtype=np.float32))).row("b")
    1
    """

    def __init__(self, wv: WordVectors) -> None:
        self.wv = wv

    def __len__(self) -> int:
        return len(self.wv)

    def __getitem__(self, row: int) -> str:
        return self.wv.keys[row]

    def row(self, word: str) -> int | None:
        """Row of ``word``, or None."""
        return self.wv.key_to_index.get(word)

    def head(self, n: int) -> list[str]:
        """The first ``n`` words."""
        return self.wv.keys[: max(n, 0)]


@dataclass
class VectorSet:
    """A resolved vector set: where it is and, opened on first use, what is in it.

    Attributes:
        path: the file or native directory.
        name: what to call it in reports (the set name, or the file name).
        native: True for a native (memory-mapped) directory.
        read_options: reader options used when the vectors are read (``encoding``, ``skip_bad_lines``, ...).
    """

    path: Path
    name: str
    native: bool
    read_options: dict[str, Any] = field(default_factory=dict)
    _wv: WordVectors | None = field(default=None, repr=False)
    _meta: dict[str, Any] | None = field(default=None, repr=False)
    _matrix: np.ndarray | None = field(default=None, repr=False)
    _vocab: WordRows | None = field(default=None, repr=False)
    _subwords: Subwords | None = field(default=None, repr=False)
    _subwords_read: bool = field(default=False, repr=False)
    _indexes: dict[str, VectorIndex] = field(default_factory=dict, repr=False)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], **read_options: Any) -> VectorSet:
        """The set at ``path`` as it is (no name resolution, nothing read yet)."""
        p = Path(path)
        return cls(path=p, name=p.name, native=p.is_dir(), read_options=dict(read_options))

    # -- what is in it ------------------------------------------------------------------------------------
    @property
    def wv(self) -> WordVectors:
        """The vectors (read on first access; a native set's matrix is a read-only memory map)."""
        if self._wv is None:
            self._wv = WordVectors.load(self.path, **self.read_options)
        return self._wv

    def read(self, **options: Any) -> WordVectors:
        """The vectors read afresh with other reader ``options`` (not cached; :attr:`wv` is)."""
        return WordVectors.load(self.path, **options)

    @property
    def format(self) -> str:
        """The set's format name (``native`` for a directory, else detected from the file)."""
        if self.native:
            return "native"
        from embedkit.vectors.formats import detect_format

        return detect_format(self.path)

    @property
    def meta(self) -> dict[str, Any] | None:
        """A native set's metadata (size, dim, dtype, source, sha256, ...); None for a plain file."""
        if not self.native:
            return None
        if self._meta is None:
            from embedkit.vectors.formats.native import read_meta

            self._meta = read_meta(self.path)
        return self._meta

    @property
    def size(self) -> int:
        """Number of words (a native set's from its metadata, without reading the vectors)."""
        meta = self.meta
        return int(meta["size"]) if meta is not None else len(self.wv)

    @property
    def dim(self) -> int:
        """Vector dimensionality."""
        meta = self.meta
        return int(meta["dim"]) if meta is not None else self.wv.dim

    @property
    def matrix(self) -> np.ndarray:
        """The vectors as an N×d array: a read-only memory map for a native set (only touched rows are read)."""
        if self._matrix is None:
            if self.native and self._wv is None:
                from embedkit.vectors.formats.native import open_matrix

                self._matrix = open_matrix(self.path, self.meta)
            else:
                self._matrix = self.wv.vectors
        return self._matrix

    @property
    def vocab(self) -> WordRows:
        """The words: for a native set read lazily (:class:`~embedkit.vectors.formats.native.NativeVocab`)."""
        if self._vocab is None:
            if self.native and self._wv is None:
                from embedkit.vectors.formats.native import NativeVocab

                self._vocab = NativeVocab(self.path)
            else:
                self._vocab = WordList(self.wv)
        return self._vocab

    @property
    def subwords(self) -> Subwords | None:
        """The fastText n-gram table (memory-mapped for a native set), or None when the set has none."""
        if self._wv is not None:
            return self._wv.subwords
        if not self._subwords_read:
            if self.native:
                from embedkit.vectors.formats.native import open_subwords

                self._subwords = open_subwords(self.path, self.meta)
            else:
                self._subwords = self.wv.subwords
            self._subwords_read = True
        return self._subwords

    def check(self) -> VectorSet:
        """This set after checking everything a full read would (for a native set without reading its words
        into a list: the metadata, the matrix's dtype and shape, every vocabulary line, the n-gram table)."""
        if self.native:
            from embedkit.vectors.formats.native import check_native_set

            self._meta = check_native_set(self.path)
        else:
            _ = self.wv
        return self

    def require_words(self) -> WordVectors:
        """:attr:`wv`, or a one-line error when the set holds no word."""
        wv = self.wv
        if len(wv) == 0:
            raise EmbedkitError(
                f"Expected a vector set with at least one word. Received: an empty vocabulary in {self.path}"
            )
        return wv

    def require_native(self) -> VectorSet:
        """This set, or a one-line error when it is a plain file (which keeps no index beside it)."""
        if not self.native:
            raise EmbedkitError(
                f"Expected a native vector set (convert it with `embedkit convert`). Received: file {str(self.path)!r}"
            )
        return self

    # -- the index beside it --------------------------------------------------------------------------------
    def index(
        self,
        kind: str | None = None,
        *,
        exact: bool = False,
        approx: bool = False,
        rebuild: bool = False,
        progress: ProgressArg = None,
    ) -> VectorIndex:
        """The search index of this set: ``kind``, or chosen by size (``exact`` / ``approx`` force one).

        A native set's index is persisted beside it and reused while it matches the vectors (``rebuild``
        builds it again); a plain file's is built in memory each time, with a logged note. ``progress``
        receives the build's progress events (see :mod:`embedkit.progress`).
        """
        from embedkit.search.vector_index import VectorIndex, default_kind

        if exact and approx:
            raise EmbedkitError("Expected at most one of exact and approx search. Received: both")
        if kind is None:
            kind = default_kind(self.size, self.dim, approx=True if approx else (False if exact else None))
        if kind in self._indexes and not rebuild:
            return self._indexes[kind]
        if self.native:
            idx = VectorIndex.for_vectors(self.path, kind, wv=self._wv, rebuild=rebuild, progress=progress)
        else:
            log.info(
                "Note: %s is not a native set, so its index is built in memory each time; "
                "`embedkit convert` it to native to keep the index.", self.path,
            )
            idx = VectorIndex.build(self.require_words(), kind, progress=progress)
        self._indexes[kind] = idx
        return idx


def open_vectors(spec: str | os.PathLike[str] | None = None, **read_options: Any) -> VectorSet:
    """Resolve ``spec`` (a path, a set name in ``EMBEDKIT_HOME``, a known installable set, or None for the
    default set) once, and return the :class:`VectorSet`; ``read_options`` go to the reader."""
    from embedkit.vectors.catalog import resolve_vectors_path

    return VectorSet.from_path(resolve_vectors_path(spec), **read_options)
