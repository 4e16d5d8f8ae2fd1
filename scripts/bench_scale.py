"""Scale-out benchmark: CBOW words/s with 1 process (default strategy, XLA) vs 2 local workers (multi-worker)
vs a parameter-server cluster (chief + 2 workers + 2 ps, tables sharded over the ps tasks).

Both runs use the CLI (`embedkit train-cbow`) on the same corpus and settings in this same script run; the
2-worker run starts two processes on 127.0.0.1 with TF_CONFIG. words/s is the trainer's own figure (corpus
words x epochs / training seconds, excluding start-up and reading); wall seconds include both.

    python3 scripts/bench_scale.py [--corpus FILE] [--epochs 5] [--dim 100] [--threads N]

On a machine with fewer cores than workers x threads the workers compete for the same cores, so this
measures the cost of synchronising, not a speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from embedkit.train.cluster import free_local_ports


def _cmd(args: argparse.Namespace, out: Path, extra: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "embedkit", "train-cbow", args.corpus, "-o", str(out), "--dim", str(args.dim),
           "--epochs", str(args.epochs), "--min-count", "5", "--json", "--no-default", *extra]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    return cmd


def run(workers: int, args: argparse.Namespace, tmp: Path) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", EMBEDKIT_HOME=str(tmp / "home"))
    out = tmp / f"out{workers}"
    t = time.perf_counter()
    if workers == 1:
        procs = [subprocess.Popen(_cmd(args, out, []), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)]
    else:
        ports = free_local_ports(workers)
        procs = []
        for i in range(workers):
            tf_config = json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                                    "task": {"type": "worker", "index": i}})
            procs.append(subprocess.Popen(_cmd(args, out, ["--strategy", "multi-worker"]),
                                          env=env | {"TF_CONFIG": tf_config}, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
    outs = [p.communicate() for p in procs]
    wall = time.perf_counter() - t
    return _result(procs, outs, workers, wall)


def run_parameter_server(args: argparse.Namespace, tmp: Path, workers: int = 2, ps: int = 2) -> dict:
    """Chief + workers + ps tasks on 127.0.0.1; the ps and worker processes serve until the chief is done."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", EMBEDKIT_HOME=str(tmp / "home"))
    ports = free_local_ports(1 + workers + ps)
    cluster = {"chief": [f"127.0.0.1:{ports[0]}"], "worker": [f"127.0.0.1:{p}" for p in ports[1 : 1 + workers]],
               "ps": [f"127.0.0.1:{p}" for p in ports[1 + workers :]]}
    cmd = _cmd(args, tmp / "out-ps", ["--strategy", "parameter-server"])
    t = time.perf_counter()
    servers = [subprocess.Popen(cmd, env=env | {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": r, "index": i}})},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for r in ("ps", "worker") for i in range(len(cluster[r]))]
    try:
        chief = subprocess.Popen(cmd, env=env | {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "chief", "index": 0}})},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        outs = [chief.communicate()]
    finally:
        for p in servers:
            p.kill()
    res = _result([chief], outs, workers, time.perf_counter() - t)
    return res | {"ps": ps, "strategy": "parameter-server"}


def _result(procs: list, outs: list, workers: int, wall: float) -> dict:
    for p, (o, e) in zip(procs, outs):
        if p.returncode:
            sys.exit(f"worker failed ({p.returncode}): {e[-2000:]}")
    stats = json.loads(outs[0][0].strip().splitlines()[-1])
    return {"workers": workers, "words_per_sec": stats["words_per_sec"], "train_s": stats["seconds"],
            "wall_s": round(wall, 1), "raw_words": stats["raw_words"], "vocab": stats["vocab_size"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=None, help="Corpus file (default: gensim's lee_background.cor).")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--threads", type=int, default=None, help="TensorFlow threads per process.")
    args = ap.parse_args()
    if args.corpus is None:
        from gensim.test.utils import datapath

        args.corpus = datapath("lee_background.cor")
    print(f"cores: {os.cpu_count()}; corpus {args.corpus}; dim {args.dim}; epochs {args.epochs}; "
          f"threads/process {args.threads or 'TF default'}; no GPU" if not _has_gpu() else "GPU present")
    with tempfile.TemporaryDirectory() as d:
        one = run(1, args, Path(d))
        two = run(2, args, Path(d))
        ps = run_parameter_server(args, Path(d))
    for r in (one, two, ps):
        print(json.dumps(r))
    print(f"2 workers / 1 process words/s ratio: {two['words_per_sec'] / one['words_per_sec']:.2f}x")
    print(f"parameter servers (2 workers, 2 ps) / 1 process: {ps['words_per_sec'] / one['words_per_sec']:.2f}x")


def _has_gpu() -> bool:
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
        return out.returncode == 0 and "GPU" in out.stdout
    except (OSError, subprocess.SubprocessError):
        return False


if __name__ == "__main__":
    from embedkit.errors import run_script

    run_script(main)
