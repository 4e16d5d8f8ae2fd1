"""Fixtures of the serve tests: two small native sets with known structure, and the app over them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedkit.vectors.word_vectors import WordVectors

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
