"""The Arrow text reader: it agrees with the line reader on every input, values are gensim's float64-then-
float32, and bad input (wrong widths, a BOM, a header where none belongs, absurd dims or counts, broken
compressed streams) is a one-line error."""

from __future__ import annotations

import bz2
import gzip
import lzma

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedkit.errors import EmbedkitError, FormatError
from embedkit.vectors.formats import text as text_mod
from embedkit.vectors.formats.binary import read_word2vec_binary
from embedkit.vectors.formats.common import MAX_DIM
from embedkit.vectors.formats.text import read_text
from embedkit.vectors.loading import read_vectors


def _outcome(path, monkeypatch, arrow: bool, block: int, **options):
    """What read_text makes of ``path``: ('ok', keys, vectors, report) or ('error', message)."""
    with monkeypatch.context() as m:
        m.setattr(text_mod, "BLOCK", block)
        if not arrow:
            m.setattr(text_mod, "_arrow_parse", lambda block, ctx: None)
        report: dict = {}
        try:
            t = read_text(path, report=report, **options)
        except EmbedkitError as e:
            return ("error", str(e))
        return ("ok", t.keys, np.asarray(t.vectors).tobytes(), report)


# -- the Arrow path and the line reader agree on anything -------------------------------------------------------
_WORD = st.sampled_from(["the", "a", "Zürich", "東京", '"', "'", "q\"uote", "a,b", "#", "\\", "x\ty", "1_0", "-",
                         "naïve", "\u00a0nbsp", "new york", "los  angeles", "route 66", "", "the"])
_VALUE = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False, width=32).map(lambda v: "%.5g" % v),
    st.floats(-1e30, 1e30, allow_nan=False).map(repr),
    st.sampled_from(["+1", ".5", "5.", "1e5", "1E-7", "-0", "1_0", "nan", "inf", "x2", "1e400", "0x10", "00012"]),
)


@st.composite
def _files(draw):
    dim = draw(st.integers(1, 4))
    header = draw(st.booleans())
    lines = []
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.sampled_from(["ok"] * 8 + ["blank", "short", "long", "spaces", "trailing"]))
        word = draw(_WORD)
        n = {"short": dim - 1, "long": dim + 1}.get(kind, dim)
        vals = [draw(_VALUE) if draw(st.integers(0, 9)) == 0 else "%.5g" % draw(st.floats(-5, 5, width=32))
                for _ in range(max(n, 0))]
        if kind == "blank":
            lines.append(draw(st.sampled_from(["", " ", "\t"])))
            continue
        line = " ".join([word] + vals)
        if kind == "spaces":
            line = line.replace(" ", "  ", 1)
        if kind == "trailing":
            line += " "
        lines.append(line)
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    body = eol.join(lines) + draw(st.sampled_from([eol, ""]))
    if draw(st.integers(0, 9)) == 0:
        body = body.replace("\n", "\r", 1)  # a lone carriage return
    head = f"{len(lines)} {dim}{eol}" if header else ""
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    raw = (head + body).encode("utf-8")
    if encoding == "latin-1" and draw(st.booleans()):
        raw = raw.replace("ü".encode(), b"\xfc")
    return raw, encoding, draw(st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_files())
def test_arrow_agrees_with_the_line_reader(tmp_path, monkeypatch, case):
    raw, encoding, skip = case
    p = tmp_path / "v.txt"
    p.write_bytes(raw)
    opts = {"encoding": encoding, "skip_bad_lines": skip, "workers": 2}
    want = _outcome(p, monkeypatch, arrow=False, block=1 << 22, **opts)
    for block in (1 << 22, 64):  # one block; many blocks parsed by threads
        got = _outcome(p, monkeypatch, arrow=True, block=block, **opts)
        assert got == want


def test_arrow_takes_words_with_spaces_and_csv_special_characters(tmp_path, monkeypatch):
    p = tmp_path / "v.txt"
    rows = ['" 1 2', "a,b 3 4", "new york 5 6", "q\"x 7 8", "#c 9 10", "\\ 11 12", "los  angeles 13 14"]
    p.write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(text_mod, "_parse_block", None)  # the line reader must not be needed
    t = read_text(p)
    assert t.keys == ['"', "a,b", "new york", 'q"x', "#c", "\\", "los angeles"]
    assert t.vectors[:, 0].tolist() == [1, 3, 5, 7, 9, 11, 13]


