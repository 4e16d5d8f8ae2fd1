"""The serve modules on their own: parameters, autocomplete, the PCA map, the batcher, set specs."""

from __future__ import annotations

import asyncio
import string
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedkit.errors import EmbedkitError
from embedkit.search.vector_index import VectorIndex
from embedkit.serve.batching import SearchBatcher
from embedkit.serve.completion import Completions
from embedkit.serve.errors import ApiError
from embedkit.serve.params import Param, parse_json_body, parse_query, query_values
from embedkit.serve.projection import pca_map
from embedkit.serve.sets import parse_set_specs

SPEC = [Param("word", "word", "w", required=True), Param("k", "int", "k", default=10, minimum=1, maximum=50),
        Param("tags", "words", "t", max_items=3), Param("on", "bool", "b", default=False),
        Param("mode", "enum", "m", choices=("exact", "approx"))]


# -- parameters ----------------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_query_string_parses_or_is_a_400(raw: bytes) -> None:
    try:
        values = parse_query(SPEC, raw)
    except ApiError as e:
        assert e.status in (400, 414) and "\n" not in e.message and e.message
    else:
        assert isinstance(values["word"], str) and values["word"].strip() and 1 <= values["k"] <= 50


@given(st.dictionaries(st.sampled_from(["word", "k", "tags"]), st.text(string.printable, min_size=1, max_size=8),
                       min_size=1))
def test_percent_encoding_round_trips(params: dict[str, str]) -> None:
    from urllib.parse import urlencode

    assert query_values(urlencode(params).encode()) == {k: [v] for k, v in params.items()}


def test_params_convert_each_type() -> None:
    v = parse_query(SPEC, b"word=a+b&k=%2B7&tags=x&tags=y&on=TRUE&mode=Exact")
    assert v == {"word": "a b", "k": 7, "tags": ["x", "y"], "on": True, "mode": "exact"}
    assert parse_query(SPEC, b"word=x")["tags"] is None
    with pytest.raises(ApiError, match="at most 3 items"):
        parse_query(SPEC, b"word=x&tags=1&tags=2&tags=3&tags=4")
    with pytest.raises(ApiError, match="must be true or false"):
        parse_query(SPEC, b"word=x&on=maybe")
    assert parse_json_body(SPEC, b'{"word": "x", "tags": ["a"], "on": false, "k": null}') == {
        "word": "x", "k": 10, "tags": ["a"], "on": False, "mode": None}
    with pytest.raises(ValueError):
        Param("x", "float", "no such type")


def test_schema_of_each_type() -> None:
    by_name = {p.name: p.schema() for p in SPEC}
    assert by_name["word"] == {"type": "string", "maxLength": 200, "minLength": 1}
    assert by_name["k"] == {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}
    assert by_name["tags"]["type"] == "array" and by_name["tags"]["maxItems"] == 3
    assert by_name["mode"] == {"type": "string", "enum": ["exact", "approx"]}


# -- autocomplete ----------------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.text("abcé\U0010ffff", min_size=1, max_size=4), unique=True, max_size=40),
       prefix=st.text("abcé\U0010ffff", max_size=3), limit=st.integers(1, 10))
def test_prefix_equals_brute_force(words: list[str], prefix: str, limit: int) -> None:
    expected = [(w, i) for i, w in enumerate(words) if w.startswith(prefix)][:limit]
    got = Completions(words).prefix(prefix, limit)
    if not expected and prefix != prefix.lower():
        return  # the lower-case retry
    assert got == expected


def test_prefix_tries_lower_case() -> None:
    c = Completions(["paris", "Paris", "pariser"])
    assert c.prefix("Par", 5) == [("Paris", 1)]
    assert c.prefix("PARI", 5) == [("paris", 0), ("pariser", 2)]


