"""The formats registry (declared options, one-line errors), the native layout helpers, home vs catalog."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit.errors import EmbedkitError
from embedkit.vectors import catalog, home
from embedkit.vectors.formats import FORMATS, VectorFormat, VectorTable, read_table, reader_options, write_table
from embedkit.vectors.formats import native
from embedkit.vectors.loading import read_vectors
from embedkit.vectors.word_vectors import WordVectors


def test_every_format_is_a_class_declaring_its_options():
    for name, cls in FORMATS.items():
        assert issubclass(cls, VectorFormat) and cls.name == name
        assert "report" not in cls.write_options and isinstance(tuple(cls.read_options), tuple)


@pytest.mark.parametrize("fmt,target", [("native", "s"), ("word2vec", "v.txt"), ("glove", "g.txt"),
                                        ("word2vec-bin", "v.bin")])
def test_misspelt_options_are_one_line_errors(tmp_path, small_vectors, fmt, target):
    out = tmp_path / target
    with pytest.raises(EmbedkitError) as ei:
        small_vectors.save(out, format=fmt, precison=3)
    assert str(ei.value).startswith(f"Options of the {fmt} writer must be among") and "Received: precison" in str(ei.value)
    assert "\n" not in str(ei.value) and not out.exists()
    small_vectors.save(out, format=fmt)
    with pytest.raises(EmbedkitError, match=f"Options of the {fmt} reader must be among .*Received: limt"):
        read_vectors(out, limt=3)
    with pytest.raises(EmbedkitError, match=f"Options of the {fmt} reader"):
        read_vectors(out, format=fmt, limt=3)


def test_tables_round_trip_without_word_vectors(tmp_path):
    t = VectorTable(["a", "b"], np.array([[1, 2], [3, 4]], np.float32), np.array([5, 6]))
    write_table(t, tmp_path / "s")
    back = read_table(tmp_path / "s")
    assert back.keys == ["a", "b"] and back.counts.tolist() == [5, 6] and back.meta["size"] == 2
    assert back["b"].tolist() == [3, 4] and back.key_to_index == {"a": 0, "b": 1}
    assert WordVectors.from_table(back).meta["dim"] == 2
    assert reader_options("glove", {"encoding": "latin-1", "verify": True}) == {"encoding": "latin-1"}
    with pytest.raises(EmbedkitError, match="`format` must be one of native, word2vec, glove, word2vec-bin"):
        read_table(tmp_path / "s", format="csv")


def test_native_layout_helpers(tmp_path, small_vectors):
    d = tmp_path / "s"
    assert not native.is_native_set(d)
    small_vectors.save(d)
    assert native.is_native_set(d) and native.check_native_dir(d) == d
    assert native.vectors_sha256(d) == native.read_meta(d)["sha256"] == native.vectors_sha256(d, recompute=True)
    assert native.vectors_file(d).stat().st_size > 200 * 16 * 4
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmbedkitError, match="native vectors directory"):
        native.check_native_dir(tmp_path / "empty")


def test_native_vocab_edges(tmp_path):
    words = ["café", "日本", "a b", "x"]
    WordVectors(words, np.ones((4, 2), np.float32), counts=[4, 3, 2, 1]).save(tmp_path / "u")
    v = native.NativeVocab(tmp_path / "u")
    assert [v.row(w) for w in words] == [0, 1, 2, 3] and [v[i] for i in range(4)] == words
    assert v.row("caf") is None and v.row("") is None and v.row("a\tb") is None and "x" in v


def test_home_sets_installed_defaults_only_catalog_installs(home_dir_sets):
    with pytest.raises(EmbedkitError, match="No vector set named 'glove-6b-50d'"):
        home.set_default("glove-6b-50d")
    home.set_default("mine")
    assert home.get_default() == "mine" and catalog.resolve_vectors_path(None) == home.set_path("mine")
    entries = catalog.list_vector_sets()
    assert [e.name for e in entries][:1] == ["mine"] and entries[0].default and entries[0].size == 200
    assert {e.name for e in entries if not e.installed} >= {"glove-6b-50d"}
    assert entries[0].to_dict()["installed"] is True
    with pytest.raises(EmbedkitError, match="No vector set named 'nope'"):
        catalog.make_default("nope")


@pytest.fixture
def home_dir_sets(home, small_vectors):
    small_vectors.save(home / "vectors" / "mine")
    return home
