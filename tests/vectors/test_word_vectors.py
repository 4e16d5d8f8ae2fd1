import numpy as np
import pytest

from embedkit.errors import EmbedkitError, UnknownWordError
from embedkit.vectors.word_vectors import WordVectors


def test_basic_access(small_vectors):
    wv = small_vectors
    assert len(wv) == 200 and wv.dim == 16
    assert "w3" in wv and "nope" not in wv
    np.testing.assert_array_equal(wv["w3"], wv.vectors[3])
    assert wv[["w1", "w2"]].shape == (2, 16)
    assert wv.get("nope") is None
    assert wv.key_to_index["w10"] == 10


def test_unknown_word_suggests():
    wv = WordVectors(["surf", "surfing", "car"], np.ones((3, 2), np.float32))
    with pytest.raises(UnknownWordError) as ei:
        wv["surff"]
    assert "surf" in str(ei.value) and "\n" not in str(ei.value)


def test_unit_vectors_cached_and_inplace(small_vectors):
    u = small_vectors.unit_vectors()
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1, rtol=1e-5)
    assert small_vectors.unit_vectors() is u
    raw = small_vectors.vectors.copy()
    v = small_vectors.unit_vectors(inplace=True)
    assert v is small_vectors.vectors
    np.testing.assert_allclose(v, raw / np.linalg.norm(raw, axis=1, keepdims=True), rtol=1e-5)


def test_unit_vectors_zero_rows_stay_zero():
    wv = WordVectors(["a", "b"], np.array([[0, 0], [3, 4]], np.float32))
    np.testing.assert_array_equal(wv.unit_vectors()[0], [0, 0])


def test_subset_and_gensim_roundtrip(small_vectors):
    sub = small_vectors.subset(["w5", "w1"])
    assert sub.keys == ["w5", "w1"] and sub.counts.tolist() == [195, 199]
    kv = small_vectors.to_gensim()
    back = WordVectors.from_gensim(kv)
    assert back.keys == small_vectors.keys
    np.testing.assert_array_equal(back.vectors, small_vectors.vectors)
    assert back.counts.tolist() == small_vectors.counts.tolist()


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        (dict(keys=["a"], vectors=np.ones((2, 2))), "one row per key"),
        (dict(keys=["a"], vectors=np.ones(2)), "2-D"),
        (dict(keys=["a", "b"], vectors=np.ones((2, 2)), counts=[1]), "one entry per key"),
    ],
)
def test_bad_construction(kwargs, msg):
    with pytest.raises(EmbedkitError, match=msg):
        WordVectors(**kwargs)


def test_duplicate_keys_rejected():
    wv = WordVectors(["a", "a"], np.ones((2, 2), np.float32))
    with pytest.raises(EmbedkitError, match="unique"):
        wv.key_to_index
