"""CLI: neighbours / similarity / analogy / doesnt-match / index build, output formats and errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.cli import app
from embedkit.vectors.home import set_default, vectors_dir
from embedkit.search.vector_index import index_path
from embedkit.search.queries import analogy, neighbours
from embedkit.vectors.word_vectors import WordVectors

runner = CliRunner()


@pytest.fixture
def named(small_vectors, home: Path) -> WordVectors:
    """small_vectors saved as the default set 'small' in EMBEDKIT_HOME."""
    small_vectors.save(vectors_dir() / "small")
    set_default("small")
    return small_vectors


def _ndjson(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_neighbours_json_matches_library_and_persists_index(named) -> None:
    r = _invoke("neighbours", "w3", "-k", "4", "--json")
    assert r.exit_code == 0, r.output
    rows = _ndjson(r.stdout)
    assert [x["word"] for x in rows] == neighbours(named, "w3", k=4).words
    assert [x["rank"] for x in rows] == [1, 2, 3, 4] and all(x["query"] == "w3" for x in rows)
    assert index_path(vectors_dir() / "small", "exact").is_file()


@pytest.mark.parametrize("word", ["w0", "w199"])  # first and last line of vocab.txt
def test_neighbours_fast_path_edges(named, word) -> None:
    r = _invoke("neighbours", word, "-k", "5", "--json")
    assert r.exit_code == 0, r.output
    assert [x["word"] for x in _ndjson(r.stdout)] == neighbours(named, word, k=5).words


def test_neighbours_unicode_words(home, tmp_path) -> None:
    words = ["café", "naïve", "日本", "e\u0301", "straße", "x"]
    wv = WordVectors(words, np.random.default_rng(5).standard_normal((6, 4)).astype(np.float32))
    wv.save(tmp_path / "u")
    for w in words:
        r = _invoke("neighbours", w, "--vectors", str(tmp_path / "u"), "-k", "5", "--json")
        assert r.exit_code == 0, r.output
        got = [x["word"] for x in _ndjson(r.stdout)]
        assert got == neighbours(wv, w, k=5).words and w not in got
    assert _invoke("neighbours", "caf", "--vectors", str(tmp_path / "u")).exit_code == 1


def test_neighbours_table_and_approx(named) -> None:
    r = _invoke("neighbours", "w3", "-k", "3")  # not a terminal: tab-separated, header first
    assert r.exit_code == 0, r.output
    lines = [line.split("\t") for line in r.stdout.splitlines()]
    assert lines[0] == ["#", "word", "cosine"]
    assert [x[1] for x in lines[1:]] == neighbours(named, "w3", k=3).words
    r = _invoke("neighbours", "w3", "-k", "3", "--approx", "--json")
    assert r.exit_code == 0, r.output
    assert index_path(vectors_dir() / "small", "hnsw").is_file()
    assert len(_ndjson(r.stdout)) == 3


def test_neighbours_restrict_vocab_and_vectors_path(named, tmp_path) -> None:
    path = tmp_path / "other"
    named.save(path)
    r = _invoke("neighbours", "w150", "--vectors", str(path), "--restrict-vocab", "30", "--json", "--exact")
    assert r.exit_code == 0, r.output
    assert all(int(x["word"][1:]) < 30 for x in _ndjson(r.stdout))


def test_neighbours_of_a_text_file_builds_in_memory(named, tmp_path) -> None:
    path = tmp_path / "v.txt"
    named.save(path, format="word2vec")
    r = _invoke("neighbours", "w3", "--vectors", str(path), "-k", "2", "--json")
    assert r.exit_code == 0, r.output
    assert [x["word"] for x in _ndjson(r.stdout)] == neighbours(named, "w3", k=2).words
    assert "not a native set" in r.stderr


def test_batch_from_file_and_stdin(named, tmp_path) -> None:
    f = tmp_path / "q.txt"
    f.write_text("w1\n\n  w2 \nw5\n")
    r = _invoke("neighbours", "--batch", str(f), "-k", "2", "--json")
    assert r.exit_code == 0, r.output
    rows = _ndjson(r.stdout)
    assert [x["query"] for x in rows] == ["w1", "w1", "w2", "w2", "w5", "w5"]
    r2 = _invoke("neighbours", "--batch", "-", "-k", "2", "--json", input="w1\nnope\nw2\n")
    assert r2.exit_code == 1
    assert [x["query"] for x in _ndjson(r2.stdout)] == ["w1", "w1", "w2", "w2"]
    assert "'nope'" in r2.stderr


def test_unknown_word_is_one_line_with_suggestions(named) -> None:
    r = _invoke("neighbours", "w1000")
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "'w1000'" in lines[0] and "Close matches:" in lines[0]
    assert "Traceback" not in r.output


@pytest.mark.parametrize(
    "args",
    [["neighbours", "w1", "-k", "0"], ["neighbours", "w1", "--restrict-vocab", "0"],
     ["analogy", "a", "b", "c", "-k", "-1"], ["neighbours", "w1", "--exact", "--approx"], ["neighbours"],
     ["analogy", "a", "b", "c", "--method", "sub"], ["index", "build", "--kind", "annoy"]],
)
def test_usage_errors_exit_2(named, args) -> None:
    r = _invoke(*args)
    assert r.exit_code == 2, r.output


def test_no_default_set_says_how_to_make_one(home) -> None:
    r = _invoke("neighbours", "surf")
    assert r.exit_code == 1
    assert "set-default" in r.stderr and "train" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_similarity_analogy_doesnt_match(named) -> None:
    r = _invoke("similarity", "w1", "w2", "--json")
    assert r.exit_code == 0, r.output
    (row,) = _ndjson(r.stdout)
    a, b = named["w1"], named["w2"]
    assert row["similarity"] == pytest.approx(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)), abs=1e-5)
    for method in ("add", "mul"):
        r = _invoke("analogy", "w1", "w2", "w3", "--method", method, "-k", "3", "--json")
        assert r.exit_code == 0, r.output
        rows = _ndjson(r.stdout)
        assert [x["word"] for x in rows] == [n.word for n in analogy(named, "w1", "w2", "w3", 3, method=method).answers]
        assert rows[0]["method"] == method
    r = _invoke("doesnt-match", "w1", "w2", "w3", "w4", "--json")
    assert r.exit_code == 0, r.output
    (row,) = _ndjson(r.stdout)
    assert row["odd_one_out"] in {"w1", "w2", "w3", "w4"}
    r = _invoke("doesnt-match", "w1", "w2", "w3")
    assert r.exit_code == 0 and "odd one out" in r.stdout
    r = _invoke("similarity", "w1", "w2")
    assert r.stdout.splitlines()[1].split("\t")[:2] == ["w1", "w2"]


def test_rich_table_on_a_terminal(named, monkeypatch) -> None:
    from embedkit.cli.output import print_table

    printed = []
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("rich.console.Console.print", lambda self, obj: printed.append(obj))
    print_table("Neighbours of 'w3'", ["#", "word", "cosine"], [["1", "w7", "0.5000"]])
    (table,) = printed
    assert table.title == "Neighbours of 'w3'" and [c.header for c in table.columns] == ["#", "word", "cosine"]
    assert table.row_count == 1


def test_index_build_check_recall(named) -> None:
    r = _invoke("index", "build", "--kind", "hnsw", "--check-recall", "--sample", "50")
    assert r.exit_code == 0, r.output
    recall = float(r.stdout.split("recall@10:")[1].split()[0])
    assert 0.5 <= recall <= 1.0
    assert index_path(vectors_dir() / "small", "hnsw").is_file()
    r = _invoke("index", "build", "--json", "--check-recall", "--sample", "20", "-k", "5")
    assert r.exit_code == 0, r.output
    (info,) = _ndjson(r.stdout)
    # --kind auto with --check-recall checks the approximate index queries would use, not exact against itself
    assert info["kind"] == "hnsw" and 0.5 <= info["recall_at_k"] <= 1.0 and info["size"] == 200


def test_corrupted_index_and_mismatched_index_are_clear_errors(named) -> None:
    assert _invoke("index", "build").exit_code == 0
    p = index_path(vectors_dir() / "small", "exact")
    p.write_bytes(b"garbage")
    r = _invoke("neighbours", "w1")
    assert r.exit_code == 1 and "corrupted" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    np.save(p, np.ones((200, 3), np.float32))  # a different dimension than the set and the metadata
    r = _invoke("neighbours", "w1")
    assert r.exit_code == 1 and "200x16" in r.stderr and "200x3" in r.stderr
    assert _invoke("index", "build").exit_code == 0
    assert _invoke("neighbours", "w1").exit_code == 0


def test_empty_vocabulary(home) -> None:
    WordVectors([], np.zeros((0, 4), np.float32)).save(vectors_dir() / "empty")
    r = _invoke("neighbours", "x", "--vectors", "empty")
    assert r.exit_code == 1 and "empty vocabulary" in r.stderr


def test_query_path_imports_neither_tensorflow_nor_faiss(named, home) -> None:
    assert _invoke("index", "build").exit_code == 0
    code = textwrap.dedent(
        """
        import sys
        from embedkit.cli import app
        try:
            app(["neighbours", "w1", "--json"], standalone_mode=False)
            app(["analogy", "w1", "w2", "w3", "--json"], standalone_mode=False)
            app(["similarity", "w1", "w2", "--json"], standalone_mode=False)
        finally:
            print("LOADED", sorted(m for m in ("tensorflow", "keras", "faiss") if m in sys.modules), file=sys.stderr)
        """
    )
    env = {**__import__("os").environ, "EMBEDKIT_HOME": str(home)}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "LOADED []" in p.stderr
    assert len(_ndjson(p.stdout)) == 10 + 5 + 1


def test_huge_k_returns_the_whole_set_instead_of_running_out_of_memory(named) -> None:
    for args in (["neighbours", "w3"], ["analogy", "w1", "w2", "w3"], ["analogy", "w1", "w2", "w3", "--method", "mul"]):
        r = _invoke(*args, "-k", str(10**12), "--json")
        assert r.exit_code == 0, r.output
        rows = _ndjson(r.stdout)
        assert len(rows) == len(named) - (1 if args[0] == "neighbours" else 3)
    with pytest.raises(Exception, match="at most the number of indexed vectors"):
        from embedkit.search.vector_index import VectorIndex

        VectorIndex.build(named.vectors).search(named.vectors[:2], k=10**12)


def test_batch_file_that_is_not_utf8_is_one_line(named, tmp_path) -> None:
    f = tmp_path / "q.bin"
    f.write_bytes(b"w1\n\xff\xfe\n")
    r = _invoke("neighbours", "--batch", str(f))
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.stderr.strip().splitlines() == [
        f"Error: Expected UTF-8 text, one query word per line, in --batch. Received: bytes b'\\xff\\xfe\\n' at byte 3 "
        f"of {str(f)!r}"]


def test_piped_batch_rows_name_their_query_and_unknown_words_are_reported(named) -> None:
    r = _invoke("neighbours", "--batch", "-", "-k", "2", input="w1\nw1x\nw2\n")
    assert r.exit_code == 1  # one query word was not answered
    lines = r.stdout.splitlines()
    assert lines[0] == "query\t#\tword\tcosine" and len(lines) == 5
    assert [line.split("\t")[0] for line in lines[1:]] == ["w1", "w1", "w2", "w2"]
    assert "Skipped: word 'w1x' is not in the vocabulary. Close matches: w1" in r.stderr
