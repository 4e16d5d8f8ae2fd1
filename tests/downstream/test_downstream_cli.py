"""`embedkit downstream` / `eval`: NDJSON and 80-column tables, report files and output claims, one-line
errors, a light CLI import, a clean stdout when a download fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from embedkit.cli import app

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[2]

POS = ["a great and wonderful film", "superb acting , brilliant story", "excellent , great fun", "wonderful music"]
NEG = ["an awful and boring film", "terrible acting , dreadful story", "horrible , boring mess", "awful music"]


@pytest.fixture
def tiny_dataset(tmp_path):
    d = tmp_path / "tiny"
    d.mkdir()
    (d / "tiny.pos").write_text("\n".join(POS * 3) + "\n")
    (d / "tiny.neg").write_text("\n".join(NEG * 3) + "\n")
    return d


@pytest.fixture
def tiny_vectors(tmp_path, glove50):
    words = sorted({w for t in POS + NEG for w in t.split()})
    path = tmp_path / "tinyvec"
    glove50.subset(words).save(path)
    return path


def run(args):
    return CliRunner().invoke(app, args)


def test_logreg_json_table_and_report_files(tiny_dataset, tiny_vectors, tmp_path):
    out = tmp_path / "report"
    args = ["eval", "--model", "logreg,kim-cnn", "--embedding", "static,frozen-random", "--vectors",
            str(tiny_vectors), "--dataset", str(tiny_dataset), "--folds", "3", "--epochs", "1", "--maxlen", "8"]
    r = run([*args, "--output", str(out), "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines()]  # stdout is NDJSON only
    kinds = [x["type"] for x in rows]
    assert kinds.count("gain") == 2 and kinds.count("result") == 4 and kinds[-1] == "report"
    gain = next(x for x in rows if x["type"] == "gain" and x["model"] == "logreg")
    assert gain["mode"] == "static" and gain["control"] == "frozen-random" and gain["n"] == 3
    assert {"gain", "ci_low", "ci_high", "wins", "p_value", "excludes_zero"} <= set(gain)
    res = [x for x in rows if x["type"] == "result"]
    assert all(0 <= x["accuracy_mean"] <= 1 and len(x["runs"]) == 3 for x in res)
    cov = next(x for x in rows if x["type"] == "coverage")
    assert 0 <= cov["oov_types"] <= 1 and cov["by_fallback"]["exact"] > 0
    assert "[6/12]" in r.stderr and "Dataset tiny: 24 examples" in r.stderr and "stratified 3-fold CV" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md", "tiny-kim-cnn.png"]
    # a second run may replace its own report; the table fits 80 columns
    r = run([*args, "--output", str(out)])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(x for x in lines if len(x) > 80)
    assert any("logreg" in x and "static" in x and "tinyvec" in x for x in lines)
    assert "gain over the control" in r.stdout and "trainable/total" in r.stdout
    assert "~" not in r.stdout and "…" not in r.stdout  # nothing cut


def test_output_claim_refuses_a_foreign_folder_before_any_work(tiny_dataset, tiny_vectors, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    base = ["eval", "-m", "logreg", "-v", str(tiny_vectors), "-d", str(tiny_dataset), "--folds", "2"]
    r = run([*base, "-o", str(mine)])
    assert r.exit_code == 1 and "--overwrite" in r.stderr and r.stderr.count("\n") == 1
    assert "Dataset tiny" not in r.stderr  # refused before loading anything
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    f = tmp_path / "file.txt"
    f.write_text("x")
    r = run([*base, "-o", str(f)])
    assert r.exit_code == 1 and f.read_text() == "x"
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        r = run([*base, "-o", str(fifo), "--overwrite"])
        assert r.exit_code == 1 and "FIFO" in r.stderr
    r = run([*base, "-o", str(mine), "--overwrite"])
    assert r.exit_code == 0, r.output
    assert (mine / "notes.txt").read_text() == "keep me" and (mine / "report.json").is_file()


def test_stale_plots_of_an_earlier_report_are_removed(tiny_dataset, tiny_vectors, tmp_path):
    out = tmp_path / "rep"
    base = ["eval", "-v", str(tiny_vectors), "-d", str(tiny_dataset), "--folds", "2", "--epochs", "1",
            "--maxlen", "6", "-o", str(out)]
    assert run([*base, "-m", "pool", "-e", "static"]).exit_code == 0
    assert (out / "tiny-pool.png").is_file()
    (out / "mine.txt").write_text("user file")
    assert run([*base, "-m", "logreg", "-e", "static"]).exit_code == 0
    assert not (out / "tiny-pool.png").exists() and (out / "mine.txt").read_text() == "user file"


@pytest.mark.slow
def test_default_dataset_says_what_it_ran(tiny_vectors):
    r = run(["eval", "-m", "logreg", "-v", str(tiny_vectors)])
    assert r.exit_code == 0, r.output
    assert "pang_lee_polarity (the embedded default)" in r.stderr and "stratified 10-fold CV" in r.stderr
    assert "200 texts, 2 classes; stratified 10-fold CV, 1 seed(s)/split" in r.stdout
    assert "embedded default dataset" in r.stderr  # the note


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--model", "cnn"], "model"),
        (["--embedding", "frozen"], "embedding"),
        (["--patience", "-1"], "patience"),
        (["--vocab", "test"], "vocab"),
        (["--truncate", "middle"], "truncate"),
        (["--folds", "1"], "folds"),
        (["--suite", "senteval", "--dataset", "x"], "not both"),
        (["--data-dir", "x"], "go with --suite"),
        (["--vectors", "a,,b"], "vectors"),
    ],
)
def test_usage_errors_exit_2_one_line(args, needle):
    r = run(["eval", *args])
    assert r.exit_code == 2, r.output
    assert needle in r.output and r.stderr.strip().count("\n") == 0


def test_data_errors_exit_1_one_line(tmp_path):
    r = run(["eval", "--dataset", str(tmp_path / "nope"), "--embedding", "random"])
    assert r.exit_code == 1
    assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith("Error: Expected a dataset path")
    r = run(["eval", "--embedding", "static"])  # no --vectors and no default set in this EMBEDKIT_HOME
    assert r.exit_code == 1 and "No default vector set" in r.stderr and "Traceback" not in r.output
    r = run(["eval", "--embedding", "random", "--seeds", "0"])
    assert r.exit_code == 1 and "`seeds` must be a positive integer" in r.stderr
    r = run(["eval", "--embedding", "random", "--learning-rate", "0"])
    assert r.exit_code == 1 and "`learning_rate` must be" in r.stderr
    binary = tmp_path / "blob.txt"
    binary.write_bytes(bytes(range(256)) * 8)
    r = run(["eval", "--dataset", str(binary), "--embedding", "random"])
    assert r.exit_code == 1 and "Expected a text file" in r.stderr and r.stderr.count("\n") == 1


def test_imdb_offline_keeps_stdout_clean_and_says_one_line(tmp_path):
    """Keras prints "Downloading data from ..." on stdout and TensorFlow logs on stderr; neither may leak."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "KERAS_HOME": str(tmp_path / "keras"),
           "EMBEDKIT_HOME": str(tmp_path / "home"), "https_proxy": "http://127.0.0.1:9",
           "http_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    p = subprocess.run([sys.executable, "-m", "embedkit", "eval", "--dataset", "imdb", "-m", "pool", "-e", "random", "--json"],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("Error: Could not download keras.datasets.imdb")


