"""Training checkpoints are one atomic unit: a kill between writes never leaves a mixed checkpoint, and resume
refuses an inconsistent, incomplete or corrupt one with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.errors import EmbedkitError
from embedkit.train.checkpoints import MANIFEST_FILE, STATE_FILE, WEIGHTS_FILE, Checkpoint, _sha256
from embedkit.train.tables import CBOWTables

IDENTITY = {"config": {"seed": 1, "threads": None}, "corpus_sha256": "abc", "vocab_size": 3}


class Arrays:
    def __init__(self, step=0, fill=0.0):
        self.t = CBOWTables(np.full((4, 2), fill, np.float32), np.full((3, 2), fill, np.float32), step)

    def get_tables(self):
        return self.t

    def set_tables(self, input, output, step):
        self.t = CBOWTables(input, output, step)


def _save(directory, step, serial, fill=None):
    ck = Checkpoint(directory, IDENTITY)
    ck.save(Arrays(step, float(step) if fill is None else fill), {"epoch": 0, "next_chunk": serial, "losses": {}},
            serial=serial)
    return ck


def _latest(directory):
    return sorted(p for p in directory.iterdir() if p.name.startswith("checkpoint-"))[-1]


def _rewrite(part, data):
    """Replace a part and fix the manifest's checksum (a consistent-looking but wrong part)."""
    part.write_bytes(data)
    manifest_path = part.parent / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    manifest["parts"][part.name]["sha256"] = _sha256(part)
    manifest_path.write_text(json.dumps(manifest))


def test_one_directory_per_checkpoint_with_a_manifest(tmp_path):
    _save(tmp_path, 5, 1)
    ck = _save(tmp_path, 9, 2)
    dirs = [p.name for p in tmp_path.iterdir()]
    assert dirs == ["checkpoint-00000002"]  # the older one is removed once the new one is in place
    manifest = json.loads((tmp_path / dirs[0] / MANIFEST_FILE).read_text())
    assert manifest["step"] == 9 and {p["step"] for p in manifest["parts"].values()} == {9}
    assert set(manifest["parts"]) == {WEIGHTS_FILE, STATE_FILE}
    m = Arrays()
    assert ck.load(m)["next_chunk"] == 2 and m.t.step == 9 and float(m.t.input[0, 0]) == 9.0


