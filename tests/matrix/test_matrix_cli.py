"""`embedkit coverage`: rich table, --json, vocab files, text samples, one-line errors, no TensorFlow import."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.cli import app
from embedkit.vectors.word_vectors import WordVectors

runner = CliRunner()


@pytest.fixture
def vec_dir(tmp_path):
    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "on", "mat", "cafe", "news", "paper"]
    WordVectors(words, rng.standard_normal((len(words), 6)).astype(np.float32)).save(tmp_path / "vecs")
    return str(tmp_path / "vecs")


def test_vocab_file_json(vec_dir, tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("the\t50\nCat\t7\ncafé\t3\nnewspaper\t2\nzzqxv\t9\nqqq\t1\n", encoding="utf-8")
    r = runner.invoke(app, ["coverage", "--vectors", vec_dir, "--vocab", str(vocab), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["lookup_types"] == 6 and d["types_covered"] == 4
    assert d["by_fallback"]["exact"] == 1 and d["by_fallback"]["lowercase"] == 1
    assert d["by_fallback"]["normalised"] == 1 and d["by_fallback"]["subword"] == 1
    assert d["tokens_total"] == 72 and d["tokens_covered"] == 62
    assert [m["token"] for m in d["missing"]] == ["zzqxv", "qqq"]


def test_texts_file_table(vec_dir, tmp_path):
    texts = tmp_path / "t.txt.gz"
    with gzip.open(texts, "wt", encoding="utf-8") as fh:
        fh.write("The cat sat on the mat.\nThe zzqxv sat [UNK]\n")
    r = runner.invoke(app, ["coverage", "-v", vec_dir, "--texts", str(texts)])
    assert r.exit_code == 0, r.output
    assert "types covered" in r.stdout and "5 / 7" in r.stdout
    assert "zzqxv" in r.stdout and "unk" in r.stdout  # rich markup in words is printed literally
    r = runner.invoke(app, ["coverage", "-v", vec_dir, "--texts", str(texts), "--json", "--max-tokens", "4"])
    d = json.loads(r.stdout)
    # vocabulary: '', [UNK], the, sat; every token beyond it counts as not covered
    assert d["vocab_size"] == 4 and d["tokens_total"] == 10 and d["tokens_covered"] == 5


def test_vocab_with_texts_counts_tokens(vec_dir, tmp_path):
    vocab = tmp_path / "v.json"
    vocab.write_text(json.dumps(["", "[UNK]", "the", "cat", "zzqxv"]), encoding="utf-8")
    texts = tmp_path / "t.txt"
    texts.write_text("the cat the dog zzqxv\n", encoding="utf-8")
    r = runner.invoke(app, ["coverage", "-v", vec_dir, "--vocab", str(vocab), "--texts", str(texts), "--json"])
    d = json.loads(r.stdout)
    assert d["tokens_total"] == 5 and d["tokens_covered"] == 3
    assert d["missing"] == [{"token": "zzqxv", "count": 1}]


def test_errors(vec_dir, tmp_path):
    r = runner.invoke(app, ["coverage", "-v", vec_dir])
    assert r.exit_code == 2 and "--vocab FILE or --texts FILE" in r.output
    vocab = tmp_path / "v.txt"
    vocab.write_text("the\nzzqxv\n", encoding="utf-8")
    r = runner.invoke(app, ["coverage", "-v", vec_dir, "--vocab", str(vocab), "--oov", "gauss"])
    assert r.exit_code == 2 and "Received: 'gauss'" in r.output
    r = runner.invoke(app, ["coverage", "-v", vec_dir, "--vocab", str(vocab), "--oov", "fail"])
    assert r.exit_code == 1
    assert r.stderr.strip().count("\n") == 0 and "oov='fail'" in r.stderr and "'zzqxv'" in r.stderr
    r = runner.invoke(app, ["coverage", "-v", vec_dir, "--vocab", str(tmp_path / "none.txt")])
    assert r.exit_code == 1 and "does not exist" in r.stderr and "Traceback" not in r.output
    r = runner.invoke(app, ["coverage", "-v", str(tmp_path / "novecs"), "--vocab", str(vocab)])
    assert r.exit_code == 1 and r.stderr.startswith("Error:")


def test_command_does_not_import_tensorflow(vec_dir, tmp_path):
    vocab = tmp_path / "v.txt"
    vocab.write_text("the\ncat\n", encoding="utf-8")
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom embedkit.cli import app\n"
        f"r = CliRunner().invoke(app, ['coverage', '-v', {vec_dir!r}, '--vocab', {str(vocab)!r}, '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "bad = [m for m in ('tensorflow', 'keras', 'faiss', 'torch') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_texts_in_latin1_or_cp1251_use_the_dataset_fallbacks(tmp_path):
    """--texts decodes as datasets do (UTF-8, then --encoding, then cp1252, latin-1): no replacement characters."""
    rng = np.random.default_rng(0)
    words = ["café", "crème", "the", "мир"]
    WordVectors(words, rng.standard_normal((4, 4)).astype(np.float32)).save(tmp_path / "v")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("the café \x85 crème\n".encode("latin-1"))
    r = runner.invoke(app, ["coverage", "-v", str(tmp_path / "v"), "--texts", str(latin), "--json", "--no-normalise",
                            "--no-subword"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["by_fallback"]["exact"] == 3 and not any("\ufffd" in m["token"] for m in d["missing"])
    cyr = tmp_path / "cyr.txt"
    cyr.write_bytes("мир the\n".encode("cp1251"))
    r = runner.invoke(app, ["coverage", "-v", str(tmp_path / "v"), "--texts", str(cyr), "--encoding", "cp1251",
                            "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["types_covered"] == 2
    blob = tmp_path / "blob.txt"
    blob.write_bytes(bytes(range(256)) * 4)
    r = runner.invoke(app, ["coverage", "-v", str(tmp_path / "v"), "--texts", str(blob)])
    assert r.exit_code == 1 and "Expected a text file" in r.stderr and r.stderr.count("\n") == 1


def test_coverage_texts_refuses_a_fifo_and_a_truncated_gz_with_one_line(tmp_path):
    import gzip
    import os

    from typer.testing import CliRunner

    from embedkit.cli import app
    from embedkit.vectors.word_vectors import WordVectors

    import numpy as np

    vecs = tmp_path / "v"
    WordVectors(["good", "bad"], np.eye(2, dtype=np.float32)).save(vecs)
    fifo = tmp_path / "t.fifo"
    os.mkfifo(fifo)  # nobody writes: reading it would block forever
    trunc = tmp_path / "t.txt.gz"
    trunc.write_bytes(gzip.compress(b"good bad\n" * 100)[:30])
    for texts, said in ((fifo, "(a regular file). Received: FIFO"), (trunc, "Expected a complete gzip stream")):
        r = CliRunner().invoke(app, ["coverage", "--vectors", str(vecs), "--texts", str(texts)])
        assert r.exit_code == 1 and "Traceback" not in r.output
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and said in lines[0], lines
