"""Skip-gram with negative sampling: the batches gensim's ``train_batch_sg`` would visit, one step equal to gensim's
per-example update, structure recovery, and parity with gensim ``Word2Vec(sg=1)``."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit.corpora.synthetic import SyntheticCorpus
from embedkit.train.batches import BatchMaker
from embedkit.train.config import CBOWConfig
from embedkit.train.corpus import encode_corpus
from embedkit.train.trainer import train_cbow


def _tables(V, d, seed):
    rng = np.random.default_rng(seed)
    w_in = np.vstack([rng.normal(0, 0.5, (V, d)), np.zeros((1, d))]).astype(np.float32)
    w_out = rng.normal(0, 0.5, (V, d)).astype(np.float32)
    return w_in, w_out


def test_one_step_equals_gensims_per_example_updates(gensim_update):
    """Pairs that touch disjoint rows update exactly as gensim's per-pair skip-gram does, through Keras's optimizer
    (``train_step``) and through the deltas the threaded stepper applies; a padding pair changes nothing."""
    import tensorflow as tf

    from embedkit.train.model import build_cbow_model

    V, d = 14, 4
    w_in, w_out = _tables(V, d, 5)
    w_out[6] = 8.0 * w_in[1] / float(w_in[1] @ w_in[1])  # context 1 · u6 = 8: gensim skips this negative
    # pairs (context 1 -> target 2, negatives 5 6), (context 3 -> target 4, negatives 7 8), and a padding slot
    batch = (np.array([1, 3, V], np.int32), np.array([2, 4, 0], np.int32), np.array([[5, 6], [7, 8], [9, 10]], np.int32),
             np.array([True, True, False]))
    ref_in, ref_out = w_in.astype(np.float64), w_out.astype(np.float64)
    gensim_update(ref_in, ref_out, [1], 2, [5, 6], 0.3)
    gensim_update(ref_in, ref_out, [3], 4, [7, 8], 0.3)
    for path in ("train_step", "deltas"):
        m = build_cbow_model(V, d, 2, 2, sg=True, jit_compile=False)
        m.set_tables(w_in, w_out, 0)
        tensors = tuple(tf.constant(x) for x in batch)
        if path == "train_step":
            m.train_step((*tensors, tf.constant(0.3)))
        else:
            in_ids, out_ids = m.batch_ids(tensors)
            up = m.batch_deltas(m.input_table().sparse_read(in_ids), m.output_table().sparse_read(out_ids), tensors,
                                tf.constant(0.3))
            m.apply_deltas(in_ids, up["in_delta"], out_ids, up["out_delta"])
        t = m.get_tables()
        np.testing.assert_allclose(t.input, ref_in, atol=1e-6, err_msg=path)
        np.testing.assert_allclose(t.output, ref_out, atol=1e-6, err_msg=path)
        assert np.array_equal(t.output[6], w_out[6]) and np.array_equal(t.output[9:11], w_out[9:11])


def test_pairs_are_gensims_windows():
    """Every pair lies within its target's effective window, inside one sentence, in both directions; each kept
    word pairs with 2·b words (b uniform in 1..window) away from sentence ends."""
    sents = [[f"w{i:02d}" for i in range(30)] for _ in range(300)]
    enc = encode_corpus(sents, min_count=1)
    W = 3
    cfg = CBOWConfig(window=W, sample=0, min_count=1, batch_size=256, sg=True).validate()
    (context, target, neg, live, alpha), n = BatchMaker(enc, cfg).make_sg_chunk(0, 0)
    assert n == enc.n_tokens and context.shape == target.shape == live.shape and neg.shape == target.shape + (5,)
    pos = lambda ids: np.array([int(enc.vocab.words[i][1:]) for i in ids])  # noqa: E731
    c, t = context[live], target[live]
    gap = pos(c) - pos(t)
    assert set(np.unique(gap)) <= {-3, -2, -1, 1, 2, 3} and (gap < 0).any() and (gap > 0).any()
    # pairs per interior target: 2b, b uniform in 1..3, so on average 4
    inner = (pos(t) >= W) & (pos(t) < 30 - W)
    per_target = inner.sum() / (enc.n_tokens * (30 - 2 * W) / 30)
    assert per_target == pytest.approx(2 * (W + 1) / 2, rel=0.05)
    assert (context[~live] == len(enc.vocab)).all() and np.all(np.diff(alpha) <= 0)


def test_skipgram_recovers_topics():
    corpus = SyntheticCorpus(n_topics=6, words_per_topic=12, n_sentences=3000, seed=3)
    res = train_cbow(list(corpus.sentences()), CBOWConfig(vector_size=24, min_count=1, epochs=3, seed=5, sg=True))
    unit = res.wv.unit_vectors()
    hits = total = 0
    for w in res.wv.keys:
        topic = corpus.topic_of(w)
        if topic is None:
            continue
        sims = unit @ unit[res.wv.key_to_index[w]]
        sims[res.wv.key_to_index[w]] = -np.inf
        for j in np.argsort(-sims)[:5]:
            total += 1
            hits += corpus.topic_of(res.wv.keys[j]) == topic
    assert hits / total >= 0.9
    assert res.stats.config["sg"] is True and res.stats.loss_per_epoch[-1] < res.stats.loss_per_epoch[0]


@pytest.mark.slow
def test_skipgram_parity_with_gensim_on_real_text():
    """Same tokens and settings: pairwise similarities of frequent words agree with gensim sg=1's about as well
    as gensim agrees with itself under another seed."""
    from gensim.models import Word2Vec
    from gensim.test.utils import datapath

    from embedkit.text.tokenizer import Tokenizer
    from embedkit.train.corpus import iter_sentences

    sents = list(iter_sentences([datapath("lee_background.cor")], Tokenizer()))
    ours = train_cbow(sents, CBOWConfig(vector_size=50, min_count=5, epochs=10, seed=1, sg=True)).wv
    kw = dict(vector_size=50, min_count=5, epochs=10, sg=1, workers=1)
    g1, g2 = Word2Vec(sents, seed=1, **kw).wv, Word2Vec(sents, seed=2, **kw).wv
    words = g1.index_to_key[:150]

    def sims(get):
        m = np.array([get(w) for w in words], dtype=np.float64)
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        return (m @ m.T)[np.triu_indices(len(words), 1)]

    baseline = np.corrcoef(sims(g1.get_vector), sims(g2.get_vector))[0, 1]
    assert baseline > 0.5
    assert np.corrcoef(sims(lambda w: ours[w]), sims(g1.get_vector))[0, 1] >= baseline - 0.1
