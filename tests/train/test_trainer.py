"""The Keras CBOW trainer: structure recovery, gensim parity, determinism, resume, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit.train.batches import BatchMaker, chunk_bounds, keep_probabilities, noise_distribution
from embedkit.train.trainer import CBOWConfig, train_cbow
from embedkit.corpora.synthetic import SyntheticCorpus
from embedkit.train.corpus import Tokenizer, encode_corpus
from embedkit.errors import EmbedkitError


@pytest.fixture(scope="module")
def synthetic():
    return SyntheticCorpus(n_topics=6, words_per_topic=12, n_sentences=4000, seed=3)


def _same_topic_share(wv, corpus, k=5):
    unit = wv.unit_vectors()
    hits = total = 0
    for w in wv.keys:
        t = corpus.topic_of(w)
        if t is None:
            continue
        sims = unit @ unit[wv.key_to_index[w]]
        sims[wv.key_to_index[w]] = -np.inf
        for j in np.argsort(-sims)[:k]:
            total += 1
            hits += corpus.topic_of(wv.keys[j]) == t
    return hits / total


def test_synthetic_topics_are_recovered(synthetic):
    res = train_cbow(list(synthetic.sentences()), CBOWConfig(vector_size=24, min_count=1, epochs=3, seed=5))
    share = _same_topic_share(res.wv, synthetic)
    assert share >= 0.9, share
    # Chance level is about 1/6: make sure the test can fail on untrained vectors.
    rng = np.random.default_rng(0)
    from embedkit.vectors.word_vectors import WordVectors

    rand = WordVectors(res.wv.keys, rng.standard_normal(res.wv.vectors.shape).astype(np.float32))
    assert _same_topic_share(rand, synthetic) < 0.5
    assert res.wv.counts is not None and res.wv.counts[0] == res.wv.counts.max()
    assert len(res.stats.loss_per_epoch) == 3
    assert res.stats.loss_per_epoch[-1] < res.stats.loss_per_epoch[0]


def test_vocabulary_matches_gensim_order_and_counts(synthetic):
    from gensim.models import Word2Vec

    sents = list(synthetic.sentences())
    enc = encode_corpus(sents, min_count=3)
    g = Word2Vec(min_count=3)
    g.build_vocab(sents)
    # same words with the same counts, most frequent first (gensim's order among ties is unspecified)
    assert dict(zip(enc.vocab.words, enc.vocab.counts.tolist())) == {
        w: g.wv.get_vecattr(w, "count") for w in g.wv.index_to_key
    }
    assert np.all(np.diff(enc.vocab.counts) <= 0)
    # subsampling keep probabilities equal gensim's (it stores them as sample_int / 2**32)
    p = keep_probabilities(enc.vocab.counts, 1e-3)
    gp = np.array([g.wv.get_vecattr(w, "sample_int") for w in enc.vocab.words]) / 2**32
    np.testing.assert_allclose(p, gp, atol=1e-6)


def test_noise_distribution_is_exact_unigram_power():
    counts = np.array([1000, 100, 10, 1, 1, 7000])
    accept, alias = noise_distribution(counts, 0.75)
    n = counts.size
    prob = (accept + np.bincount(alias, weights=1 - accept, minlength=n)) / n
    np.testing.assert_allclose(prob, counts**0.75 / (counts**0.75).sum(), rtol=1e-6)


def test_dynamic_window_and_sentence_boundaries():
    sents = [[f"w{i:02d}" for i in range(40)] for _ in range(200)]
    enc = encode_corpus(sents, min_count=1)
    W, B = 4, 128  # several segments per batch
    cfg = CBOWConfig(window=W, sample=0, min_count=1, batch_size=B).validate()
    tr = BatchMaker(enc, cfg)
    (span, window, tgt, neg, alpha), n = tr.make_chunk(0, 0)
    assert neg.shape == tgt.shape + (cfg.negative,)
    assert n == enc.n_tokens  # sample=0 keeps every word
    from embedkit.train.batches import segment_length

    S = segment_length(B)
    G = B // S
    assert G >= 2
    nb = window.shape[0]
    assert span.shape == (nb, G * (S + 2 * W)) and window.shape[1:] == (B, 2 * W)
    seg_span = span.reshape(nb * G, S + 2 * W)  # one span per segment
    at = seg_span[:, W : W + S]
    pad = at == len(enc.vocab)  # padding after the last real target
    assert pad.sum() == tgt.size - n
    assert (at[~pad] == tgt.reshape(-1, S)[~pad]).all()  # target r of a segment sits at its span[W + r]
    # word ids of each target's context, read from its segment's span at the target's position + offset
    offsets = [-o for o in range(1, W + 1)] + list(range(1, W + 1))
    r = np.arange(S)
    win = window.reshape(nb * G, S, 2 * W)
    ctx_ids = np.stack([np.where(win[:, :, c], seg_span[:, W + o + r], -1) for c, o in enumerate(offsets)], axis=2)
    ctx_ids, tgt = ctx_ids.reshape(-1, 2 * W), tgt.reshape(-1)
    real = (ctx_ids >= 0).any(axis=1)  # every real target here has context; padding targets have none
    assert real.sum() == n
    ctx_ids, tgt = ctx_ids[real], tgt[real]
    pos = np.array([int(enc.vocab.words[t][1:]) for t in tgt])
    left = ctx_ids[:, :W]
    for o in range(1, W + 1):  # the word at offset -o is the word o places before the target
        got = left[:, o - 1]
        ok = got >= 0
        assert np.all(np.array([int(enc.vocab.words[g][1:]) for g in got[ok]]) == pos[ok] - o)
    n_left = (left >= 0).sum(1)
    # effective window b is uniform in 1..W: interior targets (pos >= W) have exactly b left words
    inner = pos >= W
    hist = np.bincount(n_left[inner], minlength=W + 1)[1:] / inner.sum()
    np.testing.assert_allclose(hist, 1 / W, atol=0.03)
    assert (n_left[pos == 0] == 0).all()  # windows never cross a sentence
    assert (ctx_ids[pos == 39][:, W:] == -1).all()
    assert np.all(np.diff(alpha) <= 0)  # the learning rate never increases


def test_negatives_redrawn_once_when_equal_to_target():
    from embedkit.train.batches import draw_negatives

    noise = noise_distribution(np.array([6, 1, 1]), 1.0)  # word 0 is 75% of the noise (exponent 1)
    rng = np.random.default_rng(0)
    neg = draw_negatives(rng, noise, np.zeros(20000, np.int32), 5)
    # drawn as often as its share, then redrawn once: 0.75 * 0.75 of slots still hold the target (masked)
    assert abs((neg == 0).mean() - 0.75**2) < 0.01
    other = draw_negatives(rng, noise, np.ones(20000, np.int32), 5)
    assert abs((other == 0).mean() - (0.75 + 0.125 * 0.75)) < 0.01
    assert abs((other == 2).mean() - (0.125 + 0.125 * 0.125)) < 0.01


def test_target_never_trains_as_its_own_negative():
    """A negative equal to the target must not move the target's output vector away from the context."""
    import tensorflow as tf

    from embedkit.train.model import build_cbow_model

    m = build_cbow_model(4, 3, 1, 2, jit_compile=False)
    span = np.array([1, 0, 2], np.int32)  # target 0 between context words 1 and 2
    window = np.ones((1, 2), bool)
    target = np.array([0], np.int32)
    before = m.output_embeddings.embeddings.numpy().copy()
    data = (tf.constant(span), tf.constant(window), tf.constant(target), tf.constant([[0, 0]], np.int32),
            tf.constant(0.5))
    m.train_step(data)
    after = m.output_embeddings.embeddings.numpy()
    h = m.input_embeddings.embeddings.numpy()[[1, 2]].mean(0)  # (rows before the update are random)
    # only the positive update happened: the target's output vector moved towards h, not away
    assert np.dot(after[0] - before[0], h) > 0


