"""The JSON API: one :class:`Endpoint` per path, its parameters, and the Starlette routes made from them.

Every endpoint is declared once in :data:`ENDPOINTS` -- method, versioned path, parameters
(:class:`~embedkit.serve.params.Param`), the response schema's name and the :class:`QueryService` call -- and
that one declaration is what parses the request, answers it and describes it at ``/openapi.json``
(:mod:`embedkit.serve.openapi`). GET endpoints take query parameters (``GET /v1/neighbours?word=surf&k=10``),
POST endpoints a JSON object body. Errors are JSON (:mod:`embedkit.serve.errors`).

>>> [e.path for e in ENDPOINTS][:3]
['/v1/health', '/v1/sets', '/v1/sets/{name}']
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from embedkit.errors import EmbedkitError
from embedkit.search.queries import ANALOGY_METHODS
from embedkit.serve.errors import ApiError, from_library
from embedkit.serve.params import Param, parse_json_body, parse_query
from embedkit.serve.service import QueryService

log = logging.getLogger("embedkit.serve.routes")

MAX_K = 1000
MAX_BATCH_WORDS = 1000
MAX_MAP_K = 200
MAX_VECTOR_DIM = 4096

SET = Param("set", "word", "A served set's name (default: the first set; see /v1/sets).", example="glove")
WORD = Param("word", "word", "The query word.", required=True, example="surf")
K = Param("k", "int", "How many results.", default=10, minimum=1, maximum=MAX_K)
RESTRICT = Param("restrict_vocab", "int", "Search only the first N (most frequent) words.", minimum=1)
SEARCH = Param("search", "enum", "exact or approx (HNSW); default: the server's (approx with --approx).",
               choices=("exact", "approx"))
METHODS = tuple(ANALOGY_METHODS.names()) + tuple(ANALOGY_METHODS.aliases())


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint.

    Attributes:
        method: ``GET`` (query parameters) or ``POST`` (a JSON object body).
        path: the versioned path (``{name}`` marks a path parameter).
        summary: one line for the OpenAPI document.
        params: the query parameters or body fields.
        response: the name of the 200 response's schema (see :mod:`embedkit.serve.openapi`).
        call: ``call(service, values)`` answers the request (a dict, or an awaitable of one).
        errors: the error statuses it can answer besides 400.
        path_params: parameters taken from the path.
    """

    method: str
    path: str
    summary: str
    params: tuple[Param, ...]
    response: str
    call: Callable[[QueryService, dict[str, Any]], Any]
    errors: tuple[int, ...] = (404,)
    path_params: tuple[Param, ...] = ()

    @property
    def name(self) -> str:
        """The operation id (``get_neighbours``, ``post_neighbours_batch``, ...)."""
        tail = self.path.removeprefix("/v1/").replace("{", "").replace("}", "").replace("/", "_").replace("-", "_")
        return f"{self.method.lower()}_{tail}"


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v1/health", "Liveness, version and the served sets.", (), "Health",
             lambda s, v: s.health(), errors=()),
    Endpoint("GET", "/v1/sets", "The served sets with their size, dimension, norms and search modes.", (), "Sets",
             lambda s, v: s.list_sets(), errors=()),
    Endpoint("GET", "/v1/sets/{name}", "One served set's summary.", (), "SetInfo",
             lambda s, v: s.set_info(v["name"]), path_params=(Param("name", "word", "The set's name.", required=True),)),
    Endpoint("GET", "/v1/neighbours", "The k nearest words to a word by cosine (the word itself excluded).",
             (WORD, K, SET, RESTRICT, SEARCH), "Neighbours",
             lambda s, v: s.neighbours(v["set"], v["word"], v["k"], v["restrict_vocab"], v["search"])),
    Endpoint("POST", "/v1/neighbours", "The k nearest words to a vector, or to positive minus negative words.",
             (Param("vector", "vector", "A query vector of the set's dimension.", max_items=MAX_VECTOR_DIM),
              Param("positive", "words", "Words added to the query.", max_items=100),
              Param("negative", "words", "Words subtracted from the query.", max_items=100),
              K, SET, RESTRICT, SEARCH), "Neighbours",
             lambda s, v: s.neighbours_of_query(v["set"], v["vector"], v["positive"], v["negative"], v["k"],
                                                v["restrict_vocab"], v["search"])),
    Endpoint("POST", "/v1/neighbours/batch", "Neighbours of many words in one search; unknown words listed apart.",
             (Param("words", "words", "The query words.", required=True, max_items=MAX_BATCH_WORDS),
              K, SET, RESTRICT, SEARCH), "NeighboursBatch",
             lambda s, v: s.neighbours_batch(v["set"], v["words"], v["k"], v["restrict_vocab"], v["search"])),
    Endpoint("GET", "/v1/similarity", "Cosine similarity of two words.",
             (Param("word1", "word", "First word.", required=True, example="car"),
              Param("word2", "word", "Second word.", required=True, example="jeep"), SET), "Similarity",
             lambda s, v: s.similarity(v["set"], v["word1"], v["word2"])),
    Endpoint("GET", "/v1/analogy", "a is to b as c is to ? (3CosAdd or 3CosMul; a, b, c excluded).",
             (Param("a", "word", "A (a is to b ...).", required=True, example="man"),
              Param("b", "word", "B.", required=True, example="king"),
              Param("c", "word", "C (... as c is to ?).", required=True, example="woman"),
              Param("k", "int", "How many answers.", default=5, minimum=1, maximum=MAX_K),
              Param("method", "enum", "3cosadd (alias add) or 3cosmul (alias mul).", default="3cosadd",
                    choices=METHODS),
              SET, RESTRICT, SEARCH), "Analogy",
             lambda s, v: s.analogy(v["set"], v["a"], v["b"], v["c"], v["k"], v["method"], v["restrict_vocab"],
                                    v["search"])),
    Endpoint("GET", "/v1/doesnt-match", "Which word fits least with the others (repeat `word`).",
             (Param("word", "words", "Two or more words (repeat the parameter).", required=True, max_items=100,
                    example=["breakfast", "lunch", "dinner", "car"]), SET), "DoesntMatch",
             lambda s, v: s.doesnt_match(v["set"], v["word"])),
    Endpoint("GET", "/v1/vector", "The stored vector of a word.", (WORD, SET), "Vector",
             lambda s, v: s.vector(v["set"], v["word"])),
    Endpoint("POST", "/v1/vectors", "The stored vectors of many words; unknown words listed apart.",
             (Param("words", "words", "The words.", required=True, max_items=MAX_BATCH_WORDS), SET), "Vectors",
             lambda s, v: s.vectors(v["set"], v["words"])),
    Endpoint("GET", "/v1/complete", "Autocomplete: words starting with a prefix, most frequent first; close "
             "spellings when few match.",
             (Param("prefix", "text", "The start of a word.", required=True, example="sur"),
              Param("limit", "int", "The most completions.", default=10, minimum=1, maximum=100), SET),
             "Completions", lambda s, v: s.complete(v["set"], v["prefix"], v["limit"])),
    Endpoint("GET", "/v1/map", "A word and its k neighbours on a 2-D PCA map of their unit vectors.",
             (WORD, Param("k", "int", "How many neighbours.", default=20, minimum=1, maximum=MAX_MAP_K), SET,
              RESTRICT, SEARCH), "Map",
             lambda s, v: s.neighbourhood_map(v["set"], v["word"], v["k"], v["restrict_vocab"], v["search"])),
    Endpoint("GET", "/v1/compare", "The neighbours of a word in two sets side by side, and their overlap.",
             (WORD, Param("other", "word", "The second set's name.", required=True), K, SET, SEARCH), "Compare",
             lambda s, v: s.compare(v["word"], v["set"], v["other"], v["k"], v["search"])),
)


