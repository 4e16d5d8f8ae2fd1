"""The table of bad (and a few good) inputs the fuzz suite runs through the real command line.

Each :class:`Case` makes its files in a fresh folder, names the command to run there, which path (if any) the
command may create or change, and whether the input is valid (exit 0 expected) or not (exit 1 or 2). The
runner checks every case the same way: the exit code, one ``Error:`` line on stderr and no traceback, no file
outside the declared output created, changed or deleted, no temp files and no processes left behind.

Families: vector files, native sets, checkpoints, command-line arguments, outputs that must be refused,
dataset folders. ``python tests/fuzz/run_cases.py`` prints the totals per family.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import json
import lzma
import os
import pickle
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

Setup = Callable[[Path], None]


@dataclass
class Case:
    """One run of ``embedkit ARGS`` in a folder prepared by ``setup``."""

    family: str
    name: str
    args: list[str]
    setup: Setup = lambda d: None
    output: str | None = None  # the one path (relative to the folder) the command may create or replace
    valid: bool = False
    stdin: bytes = b""
    env: dict[str, str] = field(default_factory=dict)


# -- helpers that write inputs ------------------------------------------------------------------------------------
GOOD_ROWS = "the 0.1 0.2 0.3\ncat 0.4 0.5 0.6\ndog 0.7 0.8 0.9\n"


def _write(name: str, data: bytes | str) -> Setup:
    def setup(d: Path) -> None:
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)

    return setup


def _all(*setups: Setup) -> Setup:
    def setup(d: Path) -> None:
        for s in setups:
            s(d)

    return setup


def _native(name: str = "set", mutate: Callable[[Path], None] | None = None) -> Setup:
    """A valid native set written by embedkit, then ``mutate`` d."""

    def setup(d: Path) -> None:
        from embedkit.vectors.word_vectors import WordVectors

        WordVectors(["the", "cat", "dog", "car"], np.arange(12, dtype=np.float32).reshape(4, 3) + 1).save(d / name)
        if mutate is not None:
            mutate(d / name)

    return setup


def _native_file(path: Path, suffix: str) -> Path:
    hits = [p for p in path.iterdir() if p.name.endswith(suffix)]
    assert len(hits) == 1, (path, suffix)
    return hits[0]


def _replace_file(suffix: str, data: bytes) -> Callable[[Path], None]:
    def mutate(p: Path) -> None:
        _native_file(p, suffix).write_bytes(data)

    return mutate


def _edit_meta(fn: Callable[[dict], object]) -> Callable[[Path], None]:
    def mutate(p: Path) -> None:
        f = _native_file(p, ".json")
        meta = json.loads(f.read_text())
        new = fn(meta)
        f.write_text(json.dumps(meta if new is None else new))

    return mutate


def _npy_bytes(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def _binary_w2v(words: list[str], vecs: np.ndarray, count: int | None = None, dim: int | None = None) -> bytes:
    head = f"{count if count is not None else len(words)} {dim if dim is not None else vecs.shape[1]}\n".encode()
    body = b"".join(w.encode() + b" " + v.astype("<f4").tobytes() + b"\n" for w, v in zip(words, vecs))
    return head + body


def _fifo(name: str) -> Setup:
    def setup(d: Path) -> None:
        os.mkfifo(d / name)

    return setup


def _device(name: str) -> Setup:
    """A character device like /dev/null, made in the case folder (root only; else a FIFO stands in)."""

    def setup(d: Path) -> None:
        try:
            os.mknod(d / name, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except PermissionError:
            os.mkfifo(d / name)

    return setup


def _user_folder(name: str) -> Setup:
    def setup(d: Path) -> None:
        (d / name / "sub").mkdir(parents=True)
        (d / name / "notes.txt").write_text("my notes")
        (d / name / "sub" / "data.csv").write_text("a,b\n1,2\n")

    return setup


# -- the families -------------------------------------------------------------------------------------------------
def vector_file_cases() -> list[Case]:
    bad_text = {
        "empty": b"",
        "blank-lines": b"\n\n   \n",
        "header-only": b"3 4\n",
        "zero-header": b"0 0\n",
        "header-3-dims-rows-of-4": b"2 3\nthe 0.1 0.2 0.3 0.4\ncat 0.5 0.6 0.7 0.8\n",
        "glove-row-one-value-too-many": (GOOD_ROWS + "fox 0.1 0.2 0.3 0.4\n").encode(),
        "glove-row-one-value-short": (GOOD_ROWS + "fox 0.1 0.2\n").encode(),
        "nan-value": (GOOD_ROWS + "fox nan 0.2 0.3\n").encode(),
        "inf-value": (GOOD_ROWS + "fox 0.1 inf 0.3\n").encode(),
        "non-number-value": (GOOD_ROWS + "fox 0.1 abc 0.3\n").encode(),
        "non-utf8-word": GOOD_ROWS.encode() + b"f\xffx 0.1 0.2 0.3\n",
        "header-claims-1e11-words": b"100000000000 3\nthe 0.1 0.2 0.3\n",
        "header-claims-1e8-dims": b"1 100000000\nthe 0.1 0.2 0.3\n",
        "header-count-too-small": b"1 3\n" + GOOD_ROWS.encode(),
        "header-count-too-large": b"5 3\n" + GOOD_ROWS.encode(),
        "header-negative": b"-2 3\n" + GOOD_ROWS.encode(),
        "header-not-numbers": b"two three\n" + GOOD_ROWS.encode(),
        "one-huge-line": b"word " + b" ".join([b"0.5"] * 300_000) + b"\n",
        "random-bytes": bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
        "nul-bytes": b"the\x00 0.1 0.2\n\x00\x00\x00",
        "only-words": b"the\ncat\ndog\n",
        "crlf-wrong-count": b"the 0.1 0.2 0.3\r\ncat 0.4 0.5\r\n",
    }
    cases = [Case("vector files", f"text {k}", ["convert", "in.txt", "out", "--to", "native"], _write("in.txt", v),
                  output="out") for k, v in bad_text.items()]
    cases += [Case("vector files", f"info {k}", ["info", "in.txt"], _write("in.txt", v)) for k, v in bad_text.items()
              if k in ("empty", "header-3-dims-rows-of-4", "nan-value", "non-utf8-word", "random-bytes",
                       "header-claims-1e11-words")]
    valid_text = {
        "good-glove": GOOD_ROWS.encode(),
        "good-word2vec": b"3 3\n" + GOOD_ROWS.encode(),
        "bom-before-header": b"\xef\xbb\xbf3 3\n" + GOOD_ROWS.encode(),
        "bom-before-glove": b"\xef\xbb\xbf" + GOOD_ROWS.encode(),
        "lone-quote-word": (GOOD_ROWS + '" 0.1 0.2 0.3\n').encode(),
        "word-with-spaces": (GOOD_ROWS + "new york 0.1 0.2 0.3\n").encode(),
        "duplicate-word": (GOOD_ROWS + "cat 9 9 9\n").encode(),
        # Tabs separate fields as spaces do (the line reader splits on whitespace, as str.split does)
        "tab-separated": GOOD_ROWS.replace(" ", "\t").encode(),
    }
    cases += [Case("vector files", f"text {k}", ["convert", "in.txt", "out", "--to", "native"], _write("in.txt", v),
                   output="out", valid=True) for k, v in valid_text.items()]
    cases.append(Case("vector files", "--from glove on a file with a header",
                      ["convert", "in.txt", "out", "--from", "glove"], _write("in.txt", b"3 3\n" + GOOD_ROWS.encode()),
                      output="out"))
    cases.append(Case("vector files", "--encoding bogus", ["convert", "in.txt", "out", "--encoding", "klingon"],
                      _write("in.txt", GOOD_ROWS), output="out"))
    cases.append(Case("vector files", "--encoding latin-1 of a latin-1 word",
                      ["convert", "in.txt", "out", "--encoding", "latin-1"],
                      _write("in.txt", GOOD_ROWS.encode() + "café 0.1 0.2 0.3\n".encode("latin-1")), output="out",
                      valid=True))
    vecs = np.arange(6, dtype=np.float32).reshape(2, 3)
    good_bin = _binary_w2v(["the", "cat"], vecs)
    bad_bin = {
        "truncated": good_bin[:-7],
        "count-too-large": _binary_w2v(["the", "cat"], vecs, count=5),
        "count-too-small": _binary_w2v(["the", "cat"], vecs, count=1),
        "dim-too-large": _binary_w2v(["the", "cat"], vecs, dim=7),
        "nan-vector": _binary_w2v(["the", "cat"], np.array([[np.nan, 0, 0], [1, 2, 3]], np.float32)),
        "huge-count": b"99999999999 3\n" + good_bin.split(b"\n", 1)[1],
        "non-utf8-word": _binary_w2v(["the", "cXat"], vecs).replace(b"cXat", b"c\xffat"),
    }
    cases += [Case("vector files", f"binary {k}", ["convert", "in.bin", "out"], _write("in.bin", v), output="out")
              for k, v in bad_bin.items()]
    cases.append(Case("vector files", "binary good", ["convert", "in.bin", "out"], _write("in.bin", good_bin),
                      output="out", valid=True))
    good = (b"3 3\n" + GOOD_ROWS.encode())
    compressed = {
        "gz-truncated": gzip.compress(good * 200)[:-40],
        "bz2-truncated": bz2.compress(good * 200)[:-40],
        "xz-truncated": lzma.compress(good * 200)[:-40],
        "gz-random": bytes(range(256)),
        "xz-random": b"\xfd7zXZ\x00" + bytes(range(200)),
        "bz2-random": b"BZh9" + bytes(range(200)),
    }
    for k, v in compressed.items():
        ext = k.split("-")[0]
        cases.append(Case("vector files", k, ["convert", f"in.txt.{ext}", "out"], _write(f"in.txt.{ext}", v),
                          output="out"))
    for ext, fn in (("gz", gzip.compress), ("bz2", bz2.compress), ("xz", lzma.compress)):
        cases.append(Case("vector files", f"{ext} good", ["convert", f"in.txt.{ext}", "out"],
                          _write(f"in.txt.{ext}", fn(good)), output="out", valid=True))
    cases += [
        Case("vector files", "input is a FIFO", ["convert", "in.txt", "out"], _fifo("in.txt"), output="out"),
        Case("vector files", "input is a plain directory", ["convert", "indir", "out"], _user_folder("indir"),
             output="out"),
        Case("vector files", "input does not exist", ["convert", "missing.txt", "out"], output="out"),
        Case("vector files", "neighbours over a bad file", ["neighbours", "the", "--vectors", "in.txt"],
             _write("in.txt", bad_text["glove-row-one-value-too-many"])),
    ]
    return cases


def native_set_cases() -> list[Case]:
    garbage = bytes(range(256)) * 4
    mutations: dict[str, Callable[[Path], None]] = {
        "meta not JSON": _replace_file(".json", b"{not json"),
        "meta not UTF-8": _replace_file(".json", b'{"dim": 3, "size": 4, "x": "\xff"}'),
        "meta is a list": _edit_meta(lambda m: [1, 2, 3]),
        "meta lacks dim": _edit_meta(lambda m: {k: v for k, v in m.items() if k != "dim"}),
        "meta dim wrong": _edit_meta(lambda m: m.update(dim=5)),
        "meta size wrong": _edit_meta(lambda m: m.update(size=9)),
        "meta dim a string": _edit_meta(lambda m: m.update(dim="three")),
        "meta size negative": _edit_meta(lambda m: m.update(size=-4)),
        "vocab not UTF-8": _replace_file(".txt", b"the\t-1\nc\xffat\t-1\ndog\t-1\ncar\t-1\n"),
        "vocab short": _replace_file(".txt", b"the\t-1\ncat\t-1\n"),
        "vocab without tabs": _replace_file(".txt", b"the\ncat\ndog\ncar\n"),
        "vocab bad counts": _replace_file(".txt", b"the\tx\ncat\t1\ndog\t1\ncar\t1\n"),
        "vectors garbage": _replace_file(".npy", garbage),
        "vectors truncated": lambda p: _native_file(p, ".npy").write_bytes(_native_file(p, ".npy").read_bytes()[:150]),
        "vectors string array": _replace_file(".npy", _npy_bytes(np.array([["a", "b", "c"]] * 4))),
        "vectors object array": _replace_file(".npy", _npy_bytes(np.array([[object()] * 3] * 4, dtype=object),
                                                                 allow_pickle=True)),
        "vectors raw pickle": _replace_file(".npy", pickle.dumps({"vectors": [1, 2, 3]})),
        "vectors wrong shape": _replace_file(".npy", _npy_bytes(np.ones((4, 5), np.float32))),
        "vectors 1-D": _replace_file(".npy", _npy_bytes(np.ones(12, np.float32))),
        "vectors complex": _replace_file(".npy", _npy_bytes(np.ones((4, 3), np.complex64))),
        "vectors missing": lambda p: _native_file(p, ".npy").unlink(),
        "vocab missing": lambda p: _native_file(p, ".txt").unlink(),
    }
    cases = []
    for name, mutate in mutations.items():
        for cmd in (["convert", "set", "out.txt", "--to", "glove"], ["info", "set"], ["neighbours", "cat", "-v", "set"]):
            cases.append(Case("native sets", f"{name} via {cmd[0]}", cmd, _native("set", mutate),
                              output="out.txt" if cmd[0] == "convert" else None))
    cases.append(Case("native sets", "good set via info", ["info", "set"], _native("set"), valid=True))
    return cases


def argument_cases() -> list[Case]:
    s = _native("set")
    bad = [
        ["neighbours", "cat", "-v", "set", "-k", "0"],
        ["neighbours", "cat", "-v", "set", "-k", "-3"],
        ["neighbours", "cat", "-v", "set", "-k", "abc"],
        ["neighbours", "cat", "-v", "set", "--restrict-vocab", "0"],
        ["neighbours", "cat", "-v", "set", "--exact", "--approx"],
        ["neighbours", "zzz", "-v", "set"],
        ["neighbours", "-v", "set"],
        ["neighbours", "cat", "-v", "nosuchset"],
        ["neighbours", "cat", "-v", "../../etc/passwd"],
        ["neighbours", "cat", "-v", "set", "--bogus"],
        ["similarity", "cat", "-v", "set"],
        ["similarity", "cat", "zzz", "-v", "set"],
        ["analogy", "the", "cat", "dog", "-v", "set", "--method", "sub"],
        ["analogy", "the", "cat", "-v", "set"],
        ["doesnt-match", "cat", "-v", "set"],
        ["index", "build", "-v", "set", "--kind", "annoy"],
        ["index", "build", "-v", "set", "--sample", "0", "--check-recall"],
        ["convert", "set", "out", "--to", "bogus"],
        ["convert", "set", "out", "--from", "bogus"],
        ["convert", "set", "out", "--dtype", "float64"],
        ["convert", "set", "out.txt", "--to", "glove", "--precision", "0"],
        ["info", "set", "--sample", "-1"],
        ["vectors", "set-default", "../x"],
        ["vectors", "download", "nosuch"],
        ["train-cbow", "--dim", "0"],
        ["train-cbow", "--window", "100000000"],
        ["train-cbow", "--epochs", "0"],
        ["train-cbow", "--negative", "-1"],
        ["train-cbow", "--alpha", "0"],
        ["train-cbow", "--min-alpha", "1", "--alpha", "0.1"],
        ["train-cbow", "--sample", "-1"],
        ["train-cbow", "--token-pattern", ""],
        ["train-cbow", "--token-pattern", "["],
        ["train-cbow", "--strategy", "magic"],
        ["train-cbow", "--kernel", "cuda"],
        ["train-cbow", "--kernel", ""],
        ["train-cbow", "--resume"],
        ["train-cbow", "nosuchcorpus.txt"],
        ["compare-gensim", "--workers", "0"],
        ["intrinsic", "set", "--method", "cos"],
        ["intrinsic", "set", "--restrict-vocab", "0"],
        ["intrinsic", "set", "--analogies", "none", "--pairs", "none"],
        ["intrinsic", "set", "--pairs", "nosuch.tsv"],
        ["plot", "set", "--method", "umap"],
        ["plot", "set", "--top", "0"],
        ["plot", "set", "--words", ","],
        ["plot", "set", "--words", "zzz,qqq"],
        ["export-projector", "set", "--top", "-1"],
        ["coverage", "-v", "set"],
        ["coverage", "-v", "set", "--texts", "nosuch.txt"],
        ["coverage", "-v", "set", "--texts", "set", "--oov", "bogus"],
        ["downstream", "--model", "cnn"],
        ["downstream", "--embedding", "bogus"],
        ["downstream", "--folds", "1"],
        ["downstream", "--dataset", "nosuch"],
        ["nosuchcommand"],
        ["--bogus"],
    ]
    return [Case("arguments", " ".join(a)[:60], a, s) for a in bad]


def output_cases() -> list[Case]:
    src = _native("set")
    text = _write("in.txt", GOOD_ROWS)
    cases = [
        Case("outputs", "convert onto a user's non-empty folder", ["convert", "in.txt", "mine"],
             _all(text, _user_folder("mine"))),
        Case("outputs", "convert --to glove onto a folder", ["convert", "set", "mine", "--to", "glove"],
             _all(src, _user_folder("mine"))),
        Case("outputs", "convert onto a FIFO", ["convert", "set", "out.txt", "--to", "glove"],
             _all(src, _fifo("out.txt"))),
        Case("outputs", "convert onto a device node", ["convert", "set", "null", "--to", "glove"],
             _all(src, _device("null"))),
        Case("outputs", "convert onto a user's file", ["convert", "set", "notes.txt", "--to", "glove"],
             _all(src, _write("notes.txt", "my notes"))),
        Case("outputs", "convert onto a user's file with --overwrite", ["convert", "set", "notes.txt", "--to", "glove",
                                                                           "--overwrite"],
             _all(src, _write("notes.txt", "my notes")), output="notes.txt", valid=True),
        Case("outputs", "convert replaces an embedkit set", ["convert", "in.txt", "set"], _all(text, src),
             output="set", valid=True),
        Case("outputs", "convert into a path under a file", ["convert", "set", "notes.txt/x", "--to", "glove"],
             _all(src, _write("notes.txt", "my notes"))),
        Case("outputs", "plot onto a folder", ["plot", "set", "--words", "cat,dog,car", "-o", "mine"],
             _all(src, _user_folder("mine"))),
        Case("outputs", "plot onto a user's file", ["plot", "set", "--words", "cat,dog,car", "-o", "pic.png"],
             _all(src, _write("pic.png", b"\x89PNG user's picture"))),
        Case("outputs", "plot onto a FIFO", ["plot", "set", "--words", "cat,dog,car", "-o", "pic.png"],
             _all(src, _fifo("pic.png"))),
        Case("outputs", "export-projector onto a user's folder", ["export-projector", "set", "-o", "mine"],
             _all(src, _user_folder("mine"))),
        Case("outputs", "train-cbow onto a user's folder", ["train-cbow", "corpus.txt", "-o", "./mine", "--epochs", "1"],
             _all(_write("corpus.txt", "a b c\n" * 50), _user_folder("mine"))),
        Case("outputs", "index shard onto a user's folder", ["index", "shard", "-v", "set", "-o", "mine"],
             _all(src, _user_folder("mine"))),
        Case("outputs", "downstream -o onto a user's file", ["downstream", "-o", "notes.txt"],
             _write("notes.txt", "my notes")),
    ]
    return cases


DS = ["downstream", "--embedding", "random", "--epochs", "1", "--seeds", "1", "--dataset"]


def dataset_cases() -> list[Case]:
    rng = np.random.default_rng(1)

    def folder(files: dict[str, bytes]) -> Setup:
        def setup(d: Path) -> None:
            for rel, data in files.items():
                p = d / "ds" / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(data)

        return setup

    def empty_folder(d: Path) -> None:
        (d / "ds").mkdir()

    random_files = {f"c{i}/f{j}.bin": bytes(rng.integers(0, 256, 300, dtype=np.uint8)) for i in range(14)
                    for j in range(2)}
    cases = [
        Case("datasets", "empty folder", [*DS, "ds"], empty_folder),
        Case("datasets", "one class only", [*DS, "ds"],
             folder({"pos/a.txt": b"good film", "pos/b.txt": b"great film"})),
        Case("datasets", "random binary files as 14 classes", [*DS, "ds"], folder(random_files)),
        Case("datasets", "random binary line file", [*DS, "ds.txt"],
             _write("ds.txt", bytes(rng.integers(0, 256, 5000, dtype=np.uint8)))),
        Case("datasets", "empty class files", [*DS, "ds"],
             folder({"pos.txt": b"", "neg.txt": b""})),
        Case("datasets", "class files of blank lines", [*DS, "ds"],
             folder({"pos.txt": b"\n\n\n", "neg.txt": b"\n \n"})),
        Case("datasets", "a FIFO as dataset", [*DS, "ds.txt"], _fifo("ds.txt")),
        Case("datasets", "a CSV without a label column", [*DS, "ds.csv"],
             _write("ds.csv", "text,other\nhello,1\nworld,2\n")),
        Case("datasets", "nested folders without texts", [*DS, "ds"],
             folder({"a/b/c/.keep": b""})),
    ]
    return cases


# -- checkpoints: one real checkpoint, trained once, copied and damaged per case ------------------------------------
CKPT_TRAIN = ["train-cbow", "c.txt", "-o", "./v", "--dim", "8", "--epochs", "2", "--min-count", "1", "--threads", "1",
              "--checkpoint-dir", "ck"]


@functools.lru_cache(maxsize=1)
def _checkpoint_template() -> Path:
    """A folder holding ``c.txt`` and ``ck/`` (embedkit's checkpoint of a finished 2-epoch run on it)."""
    import subprocess
    import sys
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="embedkit-fuzz-ckpt-"))
    rng = np.random.default_rng(0)
    (root / "c.txt").write_text("\n".join(" ".join(f"w{j}" for j in rng.integers(0, 20, 10)) for _ in range(200)) + "\n")
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo), "EMBEDKIT_HOME": str(root / "home")}
    r = subprocess.run([sys.executable, "-m", "embedkit", *CKPT_TRAIN], cwd=root, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    shutil.rmtree(root / "v", ignore_errors=True)
    shutil.rmtree(root / "home", ignore_errors=True)
    return root


def _checkpoint(damage: Callable[[Path], None]) -> Setup:
    """The template copied into the case folder, then ``damage`` applied to its latest checkpoint directory."""

    def setup(d: Path) -> None:
        src = _checkpoint_template()
        shutil.copy(src / "c.txt", d / "c.txt")
        shutil.copytree(src / "ck", d / "ck")
        latest = sorted((d / "ck").glob("checkpoint-*"))[-1]
        damage(latest)

    return setup


def _rewrite_part(name: str, data: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    """Replace checkpoint part ``name`` and fix its sha256 in the manifest (a damage the checksum cannot see)."""
    import hashlib

    def damage(ck: Path) -> None:
        new = data((ck / name).read_bytes())
        (ck / name).write_bytes(new)
        manifest = json.loads((ck / "manifest.json").read_text())
        manifest["parts"][name].update(sha256=hashlib.sha256(new).hexdigest(), bytes=len(new))
        (ck / "manifest.json").write_text(json.dumps(manifest))

    return damage


def checkpoint_cases() -> list[Case]:
    resume = [*CKPT_TRAIN, "--resume"]

    def unlink(name: str) -> Callable[[Path], None]:
        return lambda ck: (ck / name).unlink()

    def write(name: str, data: bytes) -> Callable[[Path], None]:
        return lambda ck: (ck / name).write_bytes(data)

    def drop_key(raw: bytes) -> bytes:
        state = json.loads(raw)
        state.pop(next(iter(state)))
        return json.dumps(state).encode()

    damages = {
        "weights missing": unlink("weights.npz"),
        "manifest missing": unlink("manifest.json"),
        "weights edited (checksum differs)": lambda ck: (ck / "weights.npz").write_bytes(
            (ck / "weights.npz").read_bytes()[:-1] + b"x"),
        "weights truncated, checksum fixed": _rewrite_part("weights.npz", lambda b: b[:100]),
        "weights random bytes, checksum fixed": _rewrite_part("weights.npz", lambda b: os.urandom(500)),
        "state is a list, checksum fixed": _rewrite_part("state.json", lambda b: b"[1, 2]\n"),
        "state lacks a key, checksum fixed": _rewrite_part("state.json", drop_key),
        "state not UTF-8, checksum fixed": _rewrite_part("state.json", lambda b: b"\xff\xfe{"),
        "manifest not JSON": write("manifest.json", b"{nope"),
        "manifest of something else": write("manifest.json", b'{"parts": []}'),
    }
    cases = [Case("checkpoints", f"resume: {k}", resume, _checkpoint(v), output="v") for k, v in damages.items()]
    cases.append(Case("checkpoints", "resume: whole checkpoint", resume, _checkpoint(lambda ck: None), output="v",
                      valid=True))
    cases.append(Case("checkpoints", "resume with no checkpoint", resume, _write("c.txt", "a b c\n" * 50),
                      output="v"))
    return cases


def all_cases() -> list[Case]:
    cases = (vector_file_cases() + native_set_cases() + checkpoint_cases() + argument_cases() + output_cases()
             + dataset_cases())
    names = [f"{c.family}: {c.name}" for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, dup
    return cases
