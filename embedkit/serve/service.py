"""What each API endpoint computes, on the served sets, through the library's queries.

:class:`QueryService` holds the served sets and the executor that runs queries off the event loop; each
method answers one endpoint as a JSON-ready dict. The answers are the library's result objects
(:mod:`embedkit.search.queries`) as ``to_dict()`` gives them -- what ``embedkit neighbours --json`` and the
other query commands print -- plus the set and search mode that answered. Neighbours of a word go through
one :class:`~embedkit.serve.batching.SearchBatcher` per set and mode, so concurrent requests share searches.
Library errors propagate (:class:`~embedkit.errors.EmbedkitError`; an unknown word carries its close matches).

>>> import asyncio, numpy as np, tempfile, os
>>> from concurrent.futures import ThreadPoolExecutor
>>> from embedkit.serve.sets import ServedSets, open_served_set
>>> from embedkit.vectors.word_vectors import WordVectors
>>> d = os.path.join(tempfile.mkdtemp(), "tiny")
>>> WordVectors(["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1]], np.float32)).save(d)
>>> service = QueryService(ServedSets([open_served_set(d)]), ThreadPoolExecutor(1))
>>> [n["word"] for n in asyncio.run(service.neighbours(None, "a", k=2))["neighbours"]]
['b', 'c']
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, TypeVar

import numpy as np

from embedkit.errors import EmbedkitError, UnknownWordError
from embedkit.search.queries import (
    NeighboursResult,
    analogy,
    doesnt_match,
    most_similar,
    neighbours,
    neighbours_batch,
    similarity,
    to_neighbours,
    word_ids,
)
from embedkit.serve.batching import SearchBatcher
from embedkit.serve.errors import bad_request, from_library
from embedkit.serve.projection import pca_map
from embedkit.serve.sets import ServedSet, ServedSets

T = TypeVar("T")


def short_floats(v: np.ndarray) -> list[float]:
    """A float32 vector as the shortest decimals that read back as the same float32 values.

    >>> short_floats(np.array([0.418, -1e-3], np.float32))
    [0.418, -0.001]
    """
    return [float(str(x)) for x in np.asarray(v, dtype=np.float32)]


class QueryService:
    """Answers the API's queries on ``sets``, running the work in ``executor``.

    Args:
        sets: the served sets.
        executor: runs searches and the other queries (a FAISS / numpy call releases the GIL).
        batching: coalesce concurrent neighbour searches (see :mod:`embedkit.serve.batching`).
        concurrency: searches of one index that may run at once (the executor's threads).
    """

    def __init__(self, sets: ServedSets, executor: Executor, *, batching: bool = True, concurrency: int = 1) -> None:
        self.sets = sets
        self.executor = executor
        self.batching = batching
        self.concurrency = concurrency
        self._batchers: dict[tuple[str, str], SearchBatcher] = {}

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in the executor."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    def batcher(self, s: ServedSet, mode: str) -> SearchBatcher:
        """The batcher of one set's index for a search mode."""
        key = (s.name, mode)
        if key not in self._batchers:
            self._batchers[key] = SearchBatcher(s.indexes[mode], self.executor, max_batch=256 if self.batching else 1,
                                                max_concurrent=self.concurrency)
        return self._batchers[key]

    @staticmethod
    def _head(s: ServedSet, mode: str) -> dict[str, Any]:
        return {"set": s.name, "search": mode, "kind": s.indexes[mode].kind}

    async def _row(self, s: ServedSet, word: str) -> int:
        row = s.row(word)
        if row is None:  # the library's error, with close matches (difflib: off the event loop)
            await self.run(word_ids, s.wv, [word])
            raise UnknownWordError(word)  # pragma: no cover - word_ids raised
        return row

    # -- endpoints ------------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Liveness and what is served."""
        from embedkit import __version__

        return {"status": "ok", "version": __version__, "sets": self.sets.names}

    def list_sets(self) -> dict[str, Any]:
        """Every served set's summary."""
        return {"default": self.sets.default, "sets": [s.describe() for s in self.sets]}

    def set_info(self, name: str) -> dict[str, Any]:
        """One set's summary."""
        return self.sets.get(name).describe()

    async def neighbours(self, set_name: str | None, word: str, k: int = 10, restrict_vocab: int | None = None,
                         search: str | None = None) -> dict[str, Any]:
        """The ``k`` nearest words to ``word`` (itself excluded): ``embedkit neighbours WORD --json``."""
        s = self.sets.get(set_name)
        mode = s.search_mode(search)
        row = await self._row(s, word)
        scores, ids = await self.batcher(s, mode).search(s.vector(row), k, restrict_vocab=restrict_vocab,
                                                         exclude={row})
        return {**self._head(s, mode), **NeighboursResult(word, to_neighbours(s.wv.keys, scores, ids)).to_dict()}

    async def neighbours_of_query(self, set_name: str | None, vector: Sequence[float] | None = None,
                                  positive: Sequence[str] | None = None, negative: Sequence[str] | None = None,
                                  k: int = 10, restrict_vocab: int | None = None,
                                  search: str | None = None) -> dict[str, Any]:
        """Neighbours of a vector, or of the mean of unit(positive) - unit(negative) words (gensim's semantics)."""
        s = self.sets.get(set_name)
        mode = s.search_mode(search)
        index = s.indexes[mode]
        if (vector is None) == (positive is None and negative is None):
            raise bad_request("Expected either `vector` or `positive` / `negative` words. Received: "
                              + ("both" if vector is not None else "neither"))
        if vector is not None:
            res = await self.run(neighbours, s.wv, np.asarray(vector, np.float32), k, restrict_vocab=restrict_vocab,
                                 index=index)
        else:
            found = await self.run(most_similar, s.wv, list(positive or ()), list(negative or ()), k,
                                   restrict_vocab=restrict_vocab, index=index)
            label = " ".join([f"+{w}" for w in positive or ()] + [f"-{w}" for w in negative or ()])
            res = NeighboursResult(label, found)
        return {**self._head(s, mode), **res.to_dict()}

    async def neighbours_batch(self, set_name: str | None, words: Sequence[str], k: int = 10,
                               restrict_vocab: int | None = None, search: str | None = None) -> dict[str, Any]:
        """Neighbours of many words in one search: ``embedkit neighbours --batch FILE --json``.

        Words the set does not know are listed under ``unknown`` (the CLI skips them with a note).
        """
        s = self.sets.get(set_name)
        mode = s.search_mode(search)
        known = [w for w in words if s.row(w) is not None]
        results = await self.run(neighbours_batch, s.wv, known, k, restrict_vocab=restrict_vocab,
                                 index=s.indexes[mode]) if known else []
        return {**self._head(s, mode), "results": [r.to_dict() for r in results],
                "unknown": [w for w in words if s.row(w) is None]}

    async def similarity(self, set_name: str | None, word1: str, word2: str) -> dict[str, Any]:
        """Cosine similarity of two words: ``embedkit similarity W1 W2 --json``."""
        s = self.sets.get(set_name)
        return {"set": s.name, **(await self.run(similarity, s.wv, word1, word2)).to_dict()}

    async def analogy(self, set_name: str | None, a: str, b: str, c: str, k: int = 5, method: str = "3cosadd",
                      restrict_vocab: int | None = None, search: str | None = None) -> dict[str, Any]:
        """``a`` is to ``b`` as ``c`` is to ?: ``embedkit analogy A B C --json`` (3CosAdd or 3CosMul)."""
        s = self.sets.get(set_name)
        mode = s.search_mode(search)
        res = await self.run(analogy, s.wv, a, b, c, k, method=method, restrict_vocab=restrict_vocab,
                             index=s.indexes[mode])
        return {**self._head(s, mode), **res.to_dict()}

    async def doesnt_match(self, set_name: str | None, words: Sequence[str]) -> dict[str, Any]:
        """The word that fits least: ``embedkit doesnt-match W... --json``."""
        s = self.sets.get(set_name)
        return {"set": s.name, **(await self.run(doesnt_match, s.wv, list(words))).to_dict()}

    async def vector(self, set_name: str | None, word: str) -> dict[str, Any]:
        """The stored vector of a word."""
        s = self.sets.get(set_name)
        row = await self._row(s, word)
        v = s.vector(row)
        return {"set": s.name, "word": word, "row": row, "dim": int(v.shape[0]),
                "norm": float(np.linalg.norm(v)), "vector": short_floats(v)}

    async def vectors(self, set_name: str | None, words: Sequence[str]) -> dict[str, Any]:
        """The stored vectors of many words; unknown words are listed apart."""
        s = self.sets.get(set_name)
        rows = {w: s.row(w) for w in words}
        found = {w: short_floats(s.vector(r)) for w, r in rows.items() if r is not None}
        return {"set": s.name, "dim": s.wv.dim, "vectors": found, "unknown": [w for w, r in rows.items() if r is None]}

    async def complete(self, set_name: str | None, prefix: str, limit: int = 10) -> dict[str, Any]:
        """Words starting with ``prefix`` (most frequent first) and, when few, close spellings."""
        s = self.sets.get(set_name)
        table = await self.run(s.completions)
        found = table.prefix(prefix, limit)
        close: list[str] = []
        if len(found) < limit and len(prefix.strip()) >= 3:
            have = {w for w, _ in found}
            close = [w for w in await self.run(s.wv.suggest, prefix, limit) if w not in have][: limit - len(found)]
        return {"set": s.name, "prefix": prefix, "completions": [{"word": w, "row": r} for w, r in found],
                "close_matches": close}

    async def neighbourhood_map(self, set_name: str | None, word: str, k: int = 20,
                                restrict_vocab: int | None = None, search: str | None = None) -> dict[str, Any]:
        """A word and its ``k`` neighbours on a 2-D PCA map of their unit vectors."""
        res = await self.neighbours(set_name, word, k, restrict_vocab, search)
        s = self.sets.get(set_name)
        words = [word] + [n["word"] for n in res["neighbours"]]
        scores = [1.0] + [n["score"] for n in res["neighbours"]]
        rows = [s.row(w) for w in words]
        m = await self.run(pca_map, words, np.asarray(s.vectors.matrix[rows], np.float32))
        points = [{**p.to_dict(), "score": sc} for p, sc in zip(m.points, scores)]
        return {**self._head(s, res["search"]), "word": word, "points": points,
                "explained_variance": m.explained}

    async def compare(self, word: str, set_name: str | None, other: str, k: int = 10,
                      search: str | None = None) -> dict[str, Any]:
        """The neighbours of ``word`` in two sets side by side, and the words both lists share."""
        first = self.sets.get(set_name)
        second = self.sets.get(other)
        if first.name == second.name:
            raise bad_request(f"Expected two different sets to compare. Received: {first.name!r} twice")
        entries: list[dict[str, Any]] = []
        errors: list[EmbedkitError] = []
        for s in (first, second):
            try:
                entries.append(await self.neighbours(s.name, word, k, None, search))
            except UnknownWordError as e:
                errors.append(e)
                entries.append({"set": s.name, "error": from_library(e).to_dict()["error"]})
        if len(errors) == 2:
            raise errors[0]
        lists = [[n["word"] for n in e.get("neighbours", [])] for e in entries]
        union = set(lists[0]) | set(lists[1])
        shared = [w for w in lists[0] if w in set(lists[1])]
        return {"word": word, "k": k, "sets": entries, "shared": shared, "overlap": len(shared),
                "jaccard": len(shared) / len(union) if union and not errors else None}