def test_cli_import_stays_light():
    code = ("import sys, embedkit.cli; "
            "print([m for m in ('tensorflow', 'keras', 'sklearn', 'matplotlib', 'scipy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_downstream_is_the_primary_name_eval_its_alias():
    helptext = run(["--help"]).stdout
    assert "downstream" in helptext and "(alias of downstream)" in helptext
    for name in ("downstream", "eval"):
        r = run([name, "--model", "cnn"])
        assert r.exit_code == 2 and "model" in r.output


@pytest.mark.parametrize("folds, needle", [("0", "stratified held-out split"), ("10", "stratified 10-fold CV")])
def test_too_few_examples_per_class_exits_1_with_one_line_and_no_header(tmp_path, folds, needle):
    """The fuzz suite's dataset folder of 28 examples in 14 classes: one 'Error:' line on stderr, nothing else."""
    root = tmp_path / "ds"
    for c in range(14):
        (root / f"c{c}").mkdir(parents=True)
        for i in range(2):
            (root / f"c{c}" / f"{i}.txt").write_text(f"word{c} text {i} here")
    env = {**os.environ, "PYTHONPATH": str(REPO), "EMBEDKIT_HOME": str(tmp_path / "home")}
    p = subprocess.run([sys.executable, "-m", "embedkit", "downstream", "--embedding", "random", "--epochs", "1",
                        "--seeds", "1", "--folds", folds, "--dataset", str(root)],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert p.returncode == 1, p.stderr
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: Too few examples per class") and needle in lines[0]
    assert "Internal error" not in p.stderr and "Traceback" not in p.stderr and p.stdout == ""
