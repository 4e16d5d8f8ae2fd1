"""Benchmark: embedkit search vs gensim on a native vector set (default: GloVe 6B 50d at /tmp/g50).

Runs both in the same run and prints the ratios:

1. one query as a whole process: ``embedkit neighbours WORD --vectors SET`` vs a python process that
   imports gensim, ``load_word2vec_format(TEXT, no_header=True)`` and calls ``most_similar(WORD)``;
2. N neighbour queries in batch: exact index vs a gensim ``most_similar`` loop (identical top-10 checked);
3. the same queries on the HNSW index: recall@10 against exact, and throughput vs exact.

Usage::

    nice python scripts/bench_search.py --vectors /tmp/g50 --text /tmp/glove.6B.50d.txt --queries 10000

The indexes are built (and persisted beside the vectors) first if missing; build times are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

GENSIM_PROC = """
import json, sys
from gensim.models import KeyedVectors
kv = KeyedVectors.load_word2vec_format(sys.argv[1], binary=False, no_header=True)
print(json.dumps([w for w, _ in kv.most_similar(sys.argv[2], topn=10)]))
"""


def _wall(cmd: list[str], env: dict[str, str]) -> tuple[float, str, float]:
    """Wall seconds, stdout and CPU seconds (user + sys) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return dt, p.stdout, cpu


def bench_process(args: argparse.Namespace) -> dict[str, object]:
    # Both processes run as after a normal install: bytecode cached (kept outside the repository).
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "embedkit-bench-pycache")
    exe = shutil.which("embedkit")
    ours_cmd = ([exe] if exe else [sys.executable, "-m", "embedkit"]) + ["neighbours", args.word, "--vectors", args.vectors]
    _wall(ours_cmd, env)  # warm the page cache and make sure the index exists
    _wall([sys.executable, "-c", "import gensim"], env)
    runs = [_wall(ours_cmd, env) for _ in range(args.runs)]
    ours, ours_cpu = [r[0] for r in runs], [r[2] for r in runs]
    tty = [_wall(["script", "-qec", " ".join(ours_cmd), "/dev/null"], env)[0] for _ in range(args.runs)] \
        if shutil.which("script") else []
    baseline = [_wall(([exe] if exe else [sys.executable, "-m", "embedkit"]) + ["vectors", "list"], env)[0]
                for _ in range(args.runs)]
    js = _wall(ours_cmd + ["--json"], env)[1]
    our_top = [json.loads(line)["word"] for line in js.splitlines() if line.strip()]
    theirs, their_top = [], None
    for _ in range(args.gensim_runs):
        dt, out, _ = _wall([sys.executable, "-c", GENSIM_PROC, args.text, args.word], env)
        theirs.append(dt)
        their_top = json.loads(out)
    med_ours, med_theirs = statistics.median(ours), statistics.median(theirs)
    return {
        "embedkit_cli_median_s": round(med_ours, 3),
        "embedkit_cli_min_s": round(min(ours), 3),
        "embedkit_cli_cpu_median_s": round(statistics.median(ours_cpu), 3),
        "embedkit_cli_runs_s": [round(x, 3) for x in ours],
        "embedkit_cli_on_a_terminal_median_s": round(statistics.median(tty), 3) if tty else None,
        "cli_floor_vectors_list_median_s": round(statistics.median(baseline), 3),
        "gensim_process_median_s": round(med_theirs, 2),
        "gensim_process_runs_s": [round(x, 2) for x in theirs],
        "speedup": round(med_theirs / med_ours, 1),
        "same_top10": our_top == their_top,
    }


