"""Benchmark: analogy evaluation, embedkit vs gensim, same vectors, same settings, same run.

    python3 scripts/bench_eval.py [VECTORS] [--restrict 300000] [--method 3cosadd]

VECTORS defaults to the GloVe 6B 50d set (400k words). gensim's evaluate_word_analogies is timed once on the
full questions-words.txt (it takes minutes); embedkit is timed best-of-3. The counts must be equal.
"""

from __future__ import annotations

import argparse
import time

from gensim.test.utils import datapath

from embedkit.evaluate.analogies import evaluate_analogies
from embedkit.evaluate.word_pairs import evaluate_word_pairs
from embedkit.vectors.loading import load_vectors


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("vectors", nargs="?", default="glove-6b-50d")
    ap.add_argument("--restrict", type=int, default=300000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    wv = load_vectors(args.vectors)
    wv.unit_vectors()  # both sides get their normalised copy before timing
    kv = wv.to_gensim()
    kv.fill_norms()
    qw = datapath("questions-words.txt")
    print(f"vectors: {args.vectors} ({len(wv)} x {wv.dim}), restrict_vocab={args.restrict}", flush=True)

    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        r = evaluate_analogies(wv, qw, restrict_vocab=args.restrict)
        times.append(time.perf_counter() - t)
    ours = min(times)
    print(f"embedkit: {ours:.2f} s (runs: {', '.join(f'{x:.2f}' for x in times)}), "
          f"accuracy {r.accuracy:.4f} ({r.correct}/{r.total}, oov {r.oov})", flush=True)

    t = time.perf_counter()
    score, sections = kv.evaluate_word_analogies(qw, restrict_vocab=args.restrict)
    theirs = time.perf_counter() - t
    g_correct = len(sections[-1]["correct"])
    g_total = g_correct + len(sections[-1]["incorrect"])
    print(f"gensim:   {theirs:.2f} s, accuracy {score:.4f} ({g_correct}/{g_total})", flush=True)
    same = (r.correct, r.total) == (g_correct, g_total) and all(
        (s.correct, s.total) == (len(g["correct"]), len(g["correct"]) + len(g["incorrect"]))
        for s, g in zip(r.sections, sections[:-1])
    )
    print(f"per-section counts equal: {same}")
    print(f"speed-up: {theirs / ours:.1f}x")

    for name, file in (("ws353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")):
        t = time.perf_counter()
        p = evaluate_word_pairs(wv, name, restrict_vocab=args.restrict)
        t1 = time.perf_counter() - t
        t = time.perf_counter()
        pe, sp, _ = kv.evaluate_word_pairs(datapath(file), restrict_vocab=args.restrict)
        t2 = time.perf_counter() - t
        print(f"{name}: spearman {p.spearman:.4f} vs gensim {sp[0]:.4f}; {t1 * 1000:.0f} ms vs {t2 * 1000:.0f} ms")


if __name__ == "__main__":
    from embedkit.errors import run_script

    run_script(main)
