"""Downstream evaluation: tokenizer, vocabulary, the Keras models, embedding modes, results and the report."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from embedkit.downstream.config import parse_choices
from embedkit.downstream.datasets import Dataset
from embedkit.downstream.embeddings import EMBEDDINGS
from embedkit.downstream.models import MODELS, build_model
from embedkit.downstream.preparation import auto_maxlen
from embedkit.downstream.runner import evaluate
from embedkit.errors import EmbedkitError
from embedkit.text.vocabulary import Vocabulary

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

POS = ["great", "excellent", "wonderful", "superb", "brilliant"]
NEG = ["awful", "terrible", "horrible", "dreadful", "boring"]
FILLER = ["the", "film", "was", "a", "story", "with", "actors", "and", "music", "of"]


def polar_dataset(n: int = 120, seed: int = 0) -> Dataset:
    """Sentences of filler words plus one sentiment word: learnable, and GloVe knows every word."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        lab = "pos" if i % 2 else "neg"
        words = list(rng.choice(FILLER, size=4)) + list(rng.choice(POS if lab == "pos" else NEG, size=3))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(lab)
    return Dataset.from_lists("polar", texts, labels)


def test_vocabulary_layout_and_encoding():
    v = Vocabulary.build([["b", "a", "b"], ["c", "a", "b"]], max_tokens=4)
    assert v.words == ["", "[UNK]", "b", "a"]
    x = v.encode([["a", "c", "b", "b", "a"], []], maxlen=4)
    assert x.dtype == np.int32 and x.tolist() == [[3, 1, 2, 2], [0, 0, 0, 0]]
    assert auto_maxlen([["x"] * n for n in range(1, 101)]) == 100
    assert auto_maxlen([["x"]] * 10) == 5 and auto_maxlen([["x"] * 1000], cap=400) == 400


def test_parse_choices():
    assert parse_choices("all", MODELS, "model") == list(MODELS)
    assert parse_choices(["random", "static,random"], EMBEDDINGS, "embedding") == ["random", "static"]
    with pytest.raises(EmbedkitError, match="Received: model='cnn'"):
        parse_choices("cnn", MODELS, "model")
    with pytest.raises(EmbedkitError):
        parse_choices(",", MODELS, "model")


@pytest.mark.parametrize("name", MODELS)
def test_every_model_builds_with_binary_and_softmax_heads(name):
    m2 = build_model(name, vocab_size=50, maxlen=12, num_classes=2, embedding_dim=8, units=4)
    m3 = build_model(name, vocab_size=50, maxlen=12, num_classes=3, embedding_dim=8, units=4)
    x = np.random.default_rng(0).integers(0, 50, size=(3, 12)).astype("int32")
    x[:, 8:] = 0  # padding
    p2 = np.asarray(m2.predict(x, verbose=0))
    p3 = np.asarray(m3.predict(x, verbose=0))
    assert p2.shape == (3, 1) and np.all((p2 > 0) & (p2 < 1))
    assert p3.shape == (3, 3) and np.allclose(p3.sum(axis=1), 1, atol=1e-5)
    assert m2.loss == "binary_crossentropy" and m3.loss == "sparse_categorical_crossentropy"


def test_conv1d_architecture():
    m = build_model("conv1d", vocab_size=100, maxlen=20, num_classes=2, embedding_dim=10)
    kinds = [type(layer).__name__ for layer in m.layers]
    assert kinds == ["InputLayer", "Embedding", "Conv1D", "GlobalMaxPooling1D", "Dropout", "Dense"]
    conv = m.layers[2]
    assert conv.filters == 128 and conv.kernel_size == (5,)
    assert m.count_params() == 100 * 10 + (5 * 10 * 128 + 128) + (128 + 1)
    with pytest.raises(EmbedkitError, match="model"):
        build_model("cnn", vocab_size=10, maxlen=5, num_classes=2)


class Recorder:
    """A progress callback: the start, epochs and end of every run (task "eval.run")."""

    def __init__(self):
        self.events = []

    def __call__(self, event):
        if event.task != "eval.run":
            return
        if event.stage == "start":
            self.events.append(("start", event["model"], event["embedding"], event["split"], event["seed"],
                                event["runs"]))
        elif event.stage == "update":
            self.events.append(("epoch", event["epoch"], "val_loss" in event["logs"]))
        else:
            self.events.append(("end", event["accuracy"]))