def test_one_step_equals_gensims_per_example_updates(gensim_update):
    """A batch whose examples touch disjoint rows must update exactly as gensim's per-example CBOW does,
    including its skip of scores at or beyond ±6 (here: a negative far too close to its context)."""
    import tensorflow as tf

    from embedkit.train.model import build_cbow_model

    V, d = 12, 4
    m = build_cbow_model(V, d, 1, 2, jit_compile=False)
    rng = np.random.default_rng(4)
    w_in = np.vstack([rng.normal(0, 0.5, (V, d)), np.zeros((1, d))]).astype(np.float32)
    w_out = rng.normal(0, 0.5, (V, d)).astype(np.float32)
    # span 1 2 3 4: target 2 (context 1, 3) and target 3 (context 2, 4); negatives 5 6 and 7 8
    h0 = w_in[[1, 3]].mean(axis=0)
    w_out[6] = 8.0 * h0 / float(h0 @ h0)  # h0·u6 = 8: gensim skips this negative
    m.input_embeddings.embeddings.assign(w_in)
    m.output_embeddings.embeddings.assign(w_out)
    data = (tf.constant([1, 2, 3, 4], tf.int32), tf.constant(np.ones((2, 2), bool)), tf.constant([2, 3], tf.int32),
            tf.constant([[5, 6], [7, 8]], tf.int32), tf.constant(0.3))
    m.train_step(data)
    ref_in, ref_out = w_in.astype(np.float64), w_out.astype(np.float64)
    gensim_update(ref_in, ref_out, [1, 3], 2, [5, 6], 0.3)
    gensim_update(ref_in, ref_out, [2, 4], 3, [7, 8], 0.3)
    np.testing.assert_allclose(m.input_embeddings.embeddings.numpy(), ref_in, atol=1e-6)
    np.testing.assert_allclose(m.output_embeddings.embeddings.numpy(), ref_out, atol=1e-6)
    assert np.array_equal(m.output_embeddings.embeddings.numpy()[6], w_out[6])  # the skipped negative


