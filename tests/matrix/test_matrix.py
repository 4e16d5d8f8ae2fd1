"""build_embedding_matrix: rows aligned to ids, fallback chain, OOV initialisers, coverage, Keras layer."""

from __future__ import annotations

import json
import os
import re
from collections import Counter

import numpy as np
import pytest

from embedkit.errors import EmbedkitError
from embedkit.matrix.builder import build_embedding_matrix, normalise_token
from embedkit.vectors.word_vectors import WordVectors

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def legacy_keras_word_index(texts):
    """The legacy keras Tokenizer's fit_on_texts, written out independently: filters -> spaces, lower, split."""
    table = str.maketrans({c: " " for c in KERAS_FILTERS})
    counts: Counter[str] = Counter()
    for t in texts:
        counts.update(w for w in t.lower().translate(table).split(" ") if w)
    ranked = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
    return {w: i for i, (w, _) in enumerate(ranked, start=1)}, counts


@pytest.fixture
def tiny():
    rng = np.random.default_rng(1)
    words = ["the", "cat", "cafe", "hello", "state", "art", "walk", "ing", "news", "paper", "apple", "Paris"]
    return WordVectors(words, rng.standard_normal((len(words), 8)).astype(np.float32))


def test_textvectorization_layout_list_vocab(glove50):
    vocab = ["", "[UNK]", "the", "cat", "Dog", "zzqxv"]
    em = build_embedding_matrix(vocab, glove50, oov="random", seed=3)
    m = em.matrix
    assert m.dtype == np.float32 and m.shape == (6, 50)
    assert not m[0].any()
    np.testing.assert_array_equal(m[2], glove50["the"])
    np.testing.assert_array_equal(m[3], glove50["cat"])
    np.testing.assert_array_equal(m[4], glove50["dog"])
    assert em.sources == ["padding", "special", "exact", "exact", "lowercase", "initialised"]
    assert m[1].any() and m[5].any()  # random rows for [UNK] and the unknown word
    again = build_embedding_matrix(vocab, glove50, oov="random", seed=3)
    np.testing.assert_array_equal(again.matrix, m)
    other = build_embedding_matrix(vocab, glove50, oov="random", seed=4)
    assert not np.array_equal(other.matrix[5], m[5])


def test_course_recipe_word_index_lee_corpus(glove50):
    from gensim.test.utils import datapath

    with open(datapath("lee_background.cor"), encoding="utf-8") as fh:
        texts = fh.read().splitlines()
    word_index, counts = legacy_keras_word_index(texts)
    max_words = 4000
    # the hand-written course loop
    num_words = min(max_words, len(word_index) + 1)
    expected = np.zeros((num_words, 50), dtype=np.float32)
    covered = []
    for word, i in word_index.items():
        if i >= max_words:
            continue
        vec = glove50.get(word)
        if vec is not None:
            expected[i] = vec
            covered.append(i)
    assert len(covered) > 3000

    em = build_embedding_matrix(word_index, glove50, num_words=max_words, oov="random", seed=0, counts=counts)
    assert em.matrix.shape == expected.shape
    assert em.vocab.kind == "word_index"
    assert not em.matrix[0].any()
    np.testing.assert_array_equal(em.matrix[covered], expected[covered])
    assert all(em.sources[i] == "exact" for i in covered)
    assert em.coverage.by_fallback["exact"] == len(covered)
    # only fallbacks switched off and zeros: identical to the course loop
    plain = build_embedding_matrix(word_index, glove50, num_words=max_words, oov="zeros", lowercase_fallback=False,
                                   normalise_fallback=False, subword_fallback=False)
    np.testing.assert_array_equal(plain.matrix, expected)
    rep = em.coverage
    assert rep.lookup_types == num_words - 1
    assert rep.types_covered == rep.lookup_types - rep.by_fallback["initialised"]
    inv = {i: w for w, i in word_index.items()}
    expect_tokens = sum(counts[inv[i]] for i in range(1, num_words))
    assert rep.tokens_total == expect_tokens
    assert rep.tokens_covered == sum(counts[inv[i]] for i in range(1, num_words) if em.sources[i] != "initialised")
    assert [c for _, c in rep.missing] == sorted((c for _, c in rep.missing), reverse=True)


