"""`create_app`: the ASGI application of ``embedkit serve`` (Starlette), for uvicorn or any ASGI server.

The app answers the JSON API (:mod:`embedkit.serve.routes`), its OpenAPI document at ``/openapi.json`` and the
explorer page at ``/``. Queries run in one executor (:class:`~concurrent.futures.ThreadPoolExecutor`) off the
event loop; request bodies over ``max_body_bytes`` get a 413 (:mod:`embedkit.serve.limits`); every error is a JSON
object with a one-line message, and a bug answers a plain 500 while its traceback goes to the log only.

>>> import numpy as np, tempfile, os
>>> from starlette.testclient import TestClient
>>> from embedkit.serve.sets import open_served_sets
>>> from embedkit.vectors.word_vectors import WordVectors
>>> d = os.path.join(tempfile.mkdtemp(), "tiny")
>>> WordVectors(["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1]], np.float32)).save(d)
>>> with TestClient(create_app(open_served_sets(d))) as client:
...     client.get("/v1/neighbours", params={"word": "a", "k": 1}).json()["neighbours"]
[{'word': 'b', 'score': 0.9938837289810181, 'rank': 1}]
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from embedkit.serve.errors import from_http_status, internal_error
from embedkit.serve.explorer import Explorer
from embedkit.serve.limits import BodyLimit
from embedkit.serve.openapi import openapi_document
from embedkit.serve.routes import HEADERS, api_routes, error_response
from embedkit.serve.service import QueryService
from embedkit.serve.sets import ServedSets

log = logging.getLogger("embedkit.serve.app")

MAX_BODY_BYTES = 1 << 20


def default_threads() -> int:
    """Query threads: one per core (each search runs single-threaded; see :func:`~embedkit.serve.server.tune_search`)."""
    return max(1, os.cpu_count() or 1)


def init_query_thread() -> None:
    """Run in each query thread as it starts: FAISS (OpenMP) single-threaded in this thread.

    OpenMP's thread count is a per-thread setting, so a process-wide call does not reach the executor's
    threads; searches run in parallel across the query threads instead of inside each one.
    """
    try:
        import faiss
    except ImportError:  # pragma: no cover - faiss-cpu is a dependency
        return
    faiss.omp_set_num_threads(1)


def create_app(
    sets: ServedSets,
    *,
    threads: int | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    batching: bool = True,
) -> Starlette:
    """The ASGI app serving ``sets`` (read-only).

    Args:
        sets: the sets to serve (:func:`~embedkit.serve.sets.open_served_sets`).
        threads: query threads (default :func:`default_threads`).
        max_body_bytes: the largest request body accepted (larger: 413).
        batching: coalesce concurrent neighbour searches (:mod:`embedkit.serve.batching`).
    """
    workers = threads or default_threads()
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="embedkit-query",
                                  initializer=init_query_thread)
    service = QueryService(sets, executor, batching=batching, concurrency=workers)
    explorer = Explorer()
    document = openapi_document()

    async def openapi(request: Request) -> Response:
        return JSONResponse(document, headers=HEADERS)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_response(from_http_status(exc.status_code, exc.detail), headers=dict(exc.headers or {}))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("Unhandled error answering %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(internal_error())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            executor.shutdown(wait=True, cancel_futures=True)

    routes = [Route("/", explorer.page, methods=["GET"]), Route("/static/{name}", explorer.asset, methods=["GET"]),
              Route("/openapi.json", openapi, methods=["GET"]), *api_routes()]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: server_error},
                    lifespan=lifespan, middleware=[Middleware(BodyLimit, max_body_bytes=max_body_bytes)])
    app.state.service = service
    return app