def test_input_vectors_start_in_gensims_range():
    from embedkit.train.model import build_cbow_model

    w = build_cbow_model(500, 10, 2, 2, seed=7, jit_compile=False).input_embeddings.embeddings.numpy()
    assert w.shape == (501, 10) and not w[-1].any()  # zero padding row
    assert -0.1 <= w[:-1].min() < -0.098 and 0.098 < w[:-1].max() < 0.1  # uniform in [-1/dim, 1/dim)
    w2 = build_cbow_model(500, 10, 2, 2, seed=7, jit_compile=False).input_embeddings.embeddings.numpy()
    assert np.array_equal(w, w2)


def test_grouped_calls_train_what_single_steps_train(monkeypatch):
    """Long runs unroll several batch steps per compiled call; the vectors equal one step per call's, batch by
    batch (the last group padded with empty batches)."""
    import embedkit.train.steppers as steppers_mod
    from embedkit.train.batches import group_batches

    rng = np.random.default_rng(2)
    sents = [[f"t{k}_{w}" for w in rng.integers(0, 30, size=12)] for k in rng.integers(0, 4, size=500)]
    cfg = CBOWConfig(vector_size=16, min_count=1, epochs=2, chunk_tokens=2500, seed=5, threads=1, batch_size=64)
    enc = encode_corpus(sents, min_count=1)
    plain = train_cbow(enc, cfg)
    calls = []

    def grouped(batches, group, pad_id):
        calls.append(batches[0].shape[0] % group)
        return group_batches(batches, group, pad_id)

    monkeypatch.setattr(steppers_mod, "batches_per_call", lambda n: 4)
    monkeypatch.setattr(steppers_mod, "group_batches", grouped)
    fast = train_cbow(enc, cfg)
    assert len(calls) >= 4 and any(calls)  # every chunk went through groups; some were padded
    np.testing.assert_allclose(fast.wv.vectors, plain.wv.vectors, rtol=1e-4, atol=1e-5)
    # the epoch loss is an exact mean over examples: padding batches add nothing to it
    np.testing.assert_allclose(fast.stats.loss_per_epoch, plain.stats.loss_per_epoch, rtol=1e-5)


