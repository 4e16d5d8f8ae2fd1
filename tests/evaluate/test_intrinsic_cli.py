"""CLI: evaluate, plot, export-projector."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.cli import app
from embedkit.vectors.word_vectors import WordVectors

runner = CliRunner()


@pytest.fixture(scope="module")
def glove_dir(tmp_path_factory, glove50):
    d = tmp_path_factory.mktemp("g") / "glove20k"
    WordVectors(glove50.keys[:20000], np.array(glove50.vectors[:20000])).save(d)
    return d


@pytest.fixture
def questions(tmp_path):
    from gensim.test.utils import datapath

    out, n = [], 0
    for line in open(datapath("questions-words.txt"), encoding="utf-8"):
        if line.startswith(": "):
            out.append(line)
            n = 0
        elif n < 25:
            out.append(line)
            n += 1
    p = tmp_path / "q.txt"
    p.write_text("".join(out))
    return p


def test_evaluate_json(glove_dir, questions):
    res = runner.invoke(app, ["evaluate", str(glove_dir), "--analogies", str(questions), "--restrict-vocab", "20000",
                              "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(l) for l in res.stdout.splitlines()]
    secs = [r for r in rows if r["type"] == "analogy_section"]
    total = next(r for r in rows if r["type"] == "analogy_total")
    pairs = [r for r in rows if r["type"] == "pairs"]
    assert len(secs) == 14 and total["correct"] == sum(s["correct"] for s in secs)
    assert total["total"] + total["oov"] == 14 * 25
    from embedkit.evaluate.analogies import evaluate_analogies

    direct = evaluate_analogies(WordVectors.load(glove_dir), questions, restrict_vocab=20000)
    assert (total["correct"], total["total"], total["oov"]) == (direct.correct, direct.total, direct.oov)
    assert [p["name"] for p in pairs] == ["ws353", "simlex999"] and all(0 < p["spearman"] < 1 for p in pairs)


def test_evaluate_table_and_pairs_only(glove_dir, questions, tmp_path):
    res = runner.invoke(app, ["evaluate", str(glove_dir), "--analogies", str(questions), "--pairs", "none",
                              "--method", "3cosmul"])
    assert res.exit_code == 0, res.output
    assert "capital-common-countries" in res.stdout and "syntactic" in res.stdout and "total" in res.stdout
    f = tmp_path / "p.txt"
    f.write_text("car truck 8\ncar banana 1\nking queen 7\n")
    res = runner.invoke(app, ["evaluate", str(glove_dir), "--analogies", "none", "--pairs", str(f), "--json"])
    assert res.exit_code == 0, res.output
    (row,) = [json.loads(l) for l in res.stdout.splitlines()]
    assert row["pairs_used"] == 3 and row["spearman"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "args,code,needle",
    [
        (["--restrict-vocab", "0"], 2, "--restrict-vocab"),
        (["--method", "cos"], 2, "--method"),
        (["--analogies", "/nonexistent/q.txt"], 1, "does not exist"),
    ],
)
def test_evaluate_bad_input(glove_dir, args, code, needle):
    res = runner.invoke(app, ["evaluate", str(glove_dir), *args])
    assert res.exit_code == code
    assert needle in res.stderr and "Traceback" not in res.output


def test_evaluate_malformed_pairs(glove_dir, tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text("no numbers here at all\n")
    res = runner.invoke(app, ["evaluate", str(glove_dir), "--analogies", "none", "--pairs", str(f)])
    assert res.exit_code == 1 and res.stderr.count("\n") == 1 and "word1 word2 score" in res.stderr


def test_plot_cli(glove_dir, tmp_path):
    out = tmp_path / "map.png"
    res = runner.invoke(app, ["plot", str(glove_dir), "--words", "surf,waves,car,jeep,truck", "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert out.stat().st_size > 10000 and "glove20k" in info["title"] and info["words"][0] == "surf"
    res = runner.invoke(app, ["plot", str(glove_dir), "--words", "surf,qqqzz,xxyyz", "-o", str(tmp_path / "b.png")])
    assert res.exit_code == 1 and res.stderr.strip() == (
        "Error: Every word must be in the vocabulary. Received unknown words: qqqzz, xxyyz")
    assert not (tmp_path / "b.png").exists()
    res = runner.invoke(app, ["plot", str(glove_dir), "--words", "a,b", "--top", "3"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["plot", str(tmp_path / "missing"), "--words", "a"])
    assert res.exit_code == 1 and "does not exist" in res.stderr


def test_export_projector_cli(glove_dir, tmp_path):
    out = tmp_path / "proj"
    res = runner.invoke(app, ["export-projector", str(glove_dir), "-o", str(out), "--top", "200"])
    assert res.exit_code == 0, res.output
    from embedkit.evaluate.projector import read_projector

    back = read_projector(out)
    src = WordVectors.load(glove_dir)
    assert back.keys == src.keys[:200]
    np.testing.assert_array_equal(back.vectors, np.asarray(src.vectors[:200]))


def test_default_set_is_used(glove_dir, home, tmp_path):
    import shutil

    shutil.copytree(glove_dir, home / "vectors" / "mine")
    (home / "default").write_text("mine\n")
    out = tmp_path / "p"
    res = runner.invoke(app, ["export-projector", "-o", str(out), "--top", "5"])
    assert res.exit_code == 0, res.output
    assert len((out / "metadata.tsv").read_text().splitlines()) == 5


def test_cli_module_does_not_import_heavy_libs():
    code = ("import sys, embedkit.cli.commands.intrinsic, embedkit.evaluate.analogies, embedkit.evaluate.word_pairs, "
            "embedkit.evaluate.plots, embedkit.evaluate.projector; "
            "print([m for m in ('tensorflow', 'keras', 'faiss', 'matplotlib', 'sklearn', 'gensim') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_intrinsic_is_the_primary_name_and_vectors_come_either_way(glove_dir, questions, tmp_path):
    args = ["--analogies", str(questions), "--restrict-vocab", "20000", "--pairs", "none", "--json"]
    by_arg = runner.invoke(app, ["evaluate", str(glove_dir), *args])
    by_opt = runner.invoke(app, ["intrinsic", "--vectors", str(glove_dir), *args])
    assert by_arg.exit_code == 0 and by_opt.exit_code == 0, by_opt.output
    assert by_arg.stdout == by_opt.stdout
    both = runner.invoke(app, ["intrinsic", str(glove_dir), "--vectors", str(tmp_path / "other"), *args])
    assert both.exit_code == 2 and "give the vectors once" in both.output
    out = tmp_path / "m.png"
    res = runner.invoke(app, ["plot", "-v", str(glove_dir), "--words", "car,truck", "-o", str(out)])
    assert res.exit_code == 0 and out.exists()
    res = runner.invoke(app, ["export-projector", "--vectors", str(glove_dir), "-o", str(tmp_path / "p"), "--top", "3"])
    assert res.exit_code == 0 and len((tmp_path / "p" / "metadata.tsv").read_text().splitlines()) == 3
    helptext = runner.invoke(app, ["--help"]).stdout
    assert "intrinsic" in helptext and "(alias of intrinsic)" in helptext


def test_plot_output_policy(glove_dir, tmp_path):
    """plot -o: never a folder, FIFO or device; a file embedkit did not write only with --overwrite."""
    import os

    args = ["plot", str(glove_dir), "--words", "car,truck,jeep"]
    folder = tmp_path / "x.png"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    for extra in ([], ["--overwrite"]):
        res = runner.invoke(app, [*args, "-o", str(folder), *extra])
        assert res.exit_code == 1 and "Expected a file path" in res.stderr and res.stderr.count("\n") == 1
    assert (folder / "keep.txt").read_text() == "mine"
    user = tmp_path / "map.png"
    user.write_bytes(b"my own picture")
    res = runner.invoke(app, [*args, "-o", str(user)])
    assert res.exit_code == 1 and "--overwrite" in res.stderr and user.read_bytes() == b"my own picture"
    res = runner.invoke(app, [*args, "-o", str(user), "--overwrite"])
    assert res.exit_code == 0 and user.read_bytes()[:4] == b"\x89PNG"
    res = runner.invoke(app, [*args, "-o", str(user)])  # embedkit's own plot: replaced without asking
    assert res.exit_code == 0, res.output
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "f.png"
        os.mkfifo(fifo)
        res = runner.invoke(app, [*args, "-o", str(fifo), "--overwrite"])
        assert res.exit_code == 1 and "FIFO" in res.stderr
        assert fifo.exists() and not fifo.is_file()


def test_export_projector_output_policy(glove_dir, tmp_path):
    mine = tmp_path / "proj"
    mine.mkdir()
    (mine / "notes.md").write_text("mine")
    args = ["export-projector", str(glove_dir), "--top", "5", "-o", str(mine)]
    res = runner.invoke(app, args)
    assert res.exit_code == 1 and "--overwrite" in res.stderr and sorted(p.name for p in mine.iterdir()) == ["notes.md"]
    res = runner.invoke(app, [*args, "--overwrite"])
    assert res.exit_code == 0, res.output
    assert (mine / "notes.md").read_text() == "mine" and (mine / "vectors.tsv").is_file()
    fresh = tmp_path / "fresh"
    assert runner.invoke(app, [*args[:-1], str(fresh)]).exit_code == 0
    assert runner.invoke(app, [*args[:-1], str(fresh), "--top", "7"]).exit_code == 0  # its own export: replaced
    assert len((fresh / "metadata.tsv").read_text().splitlines()) == 7
    f = tmp_path / "file.txt"
    f.write_text("x")
    res = runner.invoke(app, [*args[:-1], str(f), "--overwrite"])
    assert res.exit_code == 1 and "Expected a directory" in res.stderr and f.read_text() == "x"


def test_an_analogy_file_that_is_a_fifo_is_refused_not_waited_on(tmp_path):
    import os

    import numpy as np
    from typer.testing import CliRunner

    from embedkit.cli import app
    from embedkit.vectors.word_vectors import WordVectors

    vecs = tmp_path / "v"
    WordVectors(["a", "b", "c", "d"], np.eye(4, dtype=np.float32)).save(vecs)
    fifo = tmp_path / "q.txt"
    os.mkfifo(fifo)
    r = CliRunner().invoke(app, ["intrinsic", str(vecs), "--analogies", str(fifo)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Expected an evaluation file (a regular file). Received: FIFO" in lines[0], lines
