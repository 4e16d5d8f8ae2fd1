"""Generate a corpus with a large vocabulary, for the memory figure of a 400k-word table (scripts/bench_cbow.py).

    python scripts/make_vocab_corpus.py /tmp/vocab400k.txt                  # 400,000 words, 6M tokens
    python scripts/make_vocab_corpus.py OUT --words 1000000 --extra 8000000

Every word ``w0 .. w{N-1}`` appears ``--min-count`` times (so all of them pass min_count), plus ``--extra``
tokens drawn Zipf-distributed (p ~ 1/rank) over the same words; shuffled, in lines of 20 tokens.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--words", type=int, default=400_000)
    ap.add_argument("--extra", type=int, default=4_000_000)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    p = 1.0 / np.arange(1, a.words + 1, dtype=np.float64)
    ids = np.concatenate([np.repeat(np.arange(a.words), a.min_count), rng.choice(a.words, size=a.extra, p=p / p.sum())])
    rng.shuffle(ids)
    words = np.array([f"w{i}" for i in range(a.words)])
    with open(a.out, "w", encoding="utf-8") as fh:
        for s in range(0, ids.size, 20):
            fh.write(" ".join(words[ids[s : s + 20]]) + "\n")


if __name__ == "__main__":
    from embedkit.errors import run_script

    run_script(main)