def test_fallback_chain_each_step_counted_and_switchable(tiny):
    vocab = ["", "[UNK]", "the", "CAT", "Café", "hello!", "state-of-the-art", "walking", "newspaper", "qqqq"]
    em = build_embedding_matrix(vocab, tiny, oov="zeros")
    assert em.sources == ["padding", "special", "exact", "lowercase", "normalised", "normalised", "subword",
                          "subword", "subword", "initialised"]
    by = em.coverage.by_fallback
    assert (by["exact"], by["lowercase"], by["normalised"], by["subword"], by["initialised"]) == (1, 1, 2, 3, 1)
    np.testing.assert_array_equal(em.matrix[3], tiny["cat"])
    np.testing.assert_array_equal(em.matrix[4], tiny["cafe"])
    np.testing.assert_allclose(em.matrix[6], tiny[["state", "the", "art"]].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(em.matrix[7], tiny[["walk", "ing"]].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(em.matrix[8], tiny[["news", "paper"]].mean(axis=0), rtol=1e-6)
    assert not em.matrix[9].any() and not em.matrix[1].any()

    off = build_embedding_matrix(vocab, tiny, oov="zeros", lowercase_fallback=False, normalise_fallback=False,
                                 subword_fallback=False)
    assert off.sources[3:] == ["initialised"] * 7
    assert off.coverage.types_covered == 1
    no_sub = build_embedding_matrix(vocab, tiny, oov="zeros", subword_fallback=False)
    assert no_sub.coverage.by_fallback["subword"] == 0 and no_sub.coverage.by_fallback["initialised"] == 4


def test_case_variants_reach_cased_vectors(tiny):
    em = build_embedding_matrix(["paris", "APPLE"], tiny, oov="fail")
    np.testing.assert_array_equal(em.matrix[0], tiny["Paris"])
    np.testing.assert_array_equal(em.matrix[1], tiny["apple"])


def test_normalise_token():
    assert normalise_token("«Crème»,") == "Creme"
    assert normalise_token("\u2018quoted\u2019") == "quoted"
    assert normalise_token("...") == ""


def test_oov_initialisers(glove50):
    rng = np.random.default_rng(5)
    junk = ["".join(rng.choice(list("qxzjvk"), 9)) for _ in range(3000)]
    vocab = ["", "the", *dict.fromkeys(junk)]
    n_junk = len(vocab) - 2
    base = dict(lowercase_fallback=False, normalise_fallback=False, subword_fallback=False)
    z = build_embedding_matrix(vocab, glove50, oov="zeros", **base)
    assert z.coverage.by_fallback["initialised"] == n_junk and not z.matrix[2:].any()
    mean = build_embedding_matrix(vocab, glove50, oov="mean", **base)
    true_mean = np.asarray(glove50.vectors, dtype=np.float64).mean(axis=0)
    np.testing.assert_allclose(mean.matrix[2], true_mean, atol=0.02)
    assert np.all(mean.matrix[2:] == mean.matrix[2])
    r = build_embedding_matrix(vocab, glove50, oov="random", seed=1, **base)
    true_std = np.asarray(glove50.vectors, dtype=np.float64).std(axis=0)
    np.testing.assert_allclose(r.matrix[2:].std(axis=0), true_std, rtol=0.15)
    np.testing.assert_allclose(r.matrix[2:].mean(axis=0), true_mean, atol=0.1)
    assert not r.matrix[0].any()
    np.testing.assert_array_equal(r.matrix[1], glove50["the"])
    with pytest.raises(EmbedkitError, match=r"oov='fail'.*3000 of 3001 words") as e:
        build_embedding_matrix(vocab, glove50, oov="fail", **base)
    assert "\n" not in str(e.value)


def test_coverage_from_texts_and_to_dict(tiny):
    vocab = ["", "[UNK]", "the", "cat", "qqqq"]
    texts = ["the cat the qqqq dog", "The end"]
    em = build_embedding_matrix(vocab, tiny, oov="zeros", texts=texts)
    rep = em.coverage
    # tokens: the x3, cat, qqqq, dog (unk), end (unk) -> 7 tokens; covered: the x3 + cat
    assert rep.tokens_total == 7 and rep.tokens_covered == 4
    assert rep.token_coverage == pytest.approx(4 / 7)
    assert rep.missing == [("qqqq", 1)]
    d = json.loads(json.dumps(em.to_dict()))
    assert d["shape"] == [5, 8] and d["coverage"]["missing"] == [{"token": "qqqq", "count": 1}]
    with_counts = build_embedding_matrix(vocab, tiny, oov="zeros", counts=[0, 0, 5, 0, 7])
    assert with_counts.coverage.tokens_total == 12 and with_counts.coverage.tokens_covered == 5


def test_vectors_inputs(tiny, tmp_path):
    vocab = ["", "the", "cat"]
    ref = build_embedding_matrix(vocab, tiny, oov="zeros").matrix
    as_dict = {w: tiny[w] for w in tiny.keys}
    np.testing.assert_array_equal(build_embedding_matrix(vocab, as_dict, oov="zeros").matrix, ref)
    np.testing.assert_array_equal(build_embedding_matrix(vocab, tiny.to_gensim(), oov="zeros").matrix, ref)
    tiny.save(tmp_path / "tiny")
    np.testing.assert_array_equal(build_embedding_matrix(vocab, str(tmp_path / "tiny"), oov="zeros").matrix, ref)


@pytest.mark.parametrize(
    ("vocab", "kwargs", "pattern"),
    [
        ([], {}, r"at least one token"),
        ({}, {}, r"at least one token"),
        (["", "[UNK]"], {}, r"at least one word besides padding"),
        ({"a": 1, "b": 3}, {}, r"contiguous 1\.\.2.*Received"),
        ({"a": 0, "b": 2}, {}, r"contiguous 0\.\.1"),
        ({"a": 0, "b": 0}, {}, r"contiguous"),
        (["the"], {"dim": 100}, r"dimension 100.*Received: vectors of dim 8"),
        (["the"], {"oov": "gauss"}, r"`oov` must be one of random, zeros, mean, fail"),
        ({"a": 1, "b": 2}, {"num_words": 1}, r"`num_words` must be an integer >= 2"),
        (["the"], {"counts": [1, 2, 3]}, r"`counts` must be"),
    ],
)
def test_bad_input_one_line(tiny, vocab, kwargs, pattern):
    with pytest.raises(EmbedkitError, match=pattern) as e:
        build_embedding_matrix(vocab, tiny, **kwargs)
    assert "\n" not in str(e.value)


def test_unknown_tokenizer_type_lists_supported(tiny):
    with pytest.raises(EmbedkitError, match=r"Expected one of: list of tokens, .*gensim corpora\.Dictionary\. "
                                            r"Received: builtins\.object") as e:
        build_embedding_matrix(object(), tiny)
    assert "\n" not in str(e.value)
    with pytest.raises(EmbedkitError, match=r"shapes"):
        build_embedding_matrix(["a"], {"a": np.ones(3), "b": np.ones(4)})
    with pytest.raises(EmbedkitError, match=r"`vectors` must be"):
        build_embedding_matrix(["a"], 42)


@pytest.mark.slow  # pays the TensorFlow import (~10 s on a loaded 2-core machine)
def test_keras_layer_and_model_round_trip(glove50, tmp_path):
    import keras

    vocab = ["", "[UNK]", "the", "cat", "sat", "mat", "zzqxv"]
    em = build_embedding_matrix(vocab, glove50, oov="random", seed=0)
    layer = em.embedding_layer(trainable=False, mask_zero=True, name="glove")
    assert layer.name == "glove" and layer.trainable is False and layer.mask_zero is True
    assert layer.input_dim == 7 and layer.output_dim == 50
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.embeddings), em.matrix)
    # the matrix lives in the weights, not in the config (no Constant initialiser with 400k numbers)
    assert "Constant" not in json.dumps(layer.get_config())

    inputs = keras.Input(shape=(4,), dtype="int32")
    x = layer(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(seed=1))(x)
    model = keras.Model(inputs, outputs)
    ids = np.array([[2, 3, 4, 0], [5, 6, 1, 0]], dtype="int32")
    before = keras.ops.convert_to_numpy(model(ids))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(ids)), before)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded.get_layer("glove").embeddings), em.matrix)
    assert loaded.get_layer("glove").trainable is False

    trainable = em.embedding_layer(trainable=True)
    assert trainable.trainable and len(trainable.trainable_weights) == 1


