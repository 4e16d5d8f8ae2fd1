"""Readers and writers: round trips, the text reader (Arrow blocks in threads), word2vec binary, and bad input."""

from __future__ import annotations

import bz2
import gzip
import lzma

import numpy as np
import pytest

from embedkit.errors import EmbedkitError, FormatError
from embedkit.vectors.formats import detect_format
from embedkit.vectors.loading import read_vectors, write_vectors
from embedkit.vectors.formats import text as text_mod
from embedkit.vectors.formats.binary import read_word2vec_binary, write_word2vec_binary
from embedkit.vectors.formats.text import read_text
from embedkit.vectors.word_vectors import WordVectors


def _glove_lines(n: int, dim: int, seed: int = 0) -> tuple[list[str], np.ndarray, str]:
    """Random vectors formatted like GloVe ('%.5g', a few tiny values in exponent form)."""
    rng = np.random.default_rng(seed)
    vals = rng.standard_normal((n, dim)).astype(np.float32)
    vals[rng.random((n, dim)) < 0.01] *= 1e-6
    words = [f"w{i}" for i in range(n)]
    text = "".join(w + " " + " ".join("%.5g" % v for v in row) + "\n" for w, row in zip(words, vals.tolist()))
    as_read = np.array([[float("%.5g" % v) for v in row] for row in vals.tolist()], dtype=np.float32)
    return words, as_read, text


@pytest.fixture
def parallel(monkeypatch):
    """Small blocks, so that a small file is many blocks parsed by several threads (and line numbers, skips
    and duplicates cross block boundaries)."""
    monkeypatch.setattr(text_mod, "BLOCK", 4096)


# -- round trips -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["native", "word2vec", "glove", "word2vec-bin"])
def test_round_trip_exact(tmp_path, small_vectors, fmt):
    out = tmp_path / ("set" if fmt == "native" else "v.out")
    write_vectors(small_vectors, out, format=fmt)
    assert detect_format(out) == fmt
    back = read_vectors(out)
    assert back.keys == small_vectors.keys
    np.testing.assert_array_equal(np.asarray(back.vectors), small_vectors.vectors)
    if fmt == "native":
        np.testing.assert_array_equal(back.counts, small_vectors.counts)


def test_native_float16_round_trip(tmp_path, small_vectors):
    small_vectors.save(tmp_path / "h", dtype="float16")
    back = read_vectors(tmp_path / "h", verify=True)
    assert back.vectors.dtype == np.float16
    np.testing.assert_array_equal(back.vectors, small_vectors.vectors.astype(np.float16))


def test_native_without_counts_and_bad_vocab(tmp_path):
    wv = WordVectors(["a b", "c"], np.ones((2, 3), np.float32))
    wv.save(tmp_path / "s")
    back = read_vectors(tmp_path / "s")
    assert back.keys == ["a b", "c"] and back.counts is None
    (tmp_path / "s" / "vocab.txt").write_text("a b\t-1\nc\n", encoding="utf-8")
    with pytest.raises(FormatError, match="tab"):
        read_vectors(tmp_path / "s")


def test_text_precision_and_header_forms(tmp_path, small_vectors):
    p = tmp_path / "v.txt"
    small_vectors.save(p, format="word2vec", precision=5)
    assert p.read_text().splitlines()[0] == "200 16"
    back = read_text(p)
    np.testing.assert_array_equal(back.vectors, np.array([[float("%.5g" % x) for x in r] for r in
                                                          small_vectors.vectors.tolist()], np.float32))


# -- text reader: agreement with gensim and between serial / parallel ----------------------------------------
def test_text_matches_gensim_on_real_glove(tmp_path, glove50):
    from gensim.models import KeyedVectors

    sub = glove50.subset(glove50.keys[:10000])
    p = tmp_path / "g.txt"
    sub.save(p, format="glove", precision=5)
    kv = KeyedVectors.load_word2vec_format(str(p), no_header=True)
    for workers in (1, 2):
        wv = read_text(p, workers=workers)
        assert wv.keys == kv.index_to_key
        assert np.abs(wv.vectors - kv.vectors).max() == 0


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_parallel_equals_serial(tmp_path, parallel, workers):
    words, _, text = _glove_lines(3000, 7)
    p = tmp_path / "v.txt"
    p.write_text("3000 7\n" + text)
    serial = read_text(p, workers=1)
    par = read_text(p, workers=workers)
    assert par.keys == serial.keys == words
    np.testing.assert_array_equal(par.vectors, serial.vectors)
    assert par.key_to_index["w2999"] == 2999


