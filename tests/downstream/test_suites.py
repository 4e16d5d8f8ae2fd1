"""Suites: manifests, local copies, downloads from a local HTTP server (checksums, bad archives), one report
over several datasets with each one's protocol, and `eval --suite` on the command line."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import tarfile
import threading
import zipfile

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.cli import app
from embedkit.downstream.config import EvalConfig
from embedkit.downstream.datasets import load_dataset
from embedkit.downstream.runner import run_suite
from embedkit.downstream.suites import datasets_home, list_suites, load_suite, locate_datasets
from embedkit.errors import EmbedkitError

POS = ["great", "excellent", "wonderful", "superb", "brilliant", "good"]
NEG = ["awful", "terrible", "horrible", "dreadful", "boring", "bad"]
FILL = ["the", "film", "was", "a", "story", "with", "and", "of"]
QUESTIONS = {"ABBR": "stand", "DESC": "why", "ENTY": "what", "HUM": "who", "LOC": "where", "NUM": "many"}


def _lines(rng, words, n):
    return [" ".join([*rng.choice(FILL, 3), *rng.choice(words, 2)]) for _ in range(n)]


def make_local_copies(root):
    """SentEval-style folders: mr/ (latin-1 line files), cr/, trec/ (given train / test, 6 classes)."""
    rng = np.random.default_rng(0)
    (root / "mr").mkdir(parents=True)
    (root / "mr" / "rt-polarity.pos").write_bytes("\n".join(_lines(rng, POS, 30) + ["caf\xe9 \x85 good"]).encode("latin-1"))
    (root / "mr" / "rt-polarity.neg").write_bytes("\n".join(_lines(rng, NEG, 31)).encode("latin-1"))
    (root / "cr").mkdir()
    (root / "cr" / "custrev.pos").write_text("\n".join(_lines(rng, POS, 20)) + "\n")
    (root / "cr" / "custrev.neg").write_text("\n".join(_lines(rng, NEG, 12)) + "\n")
    (root / "trec").mkdir()
    for name, n in (("train.label", 10), ("test.label", 3)):
        rows = [f"{c}:x {q} {' '.join(rng.choice(FILL, 3))} ?" for c, q in QUESTIONS.items() for _ in range(n)]
        (root / "trec" / name).write_text("\n".join(rows) + "\n")
    return root


def manifest(tmp_path, datasets, name="mini"):
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps({"name": name, "datasets": datasets}))
    return p


MINI = [{"name": "MR", "path": "mr", "protocol": "cv", "folds": 3},
        {"name": "CR", "path": "cr", "protocol": "cv", "folds": 4},
        {"name": "TREC", "path": "trec", "protocol": "given"}]


@pytest.fixture(scope="module")
def vectors(glove50):
    return {"glove": glove50.subset(sorted({*POS, *NEG, *FILL, *QUESTIONS.values(), "?"}))}


# ------------------------------------------------------------------------------------------ manifests
def test_bundled_senteval_manifest():
    assert "senteval" in list_suites()
    s = load_suite("senteval")
    assert [(d.name, d.protocol) for d in s.datasets] == [
        ("MR", "cv"), ("CR", "cv"), ("SUBJ", "cv"), ("MPQA", "cv"), ("SST-2", "given"), ("TREC", "given")]
    assert all(d.folds == 10 for d in s.datasets if d.protocol == "cv")
    pinned = {d.name: [x.get("sha256") for x in d.downloads] for d in s.datasets}
    assert all(pinned["MR"]) and all(pinned["TREC"])  # the published checksums we could establish
    assert [d.name for d in s.select(["mr", "TREC"])] == ["MR", "TREC"]
    with pytest.raises(EmbedkitError, match="Received: imdb"):
        s.select(["imdb"])


@pytest.mark.parametrize("data, needle", [
    ({"datasets": []}, "non-empty 'datasets'"),
    ({"datasets": [{"path": "x"}]}, "'name'"),
    ({"datasets": [{"name": "A", "protocol": "loo"}]}, "'protocol'"),
    ({"datasets": [{"name": "A", "folds": 1}]}, "'folds'"),
    ({"datasets": [{"name": "A", "path": "../up"}]}, "without '..'"),
    ({"datasets": [{"name": "A"}, {"name": "a"}]}, "distinct"),
    ({"datasets": [{"name": "A", "downloads": [{"urls": ["http://x"], "sha256": "12"}]}]}, "sha256"),
    ({"datasets": [{"name": "A", "downloads": [{"urls": ["http://x"], "save_as": "../x"}]}]}, "plain names"),
])
def test_malformed_manifests_one_line(tmp_path, data, needle):
    p = tmp_path / "m.json"
    p.write_text(json.dumps(data))
    with pytest.raises(EmbedkitError, match=needle) as e:
        load_suite(p)
    assert "\n" not in str(e.value)
    p.write_text("{not json")
    with pytest.raises(EmbedkitError, match="Expected a JSON suite manifest"):
        load_suite(p)
    with pytest.raises(EmbedkitError, match="bundled suite"):
        load_suite("no-such-suite")


# ------------------------------------------------------------------------------------------ local copies
def test_suite_over_local_copies_with_each_protocol(tmp_path, vectors):
    data = make_local_copies(tmp_path / "data")
    m = manifest(tmp_path, MINI)
    report = run_suite(m, EvalConfig(models="logreg"), vectors=vectors, data_dir=data, output=tmp_path / "out")
    by = {d.name: d for d in report.datasets}
    assert list(by) == ["MR", "CR", "TREC"]
    assert by["MR"].protocol == "stratified 3-fold CV" and by["CR"].protocol == "stratified 4-fold CV"
    assert by["TREC"].protocol == "given train/test splits" and len(by["TREC"].dataset["classes"]) == 6
    assert by["MR"].dataset["encoding"] != "utf-8"  # latin-1 read through the fallback chain
    assert all(any("local copy" in n for n in d.notes) for d in report.datasets)
    assert {(d.name, g.mode) for d in report.datasets for g in d.gains} == {(n, "static") for n in by}
    assert report.config["suite"] == "mini"
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<h2>Suite</h2>" in page and "<h2>TREC</h2>" in page


def test_missing_datasets_named_in_one_line(tmp_path, vectors):
    data = make_local_copies(tmp_path / "data")
    m = manifest(tmp_path, [*MINI, {"name": "SUBJ", "path": "subj", "downloads": [
        {"urls": ["http://127.0.0.1:9/x.tgz"], "sha256": None, "extract": {"a.b": "a.b"}}]},
        {"name": "MPQA", "path": "mpqa"}])
    with pytest.raises(EmbedkitError) as e:
        run_suite(m, EvalConfig(models="logreg"), vectors=vectors, data_dir=data)
    msg = str(e.value)
    assert "\n" not in msg and "no SUBJ, MPQA" in msg and "--data-dir" in msg
    given = manifest(tmp_path, [{"name": "CR", "path": "cr", "protocol": "given"}], name="g")
    with pytest.raises(EmbedkitError, match="must come with its train / test files"):
        run_suite(given, EvalConfig(models="logreg"), vectors=vectors, data_dir=data)


# ------------------------------------------------------------------------------------------ downloads
@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):  # keep the test output clean
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _archives(www, local):
    """An MR-like .tar.gz (members under a folder, plus a README), a CR-like .zip, TREC-like plain files."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name in ("rt-polarity.pos", "rt-polarity.neg"):
            data = (local / "mr" / name).read_bytes()
            info = tarfile.TarInfo(f"rt-polaritydata/{name}")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        readme = b"README"
        info = tarfile.TarInfo("rt-polaritydata.README.1.0.txt")
        info.size = len(readme)
        t.addfile(info, io.BytesIO(readme))
    (www / "mr.tar.gz").write_bytes(buf.getvalue())
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        for name in ("custrev.pos", "custrev.neg"):
            z.writestr(f"data/customerr/{name}", (local / "cr" / name).read_bytes())
    (www / "cr.zip").write_bytes(zbuf.getvalue())
    for name in ("train.label", "test.label"):
        (www / name).write_bytes((local / "trec" / name).read_bytes())


