"""Atomic writes: temp + rename, stale temps of killed runs removed, errors that name the user's path."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from embedkit.errors import EmbedkitError
from embedkit.files.atomic import atomic_path, atomic_write_text, remove_stale_temps


def test_stale_temps_of_dead_processes_are_removed(tmp_path):
    target = tmp_path / "out.txt"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale_file = tmp_path / f".out.txt.{dead}.abc123.tmp"
    stale_file.write_text("half")
    stale_dir = tmp_path / f".out.txt.old-{dead}"
    stale_dir.mkdir()
    live = tmp_path / f".out.txt.{os.getpid()}.zzz.tmp"  # this process: still writing, never removed
    live.write_text("busy")
    other = tmp_path / ".other.txt.1.x.tmp"
    other.write_text("not this target's")
    atomic_write_text(target, "done")
    assert target.read_text() == "done"
    assert not stale_file.exists() and not stale_dir.exists()
    assert live.exists() and other.exists()
    assert remove_stale_temps(target) == []


def test_write_error_names_the_target_not_the_temp_file(tmp_path):
    (tmp_path / "plain").write_text("a file, not a folder")
    with pytest.raises(EmbedkitError) as ei:
        atomic_write_text(tmp_path / "plain" / "x.txt", "data")
    assert str(ei.value).endswith("Received: " + repr(str(tmp_path / "plain" / "x.txt")))
    target = tmp_path / "set"
    with pytest.raises(EmbedkitError) as ei:
        with atomic_path(target) as tmp:
            (tmp / "inside.npy").write_bytes(b"")  # the caller forgot to create the directory
    msg = str(ei.value)
    assert repr(str(target)) in msg and ".tmp" not in msg
    assert list(tmp_path.iterdir()) == [tmp_path / "plain"]


def test_errors_about_other_files_pass_through(tmp_path):
    with pytest.raises(FileNotFoundError):
        with atomic_path(tmp_path / "out.txt"):
            open(tmp_path / "missing-input.txt").read()


def test_failed_block_leaves_nothing(tmp_path):
    target = tmp_path / "t.bin"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