# -- the map ---------------------------------------------------------------------------------------------------
def test_pca_map_keeps_planar_geometry_and_fixed_signs() -> None:
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.standard_normal((10, 2)))[0].T  # an orthonormal plane in 10-d
    pts2 = rng.standard_normal((8, 2)) * [3.0, 1.0]
    x = pts2 @ basis + np.array([40.0] + [0.0] * 9)  # far from the origin: unit vectors stay near-planar
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    m = pca_map([f"w{i}" for i in range(8)], x)
    coords = np.array([[p.x, p.y] for p in m.points])
    d_map = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    d_true = np.linalg.norm(x[:, None] - x[None], axis=2)
    assert np.allclose(d_map, d_true, atol=0.02 * d_true.max())  # the two axes hold almost all the spread
    assert m.explained[0] >= m.explained[1] and sum(m.explained) > 0.99
    flipped = pca_map([f"w{i}" for i in range(8)], x[::-1])
    assert np.allclose([(p.x, p.y) for p in flipped.points], [(p.x, p.y) for p in m.points[::-1]], atol=1e-9)


def test_pca_map_small_inputs() -> None:
    assert pca_map([], np.zeros((0, 3))).to_dict() == {"points": [], "explained_variance": [0.0, 0.0]}
    one = pca_map(["a"], np.ones((1, 3)))
    assert (one.points[0].x, one.points[0].y) == (0.0, 0.0)
    with pytest.raises(EmbedkitError, match="one vector per word"):
        pca_map(["a", "b"], np.ones((3, 3)))


# -- the batcher -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def indexes():
    x = np.random.default_rng(3).standard_normal((500, 8)).astype(np.float32)
    return x, VectorIndex.build(x, "exact"), VectorIndex.build(x, "hnsw")


@pytest.mark.parametrize("kind", [1, 2])
def test_batched_answers_equal_lone_searches(indexes, kind) -> None:
    x, *both = indexes
    index = both[kind - 1]
    jobs = [(i, 1 + i % 7, None if i % 3 else 100) for i in range(60)]  # (row, k, restrict_vocab)

    async def go():
        b = SearchBatcher(index, ThreadPoolExecutor(2), max_concurrent=2)
        out = await asyncio.gather(*[b.search(x[r], k, restrict_vocab=rv, exclude={r}) for r, k, rv in jobs])
        return b, out

    b, out = asyncio.run(go())
    assert b.queries == 60 and b.batches < 60
    for (r, k, rv), (scores, ids) in zip(jobs, out):
        s1, i1 = index.search(x[r][None], k, restrict_vocab=rv, exclude=[{r}])
        assert ids.tolist() == i1[0].tolist() and scores == pytest.approx(s1[0], abs=1e-5)
        assert rv is None or all(i < rv for i in ids)


def test_a_bad_query_fails_alone_and_a_failed_search_fails_its_batch(indexes, monkeypatch) -> None:
    x, exact, _ = indexes
    b = SearchBatcher(exact, ThreadPoolExecutor(1))

    async def go():
        return await asyncio.gather(b.search(x[0], 3), b.search(np.ones(5), 3), b.search(x[1], 3),
                                    return_exceptions=True)

    out = asyncio.run(go())
    assert isinstance(out[1], EmbedkitError) and "dimension 8" in str(out[1])
    assert out[0][1].tolist() == exact.search(x[:1], 3)[1][0].tolist() and not isinstance(out[2], Exception)

    def broken(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(exact, "search", broken)
    out = asyncio.run(go())
    assert isinstance(out[0], MemoryError) and isinstance(out[2], MemoryError)
    monkeypatch.undo()
    assert asyncio.run(go())[2][1].tolist() == exact.search(x[1:2], 3)[1][0].tolist()  # it keeps working


def test_linger_only_on_exact_and_only_under_load(indexes) -> None:
    x, exact, hnsw = indexes
    assert SearchBatcher(hnsw, ThreadPoolExecutor(1)).linger == 0
    b = SearchBatcher(exact, ThreadPoolExecutor(1), linger=0.05)

    async def lone():
        loop = asyncio.get_running_loop()
        t = loop.time()
        for r in range(5):
            await b.search(x[r], 3)
        return loop.time() - t

    assert asyncio.run(lone()) < 0.05 * 5  # one client: batches of one, never a wait for others


# -- set specs -------------------------------------------------------------------------------------------------
def test_set_specs() -> None:
    assert parse_set_specs(["a,b=c", "d"]) == [(None, "a"), ("b", "c"), (None, "d")]
    assert parse_set_specs("x=/data/with=sign") == [("x", "/data/with=sign")]
    for bad, fragment in [("a,,b", "empty entry"), ("bad name=x", "A set name"), ("=x", "A set name")]:
        with pytest.raises(EmbedkitError, match=fragment):
            parse_set_specs(bad)