def test_parallel_error_names_global_line(tmp_path, parallel):
    _, _, text = _glove_lines(2000, 5)
    lines = text.splitlines(keepends=True)
    lines[1800] = "broken 1 2 3\n"
    p = tmp_path / "v.txt"
    p.write_text("".join(lines))
    for workers in (1, 3):
        with pytest.raises(FormatError) as ei:
            read_text(p, workers=workers)
        msg = str(ei.value)
        assert "line 1801 of" in msg and str(p) in msg and "Expected 5 values" in msg and "Received: 3" in msg


def test_parallel_skip_and_duplicates_across_ranges(tmp_path, parallel):
    words, vals, text = _glove_lines(2000, 4)
    lines = text.splitlines(keepends=True)
    lines[10] = "bad 1 2\n"
    lines[1500] = "bad2 1 2 3 4 5 x\n"
    lines[1900] = lines[3].replace("w3 ", "w3 ", 1)  # duplicate of w3 in the last range
    lines[1200] = "w5 9 9 9 9\n"  # duplicate of w5, different values
    p = tmp_path / "v.txt"
    p.write_text("".join(lines))
    for workers in (1, 4):
        report: dict = {}
        wv = read_text(p, workers=workers, skip_bad_lines=True, report=report)
        assert report == {"skipped_lines": 2, "duplicates": 2, "lines": 2000}
        expect = [w for i, w in enumerate(words) if i not in (10, 1500, 1900, 1200)]
        assert wv.keys == expect
        np.testing.assert_array_equal(wv["w5"], vals[5])
        np.testing.assert_array_equal(wv["w1999"], vals[1999])
        assert len(wv.vectors) == len(expect)


