"""The fuzz table (tests/fuzz/cases.py) through the real command line: every case clean."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import all_cases  # noqa: E402
from runner import run_case  # noqa: E402

CASES = all_cases()


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{c.family}: {c.name}" for c in CASES])
def test_case_is_clean(case, tmp_path):
    outcome = run_case(case, tmp_path / "case", tmp_path / "home")
    assert outcome.clean, f"{outcome.problems}\nstderr: {outcome.stderr[-1500:]}"


def test_the_table_covers_every_family():
    families = {c.family for c in CASES}
    assert families == {"vector files", "native sets", "checkpoints", "arguments", "outputs", "datasets"}
    assert len(CASES) >= 200
