"""The JSON API: every endpoint answers what the CLI prints for the same query, on both sets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.cli import app as cli_app
from embedkit.search.queries import most_similar, neighbours

runner = CliRunner()


def cli_json(*args: str) -> list[dict]:
    r = runner.invoke(cli_app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def cli_error(*args: str) -> str:
    r = runner.invoke(cli_app, list(args))
    assert r.exit_code == 1, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
    return lines[0].removeprefix("Error: ")


def rows(res: dict, key: str = "neighbours", **head: str) -> list[dict]:
    return [{**head, **n} for n in res[key]]


@pytest.mark.parametrize("name", ["alpha", "beta"])
@pytest.mark.parametrize("word", ["surf", "king", "w7", "w249"])
@pytest.mark.parametrize("mode", ["exact", "approx"])
def test_neighbours_equal_the_cli(client, set_dirs, name, word, mode) -> None:
    res = client.get("/v1/neighbours", params={"word": word, "k": 7, "set": name, "search": mode}).json()
    assert (res["set"], res["search"], res["query"]) == (name, mode, word)
    assert res["kind"] == ("exact" if mode == "exact" else "hnsw")
    assert rows(res, query=word) == cli_json("neighbours", word, "-k", "7", "-v", str(set_dirs[name]), f"--{mode}")


def test_neighbours_restrict_vocab_and_default_mode(client, set_dirs) -> None:
    res = client.get("/v1/neighbours", params={"word": "surf", "k": 4, "restrict_vocab": 20}).json()
    assert res["set"] == "alpha" and res["search"] == "approx"  # the first set; --approx made approx the default
    assert all(client.app.state.service.sets.get("alpha").row(n["word"]) < 20 for n in res["neighbours"])
    cli = cli_json("neighbours", "surf", "-k", "4", "--restrict-vocab", "20", "-v", str(set_dirs["alpha"]), "--approx")
    assert rows(res, query="surf") == cli


def test_neighbours_unicode_word(client, set_dirs) -> None:
    res = client.get("/v1/neighbours?word=caf%C3%A9&k=3&search=exact").json()
    assert res["query"] == "café"
    assert rows(res, query="café") == cli_json("neighbours", "café", "-k", "3", "-v", str(set_dirs["alpha"]), "--exact")


def test_batch_equals_the_cli_batch(client, set_dirs, tmp_path) -> None:
    words = ["surf", "w3", "nosuchword", "queen"]
    res = client.post("/v1/neighbours/batch", json={"words": words, "k": 3, "search": "exact"}).json()
    assert res["unknown"] == ["nosuchword"]
    (tmp_path / "q.txt").write_text("\n".join(words) + "\n")
    r = runner.invoke(cli_app, ["neighbours", "--batch", str(tmp_path / "q.txt"), "-k", "3", "--json", "--exact",
                                "-v", str(set_dirs["alpha"])])
    assert r.exit_code == 1 and "nosuchword" in r.stderr  # the CLI skips it with a note, and says so by its exit code
    cli = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row for result in res["results"] for row in rows(result, query=result["query"])] == cli


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul", "add", "mul"])
@pytest.mark.parametrize("mode", ["exact", "approx"])
def test_analogy_equals_the_cli(client, set_dirs, method, mode) -> None:
    res = client.get("/v1/analogy", params={"a": "man", "b": "king", "c": "woman", "method": method, "k": 4,
                                            "search": mode, "set": "beta"}).json()
    assert res["answers"][0]["word"] == "queen"
    head = {"a": "man", "b": "king", "c": "woman", "method": method}
    assert rows(res, "answers", **head) == cli_json("analogy", "man", "king", "woman", "-k", "4", "--method", method,
                                                   f"--{mode}", "-v", str(set_dirs["beta"]))


def test_similarity_and_doesnt_match_equal_the_cli(client, set_dirs) -> None:
    sim = client.get("/v1/similarity", params={"word1": "surf", "word2": "surfing"}).json()
    assert {k: v for k, v in sim.items() if k != "set"} == cli_json("similarity", "surf", "surfing", "-v",
                                                                     str(set_dirs["alpha"]))[0]
    words = ["surf", "surfing", "surfer", "king"]
    odd = client.get("/v1/doesnt-match", params=[("word", w) for w in words] + [("set", "beta")]).json()
    assert odd["odd_one_out"] == "king"
    assert {k: v for k, v in odd.items() if k != "set"} == cli_json("doesnt-match", *words, "-v",
                                                                     str(set_dirs["beta"]))[0]


def test_errors_carry_the_cli_message(client, set_dirs) -> None:
    r = client.get("/v1/neighbours", params={"word": "surff", "set": "alpha"})
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "unknown_word" and err["word"] == "surff" and "surf" in err["close_matches"]
    assert err["message"] == cli_error("neighbours", "surff", "-v", str(set_dirs["alpha"]))
    for path, params, cli in [
        ("/v1/similarity", {"word1": "surf", "word2": "kingg"}, ("similarity", "surf", "kingg")),
        ("/v1/analogy", {"a": "man", "b": "kingg", "c": "woman"}, ("analogy", "man", "kingg", "woman")),
        ("/v1/doesnt-match", {"word": "surf"}, ("doesnt-match", "surf")),
    ]:
        r = client.get(path, params=params)
        assert r.status_code in (400, 404)
        assert r.json()["error"]["message"] == cli_error(*cli, "-v", str(set_dirs["alpha"]))


def test_neighbours_of_a_vector_and_of_words(client, served) -> None:
    wv = served.get("alpha").wv
    v = np.asarray(wv["surf"]) + 0.01
    res = client.post("/v1/neighbours", json={"vector": v.tolist(), "k": 5, "search": "exact"}).json()
    assert res["query"] == "<vector>"
    assert [n["word"] for n in res["neighbours"]] == neighbours(wv, np.float32(v), k=5,
                                                                index=served.get("alpha").indexes["exact"]).words
    res = client.post("/v1/neighbours", json={"positive": ["king", "woman"], "negative": ["man"], "k": 3}).json()
    assert res["query"] == "+king +woman -man" and res["neighbours"][0]["word"] == "queen"
    expected = most_similar(wv, ["king", "woman"], ["man"], 3, index=served.get("alpha").indexes["approx"])
    assert res["neighbours"] == [n.to_dict() for n in expected]
    bad = client.post("/v1/neighbours", json={"vector": [1.0, 2.0]})
    assert bad.status_code == 400 and "dimension 12" in bad.json()["error"]["message"]
    both = client.post("/v1/neighbours", json={"vector": v.tolist(), "positive": ["king"]})
    assert both.status_code == 400 and "Received: both" in both.json()["error"]["message"]


def test_vector_and_vectors(client, served) -> None:
    wv = served.get("beta").wv
    res = client.get("/v1/vector", params={"word": "queen", "set": "beta"}).json()
    assert res["dim"] == 12 and res["row"] == 1
    assert np.array_equal(np.float32(res["vector"]), np.asarray(wv["queen"]))  # shortest decimals, same float32
    assert res["norm"] == pytest.approx(float(np.linalg.norm(wv["queen"])), rel=1e-6)
    many = client.post("/v1/vectors", json={"words": ["king", "zzz", "sun"], "set": "beta"}).json()
    assert sorted(many["vectors"]) == ["king", "sun"] and many["unknown"] == ["zzz"]
    assert np.array_equal(np.float32(many["vectors"]["sun"]), np.asarray(wv["sun"]))


def test_complete_prefix_and_close_matches(client) -> None:
    res = client.get("/v1/complete", params={"prefix": "sur", "limit": 5}).json()
    assert [c["word"] for c in res["completions"]] == ["surf", "surfing", "surfer"]  # set order: most frequent first
    assert [c["row"] for c in res["completions"]] == [4, 5, 6] and res["close_matches"] == []
    res = client.get("/v1/complete", params={"prefix": "surfng", "limit": 5}).json()
    assert res["completions"] == [] and "surfing" in res["close_matches"]
    res = client.get("/v1/complete", params={"prefix": "w1", "limit": 3}).json()
    assert [c["word"] for c in res["completions"]] == ["w1", "w10", "w11"]
    assert client.get("/v1/complete", params={"prefix": "", "limit": 2}).json()["completions"][0]["word"] == "king"


def test_map_and_compare(client) -> None:
    res = client.get("/v1/map", params={"word": "surf", "k": 6, "search": "exact"}).json()
    near = client.get("/v1/neighbours", params={"word": "surf", "k": 6, "search": "exact"}).json()
    assert [p["word"] for p in res["points"]] == ["surf"] + [n["word"] for n in near["neighbours"]]
    assert [p["score"] for p in res["points"][1:]] == [n["score"] for n in near["neighbours"]]
    assert len(res["explained_variance"]) == 2 and 0 < sum(res["explained_variance"]) <= 1 + 1e-9
    cmp = client.get("/v1/compare", params={"word": "surf", "other": "beta", "k": 5, "search": "exact"}).json()
    a, b = ([n["word"] for n in s["neighbours"]] for s in cmp["sets"])
    assert cmp["shared"] == [w for w in a if w in b] and cmp["overlap"] == len(cmp["shared"])
    assert {"surfing", "surfer"} <= set(cmp["shared"])  # planted in both sets
    assert cmp["jaccard"] == pytest.approx(len(cmp["shared"]) / len(set(a) | set(b)))
    only_alpha = client.get("/v1/compare", params={"word": "café", "other": "beta"}).json()
    assert only_alpha["sets"][1]["error"]["code"] == "unknown_word" and only_alpha["jaccard"] is None
    assert client.get("/v1/compare", params={"word": "café", "set": "beta", "other": "beta"}).status_code == 400


def test_sets_and_health(client, set_dirs) -> None:
    sets = client.get("/v1/sets").json()
    assert sets["default"] == "alpha" and [s["name"] for s in sets["sets"]] == ["alpha", "beta"]
    alpha = sets["sets"][0]
    assert (alpha["size"], alpha["dim"], alpha["format"]) == (310, 12, "native")
    assert alpha["search"] == {"default": "approx", "modes": {"exact": "exact", "approx": "hnsw"}}
    assert str(set_dirs["alpha"]) not in json.dumps(sets)  # where the files are is not told
    assert client.get("/v1/sets/beta").json()["size"] == 258
    assert client.get("/v1/health").json() == {"status": "ok", "version": "0.1.0", "sets": ["alpha", "beta"]}


def test_concurrent_requests_are_batched_and_answer_as_alone(served) -> None:
    import asyncio

    import httpx

    from embedkit.serve.app import create_app

    app = create_app(served, threads=1)
    words = [f"w{i}" for i in range(64)]

    async def go() -> list[dict]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            rs = await asyncio.gather(*[c.get("/v1/neighbours", params={"word": w, "k": 5, "search": "exact"})
                                        for w in words])
        return [r.json() for r in rs]

    together = asyncio.run(go())
    batcher = app.state.service.batcher(served.get("alpha"), "exact")
    assert batcher.queries == 64 and batcher.batches < 64  # shared searches
    wv, index = served.get("alpha").wv, served.get("alpha").indexes["exact"]
    for w, res in zip(words, together):
        alone = neighbours(wv, w, k=5, index=index)
        assert [n["word"] for n in res["neighbours"]] == alone.words
        assert [n["score"] for n in res["neighbours"]] == pytest.approx([n.score for n in alone.neighbours], abs=1e-5)
