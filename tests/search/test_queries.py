"""Queries vs gensim's KeyedVectors: most_similar (3CosAdd), most_similar_cosmul, doesnt_match, similarity."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit.errors import EmbedkitError, UnknownWordError
from embedkit.search.vector_index import VectorIndex
from embedkit.search.queries import (
    analogies,
    analogy,
    doesnt_match,
    most_similar,
    most_similar_cosmul,
    neighbours,
    neighbours_batch,
    similarities,
    similarity,
    word_ids,
)
from embedkit.vectors.word_vectors import WordVectors


@pytest.fixture
def kv(small_vectors):
    return small_vectors.to_gensim()


def _same(ours, theirs, rtol: float = 1e-4) -> None:
    assert [n.word for n in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([n.score for n in ours], [s for _, s in theirs], rtol=rtol, atol=1e-5)
    assert [n.rank for n in ours] == list(range(1, len(ours) + 1))


@pytest.mark.parametrize("use_index", [None, "exact"])
def test_most_similar_matches_gensim(small_vectors, kv, use_index) -> None:
    idx = VectorIndex.build(small_vectors, kind=use_index) if use_index else None
    for w in ["w0", "w17", "w150"]:
        _same(most_similar(small_vectors, w, k=10, index=idx), kv.most_similar(w, topn=10))
    _same(
        most_similar(small_vectors, ["w1", "w2"], ["w3"], k=7, index=idx),
        kv.most_similar(positive=["w1", "w2"], negative=["w3"], topn=7),
    )
    _same(
        most_similar(small_vectors, "w5", k=5, restrict_vocab=50, index=idx),
        kv.most_similar("w5", topn=5, restrict_vocab=50),
    )


def test_most_similar_of_a_raw_vector_matches_gensim(small_vectors, kv) -> None:
    v = np.random.default_rng(3).standard_normal(16).astype(np.float32)
    _same(most_similar(small_vectors, [v], k=5), kv.most_similar(positive=[v], topn=5))
    res = neighbours(small_vectors, v, k=3)
    assert res.query == "<vector>" and len(res.neighbours) == 3


def test_cosmul_matches_gensim(small_vectors, kv) -> None:
    idx = VectorIndex.build(small_vectors, kind="exact")
    for index in (None, idx):
        _same(
            most_similar_cosmul(small_vectors, ["w1", "w2"], ["w3"], k=8, index=index),
            kv.most_similar_cosmul(positive=["w1", "w2"], negative=["w3"], topn=8),
        )
    _same(most_similar_cosmul(small_vectors, ["w9"], k=4), kv.most_similar_cosmul(positive=["w9"], topn=4))


def test_cosmul_with_an_approximate_index_reranks_candidates(small_vectors) -> None:
    hnsw = VectorIndex.build(small_vectors, kind="hnsw")
    exact = most_similar_cosmul(small_vectors, ["w1", "w2"], ["w3"], k=5)
    approx = most_similar_cosmul(small_vectors, ["w1", "w2"], ["w3"], k=5, index=hnsw, candidates=150)
    assert [n.word for n in approx] == [n.word for n in exact]


def test_analogy_and_batched_analogies_agree(small_vectors, kv) -> None:
    qs = [("w1", "w2", "w3"), ("w10", "w20", "w30"), ("w7", "w8", "w9"), ("w100", "w5", "w60")]
    for method, fn in (("add", kv.most_similar), ("mul", kv.most_similar_cosmul)):
        batch = analogies(small_vectors, qs, k=3, method=method, batch_size=3)
        for (a, b, c), got in zip(qs, batch):
            one = analogy(small_vectors, a, b, c, k=3, method=method)
            assert [n.word for n in one.answers] == got
            assert got == [w for w, _ in fn(positive=[b, c], negative=[a], topn=3)]
    hnsw = VectorIndex.build(small_vectors, kind="hnsw")
    assert analogies(small_vectors, qs, k=1, index=hnsw)[0] == analogies(small_vectors, qs, k=1)[0]
    res = analogy(small_vectors, "w1", "w2", "w3", k=2)
    assert res.rows()[0]["a"] == "w1" and res.to_dict()["method"] == "add"
    assert not {"w1", "w2", "w3"} & {n.word for n in res.answers}


def test_analogies_restrict_vocab(small_vectors, kv) -> None:
    qs = [("w1", "w2", "w3")]
    got = analogies(small_vectors, qs, k=5, restrict_vocab=40, method="mul")
    assert all(int(w[1:]) < 40 for w in got[0])
    got_add = analogies(small_vectors, qs, k=5, restrict_vocab=40)
    assert got_add[0] == [w for w, _ in kv.most_similar(positive=["w2", "w3"], negative=["w1"], topn=5,
                                                        restrict_vocab=40)]


def test_neighbours_batch_equals_single_queries(small_vectors) -> None:
    words = [f"w{i}" for i in range(0, 200, 7)]
    for index in (None, VectorIndex.build(small_vectors, kind="exact")):
        batch = neighbours_batch(small_vectors, words, k=6, index=index, batch_size=5)
        assert [r.query for r in batch] == words
        for w, r in zip(words, batch):
            assert r.words == neighbours(small_vectors, w, k=6).words
            assert w not in r.words
    mat = neighbours_batch(small_vectors, np.asarray(small_vectors.vectors[:3]), k=2)
    assert [r.words[0] for r in mat] == ["w0", "w1", "w2"]  # vectors are not excluded


def test_similarity_and_doesnt_match_match_gensim(small_vectors, kv) -> None:
    r = similarity(small_vectors, "w4", "w9")
    assert r.similarity == pytest.approx(float(kv.similarity("w4", "w9")), abs=1e-6)
    assert r.to_dict() == {"word1": "w4", "word2": "w9", "similarity": r.similarity}
    words = ["w1", "w2", "w3", "w4", "w5"]
    res = doesnt_match(small_vectors, words)
    assert res.odd_one_out == kv.doesnt_match(words)
    assert list(res.similarities)[-1] == res.odd_one_out and set(res.similarities) == set(words)
    sims = similarities(small_vectors, [("w4", "w9"), ("w1", "w1"), ("w1", "nope")], missing="nan")
    assert sims[0] == pytest.approx(r.similarity, abs=1e-6) and sims[1] == pytest.approx(1.0) and np.isnan(sims[2])


def test_unknown_word_names_it_with_close_matches(small_vectors) -> None:
    with pytest.raises(UnknownWordError, match=r"'w1000'.*Close matches: .*w100") as e:
        neighbours(small_vectors, "w1000")
    assert 0 < len(e.value.suggestions) <= 5
    with pytest.raises(UnknownWordError):
        similarities(small_vectors, [("w1", "nope")])
    with pytest.raises(UnknownWordError, match="'zz'"):
        word_ids(small_vectors, ["w1"] * 20 + ["zz"])  # dict path


def test_bad_inputs(small_vectors) -> None:
    empty = WordVectors([], np.zeros((0, 16), np.float32))
    with pytest.raises(EmbedkitError, match="empty vocabulary"):
        neighbours(empty, "w1")
    with pytest.raises(EmbedkitError, match="empty vocabulary"):
        similarity(empty, "a", "b")
    with pytest.raises(EmbedkitError, match=r"`k` must be a positive integer. Received: k=0"):
        neighbours(small_vectors, "w1", k=0)
    with pytest.raises(EmbedkitError, match="`restrict_vocab` must be a positive integer"):
        neighbours(small_vectors, "w1", restrict_vocab=0)
    with pytest.raises(EmbedkitError, match="`method` must be"):
        analogy(small_vectors, "w1", "w2", "w3", method="sub")
    with pytest.raises(EmbedkitError, match="at least two words"):
        doesnt_match(small_vectors, ["w1"])
    with pytest.raises(EmbedkitError, match="dimension 16"):
        neighbours(small_vectors, np.ones(3, np.float32))
    other = VectorIndex.build(np.ones((200, 8), np.float32))
    with pytest.raises(EmbedkitError, match="index must match the vectors"):
        neighbours(small_vectors, "w1", index=other)


@pytest.mark.slow
def test_glove50_neighbours_and_analogies_match_gensim(glove50) -> None:
    kv = glove50.to_gensim()
    idx = VectorIndex.build(glove50, "exact")
    words = ["surf", "king", "paris", "computer", "happy", "river", "football", "piano"]
    batch = neighbours_batch(glove50, words, k=10, index=idx)
    for w, r in zip(words, batch):
        theirs = kv.most_similar(w, topn=10)
        assert r.words == [x for x, _ in theirs]
        np.testing.assert_allclose([n.score for n in r.neighbours], [s for _, s in theirs], atol=1e-5)
        assert neighbours(glove50, w, k=10, index=idx).words == r.words  # single-query path
    qs = [("man", "king", "woman"), ("france", "paris", "italy"), ("good", "better", "bad")]
    for method, fn in (("add", kv.most_similar), ("mul", kv.most_similar_cosmul)):
        got = analogies(glove50, qs, k=3, method=method, index=idx)
        assert got == [[x for x, _ in fn(positive=[b, c], negative=[a], topn=3)] for a, b, c in qs]
    sub = glove50.subset(glove50.keys[:20000])  # HNSW on real vectors (the full set is in the benchmark)
    rep = VectorIndex.build(sub, "hnsw").recall_at_k(k=10, sample=200)
    assert rep.recall > 0.9
