"""Profile: where one epoch of embedkit's word2vec spends its time on this machine, next to gensim's epoch.

    python scripts/profile_cbow.py                 # mixed-en (../shared/data/corpora/mixed-en.txt.gz), CBOW, 1 epoch
    python scripts/profile_cbow.py --sg            # skip-gram
    python scripts/profile_cbow.py CORPUS --threads 2
    python scripts/profile_cbow.py --kernel xla    # the batched XLA update instead of the native kernel

Prints (1) the host's batch making for the epoch (numpy: ``BatchMaker.make_chunk`` plus the stepper's ``prepare``;
the trainer does this in a background thread that shares the cores with the stepping threads), (2) the native op
alone on one thread (``--kernel native``), or the three parts of a Hogwild XLA step timed one at a time on one
thread (row gather outside XLA, the XLA arithmetic, the XLA scatter-add of the deltas), and (3) whole epochs: embedkit with one and with ``--threads`` threads, gensim with
``--workers`` workers, each as wall seconds, CPU seconds and cores busy (CPU / wall).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "corpora" / "mixed-en.txt.gz"


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn):  # type: ignore[no-untyped-def]
    w0, c0 = time.perf_counter(), cpu_seconds()
    out = fn()
    return out, time.perf_counter() - w0, cpu_seconds() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="*", default=[str(DEFAULT)])
    ap.add_argument("--sg", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--steps", type=int, default=300, help="batches timed per part of a step")
    ap.add_argument("--kernel", choices=("native", "xla"), default="native",
                    help="the update profiled: the native kernel (default on a CPU) or the batched XLA one")
    a = ap.parse_args()

    from embedkit.runtime import import_tensorflow

    tf = import_tensorflow()  # quiet start-up
    tf.config.threading.set_intra_op_parallelism_threads(1)  # as the trainer sets them
    tf.config.threading.set_inter_op_parallelism_threads(a.threads + 1)

    from embedkit.text.tokenizer import Tokenizer
    from embedkit.train.batches import BatchMaker
    from embedkit.train.config import CBOWConfig
    from embedkit.train.corpus import encode_corpus, iter_sentences
    from embedkit.train.model import build_cbow_model
    from embedkit.train.steppers import NATIVE_GROUP, THREADED_GROUP, NativeStepper, ThreadedStepper
    from embedkit.train.trainer import train_cbow

    sentences = list(iter_sentences(a.corpus, Tokenizer()))
    enc = encode_corpus(sentences, min_count=5)
    raw = sum(len(s) for s in sentences)
    cfg = CBOWConfig(epochs=1, sg=a.sg, kernel=a.kernel).validate()
    V = len(enc.vocab)
    print(f"{'skip-gram' if a.sg else 'CBOW'}: {raw:,} tokens, {V:,} words, {cfg.vector_size} dims, "
          f"batch {cfg.batch_size}; {os.cpu_count()} cores")

    # (1) host batch making for one epoch
    bm = BatchMaker(enc, cfg)
    model = build_cbow_model(V, cfg.vector_size, cfg.window, cfg.negative, sg=cfg.sg, cbow_mean=cfg.cbow_mean,
                             seed=cfg.seed, initial_alpha=cfg.alpha)
    stepper = (NativeStepper(model, a.threads, NATIVE_GROUP, pad_id=V) if a.kernel == "native"
               else ThreadedStepper(model, a.threads, THREADED_GROUP, pad_id=V))
    make = prep = 0.0
    first = None
    n_batches = 0
    for c in range(bm.n_chunks):
        (batches, _), t, _ = timed(lambda: bm.make_chunk(0, c))
        make += t
        prepared, t, _ = timed(lambda: stepper.prepare(batches))
        prep += t
        n_batches += batches[-1].shape[0]
        if first is None:
            first = prepared
    print(f"\n(1) host batch making, one epoch: make_chunk {make:.2f} s + prepare {prep:.2f} s "
          f"= {make + prep:.2f} s for {n_batches:,} batches ({1e3 * (make + prep) / n_batches:.3f} ms per batch)")

    if a.kernel == "native":  # (2) the native op alone, one thread, on the first chunk's groups
        stepper.step(*first[0])
        _, t, _ = timed(lambda: [stepper.step(*g).numpy() for g in first])
        n = len(first) * NATIVE_GROUP
        print(f"(2) native op, one thread, {n} batches of the first chunk: {1e3 * t / n:.3f} ms per batch")
        return _epochs(a, enc, cfg, sentences, raw, train_cbow, 1e3 * (make + prep) / n_batches + 1e3 * t / n)
    # (2) the parts of one Hogwild step, one thread, one at a time
    tin, tout = model.input_table(), model.output_table()
    gather = tf.function(lambda i, o: (tin.sparse_read(i), tout.sparse_read(o)))
    math = tf.function(model.batch_deltas, jit_compile=True)
    apply = tf.function(model.apply_deltas, jit_compile=True)
    steps = [(arrays[0][i], out_ids[i], tuple(x[i] for x in arrays), alphas[i])
             for out_ids, arrays, alphas in first for i in range(int(alphas.shape[0]))][: a.steps]
    rows = [gather(i, o) for i, o, _, _ in steps[:5]]  # warm-up (traces and compiles)
    ups = [math(r[0], r[1], b, al) for r, (_, _, b, al) in zip(rows, steps)]
    for (i, o, _, _), up in zip(steps, ups):
        apply(i, up["in_delta"], o, up["out_delta"])
    rows, tg, _ = timed(lambda: [gather(i, o) for i, o, _, _ in steps])
    ups, tm, _ = timed(lambda: [math(r[0], r[1], b, al) for r, (_, _, b, al) in zip(rows, steps)])
    _ = [float(u["loss_sum"]) for u in ups]
    _, ta, _ = timed(lambda: [apply(i, u["in_delta"], o, u["out_delta"]) for (i, o, _, _), u in zip(steps, ups)])
    per = 1e3 / len(steps)
    total = tg + tm + ta
    print(f"(2) one thread, {len(steps)} batches: gather {tg * per:.3f} ms, XLA arithmetic {tm * per:.3f} ms, "
          f"XLA scatter {ta * per:.3f} ms = {total * per:.3f} ms per batch "
          f"({tg / total:.0%} / {tm / total:.0%} / {ta / total:.0%}; each part called from Python, so each figure "
          f"includes a call's dispatch: inside the stepper's graph a whole step costs less, see (3))")

    _epochs(a, enc, cfg, sentences, raw, train_cbow, 1e3 * (make + prep) / n_batches + total * per)


def _epochs(a, enc, cfg, sentences, raw, train_cbow, per_batch_ms):  # type: ignore[no-untyped-def]
    """(3) whole epochs of both trainers."""
    print("(3) one epoch, wall s / CPU s / cores busy / words/s:")
    for threads in sorted({1, a.threads}):
        res, wall, cpu = timed(lambda: train_cbow(enc, cfg.replace(threads=threads)))
        print(f"    embedkit threads={threads}: {wall:.2f} / {cpu:.2f} / {cpu / wall:.2f} / {raw / wall:,.0f} "
              f"(trainer's own seconds {res.stats.seconds:.2f}, {res.stats.stepper})")
    from gensim.models import Word2Vec

    g = Word2Vec(vector_size=cfg.vector_size, window=cfg.window, min_count=cfg.min_count, sample=cfg.sample,
                 negative=cfg.negative, sg=int(cfg.sg), hs=0, seed=cfg.seed, workers=a.workers)
    g.build_vocab(sentences)
    _, wall, cpu = timed(lambda: g.train(sentences, total_examples=g.corpus_count, epochs=1))
    print(f"    gensim workers={a.workers}: {wall:.2f} / {cpu:.2f} / {cpu / wall:.2f} / {raw / wall:,.0f}")
    print(f"    (embedkit's per-batch work at one thread, (1) + (2): {per_batch_ms:.3f} ms)")


if __name__ == "__main__":
    from embedkit.errors import run_script

    run_script(main)