# -- values: gensim's parse, proved on awkward decimals -----------------------------------------------------------
def test_values_are_float64_rounded_to_float32_like_gensim(tmp_path):
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(3)
    tokens = [repr(float(x)) for x in rng.standard_normal(3000) * 10.0 ** rng.integers(-40, 38, 3000)]
    tokens = [t for t in tokens if abs(float(t)) < 3.4e38]
    tokens += ["%.9g" % x for x in rng.standard_normal(3000).astype(np.float32)]
    tokens += ["1.0000000596046448", "1.00000017881393432617187499", "3.4028235677973362e38", "1e-45", "7e-46"]
    tokens = tokens[: len(tokens) // 4 * 4]
    lines = [f"w{i} " + " ".join(tokens[i * 4 : i * 4 + 4]) for i in range(len(tokens) // 4)]
    p = tmp_path / "v.txt"
    p.write_text("\n".join(lines) + "\n")
    ours = read_text(p)
    kv = KeyedVectors.load_word2vec_format(str(p), no_header=True)
    expect = np.array([[np.float32(float(t)) for t in line.split()[1:]] for line in lines], np.float32)
    np.testing.assert_array_equal(ours.vectors, expect)
    np.testing.assert_array_equal(ours.vectors, kv.vectors)


def test_values_beyond_float32_are_refused(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("a 1 2\nb 3.4028235677973366e38 1\n")
    with pytest.raises(FormatError) as ei:
        read_text(p)
    assert str(ei.value) == (f"Expected values within float32's range (|x| < 3.4e38) on line 2 of {p}. "
                             f"Received: 3.4028235677973366e38")
    assert read_text(p, skip_bad_lines=True).keys == ["a"]
    q = tmp_path / "w.txt"
    q.write_text("a 1 2\nb 3.4028235677973362e38 -1e-50\n")  # rounds to float32's largest value, and to -0
    assert read_text(q).vectors[1].tolist() == [float(np.finfo(np.float32).max), -0.0]


def test_parsing_straight_to_float32_would_differ(tmp_path):
    """Why embedkit parses float64 first: a decimal just above a float32 midpoint rounds to the midpoint in
    float64, and then to even; parsed straight to float32 it rounds up."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    tok = "1.0000000596046448"  # 1 + 2**-24 + 2.5e-17: just above the midpoint of 1 and 1 + 2**-23
    p = tmp_path / "v.txt"
    p.write_text(f"w {tok}\n")
    assert read_text(p).vectors[0, 0] == np.float32(1.0) == np.float32(tok)
    direct = pacsv.read_csv(pa.py_buffer(f"w {tok}\n".encode()), read_options=pacsv.ReadOptions(column_names=["w", "v"]),
                            parse_options=pacsv.ParseOptions(delimiter=" "),
                            convert_options=pacsv.ConvertOptions(column_types={"w": pa.string(), "v": pa.float32()}))
    assert direct.column("v")[0].as_py() == float(np.nextafter(np.float32(1), np.float32(2)))


# -- what the first line says ----------------------------------------------------------------------------------
def test_utf8_bom_before_header_or_first_row(tmp_path):
    p = tmp_path / "h.txt"
    p.write_bytes(b"\xef\xbb\xbf2 3\nx 1 2 3\ny 4 5 6\n")
    t = read_text(p)
    assert t.keys == ["x", "y"] and t.dim == 3
    g = tmp_path / "g.txt"
    g.write_bytes(b"\xef\xbb\xbfx 1 2\ny 3 4\n")
    assert read_text(g).keys == ["x", "y"]
    assert read_vectors(g, format="glove").keys == ["x", "y"]


def test_glove_asked_for_a_file_with_a_header(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("2 3\nx 1 2 3\ny 4 5 6\n")
    with pytest.raises(FormatError, match=r"Expected GloVe text \(no header line\) .* word2vec header '2 3' on line 1"):
        read_vectors(p, format="glove")


def test_header_dims_fewer_than_the_rows(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("2 3\nx 1 2 3 4\ny 4 5 6 7\n")
    with pytest.raises(FormatError) as ei:
        read_text(p)
    assert str(ei.value) == f"Expected 3 values after the word on line 2 of {p} (as its header declares). Received: 4 values"


def test_glove_row_with_one_value_too_many_is_not_a_word_with_spaces(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("a 1 2 3\nb 1 2 3 4\nnew york 1 2 3\n")
    with pytest.raises(FormatError) as ei:
        read_text(p)
    assert str(ei.value) == f"Expected 3 values after the word on line 2 of {p}. Received: 4 values"
    report: dict = {}
    assert read_text(p, skip_bad_lines=True, report=report).keys == ["a", "new york"]
    assert report["skipped_lines"] == 1


def test_absurd_dimensions_are_refused(tmp_path):
    p = tmp_path / "wide.txt"
    p.write_text("w " + " ".join(["1"] * (MAX_DIM + 1)) + "\n")
    with pytest.raises(FormatError, match=rf"Expected at most {MAX_DIM} values per vector in line 1 .* dim={MAX_DIM + 1}"):
        read_text(p)
    q = tmp_path / "long.txt"
    with open(q, "wb") as fh:  # 17 MiB and no newline: not a vector
        fh.write(b"w" + b" 1.5" * (17 << 18))
    with pytest.raises(FormatError, match="at most 16 MiB of values on line 1 .* a longer line"):
        read_text(q)


@pytest.mark.parametrize("header", [b"100000000000 50", b"3 100000000", b"2 0"])
def test_headers_that_disagree_with_the_file(tmp_path, header):
    p = tmp_path / "v.txt"
    p.write_bytes(header + b"\na 1 2\nb 3 4\n")
    b = tmp_path / "v.bin"
    b.write_bytes(header + b"\na " + np.ones(2, "<f4").tobytes() + b"\n")
    for path, reader in ((p, read_text), (b, read_word2vec_binary)):
        with pytest.raises(FormatError) as ei:
            reader(path)
        msg = str(ei.value)
        assert "\n" not in msg and "memory" not in msg.lower()
        if header.startswith(b"1000"):
            assert "declares 100000000000 vectors of dim 50, which need at least" in msg and "bytes after the header" in msg
        elif header.startswith(b"3 "):
            assert f"Expected at most {MAX_DIM} values per vector in the header" in msg
        else:
            assert "Expected a positive dim in the header" in msg


# -- compressed input ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("opener,suffix,kind", [(gzip.open, ".gz", "gzip"), (bz2.open, ".bz2", "bzip2"), (lzma.open, ".xz", "xz")])
def test_truncated_and_fake_compressed_files(tmp_path, opener, suffix, kind):
    body = "".join(f"w{i} {i} {i + 1}\n" for i in range(5000)).encode()
    good = tmp_path / f"v.txt{suffix}"
    with opener(good, "wb") as fh:
        fh.write(body)
    assert read_vectors(good).keys[-1] == "w4999"
    cut = tmp_path / f"cut.txt{suffix}"
    cut.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(FormatError) as ei:
        read_vectors(cut)
    assert str(ei.value).startswith(f"Expected a complete {kind} stream in {cut}. Received:")
    fake = tmp_path / f"fake.txt{suffix}"
    fake.write_bytes(body)
    with pytest.raises(FormatError, match=f"Expected a complete {kind} stream in {fake}"):
        read_vectors(fake)


def test_compressed_binary_truncated(tmp_path):
    raw = b"2 2\na " + np.ones(2, "<f4").tobytes() + b"\nb " + np.ones(2, "<f4").tobytes() + b"\n"
    p = tmp_path / "v.bin.gz"
    p.write_bytes(gzip.compress(raw)[:-12])
    with pytest.raises(FormatError, match="Expected a complete gzip stream"):
        read_vectors(p, format="word2vec-bin")
