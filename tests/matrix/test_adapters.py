"""Tokenizer adapters, each against the real library (tokenizers are trained locally: no hub downloads)."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

from embedkit.errors import EmbedkitError
from embedkit.matrix.builder import build_embedding_matrix
from embedkit.matrix.adapters import as_vocab, detect_kind, read_vocab_file, vocab_from_texts
from embedkit.text.tokenizer import Tokenizer

os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("USE_TORCH", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TEXTS = [
    "The runners were running and walking happily through the café district of the city.",
    "A naïve reader of the newspaper walked to the station and read the news.",
    "Running, walking and reading: the city never sleeps.",
] * 10


def _wordpiece():
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(TEXTS, trainers.WordPieceTrainer(
        vocab_size=150, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    return tok


def _byte_level():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(TEXTS, trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<pad>", "<s>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return tok


def _check_rows(em, glove50, min_checked=5):
    """Every row sourced 'exact' equals the GloVe row of the word its token spells."""
    checked = 0
    for i, src in enumerate(em.sources):
        if src == "exact":
            np.testing.assert_array_equal(em.matrix[i], glove50[em.vocab.surface(i)])
            checked += 1
        if src == "padding":
            assert not em.matrix[i].any()
    assert checked >= min_checked


def test_hf_wordpiece(glove50):
    tok = _wordpiece()
    v = as_vocab(tok)
    assert v.kind == "tokenizers" and v.scheme == "wordpiece" and v.prefix == "##"
    assert v.padding_ids == {tok.token_to_id("[PAD]"), tok.token_to_id("[MASK]")}  # both stay zero
    assert {tok.token_to_id(t) for t in ("[UNK]", "[CLS]", "[SEP]")} == v.special_ids
    pieces = [i for i, t in enumerate(v.tokens) if t.startswith("##") and t[2:] in glove50 and len(t) > 3]
    assert pieces
    em = build_embedding_matrix(tok, glove50, oov="zeros", texts=TEXTS[:3])
    assert em.matrix.shape == (tok.get_vocab_size(), 50)
    for i in pieces:  # '##ing' -> the vector of 'ing'
        np.testing.assert_array_equal(em.matrix[i], glove50[v.tokens[i][2:]])
        assert v.is_continuation(i)
    _check_rows(em, glove50)
    assert em.coverage.tokens_total == sum(len(tok.encode(t, add_special_tokens=False).ids) for t in TEXTS[:3])


def test_hf_byte_level_bpe(glove50):
    tok = _byte_level()
    v = as_vocab(tok)
    assert v.scheme == "byte-level"
    the = tok.token_to_id("\u0120the")
    assert the is not None and v.surface(the) == "the"
    cafe = tok.token_to_id("\u0120caf\u00c3\u00a9")  # ' café' in the byte alphabet
    assert cafe is not None and v.surface(cafe) == "café"
    em = build_embedding_matrix(tok, glove50, oov="zeros")
    np.testing.assert_array_equal(em.matrix[the], glove50["the"])
    np.testing.assert_array_equal(em.matrix[cafe], glove50["café"])
    pad, bos = tok.token_to_id("<pad>"), tok.token_to_id("<s>")
    assert em.sources[pad] == "padding" and not em.matrix[pad].any()  # a special token named like padding
    assert em.sources[bos] == "special"
    _check_rows(em, glove50)


def test_hf_sentencepiece_unigram(glove50):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(TEXTS, trainers.UnigramTrainer(vocab_size=120, special_tokens=["<pad>", "<unk>"],
                                                           unk_token="<unk>"))
    v = as_vocab(tok)
    assert v.scheme == "sentencepiece"
    marked = [i for i, t in enumerate(v.tokens) if t.startswith("\u2581") and t[1:] in glove50 and len(t) > 2]
    assert marked
    em = build_embedding_matrix(tok, glove50, oov="zeros")
    for i in marked:
        np.testing.assert_array_equal(em.matrix[i], glove50[v.tokens[i][1:]])
    assert not em.matrix[tok.token_to_id("<pad>")].any()


def test_transformers_fast_tokenizer(glove50):
    from transformers import PreTrainedTokenizerFast

    ft = PreTrainedTokenizerFast(tokenizer_object=_wordpiece(), pad_token="[PAD]", unk_token="[UNK]",
                                 cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    assert detect_kind(ft) == "transformers"
    em = build_embedding_matrix(ft, glove50, oov="random", seed=0, texts=TEXTS[:2])
    v = em.vocab
    assert v.kind == "transformers" and v.scheme == "wordpiece"
    assert {ft.pad_token_id, ft.mask_token_id} == set(v.padding_ids)
    assert not em.matrix[ft.pad_token_id].any() and not em.matrix[ft.mask_token_id].any()
    assert em.matrix[ft.cls_token_id].any()  # special: initialised, not looked up
    expected = sum(len(ids) for ids in ft(TEXTS[:2], add_special_tokens=False)["input_ids"])
    assert em.coverage.tokens_total == expected
    _check_rows(em, glove50)


@pytest.mark.parametrize("cls_name", ["CountVectorizer", "TfidfVectorizer"])
def test_sklearn_vectorizers(glove50, cls_name):
    import sklearn.feature_extraction.text as fe

    vec = getattr(fe, cls_name)().fit(TEXTS)
    em = build_embedding_matrix(vec, glove50, oov="zeros", texts=TEXTS[:1])
    assert em.vocab.kind == "sklearn" and em.matrix.shape == (len(vec.vocabulary_), 50)
    assert not em.vocab.padding_ids
    for w, i in vec.vocabulary_.items():
        if w in glove50:
            np.testing.assert_array_equal(em.matrix[i], glove50[w])
    assert em.coverage.tokens_total == len(vec.build_analyzer()(TEXTS[0]))
    with pytest.raises(EmbedkitError, match=r"must be fitted.*Received: unfitted"):
        as_vocab(getattr(fe, cls_name)())


def test_gensim_dictionary(glove50):
    from gensim.corpora import Dictionary

    docs = [Tokenizer.preset("keras")(t) for t in TEXTS] + [["zzqxv", "zzqxv", "zzqxv"]]
    d = Dictionary(docs)
    em = build_embedding_matrix(d, glove50, oov="zeros")
    assert em.vocab.kind == "gensim" and em.matrix.shape == (len(d), 50)
    for w, i in d.token2id.items():
        if w in glove50:
            np.testing.assert_array_equal(em.matrix[i], glove50[w])
    rep = em.coverage
    assert rep.tokens_total == d.num_pos
    assert rep.missing[0] == ("zzqxv", 3)


def test_keras_textvectorization_and_stringlookup(glove50):
    import keras

    tv = keras.layers.TextVectorization(max_tokens=30)
    tv.adapt(TEXTS)
    v = as_vocab(tv)
    assert v.kind == "keras" and v.tokens[:2] == ["", "[UNK]"]
    assert v.padding_ids == {0} and v.special_ids == {1}
    sl = keras.layers.StringLookup(mask_token="[MASK]")
    sl.adapt(np.array(["the", "cat", "the"]))
    sv = as_vocab(sl)
    assert sv.tokens[0] == "[MASK]" and 0 in sv.padding_ids
    em = build_embedding_matrix(sl, glove50, oov="zeros")
    np.testing.assert_array_equal(em.matrix[sv.tokens.index("cat")], glove50["cat"])
    assert not em.matrix[0].any()


def test_word_index_and_legacy_tokenizer_object():
    wi = {"the": 1, "cat": 2, "sat": 3, "mat": 4}
    assert as_vocab(wi, num_words=3).tokens == ["", "the", "cat"]
    assert as_vocab(wi).tokens == ["", "the", "cat", "sat", "mat"]
    legacy = SimpleNamespace(word_index={"<OOV>": 1, **{w: i + 1 for w, i in wi.items()}}, num_words=4,
                             oov_token="<OOV>", word_counts={"the": 5, "cat": 2, "sat": 1, "mat": 1})
    v = as_vocab(legacy)
    assert v.kind == "word_index" and v.tokens == ["", "<OOV>", "the", "cat"]
    assert v.special_ids == {1} and v.counts.tolist() == [0, 0, 5, 2]


def test_list_dict_and_detection_errors():
    assert detect_kind(["a"]) == "list" and detect_kind({"a": 0}) == "dict" and detect_kind({"a": 1}) == "word_index"
    v = as_vocab(["[PAD]", "[UNK]", "x"])
    assert v.padding_ids == {0} and v.special_ids == {1}
    with pytest.raises(EmbedkitError, match=r"Expected a tokenizer or vocabulary object .*Received: 'vocab.txt'"):
        as_vocab("vocab.txt")
    with pytest.raises(EmbedkitError, match=r"`kind` must be one of"):
        as_vocab(["a"], kind="spacy")
    with pytest.raises(EmbedkitError, match=r"Expected one of: .*Received: builtins\.set"):
        as_vocab({"a", "b"})
    with pytest.raises(EmbedkitError, match=r"`num_words` applies to a Keras word_index only"):
        as_vocab(["a"], num_words=3)


def test_read_vocab_file_and_vocab_from_texts(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("the\t10\ncat 4\n", encoding="utf-8")
    v, counts = read_vocab_file(p)
    assert v.tokens == ["the", "cat"] and counts.tolist() == [10, 4]
    p.write_text("\n[UNK]\nthe\n", encoding="utf-8")
    v, counts = read_vocab_file(p)
    assert v.tokens == ["", "[UNK]", "the"] and counts is None and v.padding_ids == {0}
    j = tmp_path / "wi.json"
    j.write_text(json.dumps({"the": 1, "cat": 2}), encoding="utf-8")
    assert read_vocab_file(j)[0].tokens == ["", "the", "cat"]
    (tmp_path / "e.txt").write_text("", encoding="utf-8")
    with pytest.raises(EmbedkitError, match=r"at least one token"):
        read_vocab_file(tmp_path / "e.txt")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(EmbedkitError, match=r"invalid JSON"):
        read_vocab_file(tmp_path / "bad.json")
    v, counts = vocab_from_texts(["b a a c", "a b d"], max_tokens=4)
    assert v.tokens == ["", "[UNK]", "a", "b"] and counts.tolist() == [0, 2, 3, 2]


def test_registry_lists_every_kind_and_each_object_has_one_adapter():
    from gensim.corpora import Dictionary
    from sklearn.feature_extraction.text import CountVectorizer

    from embedkit.matrix.adapters import ADAPTERS, KINDS, supported_types

    assert KINDS == ("list", "dict", "word_index", "keras", "tokenizers", "transformers", "sklearn", "gensim")
    assert len(supported_types()) == 9
    samples = {
        "list": ["a", "b"], "dict": {"a": 0}, "word_index": {"a": 1},
        "keras": SimpleNamespace(word_index={"a": 1}, num_words=None), "tokenizers": _wordpiece(),
        "sklearn": CountVectorizer().fit(TEXTS), "gensim": Dictionary([["a", "b"]]),
    }
    for kind, obj in samples.items():
        claimed = [name for name, adapter in ADAPTERS.items() if adapter().detects(obj)]
        assert claimed == [kind]
        assert detect_kind(obj) == kind and as_vocab(obj).kind in (kind, "word_index")


def test_unknown_options_raise_one_line():
    with pytest.raises(EmbedkitError, match=r"^Options of the list adapter must be among special_tokens, "
                                            r"padding_tokens\. Received: lowercase$"):
        as_vocab(["a"], lowercase=True)
    with pytest.raises(EmbedkitError, match=r"^Options of the sklearn adapter must be among none\. "
                                            r"Received: special_tokens$"):
        from sklearn.feature_extraction.text import CountVectorizer

        as_vocab(CountVectorizer().fit(TEXTS), special_tokens=["x"])
    with pytest.raises(EmbedkitError, match=r"`num_words` applies to a Keras word_index only.*for keras"):
        as_vocab(SimpleNamespace(get_vocabulary=lambda: ["", "a"]), num_words=3)
