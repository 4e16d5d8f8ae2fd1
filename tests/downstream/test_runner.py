"""Downstream evaluation: the models (kim-cnn, multichannel, logreg and the course's), embedding modes and
their controls, paired gains, several vector sets, preparation (truncation, empty texts) and the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embedkit.downstream.config import EvalConfig, parse_choices
from embedkit.downstream.datasets import Dataset
from embedkit.downstream.embeddings import CONTROLS, EMBEDDINGS
from embedkit.downstream.models import MODELS, build_model
from embedkit.downstream.preparation import SetRows, auto_maxlen, prepare_dataset, truncate_tokens
from embedkit.downstream.report import RunResult
from embedkit.downstream.runner import evaluate, run_evaluation
from embedkit.downstream.stats import paired_difference
from embedkit.errors import EmbedkitError
from embedkit.text.vocabulary import Vocabulary
from embedkit.vectors.word_vectors import WordVectors

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[2]

POS = ["great", "excellent", "wonderful", "superb", "brilliant"]
NEG = ["awful", "terrible", "horrible", "dreadful", "boring"]
FILLER = ["the", "film", "was", "a", "story", "with", "actors", "and", "music", "of"]
KERAS_MODELS = [m for m in MODELS if MODELS.get(m).uses_keras]


def polar_dataset(n: int = 120, seed: int = 0) -> Dataset:
    """Sentences of filler words plus sentiment words: learnable, and GloVe knows every word."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        lab = "pos" if i % 2 else "neg"
        words = list(rng.choice(FILLER, size=4)) + list(rng.choice(POS if lab == "pos" else NEG, size=3))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(lab)
    return Dataset.from_lists("polar", texts, labels)


TOPICS = {"sport": (["football", "soccer", "tennis", "basketball", "cricket"],
                    ["baseball", "hockey", "golf", "rugby", "volleyball"]),
          "food": (["pizza", "bread", "cheese", "pasta", "sandwich"], ["soup", "rice", "cake", "salad", "noodles"])}


def topic_dataset(n: int = 60, seed: int = 0) -> Dataset:
    """Two topics whose test sentences use other words than the training ones (given splits): only vectors
    that put baseball near football let a model generalise, so a frozen random control stays near chance."""
    rng = np.random.default_rng(seed)
    texts, labels, split = [], [], []
    for part, k in (("train", 0), ("test", 1)):
        for i in range(n):
            lab = "sport" if i % 2 else "food"
            words = list(rng.choice(FILLER, size=4)) + list(rng.choice(TOPICS[lab][k], size=2))
            rng.shuffle(words)
            texts.append(" ".join(words))
            labels.append(lab)
            split.append(part)
    return Dataset.from_lists("topics", texts, labels, split)


def trec_like(n_per_class: int = 12, seed: int = 0) -> Dataset:
    """Six question classes (TREC's coarse labels) with given train / test splits."""
    cues = {"ABBR": "stand", "DESC": "why", "ENTY": "what", "HUM": "who", "LOC": "where", "NUM": "many"}
    rng = np.random.default_rng(seed)
    texts, labels, split = [], [], []
    for cls, cue in cues.items():
        for i in range(n_per_class):
            texts.append(" ".join([cue, *rng.choice(FILLER, size=4)]))
            labels.append(cls)
            split.append("test" if i < 3 else "train")
    return Dataset.from_lists("trec", texts, labels, split)


@pytest.fixture(scope="module")
def glove_small(glove50):
    words = sorted({*POS, *NEG, *FILLER, "stand", "why", "what", "who", "where", "many",
                    *(w for pair in TOPICS.values() for part in pair for w in part)})
    return glove50.subset(words)


