"""Sharded and on-disk indexes follow the Index protocol; query_index answers word queries from a saved index."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit.errors import EmbedkitError, UnknownWordError
from embedkit.search.base import Index
from embedkit.search.queries import most_similar
from embedkit.search.sharded import OnDiskIVF, ShardedIndex, open_index, query_index


def test_sharded_add_is_one_more_shard(tmp_path) -> None:
    x = np.random.default_rng(3).standard_normal((900, 8)).astype(np.float32)
    idx = ShardedIndex.build(x[:600], shards=2)
    assert isinstance(idx, Index) and idx.kind == "sharded-flat" and idx.params == {"shards": 2}
    idx.add(x[600:])
    assert idx.ntotal == 900 and idx.params == {"shards": 3}
    assert (idx.search(x[-5:], k=1)[1][:, 0] == np.arange(895, 900)).all()
    full = ShardedIndex.build(x, shards=3)
    np.testing.assert_array_equal(idx.search(x[:20], k=5)[1], full.search(x[:20], k=5)[1])
    idx.save(tmp_path / "sh")
    assert ShardedIndex.load(tmp_path / "sh").ntotal == 900


def test_ondisk_ivf_protocol(tmp_path) -> None:
    x = np.random.default_rng(4).standard_normal((2000, 8)).astype(np.float32)
    idx = OnDiskIVF.build(x, tmp_path / "ivf", nlist=8, nprobe=8)
    assert isinstance(idx, Index) and idx.kind == "ondisk-ivf" and idx.params == {"nlist": 8, "nprobe": 8}
    with pytest.raises(EmbedkitError, match="added by OnDiskIVF.build"):
        idx.add(x[:10])
    idx.save(tmp_path / "copy")
    again = OnDiskIVF.load(tmp_path / "copy")
    np.testing.assert_array_equal(again.search(x[:5], k=3)[1], idx.search(x[:5], k=3)[1])


def test_query_index_by_word(tmp_path, small_vectors) -> None:
    small_vectors.save(tmp_path / "set")
    ShardedIndex.build(small_vectors.vectors, shards=3).save(tmp_path / "sh", vectors=str(tmp_path / "set"))
    (res,) = query_index(tmp_path / "sh", ["w5"], k=4)
    assert res.query == "w5" and res.words == [n.word for n in most_similar(small_vectors, "w5", k=4)]
    assert [n.rank for n in res.neighbours] == [1, 2, 3, 4]
    assert isinstance(open_index(tmp_path / "sh"), ShardedIndex)
    with pytest.raises(UnknownWordError):
        query_index(tmp_path / "sh", ["nosuchword"])


def test_shard_output_never_replaces_a_users_folder(tmp_path, home):
    import numpy as np
    from typer.testing import CliRunner

    from embedkit.cli import app
    from embedkit.vectors.word_vectors import WordVectors

    WordVectors([f"w{i}" for i in range(20)], np.random.default_rng(0).standard_normal((20, 4)).astype("f4")).save(
        tmp_path / "set")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    runner = CliRunner()
    r = runner.invoke(app, ["index", "shard", "-v", str(tmp_path / "set"), "-o", str(mine)])
    assert r.exit_code == 1 and "--overwrite" in r.stderr and (mine / "notes.txt").read_text() == "keep me"
    out = tmp_path / "shards"
    for _ in range(2):  # an index embedkit wrote is replaced without --overwrite
        assert runner.invoke(app, ["index", "shard", "-v", str(tmp_path / "set"), "-o", str(out)]).exit_code == 0
    r = runner.invoke(app, ["index", "shard", "-v", str(tmp_path / "set"), "-o", str(mine), "--overwrite"])
    assert r.exit_code == 0 and not (mine / "notes.txt").exists()
