"""Coalescing concurrent searches: the queries that arrive while a search runs go to the index together.

A server answers one neighbour query per request, but one FAISS call over 16 queries costs far less than 16
calls of one (a matrix product instead of 16 passes over the vectors). :class:`SearchBatcher` adds no delay:
a lone query is searched at once, by itself; queries that arrive while ``max_concurrent`` searches run wait
for one to finish and then go together, as one call. On an exact index, whose every call is a full pass
over the vectors, a batch after a batch of n queries waits up to ``linger`` seconds (2 ms) for n queries to
be there: under load the clients' next requests are on their way, and one pass for all of them costs a
fraction of one pass each. A lone client never waits (its batches are of one).

Each query keeps its own ``k``, ``restrict_vocab`` and excluded rows; queries with different
``restrict_vocab`` (or, on an approximate index, different ``k``, which sets the search width) are searched
in separate calls, so every answer is the answer its query would get alone.

>>> import asyncio, numpy as np
>>> from concurrent.futures import ThreadPoolExecutor
>>> from embedkit.errors import EmbedkitError
>>> from embedkit.search.vector_index import VectorIndex
>>> index = VectorIndex.build(np.eye(3, dtype=np.float32))
>>> async def two():
...     b = SearchBatcher(index, ThreadPoolExecutor(1))
...     return await asyncio.gather(b.search(np.eye(3)[0], 1), b.search(np.eye(3)[1], 1, exclude={1}))
>>> [ids.tolist() for _, ids in asyncio.run(two())]
[[0], [0]]
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.search.vector_index import VectorIndex

log = logging.getLogger("embedkit.serve.batching")

MAX_BATCH = 256
EXACT_LINGER_S = 0.002


@dataclass
class _Job:
    query: np.ndarray
    k: int
    restrict_vocab: int | None
    exclude: Collection[int]
    future: asyncio.Future[tuple[np.ndarray, np.ndarray]] = field(repr=False)


class SearchBatcher:
    """Searches ``index`` in ``executor``, batching the queries that arrive while a search runs.

    Args:
        index: the index to search (any kind).
        executor: where searches run (off the event loop).
        max_batch: the most queries in one call.
    """

    def __init__(self, index: VectorIndex, executor: Executor, max_batch: int = MAX_BATCH,
                 max_concurrent: int = 1, linger: float | None = None) -> None:
        self.index = index
        self.executor = executor
        self.max_batch = max_batch
        self.max_concurrent = max(1, max_concurrent)
        self.linger = (EXACT_LINGER_S if index.kind == "exact" else 0.0) if linger is None else linger
        self._pending: list[_Job] = []
        self._drains: set[asyncio.Task[None]] = set()  # running drains (referenced so they are not collected)
        self._active = 0  # drains running: counted down by the drain itself, as it finds nothing left to do
        self._expect = 1  # the size of the last batch: how many queries to wait for (up to linger)
        self._wake: asyncio.Event | None = None
        self.batches = 0  # index searches made, and the queries they answered (for tests and logs)
        self.queries = 0

    async def search(
        self, query: np.ndarray, k: int, *, restrict_vocab: int | None = None, exclude: Collection[int] = ()
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, ids)`` of the top ``k`` for one query row (what ``index.search`` gives for it alone)."""
        loop = asyncio.get_running_loop()
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.index.dim:  # refused alone, before it can fail the batch it would join
            raise EmbedkitError(f"Query vectors must have dimension {self.index.dim} to match the index. "
                                f"Received: a vector of dimension {q.shape[0]}")
        job = _Job(q, k, restrict_vocab, exclude, loop.create_future())
        self._pending.append(job)
        if self._wake is not None and len(self._pending) >= self._expect:
            self._wake.set()
        if self._active < self.max_concurrent:
            self._active += 1
            task = loop.create_task(self._drain())
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)
        return await job.future

    async def _drain(self) -> None:
        try:
            await self._drain_pending()
        finally:
            self._active -= 1  # no await between the last look at the queue and this: no query is stranded

    async def _drain_pending(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            if self.linger > 0 and len(self._pending) < self._expect and self._wake is None:
                self._wake = asyncio.Event()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.linger)
                except asyncio.TimeoutError:
                    pass
                finally:
                    self._wake = None
            jobs, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            self._expect = max(1, min(len(jobs), self.max_batch))
            try:
                results, searches = await loop.run_in_executor(self.executor, self._run, jobs)
            except BaseException as e:  # the search failed: every query of the batch gets the error
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(e if isinstance(e, Exception) else RuntimeError(str(e)))
                if not isinstance(e, Exception):
                    raise
                continue
            self.batches += searches
            self.queries += len(jobs)
            for job, result in zip(jobs, results):
                if not job.future.done():  # a client that went away cancelled its future
                    job.future.set_result(result)

    def _groups(self, jobs: list[_Job]) -> dict[tuple[Any, ...], list[int]]:
        exact = self.index.kind == "exact"
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, job in enumerate(jobs):
            groups.setdefault((job.restrict_vocab, None if exact else job.k), []).append(i)
        return groups

    def _run(self, jobs: list[_Job]) -> tuple[list[tuple[np.ndarray, np.ndarray]], int]:
        out: list[Any] = [None] * len(jobs)
        groups = self._groups(jobs)
        for (restrict_vocab, _), members in groups.items():
            k = max(jobs[i].k for i in members)
            queries = np.stack([jobs[i].query for i in members])
            scores, ids = self.index.search(queries, k, restrict_vocab=restrict_vocab,
                                            exclude=[jobs[i].exclude for i in members])
            for row, i in enumerate(members):
                out[i] = (scores[row, : jobs[i].k], ids[row, : jobs[i].k])
        return out, len(groups)