# ------------------------------------------------------------------------------------------ pieces
def test_vocabulary_layout_truncation_and_maxlen():
    v = Vocabulary.build([["b", "a", "b"], ["c", "a", "b"]], max_tokens=4)
    assert v.words == ["", "[UNK]", "b", "a"]
    assert v.encode([["a", "c", "b", "b", "a"], []], maxlen=4).tolist() == [[3, 1, 2, 2], [0, 0, 0, 0]]
    assert auto_maxlen([["x"] * n for n in range(1, 101)]) == 100
    assert auto_maxlen([["x"]] * 10) == 5 and auto_maxlen([["x"] * 1000], cap=400) == 400
    toks = ["start", "middle", "end"]
    assert truncate_tokens(toks, 2, "pre") == ["middle", "end"]  # Keras pad_sequences' default keeps the end
    assert truncate_tokens(toks, 2, "post") == ["start", "middle"]
    assert truncate_tokens(toks, 5, "pre") == toks


def test_truncate_side_reaches_the_ids():
    ds = Dataset.from_lists("t", ["first words then many more words here"] * 4 + ["short one"] * 4, ["a"] * 4 + ["b"] * 4)
    for side, kept in (("pre", "here"), ("post", "first")):
        prep = prepare_dataset(ds, EvalConfig(folds=0, maxlen=5, truncate=side, models="pool"))
        sp = prep.splits[0]
        long_rows = [r for r in sp.x["train"] if np.count_nonzero(r) == 5]
        assert long_rows and all(sp.vocab.tokens[r[-1] if side == "pre" else r[0]] == kept for r in long_rows)
        assert 0 < prep.truncated_share <= 1
    with pytest.raises(EmbedkitError, match="`truncate` must be 'pre'"):
        EvalConfig(truncate="middle")


def test_parse_choices_and_registries():
    assert parse_choices("all", MODELS, "model") == list(MODELS)
    assert parse_choices(["random", "static,random"], EMBEDDINGS, "embedding") == ["random", "static"]
    with pytest.raises(EmbedkitError, match="Received: model='cnn'"):
        parse_choices("cnn", MODELS, "model")
    assert {"kim-cnn", "multichannel", "logreg", "pool", "flatten", "lstm", "bilstm", "bilstm2", "gru", "bigru",
            "conv1d"} == set(MODELS)
    assert EMBEDDINGS.names() == ["random", "frozen-random", "static", "non-static"]
    assert CONTROLS == {"static": "frozen-random", "non-static": "random"}
    fr = EMBEDDINGS.get("frozen-random")
    assert (fr.trainable, fr.pretrained, fr.needs_vectors) == (False, False, True)


@pytest.mark.parametrize("name", KERAS_MODELS)
def test_every_keras_model_builds_with_binary_and_softmax_heads(name):
    w = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    m2 = build_model(name, vocab_size=50, maxlen=12, num_classes=2, embedding_dim=8, units=4)
    m3 = build_model(name, vocab_size=50, maxlen=12, num_classes=3, units=4, weights=w, trainable=False)
    x = np.random.default_rng(0).integers(0, 50, size=(3, 12)).astype("int32")
    x[:, 8:] = 0  # padding
    p2 = np.asarray(m2.predict(x, verbose=0))
    p3 = np.asarray(m3.predict(x, verbose=0))
    assert p2.shape == (3, 1) and np.all((p2 > 0) & (p2 < 1))
    assert p3.shape == (3, 3) and np.allclose(p3.sum(axis=1), 1, atol=1e-5)
    assert m2.loss == "binary_crossentropy" and m3.loss == "sparse_categorical_crossentropy"


def test_kim_cnn_architecture():
    m = build_model("kim-cnn", vocab_size=100, maxlen=20, num_classes=2, embedding_dim=10)
    convs = [layer for layer in m.layers if type(layer).__name__ == "Conv1D"]
    assert sorted(c.kernel_size[0] for c in convs) == [3, 4, 5] and all(c.filters == 100 for c in convs)
    assert all(c.activation.__name__ == "relu" for c in convs)
    assert sum(type(layer).__name__ == "GlobalMaxPooling1D" for layer in m.layers) == 3
    drop = next(layer for layer in m.layers if type(layer).__name__ == "Dropout")
    head = m.layers[-1]
    assert drop.rate == 0.5 and type(head.kernel_constraint).__name__ == "MaxNorm"
    assert head.kernel_constraint.max_value == 3.0
    assert m.count_params() == 100 * 10 + sum(w * 10 * 100 + 100 for w in (3, 4, 5)) + (300 + 1)
    with pytest.raises(EmbedkitError, match="model"):
        build_model("cnn", vocab_size=10, maxlen=5, num_classes=2)
    with pytest.raises(EmbedkitError, match="Keras models"):
        build_model("logreg", vocab_size=10, maxlen=5, num_classes=2)