def test_the_threaded_stepper_on_one_thread_steps_as_the_grouped_one(monkeypatch):
    """The Hogwild stepper's group tensors, sliced in the graph, are the same batches: on one thread (no
    interleaving) it trains the same vectors and losses as the serial stepper, including a padded last group."""
    import embedkit.train.steppers as steppers_mod

    rng = np.random.default_rng(3)
    sents = [[f"t{k}_{w}" for w in rng.integers(0, 30, size=12)] for k in rng.integers(0, 4, size=500)]
    cfg = CBOWConfig(vector_size=16, min_count=1, epochs=2, chunk_tokens=2500, seed=5, threads=1, batch_size=64,
                     kernel="xla")
    enc = encode_corpus(sents, min_count=1)
    plain = train_cbow(enc, cfg)
    assert plain.stats.stepper == "GroupedStepper"
    monkeypatch.setattr(steppers_mod, "choose_stepper",
                        lambda model, strategy, estimated, pad_id, threads=1, kernel="xla": steppers_mod.ThreadedStepper(
                            model, 1, 3, pad_id))
    threaded = train_cbow(enc, cfg)
    assert threaded.stats.stepper == "ThreadedStepper"
    np.testing.assert_allclose(threaded.wv.vectors, plain.wv.vectors, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(threaded.stats.loss_per_epoch, plain.stats.loss_per_epoch, rtol=1e-5)


@pytest.mark.parametrize("kernel, stepper", [("xla", "ThreadedStepper"), ("native", "NativeStepper")])
def test_two_threads_train_as_well_as_one(kernel, stepper):
    """The Hogwild steppers (two threads on the same tables) learn the same structure as one thread."""
    from embedkit.corpora.synthetic import SyntheticCorpus

    corpus = SyntheticCorpus(n_topics=6, words_per_topic=12, n_sentences=6000, seed=8)
    sents = list(corpus.sentences())
    cfg = CBOWConfig(vector_size=24, min_count=1, epochs=3, seed=5, batch_size=128, threads=2, kernel=kernel)
    res = train_cbow(sents, cfg)
    assert res.stats.stepper == stepper and res.stats.threads == 2
    assert _same_topic_share(res.wv, corpus) >= 0.9
    assert res.stats.loss_per_epoch[-1] < res.stats.loss_per_epoch[0]
    assert len(res.stats.history) == 3 and res.stats.epochs_trained == 3


def test_chunk_bounds_at_sentence_ends():
    ends = np.array([3, 10, 12, 30, 31])
    b = chunk_bounds(ends, 8)
    assert b[0] == 0 and b[-1] == 31
    assert set(b[1:-1]) <= set(ends.tolist())


@pytest.mark.slow
def test_quality_parity_with_gensim_on_real_text():
    """Same tokens, same settings: pairwise similarities of frequent words agree with gensim's about as
    well as gensim agrees with itself under another seed."""
    from gensim.models import Word2Vec
    from gensim.test.utils import datapath

    from embedkit.train.corpus import iter_sentences

    sents = list(iter_sentences([datapath("lee_background.cor")], Tokenizer()))
    cfg = CBOWConfig(vector_size=50, min_count=5, epochs=20, seed=1)
    ours = train_cbow(sents, cfg).wv
    kw = dict(vector_size=50, min_count=5, epochs=20, sg=0, workers=1)
    g1 = Word2Vec(sents, seed=1, **kw).wv
    g2 = Word2Vec(sents, seed=2, **kw).wv
    words = [w for w in g1.index_to_key[:150]]

    def sims(get):
        m = np.array([get(w) for w in words], dtype=np.float64)
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        s = m @ m.T
        return s[np.triu_indices(len(words), 1)]

    s_ours, s1, s2 = sims(lambda w: ours[w]), sims(g1.get_vector), sims(g2.get_vector)
    baseline = np.corrcoef(s1, s2)[0, 1]
    ours_vs = np.corrcoef(s_ours, s1)[0, 1]
    assert baseline > 0.5
    assert ours_vs >= baseline - 0.1, (ours_vs, baseline)


def test_resume_equals_uninterrupted(tmp_path, synthetic):
    sents = list(synthetic.sentences())
    enc = encode_corpus(sents, min_count=1)
    cfg = CBOWConfig(vector_size=16, min_count=1, epochs=3, chunk_tokens=8000, seed=11, threads=1)
    full = train_cbow(enc, cfg)

    calls = {"n": 0}

    def crash(p):
        calls["n"] += 1
        if p["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_cbow(enc, cfg, checkpoint_dir=tmp_path / "ckpt", checkpoint_every=0, progress=crash)
    assert [p.name.startswith("checkpoint-") for p in (tmp_path / "ckpt").iterdir()] == [True]
    resumed = train_cbow(enc, cfg, checkpoint_dir=tmp_path / "ckpt", resume=True)
    assert resumed.stats.resumed_from
    np.testing.assert_allclose(resumed.wv.vectors, full.wv.vectors, rtol=1e-4, atol=1e-5)
    # a different setting cannot silently resume from this checkpoint
    with pytest.raises(EmbedkitError, match="different config"):
        train_cbow(enc, CBOWConfig(vector_size=16, min_count=1, epochs=4, chunk_tokens=8000, seed=11),
                   checkpoint_dir=tmp_path / "ckpt", resume=True)


@pytest.mark.parametrize(
    "field, value",
    [("vector_size", 0), ("window", -1), ("negative", 0), ("epochs", 0), ("alpha", 0.0), ("sample", -1e-3),
     ("min_count", 0), ("batch_size", 2.5), ("window", 10**8), ("negative", 10**6), ("batch_size", 10**9),
     ("sg", "yes")],
)
def test_bad_hyper_parameters(field, value):
    with pytest.raises(EmbedkitError, match=f"`{field}` must be"):
        CBOWConfig(**{field: value}).validate()


def test_huge_tables_say_what_is_wrong():
    from embedkit.train.trainer import check_table_memory

    with pytest.raises(EmbedkitError, match=r"The two training tables need .* GiB .* Received: vocab_size=3, dim="):
        check_table_memory(3, 10**11)
    check_table_memory(42000, 100)  # 34 MB: fine


def test_a_pattern_matching_the_empty_string_is_refused(tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("a b c\n" * 10)
    for pattern in ("", "[a-z]*", "(?=a)"):
        with pytest.raises(EmbedkitError, match="must not match the empty string"):
            train_cbow([f], CBOWConfig(min_count=1), tokenizer=Tokenizer(pattern))


def test_empty_and_rare_corpora(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(EmbedkitError, match="at least one token"):
        train_cbow([empty], CBOWConfig())
    rare = tmp_path / "rare.txt"
    rare.write_text("one two three\nfour five\n")
    with pytest.raises(EmbedkitError, match="min_count=5"):
        train_cbow([rare], CBOWConfig())
    with pytest.raises(EmbedkitError, match="does not exist"):
        train_cbow([tmp_path / "missing.txt"], CBOWConfig())
    with pytest.raises(EmbedkitError, match="directory"):
        train_cbow([tmp_path], CBOWConfig())


def test_progress_events_report_the_run_and_one_message_per_epoch():
    from embedkit.progress import ProgressEvent

    sents = [[f"w{(i * j) % 17}" for j in range(12)] for i in range(300)]
    seen = []
    train_cbow(sents, CBOWConfig(vector_size=8, min_count=1, epochs=3, chunk_tokens=1000, seed=2), progress=seen.append)
    assert all(isinstance(e, ProgressEvent) and e.task == "train" for e in seen)
    assert seen[0].stage == "start" and seen[-1].stage == "end" and "error" not in seen[-1].fields
    fractions = [e["fraction"] for e in seen]
    assert fractions == sorted(fractions) and 0.99 < fractions[-1] <= 1.0 + 1e-9
    assert [e.completed for e in seen] == fractions
    messages = [e.message for e in seen if e.message]
    assert [m.split(":")[0] for m in messages] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    updates = [e for e in seen if e.stage == "update"]
    assert {"epoch", "epochs", "fraction", "words_per_sec", "loss", "eta_seconds"} <= set(updates[0].fields)


def test_sentence_reach_counts_the_words_before_and_after_in_the_sentence():
    from embedkit.train.batches import _sentence_reach

    rng = np.random.default_rng(11)
    for size in (0, 1, 2, 57):
        sent = np.sort(rng.integers(0, 9, size))  # sentence numbers of the kept words, runs of equal numbers
        left, right = _sentence_reach(sent)
        for i in range(size):  # the plain definition, word by word
            assert left[i] == sum(sent[j] == sent[i] for j in range(i))
            assert right[i] == sum(sent[j] == sent[i] for j in range(i + 1, size))


def test_cbow_deltas_without_static_shapes_equal_the_static_path():
    """The shifted-slice path that strategies' loops trace (shapes unknown until run) computes the band-matrix
    path's update."""
    import tensorflow as tf

    from embedkit.train.update import cbow_deltas

    W, S, G, K, d = 3, 8, 2, 2, 5
    rng = np.random.default_rng(5)
    span_rows = rng.normal(size=(G * (S + 2 * W), d)).astype(np.float32)
    out_rows = rng.normal(size=(G * S * (1 + K), d)).astype(np.float32)
    window = rng.random((G * S, 2 * W)) < 0.6
    window[0] = False  # a target without context
    target = rng.integers(0, 20, G * S).astype(np.int32)
    neg = rng.integers(0, 20, (G * S, K)).astype(np.int32)
    static = cbow_deltas(span_rows, out_rows, window, tf.constant(target), tf.constant(neg), window=W)
    spec = [tf.TensorSpec([None, d], tf.float32), tf.TensorSpec([None, d], tf.float32),
            tf.TensorSpec([None, 2 * W], tf.bool), tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, K], tf.int32)]
    dynamic = tf.function(lambda *a: cbow_deltas(*a, window=W), input_signature=spec)(
        span_rows, out_rows, window, target, neg)
    for key in ("in_delta", "out_delta", "loss_sum", "weight"):
        np.testing.assert_allclose(np.asarray(dynamic[key]), np.asarray(static[key]), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kernel, stepper", [("xla", "GroupedStepper"), ("native", "NativeStepper")])
def test_skip_gram_resume_inside_a_shuffle_window_equals_uninterrupted(tmp_path, synthetic, monkeypatch, kernel,
                                                                       stepper):
    """A skip-gram run stopped inside a shuffle window (its chunks share the window's shuffled pairs) and resumed
    from its checkpoint rebuilds that window and trains the same vectors as a run that never stopped."""
    import json

    import embedkit.train.steppers as steppers_mod

    enc = encode_corpus(list(synthetic.sentences()), min_count=1)
    cfg = CBOWConfig(vector_size=16, min_count=1, epochs=2, chunk_tokens=6000, shuffle_tokens=4000, seed=11,
                     threads=1, sg=True, kernel=kernel)  # builds 1,000 tokens at a time, shuffles over windows of 4
    full = train_cbow(enc, cfg)
    assert full.stats.stepper == stepper
    run = getattr(steppers_mod, stepper).run
    stepped = []

    def run_then_stop(self, epoch, chunk, *args):
        if len(stepped) == 6:  # after chunks 0..5: stop inside the second window
            raise KeyboardInterrupt
        stepped.append(chunk)
        return run(self, epoch, chunk, *args)

    with monkeypatch.context() as m:
        m.setattr(getattr(steppers_mod, stepper), "run", run_then_stop)
        with pytest.raises(KeyboardInterrupt):
            train_cbow(enc, cfg, checkpoint_dir=tmp_path / "ckpt", checkpoint_every=0)
    (ckpt,) = (tmp_path / "ckpt").iterdir()
    state = json.loads((ckpt / "state.json").read_text())
    assert (state["epoch"], state["next_chunk"]) == (0, 6)  # the run stopped inside a window (chunks 4..7)
    resumed = train_cbow(enc, cfg, checkpoint_dir=tmp_path / "ckpt", resume=True)
    assert resumed.stats.resumed_from
    np.testing.assert_allclose(resumed.wv.vectors, full.wv.vectors, rtol=1e-4, atol=1e-5)
