"""`WordVectors`: a lightweight set of word vectors (the trained model's weights live elsewhere).

>>> import numpy as np
>>> wv = WordVectors(["king", "queen"], np.eye(2, dtype=np.float32), counts=[10, 7])
>>> "king" in wv, wv.dim, len(wv)
(True, 2, 2)
>>> wv["queen"].tolist()
[0.0, 1.0]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from embedkit.errors import EmbedkitError, UnknownWordError
from embedkit.vectors.formats.base import VectorTable

if TYPE_CHECKING:  # pragma: no cover
    from gensim.models import KeyedVectors

    from embedkit.vectors.subwords import Subwords


class WordVectors:
    """Words and their vectors: ``keys``, ``key_to_index``, ``vectors`` (float32 N×d), optional ``counts``.

    ``meta`` holds the metadata a native set was read with (None otherwise). ``subwords`` is a fastText
    model's character n-gram table (:class:`~embedkit.vectors.subwords.Subwords`, read from a ``.bin`` or a
    native set converted from one), which gives out-of-vocabulary words a vector (:meth:`subword_vector`);
    None otherwise.

    ``vectors`` may be a read-only memory map (the native format is opened that way), so loading is instant
    and several processes share the pages.

    Args:
        keys: the words, in row order; must be unique.
        vectors: array of shape (len(keys), dim); float16 is kept as is, other dtypes become float32.
        counts: optional corpus frequency per word (same length as ``keys``).
        source: free text describing where the vectors came from.

    Example:
        >>> import numpy as np
        >>> wv = WordVectors(["a", "b"], np.ones((2, 3), np.float32))
        >>> wv.get("zzz") is None
        True
    """

    def __init__(
        self,
        keys: Sequence[str],
        vectors: np.ndarray,
        counts: Sequence[int] | np.ndarray | None = None,
        *,
        source: str | None = None,
    ) -> None:
        self._setup(list(keys), vectors, counts, source)

    def _setup(self, keys: list[str], vectors: np.ndarray, counts: Sequence[int] | np.ndarray | None,
               source: str | None) -> None:
        """Check and store the parts (``keys`` is kept as given: the caller hands over a list it owns)."""
        if not isinstance(vectors, np.ndarray):
            vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise EmbedkitError(f"`vectors` must be a 2-D array. Received: shape={vectors.shape}")
        if vectors.shape[0] != len(keys):
            raise EmbedkitError(
                f"`vectors` must have one row per key. Received: {vectors.shape[0]} rows for {len(keys)} keys"
            )
        if vectors.dtype not in (np.float32, np.float16):
            vectors = vectors.astype(np.float32)
        self.keys: list[str] = keys
        self.vectors: np.ndarray = vectors
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(keys),):
                raise EmbedkitError(
                    f"`counts` must have one entry per key. Received: {counts.shape[0]} counts for {len(keys)} keys"
                )
        self.counts: np.ndarray | None = counts
        self.source = source
        self.meta: dict[str, Any] | None = None
        self.subwords: Subwords | None = None
        self._key_to_index: dict[str, int] | None = None
        self._unit: np.ndarray | None = None
        self._is_unit = False

    # -- vocabulary -------------------------------------------------------------------------------------
    @property
    def key_to_index(self) -> dict[str, int]:
        """Word → row index (built on first use)."""
        if self._key_to_index is None:
            k2i = dict(zip(self.keys, range(len(self.keys))))
            if len(k2i) != len(self.keys):
                seen: set[str] = set()
                dup = next(k for k in self.keys if k in seen or seen.add(k))  # type: ignore[func-returns-value]
                raise EmbedkitError(f"`keys` must be unique. Received: duplicate key {dup!r}")
            self._key_to_index = k2i
        return self._key_to_index

    @property
    def dim(self) -> int:
        """Vector dimensionality."""
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, word: object) -> bool:
        return word in self.key_to_index

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.keys)

    def __repr__(self) -> str:
        return f"WordVectors(size={len(self)}, dim={self.dim}, dtype={self.vectors.dtype}, source={self.source!r})"

    def index(self, word: str) -> int:
        """Row of ``word``; raises :class:`UnknownWordError` with close matches if missing."""
        try:
            return self.key_to_index[word]
        except KeyError:
            raise UnknownWordError(word, self.suggest(word)) from None

    def suggest(self, word: str, n: int = 5) -> list[str]:
        """Up to ``n`` vocabulary words spelled like ``word`` (for error messages)."""
        import difflib

        lower = word.lower()
        if lower != word and lower in self.key_to_index:
            return [lower]
        pool = self.keys[:50000]
        return difflib.get_close_matches(word, pool, n=n, cutoff=0.75)

    @overload
    def __getitem__(self, word: str) -> np.ndarray: ...
    @overload
    def __getitem__(self, word: Sequence[str]) -> np.ndarray: ...
    def __getitem__(self, word: str | Sequence[str]) -> np.ndarray:
        """Vector of a word (1-D) or of a list of words (2-D)."""
        if isinstance(word, str):
            return np.asarray(self.vectors[self.index(word)])
        idx = [self.index(w) for w in word]
        return np.asarray(self.vectors[idx])

    def get(self, word: str, default: Any = None) -> Any:
        """Vector of ``word``, or ``default`` if it is not in the vocabulary."""
        i = self.key_to_index.get(word)
        return default if i is None else np.asarray(self.vectors[i])

    def subword_vector(self, word: str) -> np.ndarray | None:
        """fastText's vector for ``word`` from its character n-grams (float32), or None when the set has no
        n-gram table or the word no n-gram. In-vocabulary words have their own row: use ``wv[word]``.

        Example:
            >>> from embedkit.vectors.subwords import Subwords
            >>> wv = WordVectors(["a"], np.ones((1, 2), np.float32))
            >>> wv.subword_vector("zz") is None
            True
            >>> wv.subwords = Subwords(np.full((5, 2), 2, np.float32), minn=2, maxn=3)
            >>> wv.subword_vector("zz").tolist()
            [2.0, 2.0]
        """
        return None if self.subwords is None else self.subwords.vector(word)

    # -- norms -----------------------------------------------------------------------------------------
    def norms(self) -> np.ndarray:
        """L2 norm of every vector (float32), computed in blocks to keep memory flat."""
        out = np.empty(len(self), dtype=np.float32)
        step = 65536
        for s in range(0, len(self), step):
            block = np.asarray(self.vectors[s : s + step], dtype=np.float32)
            out[s : s + step] = np.sqrt(np.einsum("ij,ij->i", block, block))
        return out

    def unit_vectors(self, inplace: bool = False) -> np.ndarray:
        """Rows scaled to unit length (zero rows stay zero), as float32.

        By default a normalised copy is computed once and cached. With ``inplace=True`` the set's own
        ``vectors`` are replaced by their normalised form, so no second full copy is kept (a read-only
        memory map is first read into memory once).
        """
        if self._is_unit:
            return self.vectors
        if self._unit is not None and not inplace:
            return self._unit
        if inplace:
            v = self.vectors
            if v.dtype != np.float32 or not v.flags.writeable or isinstance(v, np.memmap):
                v = np.array(v, dtype=np.float32)
            _normalise_rows(v)
            self.vectors = v
            self._unit = None
            self._is_unit = True
            return v
        self._unit = _normalise_rows(np.array(self.vectors, dtype=np.float32))
        return self._unit

    # -- persistence -------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], format: str = "native", *, overwrite: bool = False,
             **kwargs: Any) -> None:
        """Write the set; ``format`` is ``native`` (default), ``word2vec``, ``word2vec-bin`` or ``glove``.

        Keyword arguments go to the writer (e.g. ``dtype="float16"`` for native, ``precision`` for text).
        The write is atomic: a failure leaves no partial output. An existing output that embedkit did not
        write (a file, a non-empty directory that is no native set) is refused unless ``overwrite``; a FIFO,
        a device, or a directory where a file is meant is always refused. A native set keeps the n-gram
        table of a fastText model; the text and binary formats hold words only.
        """
        from embedkit.vectors.formats import write_table

        write_table(self.to_table(), path, format=format, overwrite=overwrite, **kwargs)

    @classmethod
    def load(cls, path: str | os.PathLike[str], format: str | None = None, **kwargs: Any) -> WordVectors:
        """Read a vectors file or native directory; the format is detected when not given.

        Keyword arguments go to the reader (see each format's ``read_options``); others raise.
        """
        from embedkit.vectors.formats import read_table

        return cls.from_table(read_table(path, format=format, **kwargs))

    @classmethod
    def from_table(cls, table: VectorTable) -> WordVectors:
        """The set a reader produced (no copy of the vectors)."""
        wv = cls.__new__(cls)
        # The reader's word list is the table's own: taken as it is, not copied (400k words: 3 MB less at the peak).
        wv._setup(table.keys if type(table.keys) is list else list(table.keys), table.vectors, table.counts,
                  table.source)
        wv.meta = table.meta
        wv.subwords = table.subwords
        if table.key_index is not None and len(table.key_index) == len(wv.keys):
            wv._key_to_index = table.key_index
        return wv

    def to_table(self) -> VectorTable:
        """The set as a writer's table (no copy)."""
        return VectorTable(self.keys, self.vectors, self.counts, self.source, self.meta, subwords=self.subwords)

    # -- conversions -------------------------------------------------------------------------------------
    def subset(self, words: Iterable[str]) -> WordVectors:
        """A new set with only ``words`` (in the given order; unknown words raise); the n-gram table stays."""
        words = list(dict.fromkeys(words))
        idx = np.array([self.index(w) for w in words], dtype=np.int64)
        counts = None if self.counts is None else self.counts[idx]
        out = WordVectors(words, np.array(self.vectors[idx]), counts, source=self.source)
        out.subwords = self.subwords
        return out

    def to_gensim(self) -> KeyedVectors:
        """A gensim ``KeyedVectors`` with the same keys, vectors and counts."""
        from gensim.models import KeyedVectors

        kv = KeyedVectors(vector_size=self.dim, count=0, dtype=np.float32)
        kv.index_to_key = list(self.keys)
        kv.key_to_index = dict(self.key_to_index)
        kv.vectors = np.array(self.vectors, dtype=np.float32)
        if self.counts is not None:
            kv.allocate_vecattrs(attrs=["count"], types=[np.int64])
            kv.expandos["count"][:] = self.counts
        return kv

    @classmethod
    def from_gensim(cls, kv: Any) -> WordVectors:
        """Build from a gensim ``KeyedVectors`` (or a ``Word2Vec`` / ``FastText`` model, whose ``.wv`` is used);
        a ``FastTextKeyedVectors``' n-gram table comes along as :attr:`subwords`."""
        from embedkit.vectors.subwords import subwords_from_gensim

        kv = getattr(kv, "wv", kv)
        keys = list(kv.index_to_key)
        counts = None
        if "count" in getattr(kv, "expandos", {}):
            counts = np.asarray(kv.expandos["count"], dtype=np.int64)[: len(keys)]
        wv = cls(keys, np.array(kv.vectors, dtype=np.float32), counts, source="gensim")
        wv.subwords = subwords_from_gensim(kv)
        return wv


def _normalise_rows(v: np.ndarray) -> np.ndarray:
    step = 65536
    for s in range(0, v.shape[0], step):
        block = v[s : s + step]
        n = np.sqrt(np.einsum("ij,ij->i", block, block))
        n[n == 0] = 1.0
        block /= n[:, None]
    return v