def test_multichannel_has_a_frozen_and_a_tuned_copy():
    w = np.random.default_rng(1).normal(size=(30, 6)).astype(np.float32)
    m = build_model("multichannel", vocab_size=30, maxlen=10, num_classes=2, weights=w)
    embs = [layer for layer in m.layers if type(layer).__name__ == "Embedding"]
    assert sorted(e.trainable for e in embs) == [False, True]
    assert all(np.allclose(np.asarray(e.embeddings), w) for e in embs)
    convs = [layer for layer in m.layers if type(layer).__name__ == "Conv1D"]
    assert all(c.kernel.shape[1] == 12 for c in convs)  # each filter spans both channels
    assert MODELS.get("multichannel").modes == ("random", "non-static")


def test_set_rows_pretrained_and_scaled_random(glove_small):
    vocab = Vocabulary.build([["great", "film", "zzzunknown", "great"]])
    rows = SetRows(vocab, glove_small)
    w, known = rows.rows(vocab, "vectors", seed=0)
    i = vocab.index
    assert np.allclose(w[i["great"]], glove_small["great"]) and known[i["great"]] and known[i["film"]]
    assert not known[i["zzzunknown"]] and not known[0] and not known[1]  # unknown word, padding, [UNK]
    assert np.all(w[0] == 0) and np.any(w[i["zzzunknown"]] != 0)
    r, known_r = rows.rows(vocab, "scaled-random", seed=0)
    assert np.array_equal(known, known_r) and np.all(r[0] == 0) and r.shape == w.shape
    assert not np.allclose(r[i["great"]], w[i["great"]])
    # per-dimension scale of the vectors, checked on many rows
    big = Vocabulary.build([[f"w{k}" for k in range(3000)]])
    many = WordVectors([f"w{k}" for k in range(3000)],
                       (np.random.default_rng(2).normal(size=(3000, 4)) * [1, 5, 0.1, 2] + [0, 3, 0, -1]).astype(np.float32))
    rr, _ = SetRows(big, many).rows(big, "scaled-random", seed=3)
    assert np.allclose(rr[2:].std(axis=0), [1, 5, 0.1, 2], rtol=0.1)
    assert np.allclose(rr[2:].mean(axis=0), [0, 3, 0, -1], atol=0.3)
    assert not np.array_equal(rr, SetRows(big, many).rows(big, "scaled-random", seed=4)[0])


def test_paired_difference_matches_scipy():
    from scipy import stats

    a = [0.81, 0.79, 0.83, 0.80, 0.82]
    b = [0.70, 0.72, 0.69, 0.74, 0.70]
    d = paired_difference(a, b, test_share=1 / 9)
    diffs = np.subtract(a, b)
    t = stats.ttest_rel(a, b)
    lo, hi = stats.t.interval(0.95, len(a) - 1, loc=diffs.mean(), scale=stats.sem(diffs))
    assert d.mean == pytest.approx(diffs.mean()) and d.p_value == pytest.approx(t.pvalue)
    assert (d.ci_low, d.ci_high) == (pytest.approx(lo), pytest.approx(hi)) and d.excludes_zero
    assert d.ci_corrected_low < d.ci_low and d.ci_corrected_high > d.ci_high  # wider for overlapping folds
    assert (d.wins, d.losses, d.ties, d.n) == (5, 0, 0, 5)
    one = paired_difference([0.5], [0.4])
    assert one.ci_low is None and not one.excludes_zero
    with pytest.raises(EmbedkitError, match="equal"):
        paired_difference([0.1, 0.2], [0.1])


