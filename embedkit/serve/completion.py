"""Autocomplete over a vocabulary: the words that start with a prefix, most frequent first.

The words are sorted once (on first use) and kept beside their rows; a prefix is two binary searches and a
partial sort of the matching rows, so each keystroke of the explorer's search box costs microseconds even on
400k words. A set's rows are in frequency order when the set was trained or downloaded that way (GloVe,
word2vec, embedkit's CBOW), so the lowest rows are the most frequent words.

>>> c = Completions(["the", "surf", "surfing", "sun", "surfer"])
>>> c.prefix("sur", 2)
[('surf', 1), ('surfing', 2)]
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

_MAX_CHAR = 0x10FFFF


def _prefix_end(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix`` (None: no bound)."""
    while prefix and ord(prefix[-1]) == _MAX_CHAR:
        prefix = prefix[:-1]
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else None


class Completions:
    """Prefix lookup over ``words`` (a set's vocabulary in row order).

    Args:
        words: the vocabulary; a word's position is its row.
    """

    def __init__(self, words: Sequence[str]) -> None:
        order = sorted(range(len(words)), key=words.__getitem__)
        self._words = words
        self._sorted = [words[i] for i in order]
        self._rows = np.asarray(order, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._sorted)

    def prefix(self, prefix: str, limit: int = 10) -> list[tuple[str, int]]:
        """Up to ``limit`` ``(word, row)`` pairs of words starting with ``prefix``, lowest rows first.

        A prefix with capitals that matches nothing is tried in lower case (GloVe's words are lower case).

        >>> Completions(["b", "a", "ab"]).prefix("A", 5)
        [('a', 1), ('ab', 2)]
        """
        found = self._range(prefix)
        if len(found) == 0 and prefix != prefix.lower():
            found = self._range(prefix.lower())
        if len(found) > limit:
            found = np.partition(found, limit - 1)[:limit]
        rows = np.sort(found)[:limit]
        return [(self._words[int(r)], int(r)) for r in rows]

    def _range(self, prefix: str) -> np.ndarray:
        lo = bisect_left(self._sorted, prefix)
        end = _prefix_end(prefix)
        hi = len(self._sorted) if end is None else bisect_left(self._sorted, end, lo)
        return self._rows[lo:hi]
