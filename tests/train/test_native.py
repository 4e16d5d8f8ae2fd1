"""The native word2vec kernel (embedkit.train.native): its ops against a numpy transcription of gensim's per-example
loops, copy on write, bad ids, the build cache, and the fallbacks when it cannot be built."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedkit.errors import EmbedkitError
from embedkit.train.config import CBOWConfig
from embedkit.train.native import NativeKernelError, choose_kernel, kernels_dir, load_word2vec_ops
from embedkit.train.trainer import train_cbow


@pytest.fixture(scope="module")
def tf():
    from embedkit.runtime import import_tensorflow

    return import_tensorflow()


@pytest.fixture(scope="module")
def ops(tf):
    return load_word2vec_ops()


def _offsets(w):
    return [-o for o in range(1, w + 1)] + list(range(1, w + 1))


def _neg_sampling(h, w_out, target, negs, alpha, work):
    """One example's negative-sampling step, in place on ``w_out`` (gensim's loop); returns its loss."""
    loss = 0.0
    for j, word in enumerate([target, *negs]):
        if j and word == target:
            continue
        f = float(h @ w_out[word])
        loss += float(np.logaddexp(0.0, -f if j == 0 else f))
        if abs(f) >= 6.0:
            continue
        g = ((1.0 if j == 0 else 0.0) - 1.0 / (1.0 + np.exp(-f))) * alpha
        work += g * w_out[word]
        w_out[word] += g * h
    return loss


def cbow_reference(w_in, w_out, span, in_window, target, neg, alpha, window, cbow_mean=True):
    """gensim's ``fast_sentence_cbow_neg`` over a group of batches, example by example (float64 copies)."""
    w_in, w_out = w_in.astype(np.float64), w_out.astype(np.float64)
    g_n, b, _ = in_window.shape
    nseg = (span.shape[1] - b) // (2 * window)
    seg = b // nseg
    loss, examples = 0.0, 0
    for g in range(g_n):
        for r in range(b):
            s, k = divmod(r, seg)
            ctx = [span[g, s * (seg + 2 * window) + k + window + o]
                   for c, o in enumerate(_offsets(window)) if in_window[g, r, c]]
            if not ctx:
                continue
            h = w_in[ctx].sum(axis=0)
            if cbow_mean:
                h /= len(ctx)
            work = np.zeros_like(h)
            loss += _neg_sampling(h, w_out, target[g, r], neg[g, r], float(alpha[g]), work)
            if not cbow_mean:
                work /= len(ctx)
            for c in ctx:  # a context word that appears twice gets the error twice, as in gensim
                w_in[c] += work
            examples += 1
    return w_in, w_out, loss, examples


def sg_reference(w_in, w_out, context, target, neg, live, alpha):
    """gensim's ``fast_sentence_sg_neg`` over a group of batches of (context, target) pairs."""
    w_in, w_out = w_in.astype(np.float64), w_out.astype(np.float64)
    loss, examples = 0.0, 0
    for g in range(context.shape[0]):
        for p in range(context.shape[1]):
            if not live[g, p]:
                continue
            l1 = w_in[context[g, p]]
            work = np.zeros_like(l1)
            loss += _neg_sampling(l1.copy(), w_out, target[g, p], neg[g, p], float(alpha[g]), work)
            w_in[context[g, p]] += work
            examples += 1
    return w_in, w_out, loss, examples


def _tables(rng, vocab, dim, scale=0.5):
    w_in = ((rng.random((vocab + 1, dim)) - 0.5) * scale).astype(np.float32)
    w_in[vocab] = 0.0
    return w_in, ((rng.random((vocab, dim)) - 0.5) * scale).astype(np.float32)