def test_convergence_flags():
    base = dict(model="kim-cnn", embedding="static", vectors="g", split="fold1", seed=0, accuracy=0.8, macro_f1=0.8,
                seconds_per_epoch=0.1, train_seconds=1.0, params=10, trainable_params=5)
    falling = RunResult(**base, epochs=3, best_epoch=3, capped=True, history={"val_loss": [0.6, 0.5, 0.4]})
    flat = RunResult(**base, epochs=3, best_epoch=2, capped=True, history={"val_loss": [0.6, 0.5, 0.55]})
    stopped = RunResult(**base, epochs=3, best_epoch=3, capped=False, history={"val_loss": [0.6, 0.5, 0.4]})
    assert falling.still_improving and not flat.still_improving and not stopped.still_improving
    assert falling.to_dict()["still_improving"] is True


# ------------------------------------------------------------------------------------------ runs
def test_logreg_sentEval_style_without_tensorflow(tmp_path, glove_small):
    """logreg: mean vectors + scikit-learn, seconds, no TensorFlow import; static beats its control."""
    ds = topic_dataset(60)
    path = tmp_path / "ds.json"
    path.write_text(json.dumps({"texts": ds.texts, "labels": [ds.classes[i] for i in ds.labels],
                                "split": ds.split.tolist()}))
    vec = tmp_path / "vec"
    glove_small.save(vec)
    code = f"""
import json, sys
from embedkit.downstream.datasets import Dataset
from embedkit.downstream.runner import evaluate
from embedkit.vectors.loading import load_vectors
d = json.load(open({str(path)!r}))
r = evaluate(Dataset.from_lists("topics", d["texts"], d["labels"], d["split"]), models=["logreg"],
             embeddings=["static", "frozen-random", "non-static"], vectors={{"g": load_vectors({str(vec)!r})}})
g = r.gains[0]
print(json.dumps({{"tf": "tensorflow" in sys.modules, "gain": g.difference.mean, "lo": g.difference.ci_low,
                  "wins": g.difference.wins, "n": g.difference.n, "acc": g.accuracy,
                  "C": r.summaries[0].runs[0].extra["C"], "notes": r.datasets[0].notes,
                  "modes": [s.embedding for s in r.summaries]}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["tf"] is False
    assert res["modes"] == ["static", "frozen-random"]  # in the order asked; non-static skipped
    assert res["n"] == 3 and res["wins"] == 3 and res["lo"] > 0.2 and res["acc"] > 0.9  # 3 seeds: given split
    assert res["C"] in [2.0 ** k for k in range(-2, 5)]
    assert any("non-static skipped" in n and "trains no embedding" in n for n in res["notes"])


@pytest.mark.slow
def test_kim_cnn_gain_over_frozen_random_and_report_files(glove_small, tmp_path):
    """static - frozen-random and non-static - random, paired over the same seeds; report files."""
    ds = topic_dataset(40)
    out = tmp_path / "out"
    seen = []
    report = evaluate(ds, models=["kim-cnn", "logreg"], embeddings="all", vectors={"glove": glove_small}, seeds=3,
                      epochs=5, patience=2, batch_size=16, learning_rate=3e-3, output=out, progress=seen.append)
    (d,) = report.datasets
    by = {(s.model, s.embedding): s for s in d.summaries}
    assert set(by) == {("kim-cnn", m) for m in EMBEDDINGS} | {("logreg", "static"), ("logreg", "frozen-random")}
    for s in d.summaries:
        assert [r.key for r in s.runs] == [("given", k) for k in range(3)]
    gain = next(g for g in d.gains if (g.model, g.mode) == ("kim-cnn", "static"))
    assert gain.control == "frozen-random" and gain.difference.n == 3 and gain.difference.excludes_zero
    manual = np.mean([a.accuracy - b.accuracy for a, b in zip(by["kim-cnn", "static"].runs,
                                                             by["kim-cnn", "frozen-random"].runs)])
    assert gain.difference.mean == pytest.approx(manual) and gain.difference.mean > 0.3
    assert {(g.model, g.mode) for g in d.gains} == {("kim-cnn", "static"), ("kim-cnn", "non-static"),
                                                    ("logreg", "static")}
    # frozen modes train the conv and head only; the same shape everywhere
    vocab_rows = by["kim-cnn", "random"].params - by["kim-cnn", "static"].trainable_params
    assert by["kim-cnn", "static"].trainable_params == by["kim-cnn", "frozen-random"].trainable_params
    assert by["kim-cnn", "non-static"].trainable_params == by["kim-cnn", "random"].params == vocab_rows + \
        by["kim-cnn", "static"].trainable_params
    assert d.coverage["glove"]["oov_types"] == 0.0 and d.coverage["glove"]["by_fallback"]["exact"] > 10
    assert "logreg: random, non-static skipped" in " ".join(d.notes)
    ends = [e for e in seen if e.task == "eval.run" and e.stage == "end"]
    assert len(ends) == 4 * 3 + 2 * 3 and all("test acc" in e.message for e in ends)
    # report files: JSON (fractions), Markdown, self-contained HTML, one overlay per (dataset, model with curves)
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md", "topics-kim-cnn.png"]
    data = json.loads((out / "report.json").read_text())
    assert data["kind"] == "embedkit-downstream-report"
    res = data["datasets"][0]["results"]
    assert all(0 <= r["accuracy_mean"] <= 1 for r in res)
    first = res[0]["runs"][0]
    assert len(first["history"]["val_loss"]) == first["epochs"]
    gains = data["datasets"][0]["gains"]
    assert all(-1 <= g["gain"] <= 1 and g["ci_low"] <= g["gain"] <= g["ci_high"] for g in gains)
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "Gain over the control" in page and "Per split and seed" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page and "<link" not in page
    md = (out / "report.md").read_text()
    assert "topics-kim-cnn.png" in md and "| kim-cnn | glove | static |" in md
    assert (out / "topics-kim-cnn.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_several_sets_share_splits_and_random_runs_and_are_ranked(glove_small):
    ds = polar_dataset(120)
    noisy = WordVectors(glove_small.keys, np.asarray(glove_small.vectors) +
                        np.random.default_rng(0).normal(0, 1.5, glove_small.vectors.shape).astype(np.float32))
    small = WordVectors(glove_small.keys, np.asarray(glove_small.vectors)[:, :10])
    report = evaluate(ds, models=["pool", "logreg"], embeddings=["random", "static"],
                      vectors={"glove": glove_small, "noisy": noisy, "glove10": small}, folds=3, epochs=3,
                      batch_size=16, learning_rate=1e-2)
    (d,) = report.datasets
    pool = {(s.embedding, s.vectors): s for s in d.summaries if s.model == "pool"}
    # identical splits and seeds for every set; CV: one seed per fold
    assert {tuple(r.key for r in s.runs) for s in d.summaries} == {(("fold1", 0), ("fold2", 0), ("fold3", 0))}
    # random reads only the dimension: glove and noisy (50d) share runs, glove10 has its own
    assert all(r.shared == "glove" for r in pool["random", "noisy"].runs)
    assert [r.accuracy for r in pool["random", "noisy"].runs] == [r.accuracy for r in pool["random", "glove"].runs]
    assert not any(r.shared for r in pool["random", "glove10"].runs)
    assert pool["random", "glove10"].params < pool["random", "glove"].params
    ranked = [r for r in d.ranking if (r.model, r.mode) == ("logreg", "static")]
    assert [r.rank for r in ranked] == [1, 2, 3] and ranked[0].to_best is None
    assert ranked[0].accuracy >= ranked[1].accuracy >= ranked[2].accuracy
    assert all(r.to_best is not None and r.to_best.n == 3 and r.to_best.mean <= 0 for r in ranked[1:])
    assert {r.vectors for r in ranked} == {"glove", "noisy", "glove10"}


@pytest.mark.slow
def test_multiclass_given_splits_throughout(glove_small):
    """A TREC-style 6-class set with given splits: softmax heads, logreg, gains, default seeds (3)."""
    ds = trec_like()
    report = evaluate(ds, models=["kim-cnn", "logreg"], embeddings=["static", "frozen-random"],
                      vectors={"glove": glove_small}, epochs=3, batch_size=8)
    (d,) = report.datasets
    assert d.protocol == "given train/test splits" and d.seeds == 3
    for s in d.summaries:
        assert [r.key for r in s.runs] == [("given", k) for k in range(3)]
        assert all(0 <= r.accuracy <= 1 and 0 <= r.macro_f1 <= 1 for r in s.runs)
    lr = d.summary("logreg", "static")
    assert lr.accuracy_mean > 0.5  # chance is 1/6: the cue word carries the class
    assert lr.params == d.vocab_size[0] * 50 + 6 * 51 and lr.trainable_params == 6 * 51
    assert {g.model for g in d.gains} == {"kim-cnn", "logreg"}


@pytest.mark.slow
def test_empty_texts_dropped_and_counted_never_nan(glove_small):
    ds = polar_dataset(60)
    texts = ds.texts + ["", "   ", "\t"] * 2
    labels = [ds.classes[i] for i in ds.labels] + ["pos", "neg"] * 3
    report = evaluate(Dataset.from_lists("withempty", texts, labels), models=["pool"], embeddings=["static"],
                      vectors={"glove": glove_small}, folds=3, epochs=2, batch_size=8)
    (d,) = report.datasets
    assert d.dataset["empty_dropped"] == 6 and d.dataset["size"] == 60
    assert any("6 empty texts" in n for n in d.notes)
    for r in d.summaries[0].runs:
        assert all(np.isfinite(v) for v in r.history["loss"] + r.history["val_loss"])


def test_bad_arguments_one_line(small_vectors):
    ds = polar_dataset(20)
    with pytest.raises(EmbedkitError, match="needs pretrained vectors"):
        evaluate(ds, embeddings=["static"])
    with pytest.raises(EmbedkitError, match="needs pretrained vectors"):
        evaluate(ds, embeddings=["frozen-random"])
    with pytest.raises(EmbedkitError, match="`seeds` must be a positive integer"):
        evaluate(ds, seeds=0)
    with pytest.raises(EmbedkitError, match="dropout"):
        evaluate(ds, dropout=1.0)
    with pytest.raises(EmbedkitError, match="embedding"):
        evaluate(ds, embeddings=["frozen"], vectors=small_vectors)
    with pytest.raises(EmbedkitError, match="`folds` must be at least 2"):
        evaluate(ds, folds=1)
    with pytest.raises(EmbedkitError, match="No model takes the embedding modes"):
        evaluate(ds, models=["logreg"], embeddings=["random"])
    with pytest.raises(EmbedkitError, match="distinct names"):
        evaluate(ds, embeddings=["static"], vectors=[("a", small_vectors), ("a", small_vectors)])
    with pytest.raises(EmbedkitError, match="Received: 3 texts without a token"):
        evaluate(Dataset.from_lists("e", ["", " ", ""], ["a", "b", "a"]), models=["pool"], embeddings=["random"])


def test_default_protocol_is_cv_with_one_seed_per_fold():
    c = EvalConfig()
    assert (c.folds, c.seeds_for(10), c.seeds_for(1), c.models, c.embeddings, c.vocab) == (
        10, 1, 3, ["kim-cnn"], ["static", "frozen-random"], "all")
    assert c.epochs >= 30 and c.patience is not None  # a generous cap: early stopping decides


@pytest.mark.slow
def test_vocab_train_vs_all():
    ds = Dataset.from_lists("v", ["good fine", "bad poor", "good nice", "bad awful", "good ok", "bad meh"] * 3,
                            ["p", "n"] * 9)
    n_types = len({w for t in ds.texts for w in t.split()})
    rep = evaluate(ds, models=["pool"], embeddings=["random"], seeds=1, folds=3, epochs=1, embedding_dim=4,
                   maxlen=4)
    assert rep.datasets[0].vocab_size == [n_types + 2] and rep.config["vocab"] == "all"
    rep = run_evaluation(ds, EvalConfig(models="pool", embeddings="random", folds=3, epochs=1, embedding_dim=4,
                                        vocab="train"))
    assert max(rep.datasets[0].vocab_size) <= n_types + 2
    with pytest.raises(EmbedkitError, match="`vocab` must be"):
        evaluate(ds, vocab="test")
