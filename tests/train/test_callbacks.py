"""Keras callbacks in `train_cbow`: exact epoch losses, early stopping that keeps the best epoch, TensorBoard event
files, ModelCheckpoint-style saving, user callbacks, and resume across callbacks."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit.train.batches import BatchMaker
from embedkit.train.config import CBOWConfig
from embedkit.train.corpus import encode_corpus
from embedkit.train.trainer import train_cbow


@pytest.fixture(scope="module")
def keras():
    from embedkit.runtime import import_tensorflow

    import_tensorflow()
    import keras

    return keras


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(3)
    sents = [[f"w{j}" for j in rng.integers(0, 25, size=rng.integers(3, 12))] for _ in range(150)]
    return encode_corpus(sents, min_count=1)


def _numpy_cbow_loss(w_in, w_out, batches, sequential=False):
    """The mean negative-sampling loss of CBOW batches at the given tables, recomputed in float64 numpy from the
    batch arrays (context ids read from the span through the window mask, mean context, negatives equal to the
    target left out).

    ``sequential``: as the native kernel, apply gensim's update after each example (on copies of the tables), each
    word scored just before its own update; else every example is scored at the given tables (the XLA batch)."""
    span, window, target, neg, alpha = batches
    n_b, b, two_w = window.shape
    w = two_w // 2
    seg = 32 if b % 32 == 0 else b
    offsets = [-o for o in range(1, w + 1)] + list(range(1, w + 1))
    w_in, w_out = w_in.astype(np.float64), w_out.astype(np.float64)
    total, count = 0.0, 0
    for i in range(n_b):
        spans = span[i].reshape(-1, seg + 2 * w)
        for r in range(b):
            g, k = divmod(r, seg)
            ctx = [spans[g, w + k + o] for c, o in enumerate(offsets) if window[i, r, c]]
            if not ctx:
                continue
            h = w_in[ctx].mean(axis=0)
            t = target[i, r]
            work = np.zeros_like(h)
            for j, word in enumerate([t, *neg[i, r]]):
                if j and word == t:
                    continue
                f = h @ w_out[word]
                total += np.logaddexp(0.0, -f if j == 0 else f)  # -log sigmoid(±f) = log(1 + e^∓f)
                if sequential and abs(f) < 6.0:
                    grad = ((1.0 if j == 0 else 0.0) - 1.0 / (1.0 + np.exp(-f))) * alpha[i]
                    work += grad * w_out[word]
                    w_out[word] += grad * h
            if sequential:
                for c in ctx:
                    w_in[c] += work
            count += 1
    return total / count


@pytest.mark.parametrize("kernel", ["xla", "native"])
def test_epoch_logs_hold_the_exact_loss(keras, tiny, kernel):
    """Each epoch is one batch here, so the loss callbacks receive must equal a numpy computation of that batch from
    the tables the epoch started from: all its examples at those tables (XLA), or example by example with gensim's
    updates in between (native)."""
    cfg = CBOWConfig(vector_size=8, window=2, min_count=1, epochs=3, sample=0, batch_size=4096, seed=4, threads=1,
                     kernel=kernel)
    maker = BatchMaker(tiny, cfg)
    assert maker.n_chunks == 1
    seen = []

    class Probe(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            t = self.model.get_tables()
            seen.append({"epoch": epoch, "expected": _numpy_cbow_loss(t.input, t.output, maker.make_chunk(epoch, 0)[0],
                                                                      sequential=kernel == "native")})

        def on_epoch_end(self, epoch, logs=None):
            seen[-1]["logs"] = dict(logs)

    res = train_cbow(tiny, cfg, callbacks=[Probe()])
    assert res.stats.kernel == kernel
    assert [s["epoch"] for s in seen] == [0, 1, 2]
    for s in seen:
        assert s["logs"]["loss"] == pytest.approx(s["expected"], rel=1e-5)
        assert isinstance(s["logs"]["loss"], float)
        assert {"loss", "words_per_sec", "learning_rate"} <= set(s["logs"])
    # the learning rate is where the linear decay is at each epoch's end
    assert [s["logs"]["learning_rate"] for s in seen] == pytest.approx(
        [0.025 - (0.025 - 0.0001) * (e + 1) / 3 for e in range(3)])
    assert res.stats.loss_per_epoch == pytest.approx([s["expected"] for s in seen], rel=1e-5)
    assert seen[0]["expected"] != pytest.approx(seen[1]["expected"])  # the test can tell epochs apart


class _Score:
    """A callback factory injecting a made-up per-epoch score before the callbacks that watch it."""

    def __init__(self, keras, values):
        outer = self
        self.tables = []

        class Inject(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs["score"] = values[epoch]
                outer.tables.append(self.model.get_tables().input.copy())

        self.callback = Inject()


def test_early_stopping_restores_the_best_epoch(keras, tiny):
    from embedkit.train.callbacks import EarlyStopping

    score = _Score(keras, [0.1, 0.5, 0.3, 0.2, 0.9, 0.9])
    stop = EarlyStopping(monitor="score", mode="max", patience=1)
    cfg = CBOWConfig(vector_size=8, min_count=1, epochs=6, seed=2, threads=1)
    res = train_cbow(tiny, cfg, callbacks=[score.callback, stop])
    assert res.stats.epochs_trained == 3 and len(score.tables) == 3  # stopped after the first worse epoch
    assert res.stats.best_epoch == 2
    np.testing.assert_array_equal(res.wv.vectors, score.tables[1][:-1])  # the best epoch's vectors, not the last
    assert not np.array_equal(score.tables[1], score.tables[2])


def test_tensorboard_writes_event_files(keras, tiny, tmp_path):
    import tensorflow as tf

    log_dir = tmp_path / "tb"
    train_cbow(tiny, CBOWConfig(vector_size=8, min_count=1, epochs=2, threads=1), evaluate_each_epoch=True,
               callbacks=[keras.callbacks.TensorBoard(str(log_dir))])
    events = list((log_dir / "train").glob("events.out.tfevents.*"))
    assert events
    tags = {}
    for raw in tf.data.TFRecordDataset([str(p) for p in events]):
        ev = tf.compat.v1.Event.FromString(raw.numpy())
        for v in ev.summary.value:
            tags.setdefault(v.tag, []).append(ev.step)
    assert {"epoch_loss", "epoch_words_per_sec", "epoch_learning_rate", "epoch_analogy_accuracy"} <= set(tags)
    assert tags["epoch_loss"] == [0, 1]


def test_model_checkpoint_saves_loadable_weights(keras, tiny, tmp_path):
    from embedkit.train.model import build_cbow_model

    seen = []

    class Keep(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.model.get_tables().input.copy())

    pattern = str(tmp_path / "cbow-{epoch:02d}.weights.h5")
    res = train_cbow(tiny, CBOWConfig(vector_size=8, min_count=1, epochs=2, threads=1),
                     callbacks=[Keep(), keras.callbacks.ModelCheckpoint(pattern, save_weights_only=True)])
    assert sorted(p.name for p in tmp_path.glob("*.h5")) == ["cbow-01.weights.h5", "cbow-02.weights.h5"]
    again = build_cbow_model(res.stats.vocab_size, 8, 5, 5, jit_compile=False)
    again.load_weights(str(tmp_path / "cbow-01.weights.h5"))
    np.testing.assert_array_equal(again.get_tables().input, seen[0])


def test_user_callbacks_see_every_hook_in_order(keras, tiny):
    calls = []

    class Record(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            calls.append("batch")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end {epoch}")

        def on_train_end(self, logs=None):
            calls.append("train_end")

    train_cbow(tiny, CBOWConfig(vector_size=8, min_count=1, epochs=2, threads=1), callbacks=[Record()])
    assert calls == ["train_begin", "epoch_begin 0", "batch", "epoch_end 0", "epoch_begin 1", "batch", "epoch_end 1",
                     "train_end"]


def test_resume_keeps_the_early_stopping_state(keras, tiny, tmp_path):
    """Interrupted after two epochs and resumed, early stopping goes on from its saved best value, patience count
    and best tables: the run ends exactly as the uninterrupted one."""
    from embedkit.train.callbacks import EarlyStopping

    values = [0.1, 0.5, 0.3, 0.2, 0.9, 0.9]
    cfg = CBOWConfig(vector_size=8, min_count=1, epochs=6, seed=2, threads=1, chunk_tokens=300)

    def run(**kw):
        return train_cbow(tiny, cfg, callbacks=[_Score(keras, values).callback,
                                                EarlyStopping(monitor="score", mode="max", patience=1)], **kw)

    full = run()

    def crash(event):
        if event["epoch"] == 3 and event.stage == "update":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(checkpoint_dir=tmp_path / "ck", checkpoint_every=0, progress=crash)
    resumed = run(checkpoint_dir=tmp_path / "ck", resume=True)
    assert resumed.stats.resumed_from and resumed.stats.best_epoch == full.stats.best_epoch == 2
    assert resumed.stats.epochs_trained == full.stats.epochs_trained == 3
    np.testing.assert_allclose(resumed.wv.vectors, full.wv.vectors, rtol=1e-5, atol=1e-6)
    # a finished run resumes to the same result without training again
    again = run(checkpoint_dir=tmp_path / "ck", resume=True)
    np.testing.assert_allclose(again.wv.vectors, full.wv.vectors, rtol=1e-5, atol=1e-6)


def test_early_stop_metric_names(keras):
    from embedkit.errors import EmbedkitError
    from embedkit.train.callbacks import early_stopping

    assert early_stopping("loss").mode == "min" and early_stopping("ws353").mode == "max"
    with pytest.raises(EmbedkitError, match="must be one of loss, analogy_accuracy, ws353, simlex"):
        early_stopping("accuracy")
