"""Fixtures of the serve tests: two small native sets with known structure, and the app over them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from embedkit.vectors.word_vectors import WordVectors

REPO = Path(__file__).resolve().parents[2]

PLANTED = {  # an analogy with a known answer, and words spelled alike (close matches)
    "king": [1.0, 1.0, 0.0], "queen": [1.0, 0.0, 1.0], "man": [0.0, 1.0, 0.0], "woman": [0.0, 0.0, 1.0],
    "surf": [0.2, 0.9, 0.9], "surfing": [0.25, 0.85, 0.9], "surfer": [0.2, 0.8, 1.0], "sun": [0.9, 0.2, 0.1],
}


def make_set(path: Path, seed: int, n: int = 300, dim: int = 12, unicode: bool = True) -> WordVectors:
    """A frequency-ordered set: the planted words first (3 planted dims + noise), then w0..w{n-1}."""
    rng = np.random.default_rng(seed)
    words = list(PLANTED) + [f"w{i}" for i in range(n)] + (["café", "日本"] if unicode else [])
    vecs = rng.standard_normal((len(words), dim)).astype(np.float32) * 0.3
    for i, v in enumerate(PLANTED.values()):
        vecs[i, :3] = np.array(v, np.float32) * 3
    wv = WordVectors(words, vecs, counts=np.arange(len(words), 0, -1))
    wv.save(path)
    return wv


@pytest.fixture(scope="session")
def set_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two native sets, 'alpha' and 'beta', sharing most words (different vectors)."""
    root = tmp_path_factory.mktemp("serve_sets")
    make_set(root / "alpha", seed=1)
    make_set(root / "beta", seed=2, n=250, unicode=False)
    return {"alpha": root / "alpha", "beta": root / "beta"}


@pytest.fixture(scope="session")
def served(set_dirs):
    """Both sets opened for serving, with approximate search enabled."""
    from embedkit.serve.sets import open_served_sets

    return open_served_sets([f"alpha={set_dirs['alpha']}", f"beta={set_dirs['beta']}"], approx=True)


@pytest.fixture
def client(served):
    """A Starlette TestClient over the app serving both sets (lifespan run)."""
    from starlette.testclient import TestClient

    from embedkit.serve.app import create_app

    with TestClient(create_app(served, threads=2), raise_server_exceptions=False) as c:
        yield c


class Served:
    """An `embedkit serve` subprocess on a free port; its stderr is collected by a thread."""

    def __init__(self, *args: str, port: str = "0") -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([sys.executable, "-m", "embedkit", "serve", *args, "--port", port],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        self.err: list[str] = []
        found = threading.Event()

        def collect() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.err.append(line)
                m = re.search(r"Explorer and API at (http://\S+?/) ", line)
                if m:
                    self.url = m.group(1)
                    found.set()
            found.set()

        self.reader = threading.Thread(target=collect, daemon=True)
        self.reader.start()
        if not found.wait(120) or not hasattr(self, "url"):
            self.proc.kill()
            raise AssertionError("serve did not start:\n" + "".join(self.err))
        self.port = int(self.url.rsplit(":", 1)[1].rstrip("/"))

    def get(self, path: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> tuple[int, str]:
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"serve did not stop within {timeout} s of {signal.Signals(sig).name}") from None
        self.reader.join(10)
        return self.proc.returncode, "".join(self.err)


@pytest.fixture
def serve():
    """Start `embedkit serve ARGS...` processes (``serve(*args)``); any still running at the end is killed."""
    started: list[Served] = []

    def start(*args: str) -> Served:
        started.append(Served(*args))
        return started[-1]

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