def _cbow_batches(rng, vocab, groups, seg, nseg, window, k):
    b = seg * nseg
    span = rng.integers(0, vocab + 1, (groups, nseg * (seg + 2 * window))).astype(np.int32)
    in_window = rng.random((groups, b, 2 * window)) < 0.6
    target = rng.integers(0, vocab, (groups, b)).astype(np.int32)
    neg = rng.integers(0, vocab, (groups, b, k)).astype(np.int32)
    neg[:, ::3, 0] = target[:, ::3]  # some negatives equal their target: skipped
    alpha = rng.uniform(0.05, 0.6, groups).astype(np.float32)
    return span, in_window, target, neg, alpha


@pytest.mark.parametrize("cbow_mean", [True, False])
def test_cbow_steps_equal_gensims_loop_example_by_example(tf, ops, cbow_mean):
    rng = np.random.default_rng(0)
    vocab, dim, window = 30, 12, 3
    w_in, w_out = _tables(rng, vocab, dim, scale=2.0)  # large enough that some scores pass ±6 (not updated)
    batches = _cbow_batches(rng, vocab, groups=3, seg=4, nseg=2, window=window, k=4)
    vin, vout = tf.Variable(w_in), tf.Variable(w_out)
    got = ops.embedkit_cbow_steps(vin.handle, vout.handle, *batches, window=window, cbow_mean=cbow_mean).numpy()
    ref_in, ref_out, loss, examples = cbow_reference(w_in, w_out, *batches, window, cbow_mean)
    assert got[1] == examples and examples > 0
    assert got[0] == pytest.approx(loss, rel=1e-5)
    np.testing.assert_allclose(vin.numpy(), ref_in, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(vout.numpy(), ref_out, rtol=1e-4, atol=1e-5)
    assert np.abs(vin.numpy() - w_in).max() > 1e-3  # the step changed the tables


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31), window=st.integers(1, 4), seg=st.integers(1, 5), nseg=st.integers(1, 3),
       k=st.integers(1, 4), groups=st.integers(1, 3), dim=st.integers(1, 40))
