"""The OpenAPI 3.1 document of the API, built from the endpoint declarations (served at ``/openapi.json``).

The parameters and bodies come from each :class:`~embedkit.serve.routes.Endpoint`'s
:class:`~embedkit.serve.params.Param` list, so the document cannot drift from what the server accepts; the
response schemas below describe what the library's result objects serialise to.

>>> doc = openapi_document()
>>> doc["openapi"], "/v1/neighbours" in doc["paths"]
('3.1.0', True)
"""

from __future__ import annotations

from typing import Any

from embedkit.serve.routes import ENDPOINTS, Endpoint

_NUM = {"type": "number"}
_STR = {"type": "string"}
_INT = {"type": "integer"}
_WORDS = {"type": "array", "items": _STR}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_HEAD = {"set": _STR, "search": {"type": "string", "enum": ["exact", "approx"]}, "kind": _STR}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _obj(["error"], error=_obj(
        ["status", "code", "message"], status=_INT, code=_STR,
        message={"type": "string", "description": "One line: what was expected, what was received."},
        word=_STR, close_matches=_WORDS, sets=_WORDS, allowed=_WORDS)),
    "Neighbour": _obj(["word", "score", "rank"], word=_STR, score=_NUM, rank=_INT),
    "Neighbours": _obj(["set", "search", "kind", "query", "neighbours"], **_HEAD, query=_STR,
                       neighbours={"type": "array", "items": _ref("Neighbour")}),
    "NeighboursBatch": _obj(["set", "search", "kind", "results", "unknown"], **_HEAD,
                            results={"type": "array", "items": _obj(
                                ["query", "neighbours"], query=_STR,
                                neighbours={"type": "array", "items": _ref("Neighbour")})},
                            unknown=_WORDS),
    "Similarity": _obj(["set", "word1", "word2", "similarity"], set=_STR, word1=_STR, word2=_STR, similarity=_NUM),
    "Analogy": _obj(["set", "search", "kind", "a", "b", "c", "method", "answers"], **_HEAD, a=_STR, b=_STR, c=_STR,
                    method=_STR, answers={"type": "array", "items": _ref("Neighbour")}),
    "DoesntMatch": _obj(["set", "words", "odd_one_out", "similarities"], set=_STR, words=_WORDS, odd_one_out=_STR,
                        similarities={"type": "object", "additionalProperties": _NUM}),
    "Vector": _obj(["set", "word", "row", "dim", "norm", "vector"], set=_STR, word=_STR, row=_INT, dim=_INT,
                   norm=_NUM, vector={"type": "array", "items": _NUM}),
    "Vectors": _obj(["set", "dim", "vectors", "unknown"], set=_STR, dim=_INT, unknown=_WORDS,
                    vectors={"type": "object", "additionalProperties": {"type": "array", "items": _NUM}}),
    "Completions": _obj(["set", "prefix", "completions", "close_matches"], set=_STR, prefix=_STR,
                        completions={"type": "array", "items": _obj(["word", "row"], word=_STR, row=_INT)},
                        close_matches=_WORDS),
    "Map": _obj(["set", "search", "kind", "word", "points", "explained_variance"], **_HEAD, word=_STR,
                points={"type": "array", "items": _obj(["word", "x", "y", "score"], word=_STR, x=_NUM, y=_NUM,
                                                       score=_NUM)},
                explained_variance={"type": "array", "items": _NUM}),
    "Compare": _obj(["word", "k", "sets", "shared", "overlap", "jaccard"], word=_STR, k=_INT,
                    sets={"type": "array", "items": {"type": "object", "description": "A Neighbours object, or "
                                                     "{set, error} when the set does not know the word."}},
                    shared=_WORDS, overlap=_INT, jaccard={"type": ["number", "null"]}),
    "SetInfo": _obj(["name", "size", "dim", "format", "search"], name=_STR, size=_INT, dim=_INT, dtype=_STR,
                    format=_STR, source={"type": ["string", "null"]}, has_counts={"type": "boolean"},
                    norm_min={"type": ["number", "null"]}, norm_mean={"type": ["number", "null"]},
                    norm_max={"type": ["number", "null"]}, zero_vectors=_INT, sample_words=_WORDS,
                    created=_STR, search=_obj(["default", "modes"], default=_STR,
                                              modes={"type": "object", "additionalProperties": _STR})),
    "Sets": _obj(["default", "sets"], default={"type": ["string", "null"]},
                 sets={"type": "array", "items": _ref("SetInfo")}),
    "Health": _obj(["status", "version", "sets"], status=_STR, version=_STR, sets=_WORDS),
}

_ERRORS = {400: "Bad input: the one-line message the CLI prints.",
           404: "Unknown word (with close matches) or unknown set.",
           413: "The request body is larger than the server's limit.",
           415: "The body is not JSON."}


def _operation(e: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": e.name, "summary": e.summary, "tags": ["v1"]}
    params = [{"name": p.name, "in": "path", "required": True, "description": p.description, "schema": p.schema()}
              for p in e.path_params]
    if e.method == "GET":
        for p in e.params:
            item: dict[str, Any] = {"name": p.name, "in": "query", "required": p.required,
                                    "description": p.description, "schema": p.schema()}
            if p.type == "words":
                item.update(style="form", explode=True)
            if p.example is not None:
                item["example"] = p.example
            params.append(item)
    else:
        body = {"type": "object", "additionalProperties": False,
                "required": [p.name for p in e.params if p.required],
                "properties": {p.name: {**p.schema(), "description": p.description} for p in e.params}}
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    statuses = sorted({400, *e.errors, *((413, 415) if e.method == "POST" else ())})
    op["responses"] = {"200": {"description": "OK", "content": {"application/json": {"schema": _ref(e.response)}}},
                       **{str(s): {"description": _ERRORS.get(s, "Error"),
                                   "content": {"application/json": {"schema": _ref("Error")}}} for s in statuses}}
    return op


def openapi_document(endpoints: tuple[Endpoint, ...] = ENDPOINTS, *, version: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``endpoints``."""
    if version is None:
        from embedkit import __version__ as version
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        paths.setdefault(e.path, {})[e.method.lower()] = _operation(e)
    return {
        "openapi": "3.1.0",
        "info": {"title": "embedkit", "version": version,
                 "description": "Word vectors over HTTP: neighbours, similarity, analogies, doesnt-match, vectors "
                                "and autocomplete on the sets `embedkit serve` was started with (read-only)."},
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
