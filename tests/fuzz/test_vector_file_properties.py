"""Generated vector files (hypothesis): whatever the bytes, `convert` either writes a set that reads back or
fails with one line, and never leaves a partial output or a traceback."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from embedkit.cli import app

runner = CliRunner()

TOKENS = st.sampled_from(["the", "cat", '"', "new york", "café", "0.5", "-1e-3", "nan", "inf", "1e400", "", " ",
                          "\t", "x\x00y", "3", "2 2", "\ufeff", "\r"])
VALUES = st.floats(allow_nan=True, allow_infinity=True, width=32).map(lambda f: f"{f:g}")
LINE = st.lists(st.one_of(TOKENS, VALUES), min_size=0, max_size=6).map(" ".join)
TEXT = st.lists(LINE, min_size=0, max_size=8).map("\n".join)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, header=st.booleans(), junk=st.binary(max_size=16))
def test_convert_of_generated_text(tmp_path_factory, text, header, junk):
    d = tmp_path_factory.mktemp("case")
    src = d / "in.txt"
    body = text.encode("utf-8") + junk
    if header:
        body = f"{len(text.splitlines())} 3\n".encode() + body
    src.write_bytes(body)
    out = d / "out"
    r = runner.invoke(app, ["convert", str(src), str(out)])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code in (0, 1, 2), r.output
    if r.exit_code == 0:
        from embedkit.vectors.loading import read_vectors

        wv = read_vectors(out)
        assert len(wv) >= 1 and np.isfinite(np.asarray(wv.vectors)).all()
    else:
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
        assert not out.exists()
    assert sorted(p.name for p in d.iterdir()) in (["in.txt"], ["in.txt", "out"])