def test_a_kill_while_saving_leaves_the_previous_checkpoint_whole(tmp_path):
    """SIGKILL after the weights of a new checkpoint are written but before its state: the old checkpoint stays
    complete and loads; the killed save's temporary directory is removed by the next save."""
    _save(tmp_path, 5, 1)
    script = textwrap.dedent(f"""
        import json, os, signal, sys
        sys.path.insert(0, {os.getcwd()!r})
        import numpy as np
        from pathlib import Path
        import embedkit.train.checkpoints as c
        from tests.train.test_checkpoints import Arrays, IDENTITY
        real = Path.write_text
        def killed(self, *a, **k):
            if self.name == c.STATE_FILE:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, *a, **k)
        Path.write_text = killed
        c.Checkpoint({str(tmp_path)!r}, IDENTITY).save(Arrays(7, 7.0), {{"epoch": 0, "next_chunk": 2, "losses": {{}}}},
                                                     serial=2)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == -9, r.stderr
    leftovers = [p.name for p in tmp_path.iterdir() if not p.name.startswith("checkpoint-")]
    assert leftovers and all(n.startswith(".checkpoint-00000002.") for n in leftovers)  # the killed save's temp
    m = Arrays()
    state = Checkpoint(tmp_path, IDENTITY).load(m)
    assert state["next_chunk"] == 1 and m.t.step == 5 and float(m.t.input[0, 0]) == 5.0  # never a mixed pair
    _save(tmp_path, 9, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-00000003"]


@pytest.mark.parametrize("damage, message", [
    ("other_step", "inconsistent: its parts belong to different steps"),
    ("edited", "does not match its manifest"),
    ("missing", "incomplete: weights.npz is missing"),
    ("state_not_object", "must hold a JSON object"),
    ("state_lacks_key", "state lacks next_chunk"),
    ("state_not_json", "is not valid JSON"),
    ("weights_truncated", "weights.npz is corrupt"),
    ("weights_garbage", "weights.npz is corrupt"),
    ("weights_without_tables", "lacks w_in"),
    ("manifest_garbage", "manifest.json is not valid JSON"),
    ("manifest_foreign", "not an embedkit checkpoint manifest"),
])
def test_resume_refuses_a_damaged_checkpoint_with_one_line(tmp_path, damage, message):
    _save(tmp_path / "a", 5, 1)
    _save(tmp_path / "b", 8, 1)
    d = _latest(tmp_path / "a")
    if damage == "other_step":  # the state of another save, its checksum fixed in the manifest
        _rewrite(d / STATE_FILE, (_latest(tmp_path / "b") / STATE_FILE).read_bytes())
    elif damage == "edited":
        (d / WEIGHTS_FILE).write_bytes((d / WEIGHTS_FILE).read_bytes()[:-1] + b"x")
    elif damage == "missing":
        (d / WEIGHTS_FILE).unlink()
    elif damage == "state_not_object":
        _rewrite(d / STATE_FILE, b"[1, 2]\n")
    elif damage == "state_lacks_key":
        state = json.loads((d / STATE_FILE).read_text())
        del state["next_chunk"]
        _rewrite(d / STATE_FILE, json.dumps(state).encode())
    elif damage == "state_not_json":
        _rewrite(d / STATE_FILE, b"\xff\xfe{")
    elif damage == "weights_truncated":
        _rewrite(d / WEIGHTS_FILE, (d / WEIGHTS_FILE).read_bytes()[:100])
    elif damage == "weights_garbage":
        _rewrite(d / WEIGHTS_FILE, os.urandom(500))
    elif damage == "weights_without_tables":
        import io

        buf = io.BytesIO()
        np.savez(buf, step=np.int64(5))
        _rewrite(d / WEIGHTS_FILE, buf.getvalue())
    elif damage == "manifest_garbage":
        (d / MANIFEST_FILE).write_text("{nope")
    elif damage == "manifest_foreign":
        (d / MANIFEST_FILE).write_text(json.dumps({"parts": []}))
    with pytest.raises(EmbedkitError, match=message) as err:
        Checkpoint(tmp_path / "a", IDENTITY).load(Arrays())
    assert "\n" not in str(err.value) and "Received:" in str(err.value)


def test_a_checkpoint_of_another_run_or_shape_is_refused(tmp_path):
    _save(tmp_path, 5, 1)
    with pytest.raises(EmbedkitError, match="different corpus sha256"):
        Checkpoint(tmp_path, IDENTITY | {"corpus_sha256": "zzz"}).load(Arrays())
    assert Checkpoint(tmp_path, IDENTITY | {"config": {"seed": 1, "threads": 4}}).load(Arrays())  # threads may differ
    wrong = Arrays()
    wrong.t = CBOWTables(np.zeros((6, 2), np.float32), np.zeros((5, 2), np.float32), 0)
    with pytest.raises(EmbedkitError, match="wrong shape"):
        Checkpoint(tmp_path, IDENTITY).load(wrong)


def test_no_checkpoint_and_the_old_layout(tmp_path):
    with pytest.raises(EmbedkitError, match="No checkpoint to resume from"):
        Checkpoint(tmp_path, IDENTITY).load(Arrays())
    (tmp_path / STATE_FILE).write_text("{}")  # what embedkit wrote before checkpoints had a manifest
    with pytest.raises(EmbedkitError, match="has no manifest"):
        Checkpoint(tmp_path, IDENTITY).load(Arrays())


def test_cli_resume_from_a_damaged_checkpoint_is_one_line(tmp_path):
    from embedkit.cli import app

    corpus = tmp_path / "c.txt"
    rng = np.random.default_rng(0)
    corpus.write_text("\n".join(" ".join(f"w{j}" for j in rng.integers(0, 20, 10)) for _ in range(200)) + "\n")
    runner = CliRunner()
    args = ["train-cbow", str(corpus), "-o", str(tmp_path / "v"), "--dim", "8", "--epochs", "2", "--min-count", "1",
            "--threads", "1", "--checkpoint-dir", str(tmp_path / "ck")]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    d = _latest(tmp_path / "ck")
    _rewrite(d / STATE_FILE, b'"a string"')
    r = runner.invoke(app, args + ["--resume"])
    assert r.exit_code == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "must hold a JSON object" in errors[0] and "Traceback" not in r.output


def test_a_checkpoint_of_another_batch_layout_is_refused(tmp_path):
    """A checkpoint written before skip-gram's batches changed (no ``batching`` version, or another one) would
    resume with other chunks: refused with one line."""
    Checkpoint(tmp_path, IDENTITY).save(Arrays(3), {"epoch": 0, "next_chunk": 1, "losses": {}}, serial=1)
    with pytest.raises(EmbedkitError, match="another batch layout") as err:
        Checkpoint(tmp_path, IDENTITY | {"batching": 2}).load(Arrays())
    assert "\n" not in str(err.value) and "Received:" in str(err.value)
    Checkpoint(tmp_path, IDENTITY | {"batching": 2}).save(Arrays(4), {"epoch": 0, "next_chunk": 2, "losses": {}},
                                                          serial=2)
    assert Checkpoint(tmp_path, IDENTITY | {"batching": 2}).load(Arrays())["next_chunk"] == 2
