"""Benchmark: embedkit's Keras word2vec vs gensim Word2Vec (CBOW, or skip-gram with --sg), same tokens and settings, in one run.

    python scripts/bench_cbow.py                       # ../shared/data/corpora/mixed-en.txt.gz, issue-3 settings
    python scripts/bench_cbow.py CORPUS --epochs 1     # any corpus
    python scripts/bench_cbow.py --repeat 3            # 3 rounds: per-round ratios and bars, then medians
    python scripts/bench_cbow.py --sg --repeat 3       # skip-gram against gensim Word2Vec(sg=1)

Prints both rows (time, words/s, vocabulary, analogy / WS353 / SimLex, overlap@10, peak RSS), the speed ratio
and whether the quality, speed and memory bars hold: analogy >= gensim - 1 point, WS353 and SimLex >= gensim - 0.02,
words/s >= 1.0x gensim (issue 16), embedkit's peak RSS <= 1,000 MB. Each trainer runs in its own process (its own
peak RSS); the peak RSS of a fresh process that only imports TensorFlow and Keras (the floor under embedkit's
figure) is measured once and printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from embedkit.train.config import KERNELS, CBOWConfig
from embedkit.train.compare import compare_gensim

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "corpora" / "mixed-en.txt.gz"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="*", default=[str(DEFAULT)])
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--negative", type=int, default=5)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--sample", type=float, default=1e-3)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="rounds (gensim with 2 workers is not deterministic)")
    ap.add_argument("--sg", action="store_true", help="skip-gram (gensim sg=1) instead of CBOW")
    ap.add_argument("--threads", type=int, default=None, help="embedkit's stepping threads (default: the cores, <= 4)")
    ap.add_argument("--kernel", choices=KERNELS, default="auto",
                    help="embedkit's update: native (compiled, example by example), xla, or auto (native on a CPU)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.repeat < 1:
        ap.error(f"--repeat must be a positive integer. Received: --repeat={a.repeat}")
    cfg = CBOWConfig(vector_size=a.dim, window=a.window, negative=a.negative, min_count=a.min_count,
                     sample=a.sample, epochs=a.epochs, batch_size=a.batch_size, sg=a.sg,
                     threads=a.threads, kernel=a.kernel).validate()
    floor = tf_import_floor_mb()
    print(f"TensorFlow + Keras import floor (peak RSS of a process that only imports them): {floor:,.0f} MB",
          file=sys.stderr if a.json else sys.stdout)
    print(f"corpus: {', '.join(a.corpus)}; cores: {os.cpu_count()}; {cfg}", file=sys.stderr)
    rounds = []
    for r in range(a.repeat):
        cmp = compare_gensim(a.corpus, cfg, workers=a.workers, restrict_vocab=30000)
        rounds.append(cmp)
        if a.json:
            print(json.dumps(cmp.to_dict()))
        if a.repeat > 1:
            print(f"\n## round {r + 1} of {a.repeat}")
        report(*cmp.rows)
    if a.repeat > 1:
        summary(rounds)


FIELDS = ["seconds", "words_per_sec", "vocab_size", "analogy_accuracy", "analogy_semantic", "analogy_syntactic",
          "ws353_spearman", "simlex_spearman", "overlap_at_10", "peak_rss_mb"]


def tf_import_floor_mb() -> float:
    """Peak RSS (MB) of a fresh Python process that imports TensorFlow and Keras and does nothing else."""
    import subprocess

    code = ("import os, resource; os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3'); import tensorflow, keras; "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1])


def bars(e, g) -> dict[str, bool]:
    return {
        "speed >= 1.0x gensim": e.words_per_sec >= 1.0 * g.words_per_sec,
        "peak RSS <= 1,000 MB": e.peak_rss_mb <= 1000.0,
        "analogy >= gensim - 1 pt": e.analogy_accuracy >= g.analogy_accuracy - 0.01,
        "WS353 >= gensim - 0.02": e.ws353_spearman >= g.ws353_spearman - 0.02,
        "SimLex >= gensim - 0.02": e.simlex_spearman >= g.simlex_spearman - 0.02,
    }


def report(e, g) -> None:
    print(f"{'':22}{'embedkit':>14}{'gensim':>14}")
    for f in FIELDS:
        print(f"{f:22}{getattr(e, f):>14,.4g}{getattr(g, f):>14,.4g}")
    print(f"\nspeed ratio embedkit/gensim: {e.words_per_sec / g.words_per_sec:.2f}x")
    for name, ok in bars(e, g).items():
        print(f"{name}: {'PASS' if ok else 'FAIL'}")


def summary(rounds) -> None:
    import numpy as np

    print(f"\n## summary over {len(rounds)} rounds (median, min-max)")
    for f in ("words_per_sec", "analogy_accuracy", "ws353_spearman", "simlex_spearman", "peak_rss_mb"):
        for k, who in enumerate(("embedkit", "gensim")):
            v = np.array([getattr(c.rows[k], f) for c in rounds])
            print(f"{f:18} {who:9} {np.median(v):>12,.4g}  ({v.min():,.4g} - {v.max():,.4g})")
    ratios = np.array([c.rows[0].words_per_sec / c.rows[1].words_per_sec for c in rounds])
    print(f"speed ratio        median {np.median(ratios):.2f}x  (rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
    for name in bars(*rounds[0].rows):
        n_ok = sum(bars(*c.rows)[name] for c in rounds)
        print(f"{name}: passed in {n_ok} of {len(rounds)} rounds")

if __name__ == "__main__":
    from embedkit.errors import run_script

    run_script(main)
