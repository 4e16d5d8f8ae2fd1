"""Bad input gets a clean 4xx with one line; nothing in a request reaches the file system; a bug is a bare 500."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedkit.serve.params import MAX_WORD_CHARS
from embedkit.serve.routes import ENDPOINTS


def asgi(app, method: str, path: str, query: bytes = b"", body: bytes = b"",
         headers: tuple[tuple[str, str], ...] = ()) -> tuple[int, dict, bytes]:
    """One request straight into the ASGI app, with the exact bytes given (no client-side encoding)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode("latin-1", "replace"), "query_string": query, "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers], "client": ("127.0.0.1", 9),
             "server": ("127.0.0.1", 80)}
    chunks = [body]
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": chunks.pop(0) if chunks else b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    async def run() -> None:
        try:
            await app(scope, receive, send)
        except Exception:  # Starlette re-raises a bug after answering it (for the server's log)
            pass

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, out


def one_line_error(status: int, body: bytes, expected: int) -> dict:
    assert status == expected, body
    err = json.loads(body)["error"]
    assert err["status"] == expected and "\n" not in err["message"] and "Traceback" not in err["message"]
    return err


@pytest.mark.parametrize("k, message", [
    ("0", "`k` must be a positive integer. Received: k=0"),
    ("-3", "`k` must be a positive integer. Received: k=-3"),
    ("abc", "`k` must be a positive integer. Received: k='abc'"),
    ("1.5", "`k` must be a positive integer. Received: k='1.5'"),
    ("", "`k` must be a positive integer. Received: k=''"),
    ("5000", "`k` must be at most 1000. Received: k=5000"),
])
def test_bad_k(client, k, message) -> None:
    r = client.get(f"/v1/neighbours?word=surf&k={k}")
    assert one_line_error(r.status_code, r.content, 400)["message"] == message


def test_bad_k_says_what_the_cli_says(client, set_dirs) -> None:
    from typer.testing import CliRunner

    from embedkit.cli import app as cli_app

    cli = CliRunner().invoke(cli_app, ["neighbours", "surf", "-k", "0", "-v", str(set_dirs["alpha"])])
    assert cli.exit_code == 2 and "must be a positive integer. Received: k=0" in cli.stderr
    assert "must be a positive integer. Received: k=0" in client.get("/v1/neighbours?word=surf&k=0").json()["error"]["message"]


@pytest.mark.parametrize("query, fragment", [
    ("k=3", "Expected a `word` parameter. Received: none"),
    ("word=", "`word` must be a non-empty word. Received: word=''"),
    ("word=%20%20", "`word` must be a non-empty word."),
    ("word=" + "a" * (MAX_WORD_CHARS + 1), f"`word` must be at most {MAX_WORD_CHARS} characters. Received: 201 characters"),
    ("word=surf&word=king", "Expected one `word` parameter. Received: 2"),
    ("word=surf&kk=3", "Expected query parameters among word, k, set, restrict_vocab, search. Received: 'kk'"),
    ("word=surf&search=fast", "`search` must be one of exact, approx. Received: search='fast'"),
    ("word=surf&restrict_vocab=0", "`restrict_vocab` must be a positive integer. Received: restrict_vocab=0"),
    ("word=%FFsurf", "Expected UTF-8 text in parameter `word`. Received: bytes that are not UTF-8 (b'\\xffsur')"),
    ("wo%C0rd=surf", "Expected UTF-8 text in parameter names."),
])
def test_bad_query_parameters(client, query, fragment) -> None:
    status, _, body = asgi(client.app, "GET", "/v1/neighbours", query.encode())
    assert fragment in one_line_error(status, body, 400)["message"]


def test_raw_non_utf8_bytes_and_over_long_query(client) -> None:
    status, _, body = asgi(client.app, "GET", "/v1/neighbours", b"word=caf\xe9")  # latin-1, not percent-encoded
    assert "not UTF-8" in one_line_error(status, body, 400)["message"]
    status, _, body = asgi(client.app, "GET", "/v1/neighbours", b"word=" + b"a" * 20_000)
    assert one_line_error(status, body, 414)["code"] == "uri_too_long"


