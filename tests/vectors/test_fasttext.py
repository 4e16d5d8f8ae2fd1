"""fastText: the .bin reader on generated models, the n-gram table kept in a native set (memory-mapped), and
the subword vectors used by neighbours, similarity and the embedding-matrix builder."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.cli import app
from embedkit.errors import FormatError
from embedkit.vectors.formats import detect_format
from embedkit.vectors.formats.fasttext import read_fasttext, write_fasttext_for_tests
from embedkit.vectors.loading import read_vectors
from embedkit.vectors.subwords import Subwords, fasttext_hash

runner = CliRunner()
WORDS = ["king", "queen", "kingdom", "prince", "princess", "apple", "banana", "orange", "zürich", "東京"]


def _model(tmp_path, new: bool = True, bucket: int = 97, dim: int = 6, minn: int = 2, maxn: int = 4):
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((len(WORDS) + bucket, dim)).astype(np.float32)
    p = tmp_path / ("new.bin" if new else "old.bin")
    write_fasttext_for_tests(p, WORDS, matrix, minn=minn, maxn=maxn, new=new)
    return p, matrix


def _expected(word: str, matrix: np.ndarray, minn: int, maxn: int, own: int | None) -> np.ndarray:
    """fastText's getWordVector, written out plainly (float32 sums in n-gram order)."""
    sw = Subwords(matrix[len(WORDS):], minn, maxn)
    rows = [len(WORDS) + fasttext_hash(g) % sw.bucket for g in sw.char_ngrams(word)]
    if own is not None:
        rows = [own] + rows
    acc = np.zeros(matrix.shape[1], np.float32)
    for r in rows:
        acc += matrix[r]
    return acc / np.float32(len(rows))


@pytest.mark.parametrize("new", [True, False])
def test_read_generated_models(tmp_path, new):
    p, matrix = _model(tmp_path, new=new)
    assert detect_format(p) == "fasttext"
    t = read_fasttext(p)
    assert t.keys == WORDS and t.counts.tolist() == [1] * len(WORDS)
    assert isinstance(t.subwords.ngrams, np.memmap)  # the n-gram table stays on disk
    for i, w in enumerate(WORDS):
        np.testing.assert_array_equal(t.vectors[i], _expected(w, matrix, 2, 4, own=i))
    for w in ["kings", "zürichsee", "x", "東"]:
        np.testing.assert_array_equal(t.subwords.vector(w), _expected(w, matrix, 2, 4, own=None))
    assert read_fasttext(p, limit=3).keys == WORDS[:3]


def test_model_without_subwords(tmp_path):
    p, matrix = _model(tmp_path, bucket=0, minn=0, maxn=0)
    wv = read_vectors(p)
    assert wv.subwords is None and wv.subword_vector("kings") is None
    np.testing.assert_array_equal(wv.vectors, matrix)


def test_damaged_models(tmp_path):
    p, _ = _model(tmp_path)
    data = p.read_bytes()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data[: len(data) - 200])
    with pytest.raises(FormatError, match="Expected a 107 x 6 float32 matrix .* bytes after the dictionary"):
        read_fasttext(cut)
    head = tmp_path / "head.bin"
    head.write_bytes(data[:100])
    with pytest.raises(FormatError, match="Expected a complete fastText model .* ends inside"):
        read_fasttext(head)
    quant = bytearray(data)
    at = data.index(b"\xe6\x9d\xb1\xe4\xba\xac\x00") + 7 + 9  # after the last word entry: the quant flag
    quant[at] = 1
    (tmp_path / "q.bin").write_bytes(bytes(quant))
    with pytest.raises(FormatError, match=r"quantized model \(.ftz\)"):
        read_fasttext(tmp_path / "q.bin")
    with pytest.raises(FormatError, match="Expected a fastText .bin model"):
        (tmp_path / "x.bin").write_bytes(b"\x00" * 200)
        read_fasttext(tmp_path / "x.bin")


