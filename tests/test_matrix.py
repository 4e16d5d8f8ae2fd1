"""build_embedding_matrix: rows aligned to ids, fallbacks, coverage, Keras layer."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit.errors import EmbedkitError
from embedkit.matrix import build_embedding_matrix
from embedkit.vectors import WordVectors


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
