"""VectorIndex: exact / HNSW / IVF search, persistence beside a native set, checksums, recall, bad input."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from embedkit.errors import EmbedkitError
from embedkit.search.vector_index import KINDS, VectorIndex, default_kind, exact_search, index_path, unit_rows
from embedkit.vectors.word_vectors import WordVectors


def _brute(x: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    u, uq = unit_rows(x), unit_rows(q)
    return np.argsort(-(uq @ u.T), axis=1, kind="stable")[:, :k]


@pytest.fixture
def data() -> np.ndarray:
    return np.random.default_rng(1).standard_normal((600, 12)).astype(np.float32)


def test_exact_matches_brute_force_for_single_and_batched_queries(data: np.ndarray) -> None:
    idx = VectorIndex.build(data, kind="exact")
    q = np.random.default_rng(2).standard_normal((30, 12)).astype(np.float32)
    want = _brute(data, q, 5)
    scores, ids = idx.search(q, k=5)  # batched path (faiss.knn)
    assert (ids == want).all()
    one_s, one_i = idx.search(q[:2], k=5)  # few-queries path (numpy)
    assert (one_i == want[:2]).all()
    np.testing.assert_allclose(one_s, scores[:2], rtol=1e-5, atol=1e-6)
    # scores are cosines
    u = unit_rows(data)
    np.testing.assert_allclose(scores[0], u[want[0]] @ unit_rows(q[:1])[0], rtol=1e-5, atol=1e-6)


def test_exact_search_helper_agrees_between_paths(data: np.ndarray) -> None:
    u = unit_rows(data)
    q = unit_rows(data[:8])
    s_batch, i_batch = exact_search(u, q, 4)
    s_few, i_few = exact_search(u, q[:3], 4)
    assert (i_batch[:3] == i_few).all()
    assert (i_batch[:, 0] == np.arange(8)).all()  # each row's nearest is itself


def test_faiss_index_of_exact_is_indexflatip(data: np.ndarray) -> None:
    idx = VectorIndex.build(data, kind="exact")
    flat = idx.faiss_index
    assert type(flat).__name__ == "IndexFlatIP" and flat.ntotal == len(data)
    _, got = flat.search(unit_rows(data[:5]), 3)
    assert (got == idx.search(data[:5], k=3)[1]).all()


@pytest.mark.parametrize("kind,params", [("hnsw", {}), ("ivf", {}), ("ivf", {"pq": True, "pq_m": 6})])
def test_approximate_kinds_reach_good_recall(data: np.ndarray, kind: str, params: dict) -> None:
    idx = VectorIndex.build(data, kind=kind, **params)
    assert idx.ntotal == len(data) and idx.kind == kind
    rep = idx.recall_at_k(data, k=10, sample=100)
    floor = 0.5 if params.get("pq") else 0.8
    assert floor <= rep.recall <= 1.0
    assert rep.to_dict()["speedup"] == pytest.approx(rep.speedup)


def test_ivf_with_all_lists_probed_is_exact(data: np.ndarray) -> None:
    idx = VectorIndex.build(data, kind="ivf", nlist=8)
    assert idx.params["nlist"] == 8
    q = data[:10]
    _, ids = idx.search(q, k=5, nprobe=8)
    assert (ids == _brute(data, q, 5)).all()


def test_exact_recall_is_one(data: np.ndarray) -> None:
    rep = VectorIndex.build(data).recall_at_k(k=5, sample=50)  # uses the build's own vectors
    assert rep.recall == 1.0 and rep.kind == "exact" and rep.sample == 50


@pytest.mark.parametrize("kind", KINDS)
def test_restrict_vocab_and_exclude(data: np.ndarray, kind: str) -> None:
    idx = VectorIndex.build(data, kind=kind, **({"nlist": 4} if kind == "ivf" else {}))
    _, ids = idx.search(data[:20], k=5, restrict_vocab=100, nprobe=4)
    assert (ids >= 0).all() and (ids < 100).all()
    _, ids = idx.search(data[:3], k=4, exclude=[{0}, {1}, {2}], nprobe=4)
    for r in range(3):
        assert r not in ids[r].tolist() and len(set(ids[r].tolist())) == 4
    full = idx.search(data[:1], k=8, nprobe=4)[1][0].tolist()
    _, cut = idx.search(data[:1], k=4, exclude=[set(full[:3])], nprobe=4)  # drop the 3 best
    assert cut[0].tolist() == full[3:7]


def test_fewer_candidates_than_k_are_padded() -> None:
    idx = VectorIndex.build(np.eye(3, dtype=np.float32))
    scores, ids = idx.search(np.eye(3, dtype=np.float32)[:1], k=5, exclude=[{0}])
    assert ids[0, :2].tolist() != [-1, -1] and ids[0, 2:].tolist() == [-1, -1, -1]
    assert np.isneginf(scores[0, 2:]).all()


def test_add_appends_and_normalises() -> None:
    idx = VectorIndex(2)
    idx.add(np.array([[3.0, 4.0]], np.float32))
    idx.add(np.array([[0.0, -2.0]], np.float32))
    s, i = idx.search(np.array([[0.0, -1.0]]), k=2)
    assert i.tolist() == [[1, 0]]
    np.testing.assert_allclose(s, [[1.0, -0.8]], atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip(tmp_path, data: np.ndarray, kind: str) -> None:
    idx = VectorIndex.build(data, kind=kind)
    path = tmp_path / ("x.npy" if kind == "exact" else "x.faiss")
    idx.save(path)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["kind"] == kind and meta["dim"] == 12 and meta["size"] == 600
    back = VectorIndex.load(path)
    assert back.kind == kind and back.ntotal == 600 and back.params == idx.params
    q = data[:7]
    assert (back.search(q, k=6)[1] == idx.search(q, k=6)[1]).all()
    if kind == "exact":
        assert isinstance(back.unit_vectors, np.memmap)  # opened without reading the vectors


def _make_set(path, x: np.ndarray) -> WordVectors:
    wv = WordVectors([f"w{i}" for i in range(len(x))], x)
    wv.save(path)
    return wv


def test_for_vectors_persists_and_reuses(tmp_path, data: np.ndarray, monkeypatch) -> None:
    d = tmp_path / "set"
    _make_set(d, data)
    first = VectorIndex.for_vectors(d, "hnsw")
    p = index_path(d, "hnsw")
    assert p.is_file() and p.with_suffix(".json").is_file()
    meta = json.loads(p.with_suffix(".json").read_text())
    assert meta["vectors_sha256"] == json.loads((d / "meta.json").read_text())["sha256"]

    def no_build(*a, **k):
        raise AssertionError("index was rebuilt")

    monkeypatch.setattr(VectorIndex, "build", classmethod(no_build))
    again = VectorIndex.for_vectors(d, "hnsw")
    assert (again.search(data[:5], k=3)[1] == first.search(data[:5], k=3)[1]).all()
    # touching vectors.npy without changing its bytes: re-hashed, still trusted
    os.utime(d / "vectors.npy", ns=(1, 1))
    VectorIndex.for_vectors(d, "hnsw")


def test_for_vectors_rebuilds_when_vectors_change(tmp_path, data: np.ndarray) -> None:
    d = tmp_path / "set"
    _make_set(d, data)
    old = VectorIndex.for_vectors(d, "exact")
    new_x = data[::-1].copy()
    _make_set(d, new_x)  # same size and dim, different bytes
    idx = VectorIndex.for_vectors(d, "exact")
    assert (idx.search(new_x[:3], k=1)[1][:, 0] == np.arange(3)).all()
    assert not (old.search(new_x[:3], k=1)[1][:, 0] == np.arange(3)).all()
    # a different dimension
    _make_set(d, data[:, :8].copy())
    assert VectorIndex.for_vectors(d, "exact").dim == 8


def test_for_vectors_rebuilds_when_bytes_change_behind_meta(tmp_path, data: np.ndarray) -> None:
    d = tmp_path / "set"
    _make_set(d, data)
    VectorIndex.for_vectors(d, "exact")
    arr = np.load(d / "vectors.npy", mmap_mode="r+")
    arr[0] = -arr[0]  # meta.json's sha256 is now stale too
    arr.flush()
    del arr
    os.utime(d / "vectors.npy", ns=(10**18, 10**18))
    idx = VectorIndex.for_vectors(d, "exact")
    s, i = idx.search(-data[:1], k=1)
    assert i[0, 0] == 0 and s[0, 0] == pytest.approx(1.0, abs=1e-5)


def test_corrupted_index_file_is_a_clear_error(tmp_path, data: np.ndarray) -> None:
    d = tmp_path / "set"
    _make_set(d, data)
    for kind in ("exact", "hnsw"):
        VectorIndex.for_vectors(d, kind)
        p = index_path(d, kind)
        p.write_bytes(p.read_bytes()[:100])
        with pytest.raises(EmbedkitError, match="corrupted.*rebuild") as e:
            VectorIndex.for_vectors(d, kind)
        assert "\n" not in str(e.value)
        assert VectorIndex.for_vectors(d, kind, rebuild=True).ntotal == len(data)


def test_corrupted_index_metadata_triggers_rebuild(tmp_path, data: np.ndarray) -> None:
    d = tmp_path / "set"
    _make_set(d, data)
    VectorIndex.for_vectors(d, "exact")
    index_path(d, "exact").with_suffix(".json").write_text("{not json")
    assert VectorIndex.for_vectors(d, "exact").ntotal == len(data)
    with pytest.raises(EmbedkitError, match="metadata"):
        index_path(d, "exact").with_suffix(".json").write_text("[1]")
        VectorIndex.load(index_path(d, "exact"))


def test_dimension_mismatch_errors(tmp_path, data: np.ndarray) -> None:
    idx = VectorIndex.build(data)
    with pytest.raises(EmbedkitError, match="dimension 12.*Received: shape=\\(1, 5\\)"):
        idx.search(np.ones((1, 5), np.float32), k=1)
    p = tmp_path / "e.npy"
    idx.save(p)
    with pytest.raises(EmbedkitError, match="index dim=12, vectors dim=50"):
        VectorIndex.load(p, dim=50)
    np.save(p, np.ones((600, 7), np.float32))  # file no longer matches its metadata
    with pytest.raises(EmbedkitError, match="must hold 600x12.*Received: 600x7"):
        VectorIndex.load(p)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_k(bad, data: np.ndarray) -> None:
    with pytest.raises(EmbedkitError, match="`k` must be a positive integer"):
        VectorIndex.build(data).search(data[:1], k=bad)


def test_bad_construction_inputs() -> None:
    with pytest.raises(EmbedkitError, match="empty vocabulary"):
        VectorIndex.build(np.zeros((0, 4), np.float32))
    with pytest.raises(EmbedkitError, match="`kind` must be one of"):
        VectorIndex(4, kind="annoy")
    with pytest.raises(EmbedkitError, match="Received: nlist"):
        VectorIndex(4, kind="hnsw", nlist=3)
    with pytest.raises(EmbedkitError, match="`M` must be a positive integer"):
        VectorIndex(4, kind="hnsw", M=0)
    with pytest.raises(EmbedkitError, match="empty index"):
        VectorIndex(4).search(np.ones((1, 4)), k=1)


def test_for_vectors_empty_set(tmp_path) -> None:
    d = tmp_path / "empty"
    WordVectors([], np.zeros((0, 4), np.float32)).save(d)
    with pytest.raises(EmbedkitError, match="empty vocabulary"):
        VectorIndex.for_vectors(d)


def test_default_kind_by_size() -> None:
    assert default_kind(1000, 50) == "exact"
    assert default_kind(1000, 50, approx=True) == "hnsw"
    assert default_kind(3_000_000, 300) == "hnsw"
    assert default_kind(3_000_000, 300, approx=False) == "exact"
    assert default_kind(50_000_000, 100) == "ivf"


def test_progress_goes_to_stderr(data: np.ndarray, capsys) -> None:
    from embedkit.cli.output import RichProgress

    with RichProgress() as progress:
        VectorIndex.build(data, kind="hnsw", progress=progress)
    out, err = capsys.readouterr()
    assert out == "" and "Building hnsw index" in err


# -- the Index protocol and the kinds registry -----------------------------------------------------------------
def test_every_kind_and_the_facade_follow_the_index_protocol(tmp_path, data: np.ndarray) -> None:
    from embedkit.search.base import Index
    from embedkit.search.kinds import INDEX_KINDS

    assert list(KINDS) == INDEX_KINDS.names()
    for name, cls in INDEX_KINDS.items():
        impl = cls(12, **({"nlist": 4} if name == "ivf" else {}))
        impl.add(data)
        assert isinstance(impl, Index) and impl.kind == name and impl.ntotal == 600
        scores, ids = impl.search(data[:3], k=2)
        assert ids.shape == (3, 2) and (ids[:, 0] == np.arange(3)).all()
        path = tmp_path / f"{name}{cls.file_suffix}"
        impl.save(path)
        assert cls.load(path, **impl.params).ntotal == 600
    assert isinstance(VectorIndex.build(data), Index)


def test_index_progress_events(data: np.ndarray) -> None:
    seen = []
    VectorIndex.build(data, kind="ivf", nlist=4, progress=seen.append, batch_size=250)
    assert {e.task for e in seen} == {"index"} and seen[0].stage == "start" and seen[-1].stage == "end"
    assert seen[-1].completed == 600 and seen[-1].description == "Building ivf index"
    assert any("training IVF4" in (e.get("status") or "") for e in seen)


def test_recall_module_matches_the_method(data: np.ndarray) -> None:
    from embedkit.search.recall import recall_at_k

    idx = VectorIndex.build(data, kind="hnsw")
    a, b = recall_at_k(idx, data, k=5, sample=40), idx.recall_at_k(data, k=5, sample=40)
    assert (a.kind, a.k, a.sample, a.recall) == (b.kind, b.k, b.sample, b.recall)


def test_a_long_approximate_build_is_announced_before_it_starts(tmp_path, data: np.ndarray, monkeypatch,
                                                                 caplog) -> None:
    import embedkit.search.vector_index as vi

    d = tmp_path / "set"
    WordVectors([f"w{i}" for i in range(len(data))], data).save(d)
    monkeypatch.setattr(vi, "SLOW_BUILD_ROWS", 100)
    with caplog.at_level("INFO", logger="embedkit.search.vector_index"):
        VectorIndex.for_vectors(d, "exact")
        assert not caplog.records  # exact builds are quick: no note
        VectorIndex.for_vectors(d, "hnsw")
    assert any("building the hnsw index" in r.getMessage() for r in caplog.records)