def test_convert_keeps_the_ngram_table_and_queries_use_it(tmp_path):
    p, matrix = _model(tmp_path)
    out = tmp_path / "ft"
    r = runner.invoke(app, ["convert", str(p), str(out)])
    assert r.exit_code == 0, r.output
    assert "kept the fastText n-gram table (97 buckets)" in r.stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["subwords"]["minn"] == 2 and meta["subwords"]["buckets"] == 97 and len(meta["subwords"]["sha256"]) == 64
    assert sorted(os.listdir(out)) == ["meta.json", "ngrams.npy", "vectors.npy", "vocab.txt"]
    wv = read_vectors(out)
    assert isinstance(wv.subwords.ngrams, np.memmap)
    np.testing.assert_array_equal(wv.subword_vector("kings"), _expected("kings", matrix, 2, 4, None))
    info = json.loads(runner.invoke(app, ["info", str(out), "--json"]).stdout)
    assert info["subwords"] == {"kind": "fasttext", "minn": 2, "maxn": 4, "buckets": 97}

    # neighbours of an out-of-vocabulary word: its n-gram vector against every word
    r = runner.invoke(app, ["neighbours", "kings", "--vectors", str(out), "--json", "-k", "3"])
    assert r.exit_code == 0, r.output
    got = [json.loads(line)["word"] for line in r.stdout.splitlines()]
    q = _expected("kings", matrix, 2, 4, None)
    vecs = np.asarray(wv.vectors)
    cos = vecs @ q / np.linalg.norm(vecs, axis=1) / np.linalg.norm(q)
    assert got == [WORDS[i] for i in np.argsort(-cos)[:3]]
    from embedkit.search.queries import neighbours_of
    from embedkit.vectors.vector_set import open_vectors

    assert neighbours_of(open_vectors(out), "kings", 3).subword is True
    r = runner.invoke(app, ["similarity", "kings", "king", "--vectors", str(out), "--json"])
    sim = json.loads(r.stdout)["similarity"]
    k = vecs[0]
    assert sim == pytest.approx(float(q @ k / np.linalg.norm(q) / np.linalg.norm(k)), abs=1e-6)
    # a plain native set still says the word is unknown
    plain = tmp_path / "plain"
    runner.invoke(app, ["convert", str(out), str(tmp_path / "g.txt"), "--to", "glove"])
    runner.invoke(app, ["convert", str(tmp_path / "g.txt"), str(plain)])
    r = runner.invoke(app, ["neighbours", "kings", "--vectors", str(plain)])
    assert r.exit_code == 1 and "kings" in r.stderr


def test_float16_set_keeps_float16_ngrams(tmp_path):
    p, _ = _model(tmp_path)
    out = tmp_path / "h"
    assert runner.invoke(app, ["convert", str(p), str(out), "--dtype", "float16"]).exit_code == 0
    wv = read_vectors(out)
    assert wv.vectors.dtype == np.float16 and wv.subwords.ngrams.dtype == np.float16
    assert wv.subword_vector("kings").dtype == np.float32


def test_damaged_ngram_table_is_a_one_line_error(tmp_path):
    p, _ = _model(tmp_path)
    out = tmp_path / "ft"
    runner.invoke(app, ["convert", str(p), str(out)])
    (out / "ngrams.npy").write_bytes(b"garbage")
    for args in (["info", str(out)], ["neighbours", "kings", "--vectors", str(out)], ["convert", str(out), str(tmp_path / "o")]):
        r = runner.invoke(app, args)
        assert r.exit_code == 1 and "Traceback" not in r.output and "ngrams.npy" in r.stderr, r.output


def test_matrix_builder_uses_fasttext_subwords(tmp_path):
    from embedkit.matrix.builder import build_embedding_matrix

    p, matrix = _model(tmp_path)
    wv = read_vectors(p)
    em = build_embedding_matrix(["", "king", "King", "kingz", "東京都"], wv, oov="zeros")
    assert em.sources == ["padding", "exact", "lowercase", "subword", "subword"]
    assert em.coverage.by_fallback["subword"] == 2
    np.testing.assert_array_equal(em.matrix[3], _expected("kingz", matrix, 2, 4, None))
    off = build_embedding_matrix(["kingz"], wv, oov="zeros", subword_fallback=False)
    assert off.sources == ["initialised"]


def test_gensim_fasttext_keyed_vectors_bring_their_ngrams(tmp_path):
    from gensim.models.fasttext import load_facebook_vectors

    p, _ = _model(tmp_path)
    from embedkit.vectors.word_vectors import WordVectors

    kv = load_facebook_vectors(str(p))
    wv = WordVectors.from_gensim(kv)
    np.testing.assert_array_equal(wv.subword_vector("kings"), kv.get_vector("kings"))
