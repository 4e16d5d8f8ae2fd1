"""Benchmark: loading GloVe 6B 50d text with embedkit vs gensim, native re-open, and `embedkit info`.

Each load runs in a fresh subprocess, so timings and memory are not polluted by earlier runs:

* text load: ``embedkit.read_vectors(path)`` (the text reader, as WordVectors) vs
  ``gensim KeyedVectors.load_word2vec_format(path, no_header=True)``; seconds, ratio, max abs difference of
  the float32 vectors (and identical word order), peak memory increase over the loader's baseline after
  imports (pyarrow's included, which embedkit imports lazily on the first read). Memory is sampled every few ms as PSS (proportional set size, so pages the worker processes share
  with the parent are counted once) summed over the loader and its children; ru_maxrss of the loader plus
  its largest child goes to the --json output.
* native re-open: ``read_vectors`` of the converted set (mmap), timed inside a fresh process after imports,
  and the wall time of that whole process.
* ``python -m embedkit info SET``: wall time from a cold process (page cache warm), and whether TensorFlow
  was imported.

    nice -n 0 python scripts/bench_load.py --repeat 3 [--glove /tmp/glove.6B.50d.txt]

The median of ``--repeat`` runs is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(REPO)}

LOADER = r"""
import json, os, resource, sys, time
import numpy as np
kind, path, out = sys.argv[1:4]
binary = len(sys.argv) > 4 and sys.argv[4] == "binary"
if kind == "embedkit":
    from embedkit.vectors.loading import read_vectors
    import pyarrow.csv, pyarrow.compute  # the reader's library, imported lazily by it: counted as an import
else:
    from gensim.models import KeyedVectors
print("ready", flush=True)
sys.stdin.readline()
t = time.perf_counter()
c = os.times()
if kind == "embedkit":
    wv = read_vectors(path)
    keys, vectors, k2i = wv.keys, wv.vectors, wv.key_to_index
else:
    kv = KeyedVectors.load_word2vec_format(path, binary=True) if binary else KeyedVectors.load_word2vec_format(
        path, no_header=True)
    keys, vectors, k2i = kv.index_to_key, kv.vectors, kv.key_to_index
dt = time.perf_counter() - t
c2 = os.times()
cpu = (c2.user + c2.system + c2.children_user + c2.children_system) - (c.user + c.system + c.children_user + c.children_system)
self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("done", flush=True)
sys.stdin.readline()
vocab = sys.getsizeof(keys) + sum(sys.getsizeof(k) for k in keys) + sys.getsizeof(k2i)
vocab_values = sum(sys.getsizeof(i) for i in k2i.values())  # the dict's int objects (getsizeof(dict) leaves them out)
np.save(out + ".npy", np.asarray(vectors))
with open(out + ".keys", "w", encoding="utf-8") as fh:
    fh.write("\n".join(keys))
print(json.dumps({"seconds": dt, "cpu_seconds": cpu, "maxrss_self_kb": self_kb, "maxrss_child_kb": child_kb,
                  "matrix_bytes": int(np.asarray(vectors).nbytes), "vocab_bytes": vocab,
                  "vocab_values_bytes": vocab_values}), flush=True)
"""


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def _tree_pss_kb(pid: int) -> int:
    todo, total = [pid], 0
    while todo:
        p = todo.pop()
        total += _pss_kb(p)
        todo += _children(p)
    return total


def run_loader(kind: str, path: str, out: str, sample: bool = False, binary: bool = False) -> dict:
    """Load ``path`` with ``kind`` in a fresh process; return its timing (and, with ``sample``, memory).

    Sampling /proc/PID/smaps_rollup takes the loader's mmap lock and slows its page faults, so timed runs
    do not sample and memory is measured in separate runs.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", LOADER, kind, path, out] + (["binary"] if binary else []),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV,
    )
    assert proc.stdin is not None and proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    base = _tree_pss_kb(proc.pid)
    peak = base
    proc.stdin.write("go\n")
    proc.stdin.flush()
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    while not sel.select(timeout=0.005 if sample else 1.0):
        if sample:
            peak = max(peak, _tree_pss_kb(proc.pid))
    assert proc.stdout.readline().strip() == "done"
    if sample:
        peak = max(peak, _tree_pss_kb(proc.pid))
    proc.stdin.write("go\n")
    proc.stdin.flush()
    res = json.loads(proc.stdout.readline())
    proc.wait(timeout=120)
    res["pss_increase_mb"] = (peak - base) / 1024
    res["maxrss_bound_mb"] = (res["maxrss_self_kb"] + res["maxrss_child_kb"]) / 1024 - base / 1024
    return res


