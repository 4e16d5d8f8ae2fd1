"""/openapi.json is a valid OpenAPI 3.1 document that matches what the server accepts and answers."""

from __future__ import annotations

import jsonschema
import pytest
from openapi_spec_validator import validate

from embedkit.serve.routes import ENDPOINTS

EXAMPLES = {  # one real request per endpoint, answered 200 on the test sets
    "get_health": {}, "get_sets": {}, "get_sets_name": {"path": "/v1/sets/beta"},
    "get_neighbours": {"params": {"word": "surf", "k": 3}},
    "post_neighbours": {"json": {"positive": ["king", "woman"], "negative": ["man"], "k": 2}},
    "post_neighbours_batch": {"json": {"words": ["surf", "zz"], "k": 2}},
    "get_similarity": {"params": {"word1": "surf", "word2": "sun"}},
    "get_analogy": {"params": {"a": "man", "b": "king", "c": "woman", "method": "mul"}},
    "get_doesnt_match": {"params": [("word", "surf"), ("word", "surfer"), ("word", "king")]},
    "get_vector": {"params": {"word": "sun"}}, "post_vectors": {"json": {"words": ["sun", "zz"]}},
    "get_complete": {"params": {"prefix": "su"}}, "get_map": {"params": {"word": "surf", "k": 4}},
    "get_compare": {"params": {"word": "surf", "other": "beta", "k": 4}},
}


@pytest.fixture
def document(client) -> dict:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def test_document_is_valid_openapi(document) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0" and document["info"]["version"] == "0.1.0"


def test_every_endpoint_is_described_and_exemplified(document) -> None:
    ops = {op["operationId"]: (path, method) for path, item in document["paths"].items() for method, op in item.items()}
    assert set(ops) == {e.name for e in ENDPOINTS} == set(EXAMPLES)


def test_parameters_described_are_the_ones_accepted(client, document) -> None:
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method != "get" or "{" in path:
                continue
            names = [p["name"] for p in op.get("parameters", [])]
            r = client.get(path, params={"undocumented": "1"})
            assert r.status_code == 400 and r.json()["error"].get("allowed", []) == names


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_answers_match_their_schemas(client, document, name) -> None:
    endpoint = next(e for e in ENDPOINTS if e.name == name)
    example = EXAMPLES[name]
    path = example.get("path", endpoint.path)
    r = client.request(endpoint.method, path, params=example.get("params"), json=example.get("json"))
    assert r.status_code == 200, r.text
    op = document["paths"][endpoint.path][endpoint.method.lower()]
    schema = {**op["responses"]["200"]["content"]["application/json"]["schema"],
              "components": document["components"]}
    jsonschema.validate(r.json(), schema, cls=jsonschema.Draft202012Validator)
    bad = client.request(endpoint.method, path, params={"k": "0"} if endpoint.method == "GET" else None,
                         json={"k": 0} if endpoint.method == "POST" else None)
    assert bad.status_code == 400 and "400" in op["responses"]
    error_schema = {"$ref": "#/components/schemas/Error", "components": document["components"]}
    jsonschema.validate(bad.json(), error_schema, cls=jsonschema.Draft202012Validator)
