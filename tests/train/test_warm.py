"""Warm starts (`init_vectors`) and continued training of a set embedkit trained (`continue_from`)."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit.errors import EmbedkitError
from embedkit.train.config import CBOWConfig
from embedkit.train.trainer import train_cbow
from embedkit.vectors.word_vectors import WordVectors

FRUIT = ["banana", "pear", "plum", "cherry", "mango", "grape"]
TECH = ["laptop", "iphone", "software", "chip", "tablet", "screen"]


def _sentences(rng, n, apple_with):
    """Sentences of fruit words and of tech words; `apple` appears among `apple_with`."""
    out = []
    for i in range(n):
        group = FRUIT if i % 2 else TECH
        words = list(rng.choice(group, size=8))
        if group is apple_with:
            words[rng.integers(0, 8)] = "apple"
        out.append(words)
    return out


def _mean_sim(wv, word, others):
    u = wv.unit_vectors()
    return float(np.mean([u[wv.key_to_index[word]] @ u[wv.key_to_index[o]] for o in others]))


@pytest.fixture(scope="module")
def general():
    """Vectors trained where apple is a fruit."""
    rng = np.random.default_rng(1)
    return train_cbow(_sentences(rng, 3000, FRUIT), CBOWConfig(vector_size=16, min_count=1, epochs=5, seed=2,
                                                               threads=1))


def test_warm_start_keeps_the_given_rows_before_training(keras_model_probe, general):
    rng = np.random.default_rng(5)
    sents = _sentences(rng, 200, TECH) + [["zebra", "unicorn"]] * 3
    probe, first = keras_model_probe()
    res = train_cbow(sents, CBOWConfig(vector_size=16, min_count=1, epochs=1, threads=1), init_vectors=general.wv,
                     callbacks=[probe])
    table = first["input"]
    vocab = res.wv.keys
    for w in FRUIT + TECH + ["apple"]:
        np.testing.assert_array_equal(table[vocab.index(w)], general.wv[w])
    for w in ("zebra", "unicorn"):  # missing words start as usual: uniform in [-1/dim, 1/dim)
        assert np.abs(table[vocab.index(w)]).max() <= 1 / 16
    assert res.stats.init == {"kind": "init-vectors", "name": general.wv.source or "WordVectors", "found": 13,
                              "words": len(general.wv)}


def test_after_a_warm_start_neighbours_move_toward_the_domain(general):
    before = _mean_sim(general.wv, "apple", TECH) - _mean_sim(general.wv, "apple", FRUIT)
    assert before < 0  # a fruit to start with
    rng = np.random.default_rng(7)
    domain = _sentences(rng, 1500, TECH)  # a domain corpus where apple is a computer brand
    warm = train_cbow(domain, CBOWConfig(vector_size=16, min_count=1, epochs=3, seed=3, threads=1),
                      init_vectors=general.wv).wv
    after = _mean_sim(warm, "apple", TECH) - _mean_sim(warm, "apple", FRUIT)
    assert after > 0 and after - before > 0.3, (before, after)
    top = [w for w, _ in warm.most_similar("apple", topn=6)] if hasattr(warm, "most_similar") else None
    if top is not None:
        assert len(set(top) & set(TECH)) >= 4


def test_warm_start_errors(general):
    with pytest.raises(EmbedkitError, match=r"must have the training's vector size \(8\); pass --dim 16"):
        train_cbow([["a", "b"]] * 10, CBOWConfig(vector_size=8, min_count=1), init_vectors=general.wv)
    with pytest.raises(EmbedkitError, match="shares no word with the corpus"):
        train_cbow([["xx", "yy"]] * 10, CBOWConfig(vector_size=16, min_count=1), init_vectors=general.wv)
    with pytest.raises(EmbedkitError, match="not both"):
        train_cbow([["a"]], CBOWConfig(), init_vectors=general.wv, continue_from="x")


def test_continue_training_with_more_epochs_starts_from_both_tables(keras_model_probe, general, tmp_path):
    saved = general.save(tmp_path / "general")
    rng = np.random.default_rng(1)
    sents = _sentences(rng, 3000, FRUIT)
    probe, first = keras_model_probe()
    more = train_cbow(sents, CBOWConfig(vector_size=16, min_count=1, epochs=2, seed=2, threads=1),
                      continue_from=saved, callbacks=[probe])
    assert more.wv.keys == general.wv.keys
    np.testing.assert_array_equal(first["input"][:-1], general.wv.vectors)
    np.testing.assert_array_equal(first["output"], general.output_vectors)
    fresh = train_cbow(sents, CBOWConfig(vector_size=16, min_count=1, epochs=2, seed=2, threads=1))
    assert more.stats.loss_per_epoch[0] < fresh.stats.loss_per_epoch[0]  # it went on, it did not start over
    np.testing.assert_array_equal(more.wv.counts, 2 * general.wv.counts)  # both runs' counts
    assert more.stats.init["kind"] == "continue" and more.stats.init["new_words"] == 0


def test_continue_training_on_a_new_corpus_grows_the_vocabulary(general, tmp_path):
    saved = general.save(tmp_path / "general")
    rng = np.random.default_rng(4)
    new = [list(rng.choice(TECH + ["apple"], size=8)) for _ in range(400)] + [["quantum", "laptop", "chip", "quantum"]] * 20
    grown = train_cbow(new, CBOWConfig(vector_size=16, min_count=1, epochs=2, threads=1), continue_from=saved)
    old = general.wv.keys
    assert grown.wv.keys[: len(old)] == old and grown.wv.keys[len(old):] == ["quantum"]
    # fruit words do not occur in the new corpus: their vectors are kept as they were
    for w in FRUIT:
        np.testing.assert_array_equal(grown.wv[w], general.wv[w])
    assert not np.allclose(grown.wv["laptop"], general.wv["laptop"])
    assert grown.wv.counts[grown.wv.key_to_index["quantum"]] == 40
    assert grown.stats.init["new_words"] == 1 and grown.stats.vocab_size == len(old) + 1


def test_continue_needs_a_set_embedkit_trained(general, tmp_path):
    general.wv.save(tmp_path / "plain")  # vectors only, no output table
    with pytest.raises(EmbedkitError, match="needs a set embedkit trained"):
        train_cbow([["apple", "pear"]] * 10, CBOWConfig(vector_size=16, min_count=1), continue_from=tmp_path / "plain")
    saved = general.save(tmp_path / "trained")
    with pytest.raises(EmbedkitError, match=r"must train at the set's vector size \(16\)"):
        train_cbow([["apple", "pear"]] * 10, CBOWConfig(vector_size=8, min_count=1), continue_from=saved)
    np.save(saved / "output_table.npy", np.zeros((3, 16), np.float32))
    with pytest.raises(EmbedkitError, match="output table does not match its vectors"):
        train_cbow([["apple", "pear"]] * 10, CBOWConfig(vector_size=16, min_count=1), continue_from=saved)


@pytest.fixture
def keras_model_probe():
    """A Keras callback that copies the model's tables when training begins."""
    from embedkit.runtime import import_tensorflow

    import_tensorflow()
    import keras

    def make():
        first = {}

        class Probe(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                t = self.model.get_tables()
                first.update(input=t.input.copy(), output=t.output.copy())

        return Probe(), first

    return make


def test_word_vectors_helper_needs_the_vocabulary():
    from embedkit.train.model import CBOWModel

    with pytest.raises(ValueError, match="no vocabulary"):
        CBOWModel(3, 2, 1, 1).word_vectors()
    m = CBOWModel(2, 2, 1, 1)
    m.words = ["a", "b"]
    assert isinstance(m.word_vectors(), WordVectors) and m.word_vectors().keys == ["a", "b"]