# -- text reader: formats and bad input ------------------------------------------------------------------------
def test_header_autodetect_and_forced(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("2 3\nx 1 2 3\ny 4 5 6\n")
    assert read_text(p).keys == ["x", "y"]
    g = tmp_path / "b.txt"
    g.write_text("\n\nx 1 2 3\ny 4 5 6")  # blank lines first, no final newline
    assert read_text(g).keys == ["x", "y"]
    with pytest.raises(FormatError, match="Expected a word2vec header 'count dim' on line 3"):
        read_text(g, header=True)


def test_words_with_spaces(tmp_path):
    p = tmp_path / "s.txt"
    p.write_text("new york 1 2 3\nparis 4 5 6\nlos  angeles 7 8 9\n")
    wv = read_text(p)
    assert wv.keys == ["new york", "paris", "los angeles"] and wv.dim == 3


def test_wrong_value_count_and_skip(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("a 1 2 3\nb 1 2\nc 1 2 3\nd 1  3\n")
    with pytest.raises(FormatError) as ei:
        read_text(p)
    assert str(ei.value) == f"Expected 3 values after the word on line 2 of {p}. Received: 2 values"
    report: dict = {}
    wv = read_text(p, skip_bad_lines=True, report=report)
    assert wv.keys == ["a", "c"] and report["skipped_lines"] == 2


def test_unparsable_value(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("a 1 2 3\nb 1 x2 3\n")
    with pytest.raises(FormatError, match=r"numeric values on line 2 .* Received: b'x2'"):
        read_text(p)
    assert read_text(p, skip_bad_lines=True).keys == ["a"]


def test_non_utf8_names_line_and_latin1_works(tmp_path):
    p = tmp_path / "v.txt"
    p.write_bytes(b"a 1 2\ncaf\xe9 3 4\n")
    with pytest.raises(FormatError) as ei:
        read_text(p)
    assert "line 2 of" in str(ei.value) and "--encoding" in str(ei.value)
    assert read_text(p, encoding="latin-1").keys == ["a", "café"]
    report: dict = {}
    assert read_text(p, skip_bad_lines=True, report=report).keys == ["a"] and report["skipped_lines"] == 1


def test_duplicates_keep_first(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("a 1 2\nb 3 4\na 5 6\n")
    report: dict = {}
    wv = read_text(p, report=report)
    assert wv.keys == ["a", "b"] and wv["a"].tolist() == [1, 2] and report["duplicates"] == 1


@pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity"])
def test_nan_inf_rejected(tmp_path, bad):
    p = tmp_path / "v.txt"
    p.write_text(f"a 1 2\nb 3 {bad}\n")
    with pytest.raises(FormatError, match="finite numbers on line 2"):
        read_text(p)
    assert read_text(p, skip_bad_lines=True).keys == ["a"]


def test_empty_and_blank_files(tmp_path):
    for content in ("", "\n \n"):
        p = tmp_path / "e.txt"
        p.write_text(content)
        with pytest.raises(FormatError, match="empty file"):
            read_text(p)
        with pytest.raises(EmbedkitError, match="empty"):
            read_vectors(p)


def test_header_disagrees_with_body(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("3 2\na 1 2\nb 3 4\n")
    with pytest.raises(FormatError, match="declares 3 vectors of dim 2. Received: 2 vectors"):
        read_text(p)
    q = tmp_path / "w.txt"
    q.write_text("2 3\na 1 2\nb 3 4\n")
    with pytest.raises(FormatError, match="Expected 3 values after the word on line 2 .*header declares"):
        read_text(q)


def test_limit(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("a 1 2\nb 3 4\nc 5 6\nbroken\n")
    assert read_text(p, limit=2).keys == ["a", "b"]
    with pytest.raises(EmbedkitError, match="limit"):
        read_text(p, limit=0)


def test_directory_and_missing(tmp_path):
    with pytest.raises(EmbedkitError, match="directory"):
        read_text(tmp_path)
    with pytest.raises(EmbedkitError, match="directory"):
        read_vectors(tmp_path)
    with pytest.raises(EmbedkitError, match="does not exist"):
        read_vectors(tmp_path / "nope.txt")


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz")])
def test_compressed_text(tmp_path, opener, suffix):
    words, vals, text = _glove_lines(500, 6)
    p = tmp_path / f"v.txt{suffix}"
    with opener(p, "wt") as fh:
        fh.write("500 6\n" + text)
    wv = read_vectors(p)
    assert wv.keys == words
    np.testing.assert_array_equal(wv.vectors, vals)


# -- word2vec binary ----------------------------------------------------------------------------------------------
def test_binary_gensim_interop_both_ways(tmp_path, glove50):
    from gensim.models import KeyedVectors

    sub = glove50.subset(glove50.keys[:5000])
    kv = sub.to_gensim()
    gpath = tmp_path / "gensim.bin"
    kv.save_word2vec_format(str(gpath), binary=True)
    mine = read_word2vec_binary(gpath)
    assert mine.keys == sub.keys
    np.testing.assert_array_equal(mine.vectors, sub.vectors)

    epath = tmp_path / "embedkit.bin"
    write_word2vec_binary(sub, epath)
    kv2 = KeyedVectors.load_word2vec_format(str(epath), binary=True)
    assert kv2.index_to_key == sub.keys
    np.testing.assert_array_equal(kv2.vectors, np.asarray(sub.vectors))


def test_binary_truncated(tmp_path, small_vectors):
    p = tmp_path / "v.bin"
    write_word2vec_binary(small_vectors, p)
    data = p.read_bytes()
    (tmp_path / "t.bin").write_bytes(data[:-30])
    with pytest.raises(FormatError) as ei:
        read_word2vec_binary(tmp_path / "t.bin")
    assert "Expected 200 vectors of dim 16 (64 bytes each)" in str(ei.value)
    assert "inside vector 200 ('w199')" in str(ei.value)
    entry = len("w0 ") + 64 + 1
    (tmp_path / "u.bin").write_bytes(data[: len("200 16\n") + entry])
    with pytest.raises(FormatError, match="ends after 1 vectors"):
        read_vectors(tmp_path / "u.bin", format="word2vec-bin")
    assert read_word2vec_binary(tmp_path / "t.bin", limit=10).keys == small_vectors.keys[:10]


def test_binary_header_errors_and_trailing_data(tmp_path, small_vectors):
    p = tmp_path / "v.bin"
    p.write_bytes(b"ten 16\n")
    with pytest.raises(FormatError, match="header 'count dim'"):
        read_word2vec_binary(p)
    write_word2vec_binary(small_vectors, p)
    (tmp_path / "x.bin").write_bytes(p.read_bytes().replace(b"200 16", b"199 16", 1))
    with pytest.raises(FormatError, match="declares 199 vectors .* more data"):
        read_word2vec_binary(tmp_path / "x.bin")


def test_binary_bad_words_nan_duplicates(tmp_path):
    def entry(w: bytes, v) -> bytes:
        return w + b" " + np.asarray(v, "<f4").tobytes() + b"\n"

    p = tmp_path / "v.bin"
    p.write_bytes(b"4 2\n" + entry(b"a", [1, 2]) + entry(b"caf\xe9", [3, 4]) + entry(b"a", [5, 6])
                  + entry(b"z", [np.nan, 1]))
    with pytest.raises(FormatError, match=r"utf-8 text in word 2 .*--encoding"):
        read_word2vec_binary(p)
    with pytest.raises(FormatError, match=r"finite numbers in vector 4 \('z'\)"):
        read_word2vec_binary(p, encoding="latin-1")
    report: dict = {}
    wv = read_word2vec_binary(p, skip_bad_lines=True, report=report)
    assert wv.keys == ["a"] and wv["a"].tolist() == [1, 2]
    assert report == {"skipped_lines": 2, "duplicates": 1, "lines": 4}


def test_binary_writer_rejects_spaces(tmp_path):
    with pytest.raises(EmbedkitError, match="no whitespace"):
        write_word2vec_binary(WordVectors(["a b"], np.ones((1, 2), np.float32)), tmp_path / "v.bin")
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_make_glove_txt_reproduces_original_file(tmp_path, glove50):
    """scripts/make_glove_txt.py writes the 171,350,079-byte original; the parallel reader reads it back."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "make_glove_txt.py"
    spec = importlib.util.spec_from_file_location("make_glove_txt", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "glove.6B.50d.txt"
    assert mod.main(str(out)) == 171_350_079 == out.stat().st_size
    wv = read_text(out)
    assert wv.keys == glove50.keys
    ref = np.asarray(glove50.vectors, dtype=np.float32)
    assert np.all(np.abs(wv.vectors - ref) <= 5e-5 * np.maximum(np.abs(ref), 1e-30) + 1e-45)


def test_double_space_line_is_reported(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("a 1 2 3\nb 1  3\n")
    with pytest.raises(FormatError, match="line 2"):
        read_text(p)


@pytest.mark.parametrize("bad", ["a\tb", "a\nb", "a\rb"])
@pytest.mark.parametrize("counts", [None, [3, 2, 1]])
def test_native_vocabulary_refuses_words_that_break_its_lines(tmp_path, bad, counts):
    """vocab.txt is one ``word<TAB>count`` line per word: a word with a tab, newline or carriage return is refused
    with one line (with or without counts), and nothing is left at the output."""
    wv = WordVectors(["x", bad, "y"], np.ones((3, 2), np.float32), counts)
    with pytest.raises(EmbedkitError, match="must not contain tabs or newlines") as err:
        wv.save(tmp_path / "set")
    assert "\n" not in str(err.value) and repr(bad) in str(err.value)
    assert not (tmp_path / "set").exists()
    good = WordVectors(["x", "z", "y"], np.ones((3, 2), np.float32), counts)
    good.save(tmp_path / "ok")
    back = WordVectors.load(tmp_path / "ok")
    assert back.keys == ["x", "z", "y"] and (counts is None or back.counts.tolist() == counts)
