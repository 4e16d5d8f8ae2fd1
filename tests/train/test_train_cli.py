"""`embedkit train-cbow` / `compare-gensim` end to end through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.cli import app
from embedkit.corpora.synthetic import SyntheticCorpus

runner = CliRunner()


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("corpus") / "topics.txt.gz"
    import gzip

    with gzip.open(p, "wt", encoding="utf-8") as fh:
        for s in SyntheticCorpus(n_topics=4, words_per_topic=10, n_sentences=3000, seed=2).sentences():
            fh.write(" ".join(s) + "\n")
    return p


def test_train_cbow_saves_default_set_with_stats(corpus_file, home):
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", "topics", "--dim", "16", "--epochs", "2",
                            "--min-count", "1", "--json"])
    assert r.exit_code == 0, r.output
    stats = json.loads(r.stdout.strip().splitlines()[-1])
    assert stats["vocab_size"] == 50 and stats["raw_words"] == 36000 and len(stats["loss_per_epoch"]) == 2
    target = home / "vectors" / "topics"
    assert (target / "training.json").is_file() and (target / "vectors.npy").is_file()
    assert (home / "default").read_text().strip() == "topics"
    from embedkit.vectors.loading import load_vectors

    wv = load_vectors()  # the default set
    assert wv.dim == 16 and wv.counts is not None
    # and the query commands find it without --vectors
    r = runner.invoke(app, ["neighbours", "t1w00", "-k", "3", "--json"])
    assert r.exit_code == 0, r.output
    assert all(json.loads(line)["word"].startswith("t1") for line in r.stdout.strip().splitlines())


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--dim", "-3"], "`dim` must be a positive integer. Received: dim=-3"),
        (["--window", "0"], "`window` must be a positive integer. Received: window=0"),
        (["--alpha", "0"], "`alpha` must be a positive number"),
        (["--min-count", "100000"], "No word occurs at least min_count=100000 times"),
    ],
)
def test_bad_options_one_line_errors(corpus_file, args, expected):
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", "x", *args])
    assert r.exit_code == 1, r.output
    err = [line for line in r.stderr.splitlines() if line.startswith("Error")]
    assert len(err) == 1 and expected in err[0], r.stderr
    assert "Traceback" not in r.output


def test_unreadable_and_empty_corpus(tmp_path):
    r = runner.invoke(app, ["train-cbow", str(tmp_path / "nope.txt"), "-o", "x"])
    assert r.exit_code == 1 and "nope.txt" in r.stderr and "Traceback" not in r.output
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    r = runner.invoke(app, ["train-cbow", str(empty), "-o", "x"])
    assert r.exit_code == 1 and "at least one token" in r.stderr
    r = runner.invoke(app, ["train-cbow", str(empty), "-o", "x", "--resume"])
    assert r.exit_code == 2  # usage error: --resume needs --checkpoint-dir


@pytest.mark.slow
def test_fixed_seed_single_thread_runs_are_identical(corpus_file, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    outs = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        subprocess.run(
            [sys.executable, "-m", "embedkit", "train-cbow", str(corpus_file), "-o", str(out), "--dim", "16",
             "--epochs", "1", "--min-count", "1", "--threads", "1", "--seed", "9"],
            check=True, env=env, capture_output=True, timeout=600,
        )
        outs.append(np.load(out / "vectors.npy"))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.slow
def test_compare_gensim_json(tmp_path):
    from gensim.test.utils import datapath

    r = runner.invoke(app, ["compare-gensim", datapath("lee_background.cor"), "--epochs", "5", "--dim", "32",
                            "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.strip().splitlines()]
    assert [row["trainer"] for row in rows] == ["embedkit", "gensim"]
    need = {"seconds", "words_per_sec", "vocab_size", "analogy_accuracy", "ws353_spearman", "simlex_spearman",
            "overlap_at_10", "peak_rss_mb"}
    for row in rows:
        assert need <= set(row)
        assert row["words_per_sec"] > 0 and row["peak_rss_mb"] > 50
    assert rows[0]["vocab_size"] == rows[1]["vocab_size"]  # same tokens, same min_count
    assert rows[0]["overlap_at_10"] > 0.05


def test_token_pattern_option_changes_tokens(corpus_file, home):
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", "letters", "--dim", "8", "--epochs", "1",
                            "--min-count", "1", "--token-pattern", "[a-z]+", "--json"])
    assert r.exit_code == 0, r.output
    stats = json.loads(r.stdout.strip().splitlines()[-1])
    assert stats["vocab_size"] == 3  # t1w07 -> "t", "w"; fn3 -> "fn"
    assert stats["tokenizer"] == {"pattern": "[a-z]+", "lowercase": True}
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", "x", "--token-pattern", "[a-"])
    assert r.exit_code == 1 and "`pattern` must be a valid regular expression" in r.stderr


def test_a_log_gets_one_line_per_epoch(corpus_file, tmp_path):
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", str(tmp_path / "v"), "--dim", "8", "--epochs", "2",
                            "--min-count", "1"])
    assert r.exit_code == 0, r.output
    epochs = [line for line in r.stderr.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in epochs] == ["epoch 1/2", "epoch 2/2"] and "loss" in epochs[0]


def test_both_commands_take_the_shared_cbow_options():
    import click
    import typer.main

    cmd = typer.main.get_command(app)
    ctx = click.Context(cmd)
    opts = {name: {p.name for p in cmd.get_command(ctx, name).params} for name in ("train-cbow", "compare-gensim")}
    shared = {"dim", "window", "negative", "min_count", "sample", "epochs", "alpha", "min_alpha", "batch_size", "seed",
              "threads", "token_pattern", "lowercase"}
    assert shared <= opts["train-cbow"] and shared <= opts["compare-gensim"]
    assert {"max_vocab_size", "cbow_mean"} <= opts["train-cbow"] - opts["compare-gensim"]
