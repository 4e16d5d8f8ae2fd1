"""The one word tokenizer and its presets."""

from __future__ import annotations

import pytest

from embedkit.errors import EmbedkitError
from embedkit.text.tokenizer import PRESETS, Tokenizer

tokenize = Tokenizer.preset("glove")


def test_tokenize_splits_clitics_like_glove():
    assert tokenize("Doesn't it's WON'T, well-made!") == ["does", "n't", "it", "'s", "wo", "n't", ",", "well-made", "!"]
    assert tokenize("Café ÉTÉ 2014") == ["café", "été", "2014"]
    assert tokenize("") == []


def test_presets_and_bad_names():
    assert set(PRESETS) == {"words", "glove", "keras"}
    assert Tokenizer.preset("words") == Tokenizer()
    with pytest.raises(EmbedkitError, match="Received: tokenizer='nltk'"):
        Tokenizer.preset("nltk")
    with pytest.raises(EmbedkitError, match="valid regular expression"):
        Tokenizer("[")