def test_cbow_steps_equal_gensims_loop_for_any_layout(tf, ops, seed, window, seg, nseg, k, groups, dim):
    rng = np.random.default_rng(seed)
    vocab = 9
    w_in, w_out = _tables(rng, vocab, dim)
    batches = _cbow_batches(rng, vocab, groups, seg, nseg, window, k)
    vin, vout = tf.Variable(w_in), tf.Variable(w_out)
    got = ops.embedkit_cbow_steps(vin.handle, vout.handle, *batches, window=window).numpy()
    ref_in, ref_out, loss, examples = cbow_reference(w_in, w_out, *batches, window)
    assert got[1] == examples
    assert got[0] == pytest.approx(loss, rel=1e-4, abs=1e-6)
    np.testing.assert_allclose(vin.numpy(), ref_in, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(vout.numpy(), ref_out, rtol=1e-4, atol=1e-5)


def test_sg_steps_equal_gensims_loop_pair_by_pair(tf, ops):
    rng = np.random.default_rng(1)
    vocab, dim, pairs, k = 20, 10, 16, 3
    w_in, w_out = _tables(rng, vocab, dim, scale=2.0)
    context = rng.integers(0, vocab, (2, pairs)).astype(np.int32)
    target = rng.integers(0, vocab, (2, pairs)).astype(np.int32)
    neg = rng.integers(0, vocab, (2, pairs, k)).astype(np.int32)
    neg[:, ::4, 1] = target[:, ::4]
    live = rng.random((2, pairs)) < 0.8
    context[~live] = vocab  # padding pairs read the padding row, and update nothing
    alpha = np.array([0.3, 0.1], np.float32)
    vin, vout = tf.Variable(w_in), tf.Variable(w_out)
    got = ops.embedkit_sg_steps(vin.handle, vout.handle, context, target, neg, live, alpha).numpy()
    ref_in, ref_out, loss, examples = sg_reference(w_in, w_out, context, target, neg, live, alpha)
    assert got[1] == examples == live.sum()
    assert got[0] == pytest.approx(loss, rel=1e-5)
    np.testing.assert_allclose(vin.numpy(), ref_in, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(vout.numpy(), ref_out, rtol=1e-4, atol=1e-5)
    assert not vin.numpy()[vocab].any()


def test_a_snapshot_taken_before_a_step_keeps_its_values(tf, ops):
    """The ops write in place, but not into a buffer a snapshot (``.numpy()``, a read tensor) still shares."""
    rng = np.random.default_rng(2)
    w_in, w_out = _tables(rng, 15, 6)
    batches = _cbow_batches(rng, 15, groups=1, seg=4, nseg=1, window=2, k=2)
    vin, vout = tf.Variable(w_in), tf.Variable(w_out)
    snap_in, snap_out = tf.convert_to_tensor(vin), np.asarray(tf.convert_to_tensor(vout))
    ops.embedkit_cbow_steps(vin.handle, vout.handle, *batches, window=2)
    np.testing.assert_array_equal(snap_in.numpy(), w_in)
    np.testing.assert_array_equal(snap_out, w_out)
    assert not np.array_equal(vin.numpy(), w_in) and not np.array_equal(vout.numpy(), w_out)


@pytest.mark.parametrize("field, value, match", [
    ("span", 99, "`span` must hold row ids of the input table"),
    ("target", -1, "`target` must hold row ids of the output table"),
    ("neg", 15, "`negatives` must hold row ids of the output table"),
])
def test_ids_outside_the_tables_are_refused_not_written(tf, ops, field, value, match):
    rng = np.random.default_rng(3)
    w_in, w_out = _tables(rng, 15, 6)
    span, in_window, target, neg, alpha = _cbow_batches(rng, 15, groups=1, seg=4, nseg=1, window=2, k=2)
    {"span": span, "target": target, "neg": neg}[field].flat[0] = value
    vin, vout = tf.Variable(w_in), tf.Variable(w_out)
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        ops.embedkit_cbow_steps(vin.handle, vout.handle, span, in_window, target, neg, alpha, window=2)
    np.testing.assert_array_equal(vin.numpy(), w_in)


def test_a_span_of_the_wrong_length_is_refused(tf, ops):
    rng = np.random.default_rng(4)
    w_in, w_out = _tables(rng, 15, 6)
    span, in_window, target, neg, alpha = _cbow_batches(rng, 15, groups=1, seg=4, nseg=2, window=2, k=2)
    vin, vout = tf.Variable(w_in), tf.Variable(w_out)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`span` must hold the batch's segments"):
        ops.embedkit_cbow_steps(vin.handle, vout.handle, span[:, :-1], in_window, target, neg, alpha, window=2)


def test_one_thread_native_runs_are_bit_identical_and_learn(synthetic_sentences):
    cfg = CBOWConfig(vector_size=16, min_count=1, epochs=2, seed=3, threads=1, batch_size=64, kernel="native")
    a, b = train_cbow(synthetic_sentences, cfg), train_cbow(synthetic_sentences, cfg)
    assert a.stats.kernel == "native" and a.stats.stepper == "NativeStepper"
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    assert a.stats.loss_per_epoch == b.stats.loss_per_epoch
    assert a.stats.loss_per_epoch[-1] < a.stats.loss_per_epoch[0]


@pytest.fixture(scope="module")
def synthetic_sentences():
    from embedkit.corpora.synthetic import SyntheticCorpus

    return list(SyntheticCorpus(n_topics=4, words_per_topic=10, n_sentences=1500, seed=2).sentences())


def test_the_build_is_cached_and_leaves_no_temporary_files(ops):
    built = sorted(p.name for p in kernels_dir().iterdir())
    assert len(built) == 1 and built[0].startswith("word2vec_ops-") and built[0].endswith(".so")
    assert load_word2vec_ops() is ops  # loaded once per process


def test_without_a_compiler_auto_falls_back_to_xla_and_native_says_why(tf, monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("CXX", "no-such-compiler-here")
    monkeypatch.setenv("EMBEDKIT_KERNELS", str(tmp_path / "kernels"))
    with caplog.at_level("WARNING", logger="embedkit.train.native"):
        assert choose_kernel("auto", distributed=False) == "xla"
    assert "no 'no-such-compiler-here' on PATH" in caplog.text
    with pytest.raises(NativeKernelError, match=r"needs a C\+\+ compiler .*Received: no 'no-such-compiler-here'"):
        choose_kernel("native", distributed=False)
    assert choose_kernel("xla", distributed=False) == "xla"
    assert not (tmp_path / "kernels").exists()


def test_a_failed_build_is_one_line_and_leaves_nothing(tf, monkeypatch, tmp_path):
    fake = tmp_path / "fake-cxx"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = --version ]; then echo fake 1.0; exit 0; fi\n"
                    "echo 'word2vec_ops.cc:1: error: no kernel today' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CXX", str(fake))
    monkeypatch.setenv("EMBEDKIT_KERNELS", str(tmp_path / "kernels"))
    with pytest.raises(NativeKernelError) as e:
        load_word2vec_ops()
    assert "\n" not in str(e.value) and "error: no kernel today" in str(e.value) and "kernel='xla'" in str(e.value)
    assert list((tmp_path / "kernels").iterdir()) == []


def test_a_kernels_directory_that_cannot_be_made_is_one_line(tf, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("EMBEDKIT_KERNELS", str(blocker / "kernels"))
    with pytest.raises(NativeKernelError, match=r"needs a writable directory .*Received: .*file/kernels"):
        load_word2vec_ops()
    assert blocker.read_text() == "not a directory"


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_something_other_than_a_file_where_the_kernel_goes_is_refused_and_kept(tf, monkeypatch, tmp_path, kind):
    from embedkit.train.native import _compiler, library_path

    monkeypatch.setenv("EMBEDKIT_KERNELS", str(tmp_path / "kernels"))
    target = library_path(tf, _compiler())
    target.parent.mkdir()
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
        (target / "mine.txt").write_text("keep")
    with pytest.raises(NativeKernelError, match="Expected a built kernel file or nothing at"):
        load_word2vec_ops()
    assert target.is_fifo() if kind == "fifo" else (target / "mine.txt").read_text() == "keep"
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_native_is_refused_under_a_strategy_and_bad_names_in_the_config():
    with pytest.raises(EmbedkitError, match="distributed runs use the XLA update"):
        choose_kernel("native", distributed=True)
    assert choose_kernel("auto", distributed=True) == "xla"
    with pytest.raises(EmbedkitError, match=r"`kernel` must be one of auto, native, xla. Received: kernel='cuda'"):
        CBOWConfig(kernel="cuda").validate()


def test_cli_kernel_option_and_its_errors(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 40)
    env = {**os.environ, "PYTHONPATH": str(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    base = [sys.executable, "-m", "embedkit", "train-cbow", str(corpus), "--min-count", "1", "--epochs", "1",
            "--dim", "8"]
    bad = subprocess.run(base + ["-o", str(tmp_path / "a"), "--kernel", "cuda"], capture_output=True, text=True,
                         env=env)
    assert bad.returncode == 2 and "cuda" in bad.stderr and "Traceback" not in bad.stderr
    no_cxx = subprocess.run(base + ["-o", str(tmp_path / "b"), "--kernel", "native"], capture_output=True, text=True,
                            env=env | {"CXX": "no-such-compiler-here", "EMBEDKIT_KERNELS": str(tmp_path / "k")})
    assert no_cxx.returncode == 1 and "Traceback" not in no_cxx.stderr
    assert "needs a C++ compiler" in no_cxx.stderr and not (tmp_path / "b").exists()
    ok = subprocess.run(base + ["-o", str(tmp_path / "c"), "--kernel", "native"], capture_output=True, text=True,
                        env=env)
    assert ok.returncode == 0, ok.stderr[-2000:]
    import json

    stats = json.loads((tmp_path / "c" / "training.json").read_text())
    assert stats["kernel"] == "native" and stats["config"]["kernel"] == "native"
