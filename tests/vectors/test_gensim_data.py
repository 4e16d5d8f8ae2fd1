"""Every vector file in gensim's own test data: embedkit reads the same words and values as gensim.

word2vec text and binary (and GloVe text) against ``KeyedVectors.load_word2vec_format``; fastText ``.bin``
models (old and new layout, non-ASCII words, a cp852 dictionary) against ``load_facebook_vectors``, for the
vocabulary and for out-of-vocabulary words built from character n-grams. Equality is exact (bit for bit).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from embedkit.errors import FormatError
from embedkit.vectors.formats import detect_format
from embedkit.vectors.loading import read_vectors


def _data(name: str) -> str:
    import gensim

    return os.path.join(os.path.dirname(gensim.__file__), "test", "test_data", name)


WORD2VEC_FILES = [  # (file, gensim's options, encoding, embedkit's detected format)
    ("EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt", {}, "utf-8", "word2vec"),
    ("IT.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt", {}, "utf-8", "word2vec"),
    ("crime-and-punishment.vec", {}, "utf-8", "word2vec"),
    ("high_precision.kv.txt", {}, "utf-8", "word2vec"),
    ("lee_fasttext.vec", {}, "utf-8", "word2vec"),
    ("toy-model.vec", {}, "utf-8", "word2vec"),
    ("word2vec_pre_kv_c", {}, "utf-8", "word2vec"),
    ("pang_lee_polarity_fasttext.vec", {}, "latin-1", "word2vec"),  # fastText .vec: a space ends each line
    ("test_glove.txt", {"no_header": True}, "utf-8", "glove"),
    ("euclidean_vectors.bin", {"binary": True}, "utf-8", "word2vec-bin"),
    ("high_precision.kv.bin", {"binary": True}, "utf-8", "word2vec-bin"),
    ("poincare_vectors.bin", {"binary": True}, "utf-8", "word2vec-bin"),
]

FASTTEXT_FILES = [  # (file, encoding)
    ("crime-and-punishment.bin", "utf-8"),
    ("lee_fasttext.bin", "utf-8"),  # the old layout (no magic number)
    ("lee_fasttext_new.bin", "utf-8"),
    ("non_ascii_fasttext.bin", "utf-8"),
    ("cp852_fasttext.bin", "cp852"),
    ("toy-model.bin", "utf-8"),
    ("toy-model-pretrained.bin", "utf-8"),
]

OOV_WORDS = ["someoovword", "steamtrain", "který", "Привет", "ab", "x", "naïveté", "東京", "𝄞𝄞", "a-b_c"]


@pytest.mark.parametrize("name,options,encoding,fmt", WORD2VEC_FILES)
def test_word2vec_files_equal_gensim(name, options, encoding, fmt):
    from gensim.models import KeyedVectors

    path = _data(name)
    kv = KeyedVectors.load_word2vec_format(path, encoding=encoding, **options)
    assert detect_format(path) == fmt
    for opts in ([{"workers": 1}, {"workers": 2}] if fmt != "word2vec-bin" else [{}]):
        wv = read_vectors(path, encoding=encoding, **opts)
        assert wv.keys == kv.index_to_key
        assert wv.vectors.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(wv.vectors), kv.vectors)


def test_non_utf8_vec_file_is_a_one_line_error_naming_the_line():
    with pytest.raises(FormatError) as ei:
        read_vectors(_data("pang_lee_polarity_fasttext.vec"))
    msg = str(ei.value)
    assert "Expected utf-8 text on line" in msg and "--encoding" in msg and "\n" not in msg


@pytest.mark.parametrize("name,encoding", FASTTEXT_FILES)
def test_fasttext_bin_equals_gensim_in_and_out_of_vocabulary(name, encoding):
    from gensim.models.fasttext import load_facebook_vectors

    path = _data(name)
    kv = load_facebook_vectors(path, encoding=encoding)
    assert detect_format(path) == "fasttext"
    wv = read_vectors(path, encoding=encoding)
    assert wv.keys == kv.index_to_key
    np.testing.assert_array_equal(np.asarray(wv.vectors), kv.vectors)
    assert wv.subwords is not None and wv.subwords.bucket == kv.bucket
    assert (wv.subwords.minn, wv.subwords.maxn) == (kv.min_n, kv.max_n)
    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for w in OOV_WORDS + [k + "s" for k in kv.index_to_key[:50]]:
            if w in kv.key_to_index:
                continue
            ours = wv.subword_vector(w)
            if ours is None:  # no n-gram at all: gensim returns the origin
                np.testing.assert_array_equal(kv.get_vector(w), np.zeros(kv.vector_size, np.float32))
                continue
            np.testing.assert_array_equal(ours, kv.get_vector(w))
            checked += 1
    assert checked >= 20


def test_cp852_model_needs_its_encoding():
    with pytest.raises(FormatError, match=r"Expected utf-8 text in word \d+ of .*cp852_fasttext.bin \(use --encoding\)"):
        read_vectors(_data("cp852_fasttext.bin"))
    wv = read_vectors(_data("cp852_fasttext.bin"), encoding="cp852")
    assert "který" in wv


def test_supervised_model_is_refused():
    with pytest.raises(FormatError, match="Expected an unsupervised fastText model .* Received: a supervised model"):
        read_vectors(_data("pang_lee_polarity_fasttext.bin"))