def time_native(native: str) -> tuple[float, float]:
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from embedkit.vectors.loading import read_vectors\n"
        "t = time.perf_counter(); c = time.process_time()\n"
        "wv = read_vectors(%r); _ = wv.vectors[len(wv) - 1].sum()\n"
        "print(time.perf_counter() - t, time.process_time() - c)\n" % native
    )
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, check=True)
    wall = time.perf_counter() - t
    reopen, cpu = (float(x) for x in out.stdout.split())
    return reopen, cpu, wall


def time_info(native: str) -> tuple[float, float]:
    """Wall and CPU seconds of a fresh ``python -m embedkit info NATIVE`` process."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "embedkit", "info", native], capture_output=True, env=ENV, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def info_imports_tf(native: str) -> bool:
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom embedkit.cli import app\n"
        "r = CliRunner().invoke(app, ['info', %r]); assert r.exit_code == 0, r.output\n"
        "print(any(m in sys.modules for m in ('tensorflow', 'keras', 'faiss')))\n" % native
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, check=True)
    return out.stdout.strip() == "True"


def run_process(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh process running ``cmd``."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def convert_process(src: str, out: str) -> tuple[float, float]:
    """``embedkit convert SRC OUT --to native`` as a whole process: wall seconds and peak RSS in MB."""
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    return run_process([sys.executable, "-m", "embedkit", "convert", src, out, "--to", "native"])


GENSIM_LOAD = (
    "import sys\nfrom gensim.models import KeyedVectors\n"
    "KeyedVectors.load_word2vec_format(sys.argv[1], no_header=sys.argv[2] == 'glove')\n"
)


def time_native_write(glove: str, out: str) -> float:
    """Seconds to write a loaded 400k x 50 set as a native set (vectors, vocabulary, sha256), fresh process."""
    code = (
        "import shutil, sys, time\nfrom embedkit.vectors.loading import read_vectors\n"
        "wv = read_vectors(sys.argv[1]); shutil.rmtree(sys.argv[2], ignore_errors=True)\n"
        "t = time.perf_counter(); wv.save(sys.argv[2]); print(time.perf_counter() - t)\n"
    )
    out_ = subprocess.run([sys.executable, "-c", code, glove, out], capture_output=True, text=True, env=ENV, check=True)
    return float(out_.stdout.split()[-1])


def make_big_text(path: Path, words: int, dim: int, seed: int = 0) -> None:
    """A GloVe-layout text file of ``words`` x ``dim`` random float32 values (shortest round-trip repr),
    written with Arrow's CSV writer in chunks (a 1M x 300 file is about 2.7 GB)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    tmp = path.with_name(path.name + ".part")
    opts = pacsv.WriteOptions(include_header=False, delimiter=" ", quoting_style="none")
    with pa.OSFile(str(tmp), "wb") as sink:
        for start in range(0, words, 50_000):
            n = min(50_000, words - start)
            vals = (rng.standard_normal((n, dim), dtype=np.float32) * 0.4).round(5)
            cols = [pa.array([f"w{i}" for i in range(start, start + n)])]
            cols += [pa.array(vals[:, j]) for j in range(dim)]
            pacsv.write_csv(pa.table(cols, names=[f"c{j}" for j in range(dim + 1)]), sink, write_options=opts)
    tmp.rename(path)