@pytest.mark.slow
def test_static_beats_chance_and_frozen_rows_stay(glove50, tmp_path):
    """Pretrained rows make an easy polarity task learnable; static keeps them frozen, non-static trains them."""
    ds = polar_dataset(160)
    rec = Recorder()
    report = evaluate(
        ds, models=["pool"], embeddings=["random", "static", "non-static"], vectors=glove50, seeds=2, epochs=6,
        patience=3, batch_size=16, learning_rate=1e-2, progress=rec, output=tmp_path / "out",
    )
    by = {s.embedding: s for s in report.summaries}
    assert set(by) == {"random", "static", "non-static"}
    for s in report.summaries:
        assert len(s.runs) == 2 and {r.seed for r in s.runs} == {0, 1}
        assert 1 <= s.epochs_mean <= 6 and s.seconds_per_epoch > 0
    assert by["static"].accuracy_mean >= 0.85
    assert by["non-static"].accuracy_mean >= 0.85
    vocab_rows = by["random"].params - 51  # pool: embedding + Dense(dim -> 1)
    assert by["static"].runs[0].trainable_params == 51
    assert by["non-static"].runs[0].trainable_params == vocab_rows + 51
    # progress hooks: every run announced, every epoch reported with validation logs
    starts = [e for e in rec.events if e[0] == "start"]
    assert len(starts) == 6 and starts[0][-1] == 6
    assert all(e[2] for e in rec.events if e[0] == "epoch")
    assert report.coverage["types"] == 1.0  # every word of the toy corpus is in GloVe
    # report files
    out = tmp_path / "out"
    data = json.loads((out / "report.json").read_text())
    assert [r["embedding"] for r in data["results"]] == ["random", "static", "non-static"]
    assert len(data["results"][1]["runs"][0]["history"]["val_accuracy"]) == data["results"][1]["runs"][0]["epochs"]
    md = (out / "report.md").read_text()
    assert "| pool | static |" in md and "pool-static.png" in md
    for mode in ("random", "static", "non-static"):
        assert (out / f"pool-{mode}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_multiclass_cv_conv1d_and_results(tmp_path):
    rng = np.random.default_rng(1)
    groups = {"a": ["alpha", "apple"], "b": ["bravo", "banana"], "c": ["charlie", "cherry"]}
    texts, labels = [], []
    for i in range(60):
        lab = "abc"[i % 3]
        texts.append(" ".join(rng.choice(groups[lab], size=4).tolist() + ["x", "y"]))
        labels.append(lab)
    ds = Dataset.from_lists("abc", texts, labels)
    rep = evaluate(ds, models=["conv1d"], embeddings=["random"], seeds=1, folds=3, epochs=2, batch_size=8,
                   embedding_dim=8, maxlen=8)
    (s,) = rep.summaries
    assert [r.split for r in s.runs] == ["fold1", "fold2", "fold3"]
    assert rep.config["protocol"] == "stratified 3-fold CV"
    assert all(0 <= r.macro_f1 <= 1 and 0 <= r.accuracy <= 1 for r in s.runs)
    assert s.accuracy_mean == pytest.approx(np.mean([r.accuracy for r in s.runs]))
    assert s.accuracy_std == pytest.approx(np.std([r.accuracy for r in s.runs], ddof=1))
    d = s.to_dict()
    assert {"model", "embedding", "accuracy_mean", "accuracy_std", "macro_f1_mean", "seconds_per_epoch",
            "runs"} <= set(d)
    assert len(d["runs"]) == 3 and "history" not in d["runs"][0]
    v1 = rep.config["vocab_size"][0]  # fold 1's training vocabulary incl. padding and [UNK]
    assert 6 <= v1 <= 2 + 8
    assert s.params == v1 * 8 + (5 * 8 * 128 + 128) + (128 * 3 + 3)


def test_bad_arguments_one_line(small_vectors):
    ds = polar_dataset(20)
    with pytest.raises(EmbedkitError, match="needs pretrained vectors"):
        evaluate(ds, embeddings=["static"])
    with pytest.raises(EmbedkitError, match="`seeds` must be a positive integer"):
        evaluate(ds, seeds=0)
    with pytest.raises(EmbedkitError, match="dropout"):
        evaluate(ds, dropout=1.0)
    with pytest.raises(EmbedkitError, match="embedding"):
        evaluate(ds, embeddings=["frozen"], vectors=small_vectors)


@pytest.mark.slow
def test_vocab_all_uses_every_text_not_labels():
    ds = Dataset.from_lists("v", ["good fine", "bad poor", "good nice", "bad awful", "good ok", "bad meh"] * 3,
                            ["p", "n"] * 9)
    n_types = len({w for t in ds.texts for w in t.split()})
    rep = evaluate(ds, models=["pool"], embeddings=["random"], seeds=1, folds=3, epochs=1, embedding_dim=4,
                   maxlen=4, vocab="all")
    assert rep.config["vocab_size"] == [n_types + 2] * 3 and rep.config["vocab"] == "all"
    with pytest.raises(EmbedkitError, match="`vocab` must be"):
        evaluate(ds, vocab="test")
