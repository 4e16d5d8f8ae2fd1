"""GPU check: embedkit's Keras word2vec trained on this machine's GPU next to gensim on its CPU, same tokens, one run.

    python scripts/gpu_check_cbow.py                    # mixed-en (../shared/data/corpora/mixed-en.txt.gz), CBOW
    python scripts/gpu_check_cbow.py --sg               # skip-gram
    python scripts/gpu_check_cbow.py CORPUS --epochs 1  # any corpus, shorter
    python scripts/gpu_check_cbow.py --allow-cpu        # run anyway where TensorFlow sees no GPU (a dry run)

Prints the devices TensorFlow sees, then both rows (seconds, words/s, analogy / WS353 / SimLex, peak RSS) and the
speed ratio, for each batch size asked (``--batch-size 1024 4096``: a GPU usually wants larger steps than a CPU;
quality is printed next to it so the trade is visible). gensim uses ``--workers`` CPU threads. Exits 1 with one
line when no GPU is visible and ``--allow-cpu`` is not given. embedkit's update runs in float32 (its tables and
arithmetic are its own, not Keras layers, so a mixed-precision policy does not apply).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from embedkit.train.compare import compare_gensim
from embedkit.train.config import CBOWConfig

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "corpora" / "mixed-en.txt.gz"


def visible_devices() -> dict[str, list[str]]:
    """The physical devices a fresh TensorFlow process sees, by type (a subprocess, so this one stays clean)."""
    code = ("import os, json; os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3'); import tensorflow as tf; "
            "print(json.dumps({t: [d.name for d in tf.config.list_physical_devices(t)] for t in ('CPU', 'GPU')}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="*", default=[str(DEFAULT)])
    ap.add_argument("--sg", action="store_true", help="skip-gram (gensim sg=1) instead of CBOW")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, nargs="+", default=[1024, 4096])
    ap.add_argument("--threads", type=int, default=1, help="embedkit's stepping threads (one GPU: 1)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gensim's CPU threads")
    ap.add_argument("--allow-cpu", action="store_true", help="run even when TensorFlow sees no GPU")
    a = ap.parse_args()
    devices = visible_devices()
    print(f"TensorFlow devices: {devices}; CPU cores: {os.cpu_count()}")
    if not devices.get("GPU") and not a.allow_cpu:
        print("No GPU is visible to TensorFlow: nothing to check (give --allow-cpu for a dry run on the CPU).",
              file=sys.stderr)
        return 1
    for bsz in a.batch_size:
        cfg = CBOWConfig(epochs=a.epochs, batch_size=bsz, sg=a.sg, threads=a.threads).validate()
        cmp = compare_gensim(a.corpus, cfg, workers=a.workers, restrict_vocab=30000)
        e, g = cmp.rows
        print(f"\n## {'skip-gram' if a.sg else 'CBOW'}, batch {bsz}, {a.epochs} epochs, "
              f"{cmp.raw_words:,} tokens (embedkit on {'GPU' if devices.get('GPU') else 'CPU'}, "
              f"gensim workers={a.workers})")
        print(f"{'':18}{'embedkit':>14}{'gensim':>14}")
        for f in ("seconds", "words_per_sec", "analogy_accuracy", "ws353_spearman", "simlex_spearman", "peak_rss_mb"):
            print(f"{f:18}{getattr(e, f):>14,.4g}{getattr(g, f):>14,.4g}")
        print(f"speed ratio embedkit/gensim: {e.words_per_sec / g.words_per_sec:.2f}x")
        print(json.dumps({"batch_size": bsz, "sg": a.sg, "rows": [e.to_dict(), g.to_dict()]}))
    return 0


if __name__ == "__main__":
    from embedkit.errors import run_script

    run_script(main)
