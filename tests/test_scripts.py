"""The benchmark scripts end bad input with embedkit's one-line error (exit 1), not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from embedkit.errors import EmbedkitError, run_script

REPO = Path(__file__).resolve().parent.parent


def test_run_script_turns_an_embedkit_error_into_one_line_and_status_1(capsys):
    def main():
        raise EmbedkitError("`k` must be a positive integer. Received: k=0")

    with pytest.raises(SystemExit) as e:
        run_script(main)
    assert e.value.code == 1
    assert capsys.readouterr().err == "Error: `k` must be a positive integer. Received: k=0\n"
    with pytest.raises(SystemExit) as e:
        run_script(lambda: 3)
    assert e.value.code == 3


def test_a_benchmark_given_a_missing_corpus_says_so_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "profile_cbow.py"), str(tmp_path / "nope.txt")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"Error: Corpus file does not exist. Received: '{tmp_path / 'nope.txt'}'" in done.stderr