def error_response(err: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON response of an error."""
    return JSONResponse(err.to_dict(), status_code=err.status, headers={**HEADERS, **(headers or {})})


HEADERS = {"X-Content-Type-Options": "nosniff"}


def _handler(endpoint: Endpoint) -> Callable[[Request], Any]:
    async def handle(request: Request) -> Response:
        service: QueryService = request.app.state.service
        try:
            raw_query = request.scope.get("query_string", b"")
            if endpoint.method == "GET":
                values = parse_query(endpoint.params, raw_query)
            else:
                parse_query((), raw_query)  # a POST takes its parameters in the body only
                values = parse_json_body(endpoint.params, await request.body(), request.headers.get("content-type"))
            for p in endpoint.path_params:
                values[p.name] = p.convert([request.path_params[p.name]])
            result = endpoint.call(service, values)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as e:
            return error_response(e)
        except EmbedkitError as e:
            return error_response(from_library(e))
        except MemoryError:
            return error_response(ApiError(503, "unavailable", "The server ran out of memory for this request. "
                                                               "Received: a request too large for this machine"))
        return JSONResponse(result, headers=HEADERS)

    handle.__name__ = endpoint.name
    return handle


def api_routes(endpoints: tuple[Endpoint, ...] = ENDPOINTS) -> list[Route]:
    """The Starlette routes of ``endpoints`` (GET and POST endpoints on one path share a route)."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for e in endpoints:
        by_path.setdefault(e.path, {})[e.method] = e
    routes = []
    for path, methods in by_path.items():
        handlers = {m: _handler(e) for m, e in methods.items()}
        if len(handlers) == 1:
            (method, fn), = handlers.items()
            routes.append(Route(path, fn, methods=[method]))
            continue

        async def dispatch(request: Request, _handlers: dict[str, Any] = handlers) -> Response:
            return await _handlers["GET" if request.method == "HEAD" else request.method](request)

        routes.append(Route(path, dispatch, methods=list(handlers)))
    return routes