def bench_batch(args: argparse.Namespace) -> dict[str, object]:
    from embedkit.search.queries import neighbours_batch
    from embedkit.search.vector_index import VectorIndex, unit_rows
    from embedkit.vectors.loading import read_vectors

    wv = read_vectors(args.vectors)
    t = time.perf_counter()
    exact = VectorIndex.for_vectors(args.vectors, "exact", wv=wv)
    t_exact = time.perf_counter() - t
    t = time.perf_counter()
    hnsw = VectorIndex.for_vectors(args.vectors, "hnsw", wv=wv, progress=True)
    t_hnsw = time.perf_counter() - t
    rng = np.random.default_rng(args.seed)
    words = [wv.keys[i] for i in rng.choice(len(wv), size=args.queries, replace=False)]

    t_gensim, gensim_top = float("nan"), None
    if not args.skip_gensim_loop:
        kv = wv.to_gensim()
        kv.most_similar(words[0], topn=10)  # gensim computes its normalised copy on the first call
        t = time.perf_counter()
        gensim_top = [[w for w, _ in kv.most_similar(w, topn=10)] for w in words]
        t_gensim = time.perf_counter() - t
        del kv

    t = time.perf_counter()
    ex = neighbours_batch(wv, words, 10, index=exact)
    t_ex = time.perf_counter() - t
    ordered = sum(r.words == g for r, g in zip(ex, gensim_top or []))
    as_sets = sum(set(r.words) == set(g) for r, g in zip(ex, gensim_top or []))

    t = time.perf_counter()
    ap = neighbours_batch(wv, words, 10, index=hnsw)
    t_ap = time.perf_counter() - t
    recall = float(np.mean([len(set(a.words) & set(e.words)) / 10 for a, e in zip(ap, ex)]))

    # index-level throughput (no word lookups / result objects), same queries
    rows = [wv.key_to_index[w] for w in words]
    q = unit_rows(np.asarray(wv.vectors[rows]))
    excl = [{r} for r in rows]
    t = time.perf_counter()
    _, truth = exact.search(q, 10, exclude=excl)
    t_ex_raw = time.perf_counter() - t
    truth_sets = [set(r.tolist()) for r in truth]
    t = time.perf_counter()
    hnsw.search(q, 10, exclude=excl)
    t_ap_raw = time.perf_counter() - t
    sweep = []
    for ef in args.ef_sweep:
        t = time.perf_counter()
        _, got = hnsw.search(q, 10, exclude=excl, ef_search=ef)
        dt = time.perf_counter() - t
        rec = float(np.mean([len(set(g.tolist()) & t) / 10 for g, t in zip(got, truth_sets)]))
        sweep.append({"ef_search": ef, "recall_at_10": round(rec, 4), "qps": round(len(q) / dt),
                      "vs_exact": round(t_ex_raw / dt, 1)})
    n = len(words)
    return {
        "queries": n,
        "index_load_or_build_s": {"exact": round(t_exact, 2), "hnsw": round(t_hnsw, 2)},
        "hnsw_params": hnsw.params,
        "gensim_loop_s": round(t_gensim, 2),
        "gensim_qps": round(n / t_gensim) if t_gensim == t_gensim else None,
        "exact_s": round(t_ex, 3),
        "exact_qps": round(n / t_ex),
        "exact_vs_gensim": round(t_gensim / t_ex, 1),
        "identical_top10_ordered": f"{ordered}/{n}",
        "identical_top10_sets": f"{as_sets}/{n}",
        "hnsw_s": round(t_ap, 3),
        "hnsw_qps": round(n / t_ap),
        "hnsw_vs_exact": round(t_ex / t_ap, 1),
        "hnsw_recall_at_10": round(recall, 4),
        "index_only_exact_qps": round(n / t_ex_raw),
        "index_only_hnsw_qps": round(n / t_ap_raw),
        "index_only_hnsw_vs_exact": round(t_ex_raw / t_ap_raw, 1),
        "hnsw_ef_search_sweep": sweep,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vectors", default="/tmp/g50", help="native vector set (directory)")
    ap.add_argument("--text", default="/tmp/glove.6B.50d.txt", help="the same vectors as GloVe text, for gensim")
    ap.add_argument("--word", default="surf")
    ap.add_argument("--runs", type=int, default=7, help="embedkit CLI process runs (median)")
    ap.add_argument("--gensim-runs", type=int, default=3, help="gensim process runs (median)")
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ef-sweep", type=int, nargs="*", default=[16, 32, 64, 128], help="HNSW efSearch values")
    ap.add_argument("--skip-process", action="store_true")
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--skip-gensim-loop", action="store_true", help="batch part without the gensim loop")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    results: dict[str, object] = {"cpus": os.cpu_count()}
    if not args.skip_batch:
        results["batch"] = bench_batch(args)
        print(json.dumps({"batch": results["batch"]}, indent=2), flush=True)
    if not args.skip_process:
        results["process"] = bench_process(args)
        print(json.dumps({"process": results["process"]}, indent=2), flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    from embedkit.errors import run_script

    run_script(main)
