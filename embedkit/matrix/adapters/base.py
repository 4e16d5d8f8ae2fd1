"""`Adapter`: the base class of tokenizer adapters, and the checks adapters share.

An adapter turns one kind of tokenizer or vocabulary object into a :class:`~embedkit.text.vocabulary.Vocabulary`.
It says which objects it handles (:meth:`Adapter.detects`), which options it takes (:attr:`Adapter.options`)
and how it reads the object (:meth:`Adapter.adapt`). Adapters are listed in
:data:`embedkit.matrix.adapters.registry.ADAPTERS`.

>>> contiguous_tokens({"b": 2, "a": 1}, 1, "word_index")
['a', 'b']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.text.vocabulary import Vocabulary


class Adapter:
    """Turns one kind of tokenizer or vocabulary object into a :class:`~embedkit.text.vocabulary.Vocabulary`.

    Subclasses set :attr:`kind`, :attr:`supported` and :attr:`options` and implement :meth:`detects` and
    :meth:`adapt`. Detection tests must claim only objects of their own kind (no two adapters claim one object).

    Example:
        >>> class Letters(Adapter):
        ...     kind, supported = "letters", ("a string of letters",)
        ...     def detects(self, obj): return isinstance(obj, str)
        ...     def adapt(self, obj, **options): return Vocabulary(list(obj), self.kind)
        >>> Letters().adapt("ab").tokens
        ['a', 'b']
    """

    kind: ClassVar[str] = ""
    #: How the "Expected one of: ..." message names the objects this adapter handles.
    supported: ClassVar[tuple[str, ...]] = ()
    #: The keyword options :meth:`adapt` takes (others raise a one-line error in ``as_vocab``).
    options: ClassVar[tuple[str, ...]] = ()

    def detects(self, obj: Any) -> bool:
        """True if ``obj`` is an object of this adapter's kind."""
        raise NotImplementedError

    def adapt(self, obj: Any, **options: Any) -> Vocabulary:
        """The vocabulary of ``obj`` (``options`` among :attr:`options`)."""
        raise NotImplementedError


# -- shared checks ------------------------------------------------------------------------------------------
def int_array(vals: list[Any]) -> np.ndarray | None:
    """``vals`` as an integer array, or None if they are not all integers.

    >>> int_array([1, 2]).tolist(), int_array(["a"])
    ([1, 2], None)
    """
    if not vals or isinstance(vals[0], (bool, np.bool_)) or not isinstance(vals[0], (int, np.integer)):
        return None
    try:
        arr = np.asarray(vals)
    except (ValueError, TypeError):
        return None
    return arr if arr.dtype.kind in "iu" else None


def contiguous_tokens(mapping: Mapping[Any, Any], start: int, what: str, limit: int | None = None) -> list[str]:
    """Tokens ordered by id, checking the ids are exactly ``start..start+n-1`` (vectorised: word_index dicts
    can hold hundreds of thousands of words). ``limit`` keeps only the first ``limit`` tokens."""
    n = len(mapping)
    if n == 0:
        raise EmbedkitError(f"The vocabulary must contain at least one token. Received: an empty {what}")
    keys = list(mapping.keys())
    vals = list(mapping.values())
    arr = int_array(vals)
    if arr is None:
        bad = next((k, v) for k, v in zip(keys, vals)
                   if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)))
        raise EmbedkitError(f"{what} ids must be integers. Received: {bad[0]!r} -> {bad[1]!r}")
    pos = arr.astype(np.int64) - start
    lo, hi = int(pos.min()), int(pos.max())
    if lo < 0 or hi >= n or int(np.bincount(pos, minlength=n).max()) > 1:
        seen = np.zeros(n, dtype=bool)
        j = 0
        for j, p in enumerate(pos.tolist()):
            if p < 0 or p >= n or seen[p]:
                break
            seen[p] = True
        raise EmbedkitError(
            f"{what} ids must be contiguous {start}..{start + n - 1} with no repeats. "
            f"Received: {n} tokens with ids {lo + start}..{hi + start} (e.g. {keys[j]!r} -> {vals[j]})"
        )
    ordered = np.empty(n, dtype=object)
    ordered[pos] = _object_array(keys)
    out = ordered[:limit].tolist() if limit is not None else ordered.tolist()
    return [t if isinstance(t, str) else str(t) for t in out]


def _object_array(items: list[Any]) -> np.ndarray:
    a = np.empty(len(items), dtype=object)
    a[:] = items
    return a


def typename(obj: Any) -> str:
    """``module.QualifiedName`` of ``obj``'s type (for error messages).

    >>> typename({1})
    'builtins.set'
    """
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def num_words_error(num_words: Any, kind: str) -> EmbedkitError:
    """The one-line error for ``num_words`` given to an adapter that has no word_index to cut."""
    return EmbedkitError(f"`num_words` applies to a Keras word_index only. Received: num_words={num_words} for {kind}")
