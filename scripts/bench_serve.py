"""Benchmark: `embedkit serve` against the server a user would write -- Flask around gensim's `most_similar`.

Both serve the same vectors (default: GloVe 6B 50d, 400k words) on 127.0.0.1, in the same run; N concurrent
clients (one asyncio process, HTTP/1.1 keep-alive) ask for the 10 neighbours of words drawn from the 100k
most frequent, for a bounded time and request count. Printed per server: requests/s, p50 / p90 / p99 / max
latency, errors, and the server's memory (RSS) after warm-up and at the end; then the ratios and the bars:

- embedkit exact search >= 10x the peer's throughput;
- embedkit HNSW search: p99 < 50 ms at 16 concurrent clients;
- no errors, and no memory growth over the long (60 s) run.

The answers are checked first: embedkit's exact top-10 equals gensim's for a sample of words. The peer runs
twice: as written, and with its BLAS single-threaded (what a careful user might find); one-client runs give
the latency of a lone query.

Usage (prepare once under the shared lock, measure under the exclusive one)::

    python scripts/make_glove_txt.py /tmp/glove.6B.50d.txt            # if missing
    flock -s /work/cpu.lock python scripts/bench_serve.py --prepare --text /tmp/glove.6B.50d.txt --vectors /tmp/serve-bench/glove50
    flock -x /work/cpu.lock python scripts/bench_serve.py --vectors /tmp/serve-bench/glove50 --clients 16 --duration 15 --long 60

The peer loads the same arrays into a ``KeyedVectors`` (``add_vectors``) instead of parsing the text file
(which takes it about a minute): how it loads does not change how fast it answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np

REPO = Path(__file__).resolve().parents[1]
REQUEST_TIMEOUT = 30.0  # seconds

PEER = r'''
import sys
import numpy as np
from flask import Flask, jsonify, request
from gensim.models import KeyedVectors
from werkzeug.serving import make_server

from embedkit.vectors.vector_set import open_vectors

vs = open_vectors(sys.argv[1])
wv = vs.wv
kv = KeyedVectors(wv.dim)
kv.add_vectors(list(wv.keys), np.asarray(wv.vectors, dtype=np.float32))
kv.fill_norms()
app = Flask(__name__)


@app.get("/neighbours")
def neighbours():
    word = request.args.get("word", "")
    k = int(request.args.get("k", 10))
    try:
        found = kv.most_similar(word, topn=k)
    except KeyError:
        return jsonify(error=f"unknown word {word!r}"), 404
    return jsonify(query=word, neighbours=[{"word": w, "score": float(s)} for w, s in found])


server = make_server("127.0.0.1", 0, app, threaded=True)
print(f"PEER http://127.0.0.1:{server.server_port}/", flush=True)
server.serve_forever()
'''


# -- servers -----------------------------------------------------------------------------------------------
class Server:
    """A server subprocess: started, its URL read from its output, stopped with SIGTERM."""

    def __init__(self, name: str, cmd: list[str], pattern: str, extra_env: dict[str, str] | None = None) -> None:
        self.name = name
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               **(extra_env or {})}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        deadline = time.time() + 300
        assert self.proc.stdout is not None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"{name} exited before serving:\n" + "".join(self.lines))
            self.lines.append(line)
            m = re.search(pattern, line)
            if m:
                self.url = m.group(1).rstrip("/")
                host, port = self.url.removeprefix("http://").rsplit(":", 1)
                self.host, self.port = host, int(port)
                # Keep reading its output (the peer logs a line per request): a full pipe would block the
                # server's next write, and with it every request thread behind the logging lock.
                self.drain = threading.Thread(target=self._drain, daemon=True)
                self.drain.start()
                return
        raise SystemExit(f"{name} did not start in time")

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            del self.lines[:-50]  # the last lines, for a failure's message

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def embedkit_server(vectors: str, approx: bool) -> Server:
    cmd = [sys.executable, "-m", "embedkit", "serve", "--vectors", f"glove={vectors}", "--port", "0"]
    return Server("embedkit" + (" (hnsw)" if approx else " (exact)"), cmd + (["--approx"] if approx else []),
                  r"at (http://\S+?/) ")


def peer_server(vectors: str, tuned: bool = False) -> Server:
    """The peer as a user writes it; ``tuned``: with its BLAS single-threaded (OPENBLAS/OMP_NUM_THREADS=1),
    which a careful user might find (16 request threads x 2 BLAS threads each fight for 2 cores)."""
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"} if tuned else {}
    return Server("flask+gensim" + (" 1-thr" if tuned else ""), [sys.executable, "-c", PEER, vectors],
                  r"PEER (http://\S+)", env)


# -- load --------------------------------------------------------------------------------------------------
async def _client(host: str, port: int, paths: list[str], start: int, step: int, stop_at: float,
                  budget: list[int], latencies: list[float], errors: list[str]) -> None:
    reader = writer = None
    i = start
    while time.perf_counter() < stop_at and budget[0] > 0:
        budget[0] -= 1
        path = paths[i % len(paths)]
        i += step
        t = time.perf_counter()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):  # a stuck server is an error, not a hung benchmark
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n"
                             .encode())
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                headers = head.decode("latin-1").lower()
                m = re.search(r"content-length:\s*(\d+)", headers)
                body = await (reader.readexactly(int(m.group(1))) if m else reader.read())
            if status != 200:
                errors.append(f"HTTP {status}: {body[:120]!r}")
            elif not json.loads(body)["neighbours"]:
                errors.append("no neighbours")
            if not m or "connection: close" in headers or b"HTTP/1.0" in head[:9]:
                writer.close()
                reader = writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            errors.append(f"{type(e).__name__}: {e}")
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        latencies.append(time.perf_counter() - t)
    if writer is not None:
        writer.close()


async def _load(server: Server, paths: list[str], clients: int, duration: float, max_requests: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    budget = [max_requests]
    t0 = time.perf_counter()
    stop_at = t0 + duration
    await asyncio.gather(*[_client(server.host, server.port, paths, c, clients, stop_at, budget, latencies, errors)
                           for c in range(clients)])
    wall = time.perf_counter() - t0
    lat = np.array(latencies) * 1000 if latencies else np.array([np.nan])
    return {"requests": len(latencies), "errors": len(errors), "error_samples": errors[:3], "seconds": round(wall, 2),
            "rps": round(len(latencies) / wall, 1), "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p90_ms": round(float(np.percentile(lat, 90)), 2), "p99_ms": round(float(np.percentile(lat, 99)), 2),
            "max_ms": round(float(lat.max()), 2)}


def run_load(server: Server, paths: list[str], clients: int, duration: float, max_requests: int,
             warmup: float = 2.0, sample_memory: bool = False) -> dict:
    asyncio.run(_load(server, paths, clients, warmup, max_requests))  # warm caches, threads, pages
    rss0 = server.rss_mb()
    samples: list[float] = []

    async def with_samples() -> dict:
        async def sample() -> None:
            while True:
                samples.append(server.rss_mb())
                await asyncio.sleep(1.0)

        task = asyncio.create_task(sample())
        try:
            return await _load(server, paths, clients, duration, max_requests)
        finally:
            task.cancel()

    out = asyncio.run(with_samples()) if sample_memory else asyncio.run(_load(server, paths, clients, duration,
                                                                             max_requests))
    rss1 = server.rss_mb()
    out.update(server=server.name, clients=clients, rss_start_mb=round(rss0, 1), rss_end_mb=round(rss1, 1))
    if samples:
        half = len(samples) // 2
        out["rss_max_mb"] = round(max(samples + [rss1]), 1)
        out["rss_first_half_max_mb"] = round(max(samples[: half or 1]), 1)
        out["rss_second_half_max_mb"] = round(max(samples[half:] + [rss1]), 1)
    return out


# -- checks ------------------------------------------------------------------------------------------------
def same_answers(vectors: str, words: list[str]) -> tuple[int, int]:
    """How many of ``words`` get the same exact top-10 from embedkit's search and gensim's most_similar."""
    from gensim.models import KeyedVectors

    from embedkit.search.queries import neighbours_of
    from embedkit.vectors.vector_set import open_vectors

    vs = open_vectors(vectors)
    wv = vs.wv
    kv = KeyedVectors(wv.dim)
    kv.add_vectors(list(wv.keys), np.asarray(wv.vectors, dtype=np.float32))
    same = sum(neighbours_of(vs, w, 10, exact=True).words == [x for x, _ in kv.most_similar(w, topn=10)] for w in words)
    return same, len(words)


def prepare(args: argparse.Namespace) -> None:
    vectors = Path(args.vectors)
    if not vectors.exists():
        if not args.text or not Path(args.text).exists():
            raise SystemExit(f"{vectors} is missing: give --text GLOVE.txt (scripts/make_glove_txt.py writes it)")
        subprocess.run([sys.executable, "-m", "embedkit", "convert", args.text, str(vectors), "--to", "native"],
                       check=True)
    for kind in ("exact", "hnsw"):
        subprocess.run([sys.executable, "-m", "embedkit", "index", "build", "-v", str(vectors), "--kind", kind],
                       check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vectors", default="/tmp/serve-bench/glove50", help="native set (made by --prepare)")
    ap.add_argument("--text", default="/tmp/glove.6B.50d.txt", help="GloVe text file for --prepare")
    ap.add_argument("--prepare", action="store_true", help="convert the text file and build both indexes, then exit")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per measured run")
    ap.add_argument("--long", type=float, default=60.0, help="seconds of the HNSW run that checks memory")
    ap.add_argument("--single", type=float, default=5.0, help="seconds of the one-client runs (0: none)")
    ap.add_argument("--max-requests", type=int, default=2_000_000, help="request cap per run")
    ap.add_argument("--words", type=int, default=100_000, help="query words drawn from the N most frequent")
    ap.add_argument("--check", type=int, default=200, help="words whose top-10 is compared with gensim's")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if args.prepare:
        prepare(args)
        return 0
    if not (Path(args.vectors) / "index").exists():
        raise SystemExit(f"run --prepare first: no indexes beside {args.vectors}")

    from embedkit.vectors.vector_set import open_vectors

    words = open_vectors(args.vectors).vocab.head(args.words)
    rng = np.random.default_rng(0)
    picks = [words[i] for i in rng.integers(0, len(words), 200_000)]
    same, checked = same_answers(args.vectors, picks[: args.check])
    print(f"answers: embedkit exact top-10 == gensim most_similar top-10 for {same}/{checked} words", flush=True)

    def paths(extra: str) -> list[str]:
        return [f"/v1/neighbours?word={quote(w, safe='')}&k=10{extra}" for w in picks]

    peer_paths = [f"/neighbours?word={quote(w, safe='')}&k=10" for w in picks]
    results = []

    def measure(make, run_paths: list[str], runs: list[tuple[int, float, bool]]) -> None:
        server = make()
        try:
            for clients, duration, memory in runs:
                results.append(run_load(server, run_paths, clients, duration, args.max_requests, sample_memory=memory))
                print(json.dumps(results[-1]), flush=True)
        finally:
            rc = server.stop()
        for r in results[-len(runs):]:
            r["exit_code_after_sigterm"] = rc

    c, d = args.clients, args.duration
    single = [(1, args.single, False)] if args.single > 0 else []
    measure(lambda: peer_server(args.vectors), peer_paths, single + [(c, d, False)])
    measure(lambda: peer_server(args.vectors, tuned=True), peer_paths, [(c, d, False)])
    measure(lambda: embedkit_server(args.vectors, False), paths("&search=exact"), single + [(c, d, False)])
    measure(lambda: embedkit_server(args.vectors, True), paths("&search=approx"), single + [(c, args.long, True)])

    def at(name: str, clients: int) -> dict:
        return next(r for r in results if r["server"] == name and r["clients"] == clients)

    peer_r, tuned_r = at("flask+gensim", c), at("flask+gensim 1-thr", c)
    exact_r, hnsw_r = at("embedkit (exact)", c), at("embedkit (hnsw)", c)
    ratio = exact_r["rps"] / peer_r["rps"] if peer_r["rps"] else float("inf")
    ratio_tuned = exact_r["rps"] / tuned_r["rps"] if tuned_r["rps"] else float("inf")
    growth = hnsw_r["rss_end_mb"] - hnsw_r["rss_start_mb"]
    print()
    print(f"{'server':<20}{'clients':>8}{'req/s':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"
          f"{'errors':>8}{'RSS MB start->end':>20}")
    for r in results:
        print(f"{r['server']:<20}{r['clients']:>8}{r['rps']:>10.1f}{r['p50_ms']:>9.2f}{r['p90_ms']:>9.2f}"
              f"{r['p99_ms']:>9.2f}{r['max_ms']:>9.2f}{r['errors']:>8}"
              f"{r['rss_start_mb']:>11.1f} -> {r['rss_end_mb']:.1f}")
    print()
    bars = {
        f"exact >= 10x the peer's throughput at {c} clients": ratio >= 10,
        f"hnsw p99 < 50 ms at {c} clients": hnsw_r["p99_ms"] < 50,
        "no errors": all(r["errors"] == 0 for r in results),
        f"no memory growth over the {args.long:.0f} s hnsw run (< 5 MB)": growth < 5,
        "clean exit on SIGTERM": all(r["exit_code_after_sigterm"] == 0 for r in results
                                     if r["server"].startswith("embedkit")),
    }
    print(f"embedkit exact / flask+gensim: {ratio:.1f}x (/ the 1-thread-BLAS peer: {ratio_tuned:.1f}x); "
          f"hnsw / flask+gensim: {hnsw_r['rps'] / peer_r['rps']:.1f}x; RSS growth over the hnsw run: {growth:+.1f} MB")
    for name, ok in bars.items():
        print(f"  [{'met' if ok else 'MISSED'}] {name}")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "ratio_exact": ratio,
                                               "ratio_exact_vs_tuned_peer": ratio_tuned, "bars": bars,
                                               "answers_same": [same, checked]}, indent=2) + "\n")
    return 0 if all(bars.values()) else 1


if __name__ == "__main__":
    from embedkit.errors import run_script

    run_script(main)
