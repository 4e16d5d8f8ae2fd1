"""Trust at the edges (issue 15) for vector files: damaged native sets are one line everywhere they are opened,
``convert`` never replaces what embedkit did not write, and a killed ``convert`` leaves no process behind."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.cli import app
from embedkit.errors import EmbedkitError
from embedkit.vectors.loading import read_vectors
from embedkit.vectors.word_vectors import WordVectors

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _one_line_error(r, code: int = 1) -> str:
    assert r.exit_code == code, r.output
    assert "Traceback" not in r.output
    err = r.stderr.strip()
    assert err.startswith("Error:") and "\n" not in err, err
    return err


def _set(tmp_path: Path, name: str = "s") -> Path:
    d = tmp_path / name
    WordVectors(["alpha", "beta", "gamma"], np.eye(3, dtype=np.float32)).save(d)
    return d


def _damage(d: Path, how: str) -> None:
    vec = d / "vectors.npy"
    if how == "meta-not-utf8":
        (d / "meta.json").write_bytes(b'{"dim": 3, "size": 3, "source": "\xff\xfe"}')
    elif how == "meta-dim-text":
        meta = json.loads((d / "meta.json").read_text())
        meta["dim"] = "three"
        (d / "meta.json").write_text(json.dumps(meta))
    elif how == "vocab-not-utf8":
        (d / "vocab.txt").write_bytes(b"alpha\t-1\nb\xe9ta\t-1\ngamma\t-1\n")
    elif how == "vocab-short":
        (d / "vocab.txt").write_text("alpha\t-1\nbeta\t-1\n")
    elif how == "vectors-garbage":
        vec.write_bytes(os.urandom(300))
    elif how == "vectors-truncated":
        vec.write_bytes(vec.read_bytes()[:-10])
    elif how == "vectors-header-only":
        vec.write_bytes(vec.read_bytes()[:60])
    elif how == "vectors-strings":
        np.save(vec, np.array([["a", "b", "c"]] * 3))
    elif how == "vectors-objects":
        np.save(vec, np.array([[object()] * 3] * 3, dtype=object), allow_pickle=True)
    elif how == "vectors-pickle":
        vec.write_bytes(pickle.dumps(np.eye(3, dtype=np.float32)))
    elif how == "vectors-npz":
        os.remove(vec)
        np.savez(d / "x.npz", a=np.eye(3, dtype=np.float32))
        os.rename(d / "x.npz", vec)
    elif how == "vectors-int":
        np.save(vec, np.eye(3, dtype=np.int64))
    else:  # pragma: no cover
        raise AssertionError(how)


DAMAGE = ["meta-not-utf8", "meta-dim-text", "vocab-not-utf8", "vocab-short", "vectors-garbage", "vectors-truncated",
          "vectors-header-only", "vectors-strings", "vectors-objects", "vectors-pickle", "vectors-npz", "vectors-int"]


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_native_sets_are_one_line_errors_everywhere(tmp_path, how):
    d = _set(tmp_path)
    _damage(d, how)
    for args in (["convert", str(d), str(tmp_path / "out.txt"), "--to", "glove"],
                 ["info", str(d)], ["info", str(d), "--json"],
                 ["neighbours", "alpha", "--vectors", str(d)], ["neighbours", "zzz", "--vectors", str(d)],
                 ["similarity", "alpha", "beta", "--vectors", str(d)]):
        err = _one_line_error(runner.invoke(app, args))
        assert "Expected" in err or "must" in err, (args, err)
    assert not (tmp_path / "out.txt").exists()


def test_info_checks_what_convert_checks_but_stays_lazy(tmp_path):
    d = _set(tmp_path)
    (d / "vocab.txt").write_text("alpha\t-1\nbeta\tx\ngamma\t-1\n")
    err = _one_line_error(runner.invoke(app, ["info", str(d)]))
    assert "integer counts" in err
    err2 = _one_line_error(runner.invoke(app, ["convert", str(d), str(tmp_path / "o")]))
    assert "integer counts" in err2


# -- where convert may write --------------------------------------------------------------------------------------
def test_convert_refuses_a_users_directory_and_file(tmp_path):
    src = _set(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    err = _one_line_error(runner.invoke(app, ["convert", str(src), str(mine)]))
    assert "must not replace a directory embedkit did not write" in err and "--overwrite" in err
    assert (mine / "notes.txt").read_text() == "keep me"
    r = runner.invoke(app, ["convert", str(src), str(mine), "--overwrite"])
    assert r.exit_code == 0, r.output
    assert read_vectors(mine).keys == ["alpha", "beta", "gamma"]

    f = tmp_path / "user.txt"
    f.write_text("my file")
    err = _one_line_error(runner.invoke(app, ["convert", str(src), str(f), "--to", "glove"]))
    assert "must not replace a file embedkit did not write" in err and f.read_text() == "my file"
    assert runner.invoke(app, ["convert", str(src), str(f), "--to", "glove", "--overwrite"]).exit_code == 0
    assert read_vectors(f).keys == ["alpha", "beta", "gamma"]
    # embedkit wrote it: replacing it again needs no --overwrite
    assert runner.invoke(app, ["convert", str(src), str(f), "--to", "word2vec"]).exit_code == 0


def test_convert_never_writes_a_file_onto_a_directory_fifo_or_device(tmp_path):
    src = _set(tmp_path)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "x").write_text("x")
    for extra in ([], ["--overwrite"]):
        err = _one_line_error(runner.invoke(app, ["convert", str(src), str(folder), "--to", "glove", *extra]))
        assert "Expected a file path for the output. Received: directory" in err
    assert (folder / "x").read_text() == "x"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/null")):
        for to in ("glove", "native"):
            err = _one_line_error(runner.invoke(app, ["convert", str(src), str(target), "--to", to, "--overwrite"]))
            assert "must be a regular file or directory" in err
    assert Path("/dev/null").is_char_device() and fifo.is_fifo()


def test_convert_claims_the_output_before_reading(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("this is not a vectors file at all\n")
    f = tmp_path / "user.txt"
    f.write_text("mine")
    err = _one_line_error(runner.invoke(app, ["convert", str(bad), str(f), "--to", "glove"]))
    assert "must not replace a file" in err  # not a complaint about the input


def test_replacing_an_embedkit_set_is_atomic_and_needs_no_overwrite(tmp_path):
    src = _set(tmp_path, "src")
    out = _set(tmp_path, "out")
    other = WordVectors(["x"], np.ones((1, 3), np.float32))
    other.save(src, overwrite=False)  # a native set: replaced
    r = runner.invoke(app, ["convert", str(src), str(out)])
    assert r.exit_code == 0, r.output
    assert read_vectors(out).keys == ["x"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "src"]  # no temp left


def test_save_refuses_what_embedkit_did_not_write(tmp_path):
    wv = WordVectors(["a"], np.ones((1, 2), np.float32))
    f = tmp_path / "f.txt"
    f.write_text("user data")
    with pytest.raises(EmbedkitError, match="must not replace a file"):
        wv.save(f, format="glove")
    wv.save(f, format="glove", overwrite=True)
    wv.save(f, format="word2vec")  # embedkit's own file now
    with pytest.raises(EmbedkitError, match="`format` must be one of native, word2vec, glove, word2vec-bin to write"):
        wv.save(tmp_path / "m.bin", format="fasttext")


# -- a killed convert leaves nothing running ----------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to list child processes")
def test_sigkill_during_convert_leaves_no_process_and_the_next_run_cleans_up(tmp_path):
    src = tmp_path / "big.txt"
    row = " ".join(["0.12345"] * 100)
    with open(src, "w") as fh:
        for s in range(0, 300_000, 10_000):
            fh.write("".join(f"w{i} {row}\n" for i in range(s, s + 10_000)))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "embedkit", "convert", str(src), str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: set[int] = set()
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.startswith(".out.") for p in tmp_path.iterdir()):
        seen.update(_children(proc.pid))
        time.sleep(0.01)
    seen.update(_children(proc.pid))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not seen, f"convert started child processes: {seen}"
    assert not out.exists()
    r = subprocess.run([sys.executable, "-m", "embedkit", "convert", str(src), str(out)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.txt", "out"]
    assert len(read_vectors(out)) == 300_000


def test_a_fifo_or_device_as_the_input_is_refused_before_it_is_read(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # nobody writes to it: reading it would block forever
    for args in (["convert", str(fifo), str(tmp_path / "out")], ["info", str(fifo)],
                 ["neighbours", "the", "-v", str(fifo)], ["convert", "/dev/zero", str(tmp_path / "out")]):
        err = _one_line_error(runner.invoke(app, args))
        assert "(a regular file). Received: " in err and ("FIFO" in err or "device '/dev/zero'" in err), err
    assert not (tmp_path / "out").exists()
