"""`embedkit eval`: NDJSON and table output, report files, one-line errors, a light CLI import."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from embedkit.cli import app

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

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


@pytest.mark.slow
def test_eval_json_and_report_files(tiny_dataset, tiny_vectors, tmp_path):
    out = tmp_path / "report"
    r = run(["eval", "--model", "conv1d", "--embedding", "random,static", "--vectors", str(tiny_vectors),
             "--dataset", str(tiny_dataset), "--seeds", "2", "--epochs", "1", "--maxlen", "8", "--batch-size", "8",
             "--output", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert "[4/4] conv1d/static" in r.stderr  # plain progress lines when stderr is not a terminal
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert [(x["model"], x["embedding"]) for x in rows] == [("conv1d", "random"), ("conv1d", "static")]
    for x in rows:
        assert {"accuracy_mean", "accuracy_std", "macro_f1_mean", "seconds_per_epoch", "runs", "params"} <= set(x)
        assert len(x["runs"]) == 2 and 0 <= x["accuracy_mean"] <= 1
        assert x["runs"][0]["epochs"] == 1
    # random embeddings take the vectors' dimension; static freezes them
    assert rows[0]["params"] == rows[1]["params"]
    assert rows[1]["trainable_params"] < rows[0]["trainable_params"]
    assert {p.name for p in out.iterdir()} == {"report.json", "report.md", "conv1d-random.png", "conv1d-static.png"}
    assert json.loads((out / "report.json").read_text())["dataset"]["classes"] == {"neg": 12, "pos": 12}


@pytest.mark.slow
def test_eval_table_on_default_dataset():
    r = run(["eval", "--model", "pool", "--embedding", "random", "--seeds", "1", "--epochs", "1", "--maxlen", "10",
             "--dim", "8"])
    assert r.exit_code == 0, r.output
    assert "pang_lee_polarity" in r.output and "pool" in r.output and "±" in r.output


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--model", "cnn"], "model"),
        (["--embedding", "frozen"], "embedding"),
        (["--patience", "-1"], "patience"),
        (["--vocab", "test"], "vocab"),
    ],
)
def test_usage_errors_exit_2(args, needle):
    r = run(["eval", *args])
    assert r.exit_code == 2
    assert needle in r.output


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


def test_cli_import_stays_light():
    code = ("import sys, embedkit.cli; "
            "print([m for m in ('tensorflow', 'keras', 'sklearn', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_downstream_is_the_primary_name_eval_its_alias():
    helptext = run(["--help"]).stdout
    assert "downstream" in helptext and "(alias of downstream)" in helptext
    for name in ("downstream", "eval"):
        r = run([name, "--model", "cnn"])
        assert r.exit_code == 2 and "model" in r.output
