"""Scale-out: TF_CONFIG and shards (fast), sharded / on-disk FAISS search, two real workers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.cli import app
from embedkit.train.cluster import free_local_ports, parse_tf_config
from embedkit.train.strategies import make_context
from embedkit.errors import EmbedkitError

runner = CliRunner()


def _cfg(cluster, task):
    return json.dumps({"cluster": cluster, "task": task})


# -- TF_CONFIG and sharding (no TensorFlow) ---------------------------------------------------------------------
def test_tf_config_roles_and_chief():
    two = {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}
    w0 = parse_tf_config(_cfg(two, {"type": "worker", "index": 0}))
    w1 = parse_tf_config(_cfg(two, {"type": "worker", "index": 1}))
    assert (w0.is_chief, w1.is_chief, w1.worker_index, w1.num_workers) == (True, False, 1, 2)
    with_chief = {"chief": ["h:1"], "worker": ["h:2"]}
    c = parse_tf_config(_cfg(with_chief, {"type": "chief", "index": 0}))
    w = parse_tf_config(_cfg(with_chief, {"type": "worker", "index": 0}))
    assert (c.is_chief, w.is_chief, w.worker_index, c.num_workers) == (True, False, 1, 2)


@pytest.mark.parametrize(
    "text, match",
    [
        ("not json", "must be JSON"),
        (json.dumps({"task": {"type": "worker", "index": 0}}), "\"cluster\" object"),
        (_cfg({"worker": ["nohost"]}, {"type": "worker", "index": 0}), "host:port"),
        (_cfg({"worker": ["h:1", "h:1"]}, {"type": "worker", "index": 0}), "distinct"),
        (_cfg({"worker": ["h:1"]}, {"type": "worker", "index": 3}), "task index must be in 0..0"),
        (_cfg({"worker": ["h:1"]}, {"type": "ps", "index": 0}), "task type"),
        (_cfg({"worker": ["h:1"], "ps": ["h:2"]}, {"type": "worker", "index": 0}), "must not list \"ps\""),
        (_cfg({"boss": ["h:1"]}, {"type": "boss", "index": 0}), "roles must be among"),
        (json.dumps({"cluster": {"worker": ["h:1"]}}), "\"task\""),
    ],
)
def test_tf_config_errors_are_one_line(text, match):
    with pytest.raises(EmbedkitError, match=match) as e:
        parse_tf_config(text)
    assert "\n" not in str(e.value) and "Received" in str(e.value)


def test_missing_tf_config_and_bad_strategy(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(EmbedkitError, match="needs the TF_CONFIG"):
        parse_tf_config()
    with pytest.raises(EmbedkitError, match="`strategy` must be one of"):
        make_context("horovod")
    assert make_context("default") is None
    ps = _cfg({"chief": ["h:1"], "worker": ["h:2"], "ps": ["h:3"]}, {"type": "ps", "index": 0})
    with pytest.raises(EmbedkitError, match="'ps' task: it serves"):
        make_context("parameter-server", tf_config=ps)
    with pytest.raises(EmbedkitError, match="needs chief, worker and ps"):
        make_context("parameter-server", tf_config=_cfg({"worker": ["h:1"]}, {"type": "worker", "index": 0}))


@pytest.mark.parametrize("workers", [1, 2, 3, 5])
def test_line_shards_cover_every_line_once_with_the_chiefs_vocabulary(workers):
    from embedkit.train.corpus import encode_corpus, encode_with_vocabulary, plan_shards

    rng = np.random.default_rng(workers)
    sents = [[f"w{x}" for x in rng.zipf(1.5, size=rng.integers(1, 30)) % 200] for _ in range(400)]
    whole = encode_corpus(sents, min_count=2)
    shards = plan_shards(sents, workers)
    assert all(s.files is None for s in shards)  # not files: by line
    chief = encode_corpus(sents, min_count=2, shard=shards[0])
    assert chief.vocab.words == whole.vocab.words and chief.digest == whole.digest
    assert np.array_equal(chief.vocab.counts, whole.vocab.counts)  # counted over every line, not its own
    parts = [chief] + [encode_with_vocabulary(sents, chief.vocab, digest=chief.digest, shard=s) for s in shards[1:]]
    for k, part in enumerate(parts):  # worker k holds exactly lines k, k + n, ... (lines left empty drop out)
        expect = [[whole.vocab.index[t] for t in line if t in whole.vocab.index] for line in sents[k::workers]]
        expect = [line for line in expect if line]
        got = np.split(part.ids, part.sentence_ends[:-1]) if part.ids.size else []
        assert [g.tolist() for g in got] == expect
    assert sum(p.n_tokens for p in parts) == whole.n_tokens


def test_file_shards_balance_sizes_and_workers_read_only_their_files(tmp_path):
    from embedkit.train.corpus import Tokenizer, encode_corpus, encode_with_vocabulary, plan_shards

    files = []
    for k, n_lines in enumerate([300, 40, 200, 120]):
        f = tmp_path / f"part{k}.txt"
        f.write_text("".join(f"the cat {k} sat on mat {i % 7}\n" for i in range(n_lines)))
        files.append(str(f))
    shards = plan_shards(files, 2)
    owned = [set(s.files) for s in shards]
    assert owned[0] | owned[1] == {0, 1, 2, 3} and not owned[0] & owned[1]
    sizes = [sum(os.path.getsize(files[f]) for f in o) for o in owned]
    assert max(sizes) <= 1.5 * min(sizes)  # 300 + 40 lines vs 200 + 120

    class CountingTokenizer(Tokenizer):
        calls = 0

        def __call__(self, text):
            CountingTokenizer.calls += 1
            return super().__call__(text)

    chief = encode_corpus(files, min_count=1, shard=shards[0])
    tok = CountingTokenizer()
    worker = encode_with_vocabulary(files, chief.vocab, digest=chief.digest, tokenizer=tok, shard=shards[1])
    lines = {0: 300, 1: 40, 2: 200, 3: 120}
    assert CountingTokenizer.calls == sum(lines[f] for f in shards[1].files)  # only its own files were read
    assert chief.n_tokens + worker.n_tokens == encode_corpus(files, min_count=1).n_tokens
    assert len(plan_shards(files[:1], 2)[1].describe()) and plan_shards(files[:1], 2)[0].files is None


def test_shard_of_an_encoded_corpus_equals_reading_the_lines():
    from embedkit.train.corpus import encode_corpus, encode_with_vocabulary, plan_shards
    from embedkit.train.strategies import DistributedContext

    sents = [[f"w{(i * j) % 13}" for j in range(1 + i % 9)] for i in range(200)]
    whole = encode_corpus(sents, min_count=3)
    ctx = DistributedContext("multi-worker", strategy=None, worker_index=2, num_workers=3, is_chief=False)
    mine = ctx.shard_encoded(whole)
    direct = encode_with_vocabulary(sents, whole.vocab, digest=whole.digest, shard=plan_shards(sents, 3)[2])
    assert np.array_equal(mine.ids, direct.ids) and np.array_equal(mine.sentence_ends, direct.sentence_ends)


def test_cli_rejects_unknown_strategy(tmp_path):
    res = runner.invoke(app, ["train-cbow", str(tmp_path / "c.txt"), "--strategy", "nope"])
    assert res.exit_code == 2 and "--strategy" in res.output


# -- sharded and on-disk search -------------------------------------------------------------------------------
@pytest.mark.slow
def test_sharded_top_k_equals_one_flat_index_2m():
    import faiss

    from embedkit.search.vector_index import unit_rows
    from embedkit.search.sharded import ShardedIndex

    rng = np.random.default_rng(7)
    x = rng.standard_normal((2_000_000, 64), dtype=np.float32)
    q = rng.standard_normal((40, 64), dtype=np.float32)
    sharded = ShardedIndex.build(x, shards=4)
    assert sharded.ntotal == 2_000_000 and len(sharded.shards) == 4
    s_scores, s_ids = sharded.search(q, k=10)
    flat = faiss.IndexFlatIP(64)
    flat.add(unit_rows(x))
    del x
    f_scores, f_ids = flat.search(unit_rows(q), 10)
    np.testing.assert_array_equal(s_ids, f_ids)
    np.testing.assert_allclose(s_scores, f_scores, rtol=0, atol=1e-6)
    assert {int(i) // 500_000 for i in s_ids.ravel()} == {0, 1, 2, 3}  # answers come from every shard


def test_sharded_save_reopen_memory_mapped(tmp_path):
    from embedkit.search.sharded import ShardedIndex, open_index

    x = np.random.default_rng(3).standard_normal((5000, 16)).astype(np.float32)
    idx = ShardedIndex.build(x, shards=3)
    idx.save(tmp_path / "sh", vectors="set")
    again = open_index(tmp_path / "sh")
    assert isinstance(again, ShardedIndex) and again.ntotal == 5000
    for a, b in zip(idx.search(x[:50], k=7), again.search(x[:50], k=7)):
        np.testing.assert_array_equal(a, b)
    assert (again.search(x[:5], k=1)[1][:, 0] == np.arange(5)).all()
    (tmp_path / "sh" / "shard_001.faiss").unlink()
    with pytest.raises(EmbedkitError, match="shard of the index is missing"):
        open_index(tmp_path / "sh")
    with pytest.raises(EmbedkitError, match="`shards` must be a positive integer"):
        ShardedIndex.build(x, shards=0)
    with pytest.raises(EmbedkitError, match="`k` must be a positive integer"):
        idx.search(x[:1], k=0)


def test_ondisk_ivf_reopens_and_equals_in_memory_ivf(tmp_path):
    import faiss

    from embedkit.search.vector_index import unit_rows
    from embedkit.search.sharded import OnDiskIVF

    rng = np.random.default_rng(5)
    x = rng.standard_normal((60_000, 32)).astype(np.float32)
    q = rng.standard_normal((64, 32)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    big = np.load(tmp_path / "x.npy", mmap_mode="r")  # built from a memory map, one block at a time
    trained = OnDiskIVF.train(x[rng.choice(60_000, 8000, replace=False)], nlist=64)
    OnDiskIVF.build(big, tmp_path / "ivf", trained=faiss.clone_index(trained), nprobe=6, block_rows=7000)
    (tmp_path / "ivf").rename(tmp_path / "moved")  # the lists file is found beside the index
    disk = OnDiskIVF.open(tmp_path / "moved")
    ivf = faiss.extract_index_ivf(disk.index)
    assert disk.ntotal == 60_000 and not isinstance(ivf.invlists, faiss.ArrayInvertedLists)
    mem = faiss.clone_index(trained)
    mem.add(unit_rows(x))
    mem.nprobe = 6
    m_scores, m_ids = mem.search(unit_rows(q), 10)
    d_scores, d_ids = disk.search(q, k=10)
    np.testing.assert_array_equal(d_ids, m_ids)
    np.testing.assert_allclose(d_scores, m_scores, atol=1e-6)
    full = disk.search(q, k=10, nprobe=64)[1]  # probing every list is exact search
    exact = np.argsort(-(unit_rows(q) @ unit_rows(x).T), axis=1)[:, :10]
    assert (full == exact).mean() > 0.99


def test_cli_shard_and_query(tmp_path, small_vectors):
    small_vectors.save(tmp_path / "set")
    res = runner.invoke(app, ["index", "shard", "-v", str(tmp_path / "set"), "--shards", "3", "-o",
                              str(tmp_path / "sh"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["kind"] == "sharded-flat"
    res = runner.invoke(app, ["index", "query-shards", str(tmp_path / "sh"), "w5", "-k", "4", "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.strip().splitlines()]
    from embedkit.search.queries import most_similar

    expect = [n.word for n in most_similar(small_vectors, "w5", k=4)]
    assert [r["word"] for r in rows] == expect
    res = runner.invoke(app, ["index", "shard", "-v", str(tmp_path / "set"), "--on-disk", "--nlist", "4",
                              "--nprobe", "4", "-o", str(tmp_path / "od"), "--json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["index", "query-shards", str(tmp_path / "od"), "w5", "-k", "4", "--json"])
    assert [json.loads(line)["word"] for line in res.stdout.strip().splitlines()] == expect
    res = runner.invoke(app, ["index", "query-shards", str(tmp_path / "od"), "nosuchword"])
    assert res.exit_code == 1 and "not in the vocabulary" in res.output
    res = runner.invoke(app, ["index", "shard", "-v", str(tmp_path / "set"), "--shards", "0", "-o", str(tmp_path / "x")])
    assert res.exit_code == 2


# -- two real workers -------------------------------------------------------------------------------------------
def _launch(corpus, out, ckpt, ports, extra, env):
    procs = []
    for i in range(2):
        tf_config = _cfg({"worker": [f"127.0.0.1:{p}" for p in ports]}, {"type": "worker", "index": i})
        cmd = [sys.executable, "-m", "embedkit", "train-cbow", corpus, "-o", str(out), "--strategy", "multi-worker",
               "--dim", "32", "--epochs", "6", "--seed", "3", "--threads", "1", "--checkpoint-dir", str(ckpt),
               "--checkpoint-every", "0", "--collective-timeout", "15", *extra]
        procs.append(subprocess.Popen(cmd, env=env | {"TF_CONFIG": tf_config}, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    return procs


def _finish(p, timeout=240):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"worker hung: {err[-2000:]}")
    return p.returncode, err


def _quality_close_to_single_process(wv, corpus, epochs):
    """Pairwise similarities agree with a one-process run about as well as two seeds agree with each other."""
    from embedkit.train.trainer import CBOWConfig, train_cbow
    from embedkit.train.corpus import Tokenizer, iter_sentences

    sents = list(iter_sentences([corpus], Tokenizer()))
    singles = [train_cbow(sents, CBOWConfig(vector_size=32, epochs=epochs, seed=s, threads=1)).wv for s in (3, 4)]
    assert singles[0].keys == wv.keys
    words = wv.keys[:150]

    def sims(v):
        m = np.array([v[w] for w in words], dtype=np.float64)
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        return (m @ m.T)[np.triu_indices(len(words), 1)]

    s_dist, s1, s2 = sims(wv), sims(singles[0]), sims(singles[1])
    baseline = np.corrcoef(s1, s2)[0, 1]
    assert baseline > 0.5
    assert np.corrcoef(s_dist, s1)[0, 1] >= baseline - 0.1, (np.corrcoef(s_dist, s1)[0, 1], baseline)


@pytest.mark.slow
def test_two_workers_killed_worker_fails_cleanly_and_resume_matches_single_process(tmp_path):
    from gensim.test.utils import datapath

    from embedkit.vectors.word_vectors import WordVectors

    corpus = datapath("lee_background.cor")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    out, ckpt = tmp_path / "vec", tmp_path / "ckpt"
    procs = _launch(corpus, out, ckpt, free_local_ports(2), [], env)
    deadline = time.time() + 180

    def state_files():
        return sorted(ckpt.glob("checkpoint-*/state.json"))

    while time.time() < deadline and not state_files() and procs[0].poll() is None:
        time.sleep(0.2)
    assert state_files(), _finish(procs[0])[1][-2000:]
    procs[1].kill()  # worker 1 dies mid-run
    code, err = _finish(procs[0])
    _finish(procs[1])
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert code == 1 and len(errors) == 1 and "Traceback" not in err, err[-3000:]
    assert "worker was lost" in errors[0] and "--resume" in errors[0]
    assert not out.exists()  # nothing half-written
    state = json.loads(state_files()[-1].read_text())
    assert 0 < state["epoch"] * 10 + state["next_chunk"]

    procs = _launch(corpus, out, ckpt, free_local_ports(2), ["--resume", "--json"], env)
    results = [_finish(p) for p in procs]
    assert [c for c, _ in results] == [0, 0], results[0][1][-3000:] + results[1][1][-3000:]
    assert "Worker 1 of 2 done" in results[1][1]
    dist = WordVectors.load(out)
    stats = json.loads((out / "training.json").read_text())
    assert stats["resumed_from"] and stats["vocab_size"] == len(dist)

    # Same settings in one process; two seeds give the agreement to expect between independent runs.
    _quality_close_to_single_process(dist, corpus, epochs=6)


@pytest.mark.slow
def test_parameter_server_cluster_shards_tables_and_trains(tmp_path):
    """Chief + 2 workers + 2 ps on 127.0.0.1: both tables split over the ps tasks; the vectors are as good as
    a one-process run's."""
    from gensim.test.utils import datapath

    from embedkit.vectors.word_vectors import WordVectors

    corpus = datapath("lee_background.cor")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    ports = free_local_ports(5)
    cluster = {"chief": [f"127.0.0.1:{ports[0]}"], "worker": [f"127.0.0.1:{p}" for p in ports[1:3]],
               "ps": [f"127.0.0.1:{p}" for p in ports[3:]]}
    out = tmp_path / "vec"
    cmd = [sys.executable, "-m", "embedkit", "train-cbow", corpus, "-o", str(out), "--strategy", "parameter-server",
           "--dim", "32", "--epochs", "6", "--seed", "3", "--checkpoint-dir", str(tmp_path / "ckpt"), "--json"]
    servers = [subprocess.Popen(cmd, env=env | {"TF_CONFIG": _cfg(cluster, {"type": role, "index": i})},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for role, i in (("ps", 0), ("ps", 1), ("worker", 0), ("worker", 1))]
    try:
        chief = subprocess.Popen(cmd, env=env | {"TF_CONFIG": _cfg(cluster, {"type": "chief", "index": 0})},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        code, err = _finish(chief, timeout=400)
        assert code == 0, err[-3000:]
        assert all(p.poll() is None for p in servers)  # they serve until stopped
    finally:
        for p in servers:
            p.kill()
        errs = [p.communicate()[1] for p in servers]
    assert "Serving as ps 0" in errs[0] and "Serving as worker 1" in errs[3]
    stats = json.loads((out / "training.json").read_text())
    dist = stats["distribution"]
    assert dist["strategy"] == "parameter-server" and dist["ps_tasks"] == 2 and dist["worker_tasks"] == 2
    wv = WordVectors.load(out)
    for table, rows in (("input", len(wv) + 1), ("output", len(wv))):
        shards = [s for s in dist["table_shards"] if s["table"] == table]
        assert len(shards) == 2 and sum(s["rows"] for s in shards) == rows
        assert {s["device"].split("/task:")[0] for s in shards} == {"/job:ps/replica:0"}
        assert {s["device"].split("/task:")[1][0] for s in shards} == {"0", "1"}  # one shard on each ps
    assert stats["loss_per_epoch"][-1] < stats["loss_per_epoch"][0]
    _quality_close_to_single_process(wv, corpus, epochs=6)


@pytest.mark.slow
def test_chief_that_cannot_read_the_corpus_stops_every_worker_with_its_error(tmp_path):
    corpus = tmp_path / "empty.txt"
    corpus.write_text("\n\n")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    procs = _launch(str(corpus), tmp_path / "vec", tmp_path / "ckpt", free_local_ports(2), [], env)
    results = [_finish(p, timeout=120) for p in procs]
    for code, err in results:
        errors = [line for line in err.splitlines() if line.startswith("Error:")]
        assert code == 1 and len(errors) == 1 and "Traceback" not in err, err[-2000:]
        assert "at least one token" in errors[0]
    assert "chief could not read the corpus" in results[1][1]


_PS_EXACT = """
import os, sys, numpy as np, tensorflow as tf
from gensim.test.utils import datapath
from embedkit.train.trainer import CBOWConfig, train_cbow
from embedkit.train.corpus import Tokenizer, iter_sentences
from embedkit.train.cluster import ClusterInfo, free_local_ports
from embedkit.train.parameter_server import make_parameter_server_context
p = free_local_ports(4)
cluster = {"chief": [f"127.0.0.1:{p[0]}"], "worker": [f"127.0.0.1:{p[1]}"], "ps": [f"127.0.0.1:{p[2]}", f"127.0.0.1:{p[3]}"]}
spec = tf.train.ClusterSpec(cluster)
servers = [tf.distribute.Server(spec, job_name=j, task_index=i, protocol="grpc", start=True)
           for j, i in (("worker", 0), ("ps", 0), ("ps", 1))]
ctx = make_parameter_server_context(ClusterInfo(cluster, "chief", 0))
sents = list(iter_sentences([datapath("lee_background.cor")], Tokenizer()))
cfg = CBOWConfig(vector_size=16, epochs=2, seed=7, chunk_tokens=20000, kernel="xla")
ps = train_cbow(sents, cfg, strategy=ctx)
one = train_cbow(sents, cfg)  # the same XLA update in one process
assert len(ps.stats.distribution["table_shards"]) == 4, ps.stats.distribution
print("MAXDIFF", float(np.abs(ps.wv.vectors - one.wv.vectors).max()), flush=True)

def stop(p):
    if p["fraction"] > 0.6:
        raise KeyboardInterrupt
try:
    train_cbow(sents, cfg, strategy=ctx, checkpoint_dir=sys.argv[1], checkpoint_every=0, progress=stop)
    raise SystemExit("not interrupted")
except KeyboardInterrupt:
    pass
resumed = train_cbow(sents, cfg, strategy=ctx, checkpoint_dir=sys.argv[1], resume=True)
assert resumed.stats.resumed_from
print("RESUMEDIFF", float(np.abs(resumed.wv.vectors - one.wv.vectors).max()), flush=True)
os._exit(0)
"""


@pytest.mark.slow
def test_parameter_server_with_one_worker_trains_exactly_what_one_process_trains(tmp_path):
    """Sharded tables (2 ps) read and written by one worker: the same vectors as the Keras trainer, also
    after an interrupted run resumed from the chief's checkpoint."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    p = subprocess.run([sys.executable, "-c", _PS_EXACT, str(tmp_path / "ckpt")], env=env, capture_output=True,
                       text=True, timeout=300)
    diffs = dict(x.split() for x in p.stdout.splitlines() if x.startswith(("MAXDIFF", "RESUMEDIFF")))
    assert p.returncode == 0 and len(diffs) == 2, p.stderr[-3000:]
    assert float(diffs["MAXDIFF"]) < 1e-4 and float(diffs["RESUMEDIFF"]) < 1e-4, diffs


@pytest.mark.slow
def test_mirrored_strategy_loop_matches_plain_fit():
    """The strategy.run loop (one CPU replica, XLA kept) trains exactly what Keras fit trains."""
    from embedkit.train.trainer import CBOWConfig, train_cbow
    from embedkit.train.corpus import encode_corpus

    rng = np.random.default_rng(0)
    sents = [[f"t{k}_{w}" for w in rng.integers(0, 30, size=12)] for k in rng.integers(0, 4, size=400)]
    enc = encode_corpus(sents, min_count=1)
    cfg = CBOWConfig(vector_size=16, min_count=1, epochs=2, chunk_tokens=2000, seed=5, threads=1, batch_size=64,
                     kernel="xla")  # the strategy's loop steps the XLA update: compare it with the same update
    plain = train_cbow(enc, cfg)
    ctx = make_context("mirrored")
    assert ctx.replicas == 1 and ctx.jit_compile and ctx.is_chief
    mirrored = train_cbow(enc, cfg, strategy=ctx)
    assert mirrored.stats.loss_per_epoch[1] < mirrored.stats.loss_per_epoch[0]
    np.testing.assert_allclose(mirrored.wv.vectors, plain.wv.vectors, rtol=1e-3, atol=1e-4)
