"""Adapters for plain Python containers: a list of tokens, a token → id dict, a Keras-style ``word_index``.

>>> ListAdapter().adapt(["", "[UNK]", "cat"]).padding_ids
frozenset({0})
>>> WordIndexAdapter().adapt({"the": 1, "cat": 2, "sat": 3}, num_words=3).tokens
['', 'the', 'cat']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.matrix.adapters.base import Adapter, contiguous_tokens, int_array
from embedkit.text.vocabulary import Vocabulary, mark_specials


class ListAdapter(Adapter):
    """A plain list (or tuple, or 1-D array) of tokens: id ``i`` is ``tokens[i]``.

    ``''`` at 0 is padding and ``[UNK]``-like tokens are special; this is the layout of
    ``TextVectorization.get_vocabulary()``.
    """

    kind = "list"
    supported = ("list of tokens",)
    options = ("special_tokens", "padding_tokens")

    def detects(self, obj: Any) -> bool:
        return isinstance(obj, (list, tuple)) or (isinstance(obj, np.ndarray) and obj.ndim == 1)

    def adapt(self, obj: Any, *, special_tokens: Iterable[str] = (),
              padding_tokens: Iterable[str] = ()) -> Vocabulary:
        toks = [str(t) for t in list(obj)]
        if not toks:
            raise EmbedkitError("The vocabulary must contain at least one token. Received: an empty list")
        pad, spec = mark_specials(toks, special_tokens, padding_tokens)
        return Vocabulary(toks, self.kind, pad, spec)


def _smallest_id(obj: Any) -> int | None:
    """The smallest id of a token → id mapping (None if its values are not all integers)."""
    vals = list(obj.values())
    arr = int_array(vals)
    if arr is not None:
        return int(arr.min())
    if not vals:
        raise EmbedkitError("The vocabulary must contain at least one token. Received: an empty dict")
    return None


class DictAdapter(Adapter):
    """A token → id dict with ids ``0..n-1`` (scikit-learn ``vocabulary_`` style)."""

    kind = "dict"
    supported = ("dict token->id",)
    options = ("special_tokens", "padding_tokens")

    def detects(self, obj: Any) -> bool:
        if not isinstance(obj, Mapping):
            return False
        smallest = _smallest_id(obj)
        return smallest is not None and smallest != 1

    def adapt(self, obj: Any, *, special_tokens: Iterable[str] = (),
              padding_tokens: Iterable[str] = ()) -> Vocabulary:
        toks = contiguous_tokens(obj, 0, "dict vocabulary")
        pad, spec = mark_specials(toks, special_tokens, padding_tokens)
        return Vocabulary(toks, self.kind, pad, spec)


class WordIndexAdapter(Adapter):
    """A Keras-style ``word_index`` (token → id, ids ``1..n``, row 0 = padding), cut at ``num_words``."""

    kind = "word_index"
    supported = ("Keras word_index (1-based)",)
    options = ("num_words",)

    def detects(self, obj: Any) -> bool:
        return isinstance(obj, Mapping) and _smallest_id(obj) == 1

    def adapt(self, obj: Any, *, num_words: int | None = None) -> Vocabulary:
        return word_index_vocabulary(obj, num_words)


def word_index_vocabulary(word_index: Mapping[str, int], num_words: int | None = None, *,
                          oov_token: str | None = None,
                          word_counts: Mapping[str, int] | None = None) -> Vocabulary:
    """The vocabulary of a Keras-style ``word_index`` (ids ``1..n``, row 0 = padding), cut at ``num_words``.

    The legacy Keras ``Tokenizer`` keeps only ids below ``num_words``, so the matrix has
    ``min(num_words, len(word_index) + 1)`` rows. ``oov_token`` is marked special; ``word_counts`` become
    the per-id counts.

    >>> word_index_vocabulary({"the": 1, "cat": 2, "sat": 3}, num_words=3).tokens
    ['', 'the', 'cat']
    """
    if num_words is not None and (isinstance(num_words, bool) or not isinstance(num_words, int) or num_words < 2):
        raise EmbedkitError(f"`num_words` must be an integer >= 2 (row 0 is padding). Received: num_words={num_words!r}")
    toks = [""] + contiguous_tokens(word_index, 1, "word_index", None if num_words is None else num_words - 1)
    extra = [oov_token] if oov_token else []
    pad, spec = mark_specials(toks, extra)
    counts = None
    if word_counts:
        counts = np.array([int(word_counts.get(t, 0)) for t in toks], dtype=np.int64)
    return Vocabulary(toks, "word_index", pad, spec, counts=counts)