def big_file_run(words: int, dim: int, tmp: str) -> dict:
    """Convert a generated ``words`` x ``dim`` text file with embedkit and load it with gensim, once each."""
    big = Path(tempfile.gettempdir()) / f"big-{words}x{dim}.txt"
    if not big.is_file():
        print(f"generating {big} ...", flush=True)
        make_big_text(big, words, dim)
    e_s, e_rss = convert_process(str(big), f"{tmp}/big-native")
    g_s, g_rss = run_process([sys.executable, "-c", GENSIM_LOAD, str(big), "glove"])
    matrix_mb = words * dim * 4 / 2**20
    return {"file": str(big), "bytes": big.stat().st_size, "matrix_mb": matrix_mb,
            "embedkit_convert_s": e_s, "embedkit_convert_peak_rss_mb": e_rss,
            "gensim_load_s": g_s, "gensim_load_peak_rss_mb": g_rss}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--glove", default="/tmp/glove.6B.50d.txt")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--big", default="", metavar="WORDSxDIM",
                    help="also convert a generated text file this size once (e.g. 1000000x300) next to gensim's load")
    args = ap.parse_args()
    glove = Path(args.glove)
    if not glove.is_file():
        sys.path.insert(0, str(REPO / "scripts"))
        from make_glove_txt import main as make

        make(str(glove))
    print(f"input: {glove} ({glove.stat().st_size:,} bytes), cpus: {os.cpu_count()}, "
          f"load avg at start: {os.getloadavg()[0]:.2f}")

    runs = []
    gensim_pss = float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        native = str(Path(tmp) / "g50")
        from embedkit.vectors.loading import read_vectors

        read_vectors(glove).save(native)
        binfile = str(Path(tmp) / "g50.bin")
        read_vectors(native).save(binfile, format="word2vec-bin")
        for r in range(args.repeat):
            e = run_loader("embedkit", str(glove), f"{tmp}/e")
            g = run_loader("gensim", str(glove), f"{tmp}/g")
            e_mem = run_loader("embedkit", str(glove), f"{tmp}/e", sample=True)
            if r == 0:
                gensim_pss = run_loader("gensim", str(glove), f"{tmp}/g", sample=True)["pss_increase_mb"]
            same_keys = Path(f"{tmp}/e.keys").read_text(encoding="utf-8") == Path(f"{tmp}/g.keys").read_text(
                encoding="utf-8")
            ev, gv = np.load(f"{tmp}/e.npy", mmap_mode="r"), np.load(f"{tmp}/g.npy", mmap_mode="r")
            diff = float(np.abs(ev - gv).max()) if ev.shape == gv.shape else float("inf")
            del ev, gv
            eb = run_loader("embedkit", binfile, f"{tmp}/eb", binary=True)
            gb = run_loader("gensim", binfile, f"{tmp}/gb", binary=True)
            bin_same = np.array_equal(np.load(f"{tmp}/eb.npy"), np.load(f"{tmp}/gb.npy"))
            conv_s, conv_rss = convert_process(str(glove), f"{tmp}/conv")
            write_s = time_native_write(native, f"{tmp}/written")
            reopen, reopen_cpu, reopen_wall = time_native(native)
            info, info_cpu = time_info(native)
            run = {
                "embedkit_s": e["seconds"], "gensim_s": g["seconds"], "ratio": g["seconds"] / e["seconds"],
                "embedkit_cpu_s": e["cpu_seconds"], "gensim_cpu_s": g["cpu_seconds"],
                "max_abs_diff": diff, "same_keys": same_keys,
                "matrix_mb": e["matrix_bytes"] / 2**20, "vocab_mb": e["vocab_bytes"] / 2**20,
                "vocab_values_mb": e["vocab_values_bytes"] / 2**20,
                "embedkit_pss_increase_mb": e_mem["pss_increase_mb"],
                "embedkit_maxrss_bound_mb": e_mem["maxrss_bound_mb"],
                "native_reopen_s": reopen, "native_reopen_cpu_s": reopen_cpu, "native_reopen_process_s": reopen_wall,
                "info_cold_s": info, "info_cold_cpu_s": info_cpu,
                "binary_embedkit_s": eb["seconds"], "binary_gensim_s": gb["seconds"],
                "binary_ratio": gb["seconds"] / eb["seconds"], "binary_same": bin_same,
                "convert_process_s": conv_s, "convert_peak_rss_mb": conv_rss,
                "convert_vs_gensim_load": g["seconds"] / conv_s, "native_write_s": write_s,
                "load_avg": os.getloadavg()[0],
            }
            runs.append(run)
            print(f"run {r + 1}: embedkit {run['embedkit_s']:.2f} s, gensim {run['gensim_s']:.2f} s, "
                  f"ratio {run['ratio']:.1f}x, max abs diff {diff:g}, same words {same_keys}, "
                  f"peak +{run['embedkit_pss_increase_mb']:.0f} MB, binary {run['binary_ratio']:.1f}x, "
                  f"convert process {conv_s:.2f} s ({run['convert_vs_gensim_load']:.1f}x gensim's load), "
                  f"native write {write_s:.2f} s, reopen {reopen:.3f} s, info {info:.2f} s, "
                  f"load avg {run['load_avg']:.1f}")
        tf = info_imports_tf(native)
        big = big_file_run(*(int(x) for x in args.big.lower().split("x")), tmp) if args.big else None

    med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if not isinstance(runs[0][k], bool)}
    med["same_keys"] = all(r["same_keys"] for r in runs)
    med["binary_same"] = all(r["binary_same"] for r in runs)
    med["info_imports_tensorflow"] = tf
    budget = 1.5 * (med["matrix_mb"] + med["vocab_mb"])
    print()
    print(f"median of {len(runs)} runs:")
    print(f"  text load (400k x 50): embedkit {med['embedkit_s']:.2f} s, gensim {med['gensim_s']:.2f} s "
          f"-> {med['ratio']:.1f}x faster; max abs diff {med['max_abs_diff']:g}; same words in order: "
          f"{med['same_keys']}")
    print(f"  CPU seconds (children included): embedkit {med['embedkit_cpu_s']:.2f}, gensim {med['gensim_cpu_s']:.2f}")
    print(f"  peak memory increase (PSS, children included): {med['embedkit_pss_increase_mb']:.0f} MB vs "
          f"float32 matrix {med['matrix_mb']:.0f} MB + vocabulary {med['vocab_mb']:.0f} MB "
          f"(1.5x budget {budget:.0f} MB; gensim +{gensim_pss:.0f} MB); the dict's int values add "
          f"{med['vocab_values_mb']:.0f} MB more (1.5x budget with them "
          f"{1.5 * (med['matrix_mb'] + med['vocab_mb'] + med['vocab_values_mb']):.0f} MB)")
    print(f"  native re-open: {med['native_reopen_s']:.3f} s wall ({med['native_reopen_cpu_s']:.3f} s CPU) in a fresh "
          f"process after imports; {med['native_reopen_process_s']:.2f} s for the whole process")
    print(f"  `embedkit info` cold process: {med['info_cold_s']:.2f} s wall ({med['info_cold_cpu_s']:.2f} s CPU); "
          f"imports TensorFlow/FAISS: {tf}")
    print(f"  binary word2vec (400k x 50): embedkit {med['binary_embedkit_s']:.2f} s, gensim "
          f"{med['binary_gensim_s']:.2f} s -> {med['binary_ratio']:.1f}x; identical vectors: {med['binary_same']}")
    print(f"  `embedkit convert glove.txt OUT --to native` whole process: {med['convert_process_s']:.2f} s "
          f"(peak RSS {med['convert_peak_rss_mb']:.0f} MB) -> {med['convert_vs_gensim_load']:.1f}x gensim's load alone; "
          f"native write of a loaded set {med['native_write_s']:.2f} s")
    if big:
        print(f"  {big['file']} ({big['bytes'] / 1e9:.2f} GB, float32 matrix {big['matrix_mb']:.0f} MB): embedkit convert "
              f"{big['embedkit_convert_s']:.1f} s, peak RSS {big['embedkit_convert_peak_rss_mb']:.0f} MB; gensim load "
              f"{big['gensim_load_s']:.1f} s, peak RSS {big['gensim_load_peak_rss_mb']:.0f} MB "
              f"({big['gensim_load_s'] / big['embedkit_convert_s']:.1f}x)")
    print(f"  load avg at end: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "median": med, "big": big}, indent=2))


if __name__ == "__main__":
    from embedkit.errors import run_script

    run_script(main)