def test_mask_zero_needs_padding_row(tiny):
    em = build_embedding_matrix({"the": 0, "cat": 1}, tiny)
    with pytest.raises(EmbedkitError, match=r"`mask_zero=True` needs id 0 to be the padding row. Received: id 0 is 'the'"):
        em.embedding_layer(mask_zero=True)


def test_keras_helpers_textvectorization(glove50):
    import keras

    from embedkit.matrix.layers import keras_word_index, pretrained_embedding, pretrained_embedding_with_report

    texts = ["The cat sat on the mat.", "A dog sat on the log!", "Quixotic zzqxv words"]
    vec = keras.layers.TextVectorization(max_tokens=50, output_sequence_length=6)
    vec.adapt(texts)
    layer = pretrained_embedding(vec, glove50, trainable=False, mask_zero=True, seed=0)
    vocab = vec.get_vocabulary()
    got = keras.ops.convert_to_numpy(layer.embeddings)
    assert got.shape == (len(vocab), 50) and not got[0].any()
    for i, w in enumerate(vocab):
        if w in glove50:
            np.testing.assert_array_equal(got[i], glove50[w])
    layer2, em = pretrained_embedding_with_report(vec, glove50, texts=texts, oov="zeros")
    assert em.coverage.tokens_total == sum(len(re.findall(r"\w+", t)) for t in texts)
    assert em.vocab.kind == "keras" and sorted(em.vocab.special_ids) == [1]
    with pytest.raises(EmbedkitError, match=r"dimension 100"):
        pretrained_embedding(vec, glove50, output_dim=100)

    wi, wc = keras_word_index(texts)
    ref_wi, ref_wc = legacy_keras_word_index(texts)
    assert wi == ref_wi and wc == dict(ref_wc)
    wi_oov, _ = keras_word_index(texts, oov_token="<OOV>")
    assert wi_oov["<OOV>"] == 1 and wi_oov["the"] == 2
    em_oov = build_embedding_matrix(wi_oov, glove50, oov="zeros")
    assert em_oov.sources[1] == "special"
