"""open_vectors / VectorSet: resolved once; lazy meta, matrix, vocabulary and index for native sets."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from embedkit.errors import EmbedkitError
from embedkit.search.queries import neighbours, neighbours_of
from embedkit.search.vector_index import index_path
from embedkit.vectors.formats import native
from embedkit.vectors.vector_set import VectorSet, open_vectors
from embedkit.vectors.word_vectors import WordVectors


@pytest.fixture
def native_set(tmp_path, small_vectors):
    small_vectors.save(tmp_path / "set")
    return tmp_path / "set"


def test_native_set_opens_lazily(native_set, small_vectors, monkeypatch):
    def no_full_read(*a, **k):
        raise AssertionError("the whole vocabulary was parsed")

    monkeypatch.setattr(native, "_read_vocab", no_full_read)
    vs = open_vectors(native_set)
    assert vs.native and vs.name == "set" and vs.format == "native"
    assert vs.meta["size"] == 200 and vs.size == 200 and vs.dim == 16
    assert isinstance(vs.matrix, np.memmap) and not vs.matrix.flags.writeable
    np.testing.assert_array_equal(vs.matrix[5], small_vectors.vectors[5])
    assert vs.vocab.row("w7") == 7 and vs.vocab[199] == "w199" and vs.vocab.row("nope") is None
    assert vs.vocab.head(3) == ["w0", "w1", "w2"] and len(vs.vocab) == 200
    res = neighbours_of(vs, "w3", k=4)  # the one-word path reads only the rows it needs
    assert res.words == neighbours(small_vectors, "w3", k=4).words
    assert index_path(native_set, "exact").is_file()


def test_native_set_full_read_and_index_reuse(native_set, small_vectors):
    vs = open_vectors(str(native_set))
    assert vs.wv.keys == small_vectors.keys and vs.wv.meta["size"] == 200
    idx = vs.index()
    assert idx.kind == "exact" and vs.index() is idx  # built once per set object
    assert vs.index(approx=True).kind == "hnsw" and index_path(native_set, "hnsw").is_file()
    again = open_vectors(native_set).index(exact=True)
    assert (again.search(small_vectors.vectors[:3], k=2)[1] == idx.search(small_vectors.vectors[:3], k=2)[1]).all()
    with pytest.raises(EmbedkitError, match="at most one of exact and approx"):
        vs.index(exact=True, approx=True)


def test_plain_file_index_is_built_in_memory_with_a_note(tmp_path, small_vectors, caplog):
    p = tmp_path / "v.txt"
    small_vectors.save(p, format="word2vec")
    vs = open_vectors(p)
    assert not vs.native and vs.meta is None and vs.format == "word2vec" and vs.size == 200
    assert vs.vocab.row("w9") == 9 and vs.vocab[3] == "w3"
    logger = logging.getLogger("embedkit")  # the CLI's logging set-up stops propagation to the root logger
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="embedkit"):
            idx = vs.index()
    finally:
        logger.removeHandler(caplog.handler)
    assert "not a native set" in caplog.text and idx.ntotal == 200
    assert not (tmp_path / "index").exists()
    assert neighbours_of(vs, "w3", k=3).words == neighbours(small_vectors, "w3", k=3).words
    with pytest.raises(EmbedkitError, match="Expected a native vector set"):
        vs.require_native()


def test_read_options_and_names(tmp_path, small_vectors, home):
    p = tmp_path / "v.txt"
    small_vectors.save(p, format="glove")
    vs = open_vectors(p, limit=5)
    assert len(vs.wv) == 5 and len(vs.read()) == 200
    small_vectors.save(home / "vectors" / "mine")
    assert open_vectors("mine").path == home / "vectors" / "mine"
    with pytest.raises(EmbedkitError, match="Options of the glove reader must be among"):
        VectorSet.from_path(p, mmap=True).wv


def test_empty_native_set(tmp_path):
    WordVectors([], np.zeros((0, 4), np.float32)).save(tmp_path / "e")
    vs = open_vectors(tmp_path / "e")
    with pytest.raises(EmbedkitError, match="empty vocabulary"):
        neighbours_of(vs, "x")
    with pytest.raises(EmbedkitError, match="empty vocabulary"):
        vs.index()