def test_download_checks_checksums_and_builds_dataset_folders(tmp_path, server, vectors):
    www, base = server
    local = make_local_copies(tmp_path / "local")
    _archives(www, local)
    entries = [
        {"name": "MR", "path": "mr", "folds": 3, "downloads": [{
            "urls": [f"{base}/missing.tar.gz", f"{base}/mr.tar.gz"],  # the first mirror is gone: the next one
            "sha256": _sha((www / "mr.tar.gz").read_bytes()), "size": (www / "mr.tar.gz").stat().st_size,
            "extract": {"rt-polarity.pos": "rt-polaritydata/rt-polarity.pos",
                        "rt-polarity.neg": "rt-polaritydata/rt-polarity.neg"}}]},
        {"name": "CR", "path": "cr", "folds": 3, "downloads": [{
            "urls": [f"{base}/cr.zip"], "sha256": None,
            "extract": {"custrev.pos": "custrev.pos", "custrev.neg": "data/customerr/custrev.neg"}}]},
        {"name": "TREC", "path": "trec", "protocol": "given", "downloads": [
            {"urls": [f"{base}/train.label"], "sha256": _sha((www / "train.label").read_bytes()), "save_as": "train.label"},
            {"urls": [f"{base}/test.label"], "sha256": _sha((www / "test.label").read_bytes()), "save_as": "test.label"}]},
    ]
    suite = load_suite(manifest(tmp_path, entries))
    with pytest.raises(EmbedkitError, match="--download"):
        locate_datasets(suite.datasets)  # downloads only when asked
    found = locate_datasets(suite.datasets, download=True)
    for (entry, path, note), name in zip(found, ("mr", "cr", "trec")):
        assert path == datasets_home() / name and "downloaded into" in note
        ds, ref = load_dataset(path), load_dataset(local / name)
        assert ds.texts == ref.texts and ds.class_counts() == ref.class_counts()
    assert "sha256 verified" in found[0][2] and "no sha256 pinned" in found[1][2]
    assert not list(datasets_home().glob("**/*.part"))
    # a later run uses what was downloaded, even with the server gone
    for f in www.iterdir():
        f.unlink()
    again = locate_datasets(suite.datasets)
    assert all("downloaded earlier" in note for _, _, note in again)
    report = run_suite(manifest(tmp_path, entries, name="m2"), EvalConfig(models="logreg"), vectors=vectors)
    assert [d.name for d in report.datasets] == ["MR", "CR", "TREC"]


