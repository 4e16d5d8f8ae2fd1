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
    assert stats["config"]["chunk_tokens"] == 1 << 17 and stats["config"]["shuffle_tokens"] == 1 << 20
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
    "args, expected, code",
    [
        (["--dim", "-3"], "--dim: `dim` must be a positive integer. Received: dim=-3", 2),
        (["--dim", "0"], "`dim` must be a positive integer. Received: dim=0", 2),
        (["--window", "0"], "--window: `window` must be a positive integer. Received: window=0", 2),
        (["--window", "100000000"], "`window` must be at most 100 (a batch holds 2·window context slots per target). "
                                    "Received: window=100000000", 2),
        (["--negative", "0"], "`negative` must be a positive integer", 2),
        (["--batch-size", "0"], "`batch_size` must be a positive integer", 2),
        (["--chunk-tokens", "-1"], "--chunk-tokens: `chunk_tokens` must be a positive integer. Received: chunk_tokens=-1", 2),
        (["--epochs", "0"], "`epochs` must be a positive integer", 2),
        (["--alpha", "0"], "`alpha` must be a positive number", 2),
        (["--min-alpha", "1"], "`min_alpha` must not exceed `alpha`", 2),
        (["--token-pattern", ""], "`token_pattern` must not match the empty string", 2),
        (["--token-pattern", "[a-"], "`pattern` must be a valid regular expression", 2),
        (["--early-stop", "accuracy"], "must be one of loss, analogy_accuracy, ws353, simlex", 2),
        (["--patience", "0"], "must be a positive integer", 2),
        (["--min-count", "100000"], "No word occurs at least min_count=100000 times", 1),
    ],
)
def test_bad_options_one_line_errors(corpus_file, tmp_path, args, expected, code):
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", str(tmp_path / "x"), *args])
    assert r.exit_code == code, r.output
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    err = [line for line in lines if line.startswith("Error")]
    assert len(err) == 1 and expected in err[0], r.stderr
    if code == 2:  # a usage error is refused before anything else is said or done
        assert lines == err
    assert "Traceback" not in r.output and not (tmp_path / "x").exists()


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
    assert r.exit_code == 2 and "`pattern` must be a valid regular expression" in r.stderr


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
              "threads", "token_pattern", "lowercase", "sg", "chunk_tokens"}
    assert shared <= opts["train-cbow"] and shared <= opts["compare-gensim"]
    assert {"max_vocab_size", "cbow_mean"} <= opts["train-cbow"] - opts["compare-gensim"]