@pytest.mark.parametrize("name", ["nope", "/etc/passwd", "../alpha", "..%2Falpha", "alpha/../beta", "~", "",
                                  "%2Fetc%2Fpasswd", "file:///etc/passwd"])
def test_a_set_is_only_a_name_among_the_served_ones(client, name) -> None:
    r = client.get(f"/v1/neighbours?word=surf&set={name}")
    err = one_line_error(r.status_code, r.content, 404 if name else 400)
    if name:
        assert err["code"] == "unknown_set" and err["sets"] == ["alpha", "beta"]
    assert "root:" not in r.text
    if name:  # the raw path, not normalised by a client
        status, _, body = asgi(client.app, "GET", f"/v1/sets/{name}")
        assert status == 404 and b"root:" not in body


@pytest.mark.parametrize("path", ["/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
                                  "/static/..%2f..%2fetc%2fpasswd", "/static/index.html", "/static/",
                                  "/static/explorer.js/../../../../etc/passwd", "/../../etc/passwd",
                                  "/static/__init__.py", "/static/%00", "/etc/passwd"])
def test_static_files_are_only_the_explorers(client, path) -> None:
    status, headers, body = asgi(client.app, "GET", path)
    assert status == 404 and b"root:" not in body
    assert json.loads(body)["error"]["status"] == 404