def test_bad_downloads_fail_in_one_line_and_are_not_kept(tmp_path, server):
    www, base = server
    local = make_local_copies(tmp_path / "local")
    _archives(www, local)
    (www / "page.html").write_text("<html><body>Please sign in</body></html>")
    cases = [
        ({"urls": [f"{base}/mr.tar.gz"], "sha256": "0" * 64, "extract": {"a": "rt-polaritydata/rt-polarity.pos"}},
         "failed its check"),
        ({"urls": [f"{base}/page.html"], "sha256": None, "extract": {"a": "x"}}, "Expected a .tar.gz or .zip"),
        ({"urls": [f"{base}/cr.zip"], "sha256": None, "extract": {"a": "data/nothere.txt"}},
         r"Expected the member 'data/nothere.txt'.*custrev"),
        ({"urls": [f"{base}/nope.txt"], "sha256": None, "save_as": "x.txt"}, "HTTP 404"),
    ]
    for i, (download, needle) in enumerate(cases):
        suite = load_suite(manifest(tmp_path, [{"name": f"D{i}", "path": f"d{i}", "downloads": [download]}], f"s{i}"))
        with pytest.raises(EmbedkitError, match=needle) as e:
            locate_datasets(suite.datasets, download=True)
        assert "\n" not in str(e.value)
        assert not (datasets_home() / f"d{i}").exists()
    leftovers = [p.name for p in (datasets_home() / ".downloads").iterdir()] if (datasets_home() / ".downloads").exists() else []
    assert leftovers == []  # nothing bad stays cached (the next run downloads again)


# ------------------------------------------------------------------------------------------ command line
def test_eval_suite_cli_table_fits_80_columns(tmp_path, glove50):
    data = make_local_copies(tmp_path / "data")
    m = manifest(tmp_path, MINI)
    vec = tmp_path / "vec"
    glove50.subset(sorted({*POS, *NEG, *FILL, *QUESTIONS.values(), "?"})).save(vec)
    r = CliRunner().invoke(app, ["eval", "--suite", str(m), "--data-dir", str(data), "-m", "logreg", "-v", str(vec)])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert max(len(x) for x in lines) <= 80
    assert "Suite: accuracy and gain" in r.stdout and any(x.lstrip().startswith("TREC") for x in lines)
    r = CliRunner().invoke(app, ["eval", "--suite", str(m), "--data-dir", str(data), "-m", "logreg", "-v", str(vec),
                                 "--datasets", "mr", "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert {x["dataset"] for x in rows if "dataset" in x} == {"MR"}
    r = CliRunner().invoke(app, ["eval", "--suite", str(m), "--data-dir", str(tmp_path / "none"), "-m", "logreg",
                                 "-v", str(vec)])
    assert r.exit_code == 1 and "`data_dir` must be a directory" in r.stderr


def test_eval_checks_the_data_before_the_vectors(tmp_path, monkeypatch):
    """A wrong suite, data folder or dataset is the one error line, even with no vector set anywhere (the data
    is checked before the sets are opened), and no 'Suite ...' / 'Dataset ...' line comes before it."""
    monkeypatch.setenv("EMBEDKIT_HOME", str(tmp_path / "empty-home"))
    m = manifest(tmp_path, MINI)
    cases = [(["--suite", "nosuch"], "`suite` must be a bundled suite"),
             (["--suite", str(m), "--data-dir", str(tmp_path / "none")], "`data_dir` must be a directory"),
             (["-d", str(tmp_path / "none")], "Expected a dataset path")]
    for args, needle in cases:
        r = CliRunner().invoke(app, ["eval", "-m", "logreg", *args])
        assert r.exit_code == 1, (args, r.output)
        assert r.stderr.splitlines() == [x for x in r.stderr.splitlines() if needle in x] and needle in r.stderr, args
    data = make_local_copies(tmp_path / "data")
    r = CliRunner().invoke(app, ["eval", "-m", "logreg", "--suite", str(m), "--data-dir", str(data)])
    assert r.exit_code == 1 and "No default vector set" in r.stderr  # the data was fine: now the vectors
    assert "Suite" not in r.stderr
