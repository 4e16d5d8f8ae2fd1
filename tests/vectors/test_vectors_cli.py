"""CLI: convert / info / vectors, bad input as one stderr line with exit 1, and Ctrl-C during convert."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.cli import app
from embedkit.vectors.loading import read_vectors

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _one_line_error(r, code: int = 1) -> str:
    assert r.exit_code == code, r.output
    assert "Traceback" not in r.output
    err = r.stderr.strip()
    assert err.startswith("Error:") and "\n" not in err, err
    return err


def test_convert_all_formats_and_info(tmp_path, small_vectors):
    src = tmp_path / "src"
    small_vectors.save(src)
    for to, name in [("word2vec", "v.txt"), ("glove", "g.txt"), ("word2vec-bin", "v.bin"), ("native", "n")]:
        out = tmp_path / name
        r = runner.invoke(app, ["convert", str(src), str(out), "--to", to])
        assert r.exit_code == 0, r.output
        assert f"Wrote 200 vectors of dim 16 to {out} as {to}" in r.stderr
        back = read_vectors(out)
        assert back.keys == small_vectors.keys
        np.testing.assert_array_equal(np.asarray(back.vectors), small_vectors.vectors)
    r = runner.invoke(app, ["convert", str(tmp_path / "g.txt"), str(tmp_path / "h"), "--dtype", "float16"])
    assert r.exit_code == 0 and read_vectors(tmp_path / "h").vectors.dtype == np.float16
    r = runner.invoke(app, ["info", str(tmp_path / "v.bin"), "--json", "--sample", "3"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["size"] == 200 and info["dim"] == 16 and info["sample_words"] == ["w0", "w1", "w2"]
    norms = np.linalg.norm(small_vectors.vectors, axis=1)
    assert info["norm_max"] == pytest.approx(float(norms.max()), abs=1e-3)
    # A native set is summarised lazily (meta + mmap + head of vocab.txt): same figures as a full load.
    from embedkit.vectors.info import describe

    r = runner.invoke(app, ["info", str(src), "--json", "--sample", "4"])
    lazy = json.loads(r.stdout)
    full = describe(read_vectors(src), src, sample=4)
    assert lazy == full and lazy["has_counts"] is True and lazy["sample_words"] == ["w0", "w1", "w2", "w3"]
    r = runner.invoke(app, ["info", str(src)])
    assert r.exit_code == 0 and "w0" in r.stdout and "sample_words" in r.stdout


def test_vectors_list_and_set_default(tmp_path, small_vectors, home):
    small_vectors.save(home / "vectors" / "mine")
    r = runner.invoke(app, ["vectors", "set-default", "mine"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["vectors", "list", "--json"])
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    mine = next(x for x in rows if x["name"] == "mine")
    assert mine["default"] and mine["size"] == 200
    assert any(x["name"] == "glove-6b-50d" for x in rows)
    r = runner.invoke(app, ["info", "--json"])  # the default set
    assert json.loads(r.stdout)["size"] == 200


def test_wrong_value_count_cli(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("a 1 2 3\nb 1 2\nc 4 5 6\n")
    err = _one_line_error(runner.invoke(app, ["convert", str(p), str(tmp_path / "o")]))
    assert f"line 2 of {p}" in err and "Expected 3 values" in err
    r = runner.invoke(app, ["convert", str(p), str(tmp_path / "o"), "--skip-bad-lines"])
    assert r.exit_code == 0 and "skipped 1 bad lines" in r.stderr
    assert read_vectors(tmp_path / "o").keys == ["a", "c"]


def test_non_utf8_cli(tmp_path):
    p = tmp_path / "v.txt"
    p.write_bytes(b"a 1 2\nna\xefve 3 4\n")
    err = _one_line_error(runner.invoke(app, ["convert", str(p), str(tmp_path / "o")]))
    assert "line 2" in err and "--encoding" in err
    r = runner.invoke(app, ["convert", str(p), str(tmp_path / "o"), "--encoding", "latin-1"])
    assert r.exit_code == 0, r.output
    assert read_vectors(tmp_path / "o").keys == ["a", "na\u00efve"]


def test_duplicates_cli(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("a 1 2\nb 3 4\na 5 6\nb 7 8\n")
    r = runner.invoke(app, ["convert", str(p), str(tmp_path / "o")])
    assert r.exit_code == 0 and "dropped 2 duplicate words (kept the first)" in r.stderr
    assert read_vectors(tmp_path / "o")["b"].tolist() == [3, 4]


@pytest.mark.parametrize(
    "content,expect",
    [
        (b"a 1 2\nb nan 4\n", "finite numbers on line 2"),
        (b"a 1 inf\n", "finite numbers on line 1"),
        (b"", "empty file"),
        (b"5 2\na 1 2\nb 3 4\n", "declares 5 vectors of dim 2. Received: 2 vectors"),
        (b"2 3\na 1 2\nb 3 4\n", "Expected 3 values after the word on line 2"),
    ],
)
def test_bad_text_input_cli(tmp_path, content, expect):
    p = tmp_path / "v.txt"
    p.write_bytes(content)
    err = _one_line_error(runner.invoke(app, ["convert", str(p), str(tmp_path / "o")]))
    assert expect in err
    assert not (tmp_path / "o").exists()
    err = _one_line_error(runner.invoke(app, ["info", str(p)]))
    assert expect in err


def test_truncated_binary_cli(tmp_path, small_vectors):
    p = tmp_path / "v.bin"
    small_vectors.save(p, format="word2vec-bin")
    p.write_bytes(p.read_bytes()[:-100])
    err = _one_line_error(runner.invoke(app, ["convert", str(p), str(tmp_path / "o")]))
    assert "Expected 200 vectors of dim 16" in err and "ends inside vector" in err


def test_directory_instead_of_file_cli(tmp_path):
    (tmp_path / "d").mkdir()
    err = _one_line_error(runner.invoke(app, ["convert", str(tmp_path / "d"), str(tmp_path / "o")]))
    assert "directory" in err
    err = _one_line_error(runner.invoke(app, ["convert", str(tmp_path / "d"), str(tmp_path / "o"), "--from", "glove"]))
    assert "directory" in err
    err = _one_line_error(runner.invoke(app, ["info", str(tmp_path / "missing.txt")]))
    assert "does not exist" in err


def test_unknown_to_is_a_usage_error(tmp_path, small_vectors):
    small_vectors.save(tmp_path / "s")
    err = _one_line_error(runner.invoke(app, ["convert", str(tmp_path / "s"), str(tmp_path / "o"), "--to", "csv"]), 2)
    assert "`--to` must be one of native, word2vec, glove, word2vec-bin. Received: --to 'csv'" in err
    assert not (tmp_path / "o").exists()


def test_ctrl_c_during_convert_leaves_nothing(tmp_path, glove50):
    src = tmp_path / "src"
    glove50.save(src)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _attempt in range(3):  # the writer is fast: on a busy machine it can finish between the check and the signal
        (out_dir / "g.txt").unlink(missing_ok=True)
        proc = subprocess.Popen(
            [sys.executable, "-m", "embedkit", "convert", str(src), str(out_dir / "g.txt"), "--to", "glove"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:  # wait until the temp file holds some data
            tmp = [p for p in out_dir.iterdir() if p.name.endswith(".tmp")]
            if tmp and tmp[0].stat().st_size > 0:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "convert finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        if proc.returncode == 0:
            continue  # it had just finished: try again
        assert err.strip().count("\n") == 0 and "Interrupted" in err and "Traceback" not in err
        assert list(out_dir.iterdir()) == []
        break
    else:
        pytest.fail("convert finished before SIGINT three times in a row")


def test_convert_into_home_by_name(tmp_path, small_vectors, home):
    p = tmp_path / "v.txt"
    small_vectors.save(p, format="word2vec")
    r = runner.invoke(app, ["convert", str(p), "mine", "--name"])
    assert r.exit_code == 0, r.output
    assert read_vectors(home / "vectors" / "mine").keys == small_vectors.keys
    err = _one_line_error(runner.invoke(app, ["convert", str(p), "mine2", "--name", "--to", "glove"]), 2)
    assert "--to must be native" in err
    err = _one_line_error(runner.invoke(app, ["convert", str(p), "../x", "--name"]), 2)
    assert "Received: '../x'" in err


def test_info_takes_the_vectors_as_argument_or_option(tmp_path, small_vectors):
    small_vectors.save(tmp_path / "s")
    small_vectors.save(tmp_path / "t")
    by_arg = runner.invoke(app, ["info", str(tmp_path / "s"), "--json"])
    by_opt = runner.invoke(app, ["info", "-v", str(tmp_path / "s"), "--json"])
    assert by_arg.exit_code == by_opt.exit_code == 0 and json.loads(by_arg.stdout) == json.loads(by_opt.stdout)
    r = runner.invoke(app, ["info", str(tmp_path / "s"), "--vectors", str(tmp_path / "t")])
    assert r.exit_code == 2 and "give the vectors once" in r.output


def test_clicks_own_usage_errors_say_what_was_received():
    for args, said in ((["similarity", "the"], "Missing argument 'word2'"), (["convert", "--bogus"], "No such option"),
                       (["nosuchcommand"], "No such command")):
        r = runner.invoke(app, args)
        assert r.exit_code == 2
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and said in lines[0] and f"Received: embedkit {' '.join(args)}" in lines[0], lines