def test_output_onto_a_users_folder_is_refused_unless_overwrite(corpus_file, tmp_path):
    """`train-cbow -o DIR` never deletes what embedkit did not write: a folder of the user's is refused before
    training starts (nothing changes), replaced only with --overwrite; an embedkit set is replaced."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    (mine / "sub").mkdir()
    args = ["train-cbow", str(corpus_file), "-o", str(mine), "--dim", "8", "--epochs", "1", "--min-count", "1"]
    r = runner.invoke(app, args)
    assert r.exit_code == 1 and "must not replace a directory embedkit did not write" in r.stderr
    assert "Reading" not in r.stderr  # refused before training
    assert (mine / "thesis.tex").read_text() == "years of work" and (mine / "sub").is_dir()
    r = runner.invoke(app, args + ["--overwrite"])
    assert r.exit_code == 0, r.output
    assert not (mine / "thesis.tex").exists() and (mine / "training.json").is_file()
    r = runner.invoke(app, args)  # now an embedkit set: replaced without --overwrite
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, args + ["--word2vec-text"])
    assert r.exit_code == 0 and (mine / "vectors.w2v.txt").is_file()
    r = runner.invoke(app, args + ["--word2vec-text"])  # embedkit's own text file inside its set: replaced
    assert r.exit_code == 0, r.output
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep")
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", str(a_file), "--min-count", "1"])
    assert r.exit_code == 1 and a_file.read_text() == "keep"


def test_skipgram_tensorboard_and_early_stop_from_the_cli(corpus_file, tmp_path):
    out, tb = tmp_path / "sg", tmp_path / "tb"
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", str(out), "--dim", "8", "--epochs", "4",
                            "--min-count", "1", "--sg", "--tensorboard", str(tb), "--early-stop", "analogy_accuracy",
                            "--chunk-tokens", "5000", "--json"])
    assert r.exit_code == 0, r.output
    stats = json.loads(r.stdout.strip().splitlines()[-1])
    assert stats["config"]["sg"] is True and stats["config"]["chunk_tokens"] == 5000
    # no analogy question is answerable on this corpus: accuracy stays 0, so it stops after one more epoch and keeps
    # the first epoch's vectors
    assert stats["epochs_trained"] == 2 and stats["best_epoch"] == 1
    assert [h["analogy_accuracy"] for h in stats["history"]] == [0.0, 0.0]
    assert list((tb / "train").glob("events.out.tfevents.*"))
    assert "Trained skip-gram" in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 2 and "analogy 0.00 %" in lines[0]


def test_init_vectors_and_continue_from_the_cli(corpus_file, tmp_path, home):
    from embedkit.vectors.loading import load_vectors

    text = tmp_path / "init.txt"
    rng = np.random.default_rng(0)
    rows = {"t0w00": rng.normal(size=6), "t1w03": rng.normal(size=6)}
    text.write_text("2 6\n" + "".join(f"{w} {' '.join(f'{x:.6f}' for x in v)}\n" for w, v in rows.items()))
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", "warm", "--epochs", "1", "--min-count", "1",
                            "--init-vectors", str(text), "--json"])
    assert r.exit_code == 0, r.output
    stats = json.loads(r.stdout.strip().splitlines()[-1])
    assert stats["config"]["vector_size"] == 6  # the set's dim when --dim is not given
    assert stats["init"]["found"] == 2 and "input vectors from init.txt: 2 words found" in r.stderr
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", "x", "--dim", "8", "--init-vectors", str(text)])
    assert r.exit_code == 1 and "pass --dim 6" in r.stderr
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", "more", "--epochs", "1", "--min-count", "1",
                            "--continue", "warm", "--json"])
    assert r.exit_code == 0, r.output
    stats = json.loads(r.stdout.strip().splitlines()[-1])
    assert stats["init"]["kind"] == "continue" and stats["init"]["new_words"] == 0
    assert load_vectors("more").keys == load_vectors("warm").keys
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", "y", "--continue", str(text)])
    assert r.exit_code == 1 and "needs a set embedkit trained" in r.stderr
    r = runner.invoke(app, ["train-cbow", str(corpus_file), "-o", "y", "--continue", "warm", "--init-vectors", "warm"])
    assert r.exit_code == 2 and "not both" in r.stderr


def test_compare_table_says_its_units():
    from embedkit.cli.commands.train import _print_comparison
    from embedkit.train.compare import Comparison, TrainerReport

    def row(name, acc):
        return TrainerReport(trainer=name, seconds=1.0, words_per_sec=1000.0, vocab_size=9912, analogy_accuracy=acc,
                             analogy_semantic=0.0, analogy_syntactic=0.0, ws353_spearman=0.5, simlex_spearman=0.2,
                             overlap_at_10=0.5, peak_rss_mb=100.0, analogy_vocab=9912, analogy_answered=1234)

    import io

    from rich.console import Console

    buf = io.StringIO()
    import embedkit.cli.commands.train as mod

    real = Console
    try:
        import rich.console

        rich.console.Console = lambda *a, **k: real(file=buf, width=200)
        _print_comparison(Comparison(rows=[row("embedkit", 0.0089), row("gensim", 0.0100)], config={}, raw_words=5),
                          epochs=5, workers=2, sg=False)
    finally:
        rich.console.Console = real
    out = buf.getvalue()
    assert "analogy accuracy, % (3CosAdd; 9,912 most frequent words, 1,234 questions)" in out
    assert "0.89" in out and "-0.11 pt" in out and "30,000" not in out
    assert mod is not None


def test_a_fifo_corpus_is_refused_before_reading(tmp_path):
    import os

    fifo = tmp_path / "corpus.txt"
    os.mkfifo(fifo)
    r = runner.invoke(app, ["train-cbow", str(fifo), "-o", str(tmp_path / "v")])
    assert r.exit_code == 1 and "Traceback" not in r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Expected a corpus file (a regular file). Received: FIFO" in lines[0], lines
    assert not (tmp_path / "v").exists()