def test_explorer_files_are_served_with_a_strict_policy(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "http://" not in page.text and "https://" not in page.text  # nothing from other hosts
    for name in ("explorer.js", "explorer.css", "favicon.svg"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and "https://" not in r.text and "http://" not in r.text.replace(
            "http://www.w3.org/2000/svg", "")
        again = client.get(f"/static/{name}", headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304


@pytest.mark.parametrize("body, headers, status, fragment", [
    (b'{"words": ["surf"]', (), 400, "Expected a JSON object body. Received: invalid JSON"),
    (b'["surf"]', (), 400, "Expected a JSON object body. Received: list"),
    (b"", (), 400, "Expected a JSON object body. Received: nothing"),
    (b'{"words": "surf"}', (), 400, "`words` must be a list of words. Received: str"),
    (b'{"words": []}', (), 400, "`words` must have at least one item. Received: none"),
    (b'{"words": ["surf", 3]}', (), 400, "`words[1]` must be a string. Received: int"),
    (b'{"words": ["\\ud800"]}', (), 400, "Expected UTF-8 text in `words[0]`. Received: a lone surrogate"),
    (b'{"words": ["surf"], "k": true}', (), 400, "`k` must be a positive integer. Received: k=True"),
    (b'{"words": ["surf"], "kk": 3}', (), 400, "Expected body fields among words, k, set, restrict_vocab, search."),
    (b'{"words": ["caf\xe9"]}', (), 400, "Expected a UTF-8 JSON body. Received: bytes that are not UTF-8"),
    (b'{"words": ["surf"]}', (("content-type", "text/plain"),), 415, "Expected a body of type application/json."),
    (b'[' * 100_000, (), 400, "Expected a JSON object body. Received: invalid JSON"),
])
def test_bad_json_bodies(client, body, headers, status, fragment) -> None:
    hdrs = headers or (("content-type", "application/json"),)
    s, _, out = asgi(client.app, "POST", "/v1/neighbours/batch", body=body, headers=hdrs)
    assert fragment in one_line_error(s, out, status)["message"]


def test_vector_bodies(client) -> None:
    for vector, fragment in [([1.0] * 11 + ["x"], "must be a list of numbers"), ([1.0] * 4097, "at most 4096 items")]:
        r = client.post("/v1/neighbours", json={"vector": vector})
        assert fragment in one_line_error(r.status_code, r.content, 400)["message"]
    s, _, out = asgi(client.app, "POST", "/v1/neighbours", body=b'{"vector": [NaN, 1]}',
                     headers=(("content-type", "application/json"),))
    assert "finite numbers" in one_line_error(s, out, 400)["message"]


def test_body_size_limit(served) -> None:
    from starlette.testclient import TestClient

    from embedkit.serve.app import create_app

    with TestClient(create_app(served, max_body_bytes=1000)) as c:
        r = c.post("/v1/neighbours/batch", json={"words": ["surf"] * 400})
        assert one_line_error(r.status_code, r.content, 413)["code"] == "payload_too_large"

        def chunks():  # no Content-Length: the limit counts what arrives
            for _ in range(50):
                yield b" " * 100

        r = c.post("/v1/neighbours/batch", content=chunks(), headers={"content-type": "application/json"})
        assert one_line_error(r.status_code, r.content, 413)["code"] == "payload_too_large"
        assert c.post("/v1/neighbours/batch", json={"words": ["surf"]}).status_code == 200


def test_post_takes_no_query_parameters_and_wrong_methods(client) -> None:
    r = client.post("/v1/neighbours/batch?k=3", json={"words": ["surf"]})
    assert "Expected query parameters among none. Received: 'k'" in one_line_error(r.status_code, r.content, 400)["message"]
    r = client.delete("/v1/neighbours?word=surf")
    assert one_line_error(r.status_code, r.content, 405)["code"] == "method_not_allowed"
    assert "GET" in r.headers["allow"]
    r = client.get("/v2/neighbours?word=surf")
    assert one_line_error(r.status_code, r.content, 404)["code"] == "not_found"
    assert client.head("/v1/health").status_code == 200


def test_approx_search_needs_the_flag(set_dirs) -> None:
    from starlette.testclient import TestClient

    from embedkit.serve.app import create_app
    from embedkit.serve.sets import open_served_sets

    with TestClient(create_app(open_served_sets(str(set_dirs["beta"])))) as c:
        r = c.get("/v1/neighbours?word=surf&search=approx")
        assert "start `embedkit serve` with --approx" in one_line_error(r.status_code, r.content, 400)["message"]
        assert c.get("/v1/neighbours?word=surf").json()["search"] == "exact"


def test_a_bug_answers_500_without_detail(client, monkeypatch) -> None:
    import logging

    def boom(*args, **kwargs):
        raise RuntimeError("secret detail /etc/shadow")

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("embedkit.serve.app")
    logger.addHandler(handler)
    monkeypatch.setattr(client.app.state.service, "similarity", boom)
    try:
        r = client.get("/v1/similarity?word1=surf&word2=king")
    finally:
        logger.removeHandler(handler)
    err = one_line_error(r.status_code, r.content, 500)
    assert err["code"] == "internal" and "secret" not in r.text and "Traceback" not in r.text
    assert any("secret detail" in str(rec.exc_info[1]) for rec in records if rec.exc_info)  # the server's log has it


def _get_endpoints():
    return [e for e in ENDPOINTS if e.method == "GET" and not e.path_params]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(_get_endpoints()), names=st.lists(st.sampled_from(
    ["word", "k", "set", "a", "b", "c", "method", "prefix", "limit", "word1", "word2", "other", "search",
     "restrict_vocab", "x"]), max_size=5), values=st.lists(st.binary(max_size=30) | st.text(max_size=30), max_size=5))
def test_fuzzed_queries_get_json_and_never_a_500(client, endpoint, names, values) -> None:
    from urllib.parse import quote_from_bytes

    parts = [f"{n}={quote_from_bytes(v if isinstance(v, bytes) else v.encode('utf-8', 'surrogatepass'))}"
             for n, v in zip(names, values)]
    status, _, body = asgi(client.app, "GET", endpoint.path, "&".join(parts).encode())
    assert status in (200, 400, 404), body
    data = json.loads(body)
    if status != 200:
        assert "\n" not in data["error"]["message"] and data["error"]["message"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from([e for e in ENDPOINTS if e.method == "POST"]),
       body=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                         lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
                             st.sampled_from(["words", "k", "vector", "positive", "negative", "set", "search", "x"]),
                             kids, max_size=4), max_leaves=12))
def test_fuzzed_bodies_get_json_and_never_a_500(client, endpoint, body) -> None:
    raw = json.dumps(body).encode()
    status, _, out = asgi(client.app, "POST", endpoint.path, body=raw, headers=(("content-type", "application/json"),))
    assert status in (200, 400, 404), out
    json.loads(out)
