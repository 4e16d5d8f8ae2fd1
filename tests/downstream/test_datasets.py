"""Dataset loaders (every layout, on real data where it exists, and on small generated files of the same
layouts everywhere) and train / validation / test splits."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit.downstream.datasets import Dataset, decode_bytes, load_dataset, make_splits
from embedkit.errors import EmbedkitError

from pathlib import Path

CLS = Path(__file__).resolve().parents[3] / "shared" / "data" / "classification"
# ../shared is beside a developer's checkout, not in a clone: these tests run where it exists; the
# generated-layout tests below cover the same code paths on every machine.
shared = pytest.mark.skipif(not CLS.is_dir(), reason="needs ../shared/data (same paths: test_generated_*)")


# ------------------------------------------------------------------------------------------ real data (shared)
@shared
def test_shared_mr_latin1_one_sentence_per_line():
    ds = load_dataset(CLS / "mr")
    assert ds.classes == ["neg", "pos"]
    # 5331 lines per file: \x85 bytes inside sentences must not split them
    assert ds.class_counts() == {"neg": 5331, "pos": 5331}
    assert ds.encoding != "utf-8"  # the files are not valid UTF-8
    raw = (CLS / "mr" / "rt-polarity.pos").read_bytes().split(b"\n")[0].decode("latin-1").strip()
    assert ds.texts[ds.labels.tolist().index(1)] == raw
    assert ds.split is None


@shared
def test_shared_movie_reviews_folder_per_class_ignores_readme():
    ds = load_dataset(CLS / "movie_reviews")
    assert ds.class_counts() == {"neg": 1000, "pos": 1000}
    assert all(len(t) > 200 for t in ds.texts[:20])  # whole documents, not lines
    first = sorted((CLS / "movie_reviews" / "neg").iterdir())[0].read_text().strip()
    assert ds.texts[0] == first


@shared
@pytest.mark.parametrize(
    "name, counts",
    [("subj", {"objective": 5000, "subjective": 5000}), ("cr", None), ("mpqa", None)],
)
def test_shared_file_per_class_sets(name, counts):
    ds = load_dataset(CLS / name)
    files = sorted(p for p in (CLS / name).iterdir())
    expected = {
        p.suffix.lstrip("."): sum(1 for line in p.read_bytes().split(b"\n") if line.strip()) for p in files
    }
    assert ds.class_counts() == expected
    if counts:
        assert ds.class_counts() == counts


# ------------------------------------------------------------------------------------------ the same layouts, generated
def test_generated_mr_like_latin1_lines_with_nel(tmp_path):
    """MR's layout: one latin-1 file per class, one sentence per line, \\x85 bytes inside sentences."""
    d = tmp_path / "mr"
    d.mkdir()
    pos = ["a charming , touching film \x85 and funny", "caf\xe9 society at its best", "simply great"]
    neg = ["dull , slow and predictable", "a na\xefve mess \x85 avoid", "boring"]
    (d / "rt-polarity.pos").write_bytes(("\n".join(pos) + "\n").encode("latin-1"))
    (d / "rt-polarity.neg").write_bytes(("\n".join(neg) + "\n\n").encode("latin-1"))
    ds = load_dataset(d)
    assert ds.classes == ["neg", "pos"]
    assert ds.class_counts() == {"neg": 3, "pos": 3}  # \x85 did not split a line, the blank line is no example
    assert ds.encoding != "utf-8"
    raw = (d / "rt-polarity.pos").read_bytes().split(b"\n")[0]
    assert ds.texts[ds.labels.tolist().index(1)] == decode_bytes(raw)[0].strip()
    assert "caf\xe9 society at its best" in ds.texts
    assert ds.split is None


def test_generated_folder_per_class_ignores_readme(tmp_path):
    """movie_reviews' layout: README plus one folder per class, one multi-line document per file."""
    root = tmp_path / "movie_reviews"
    for cls in ("neg", "pos"):
        (root / cls).mkdir(parents=True)
        for i in range(3):
            (root / cls / f"cv00{i}_{i}.txt").write_text(f"first line of {cls} review {i} .\nsecond line .\n")
    (root / "README").write_text("Polarity data v2.0 ...\n")
    ds = load_dataset(root)
    assert ds.class_counts() == {"neg": 3, "pos": 3}
    assert all("\nsecond line ." in t for t in ds.texts)  # whole documents, not lines
    first = sorted((root / "neg").iterdir())[0].read_text().strip()
    assert ds.texts[0] == first and not any("Polarity" in t for t in ds.texts)


@pytest.mark.parametrize("names, classes", [
    (("subj.objective", "subj.subjective"), ["objective", "subjective"]),
    (("custrev.neg", "custrev.pos"), ["neg", "pos"]),
    (("mpqa.neg", "mpqa.pos"), ["neg", "pos"]),
])
def test_generated_file_per_class_sets(tmp_path, names, classes):
    """SUBJ / CR / MPQA layouts: the class is the file's extension; blank lines are not examples."""
    d = tmp_path / "set"
    d.mkdir()
    for k, name in enumerate(names):
        (d / name).write_text("".join(f"example {j} of {name}\n" + ("\n" if j % 2 else "") for j in range(3 + k)))
    ds = load_dataset(d)
    expected = {p.suffix.lstrip("."): sum(1 for line in p.read_bytes().split(b"\n") if line.strip())
                for p in sorted(d.iterdir())}
    assert ds.classes == classes and ds.class_counts() == expected == dict(zip(classes, (3, 4)))


@pytest.mark.parametrize("layout", ["file", "folder-per-class", "file-per-class"])
def test_binary_input_is_refused_not_read_as_classes(tmp_path, layout):
    blob = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    if layout == "file":
        target = tmp_path / "data.bin"
        target.write_bytes(blob)
    elif layout == "folder-per-class":
        target = tmp_path / "d"
        (target / "pos").mkdir(parents=True)
        (target / "neg").mkdir()
        (target / "pos" / "a.txt").write_text("good film")
        (target / "neg" / "b.txt").write_bytes(blob)
    else:
        target = tmp_path / "d"
        target.mkdir()
        (target / "x.pos").write_text("good\n")
        (target / "x.neg").write_bytes(blob.replace(b"\x00", b"\x01"))  # control bytes without a NUL
    with pytest.raises(EmbedkitError, match=r"Expected a text file\. Received: binary data"):
        load_dataset(target)


def test_default_dataset_is_gensim_pang_lee_fasttext():
    from gensim.test.utils import datapath

    ds = load_dataset()
    assert ds.name == "pang_lee_polarity"
    assert ds.class_counts() == {"neg": 100, "pos": 100}
    first = open(datapath("pang_lee_polarity.cor"), "rb").readline().decode("latin-1").split(None, 1)[1].strip()
    assert ds.texts[0] == first


# ------------------------------------------------------------------------------------------ layouts (tmp_path)
def test_trec_coarse_and_fine_labels(tmp_path):
    f = tmp_path / "train_5500.label"
    f.write_text("DESC:manner How did serfdom develop ?\nENTY:cremat What films featured Tom ?\nDESC:def What is x ?\n")
    coarse = load_dataset(f)
    assert coarse.classes == ["DESC", "ENTY"] and coarse.labels.tolist() == [0, 1, 0]
    assert coarse.texts[0] == "How did serfdom develop ?"
    fine = load_dataset(f, fine_labels=True)
    assert fine.classes == ["DESC:def", "DESC:manner", "ENTY:cremat"]


def test_sst_given_splits_from_file_names(tmp_path):
    d = tmp_path / "sst2"
    d.mkdir()
    (d / "stsa.binary.train").write_text("1 a stirring , funny film\n0 dull and slow\n1 great\n0 bad\n1 fine\n0 poor\n")
    (d / "stsa.binary.dev").write_text("1 lovely\n0 boring\n")
    (d / "stsa.binary.test").write_text("1 moving\n0 tedious\n0 flat\n")
    ds = load_dataset(d)
    assert ds.classes == ["0", "1"]
    assert ds.to_dict()["given_splits"] == {"train": 6, "dev": 2, "test": 3}
    (sp,) = make_splits(ds, folds=10)  # folds are ignored: the given splits win
    assert [ds.texts[i] for i in sp.test] == ["moving", "tedious", "flat"]
    assert [ds.texts[i] for i in sp.val] == ["lovely", "boring"]
    assert len(sp.train) == 6


def test_acl_imdb_like_train_test_folders_skip_unsup(tmp_path):
    root = tmp_path / "aclImdb"
    for split in ("train", "test"):
        for cls in ("pos", "neg"):
            (root / split / cls).mkdir(parents=True)
            for i in range(5):
                (root / split / cls / f"{i}_7.txt").write_text(f"{cls} review {i} of {split}<br />")
    (root / "train" / "unsup").mkdir()
    (root / "train" / "unsup" / "0_0.txt").write_text("unlabelled")
    (root / "train" / "urls_pos.txt").write_text("http://x")
    ds = load_dataset(root)
    assert ds.classes == ["neg", "pos"]
    assert ds.to_dict()["given_splits"] == {"train": 10, "test": 10}
    assert "unlabelled" not in ds.texts
    (sp,) = make_splits(ds, seed=3)
    assert all(ds.split[i] == "test" for i in sp.test) and len(sp.test) == 10
    assert set(sp.train) | set(sp.val) == set(np.flatnonzero(ds.split == "train"))
    assert not set(sp.train) & set(sp.val)


def test_csv_and_tsv_named_columns(tmp_path):
    c = tmp_path / "reviews.csv"
    c.write_text('id,review,sentiment\n1,"good, really good",positive\n2,"bad ""very"" bad",negative\n\n')
    ds = load_dataset(c)
    assert ds.texts == ["good, really good", 'bad "very" bad'] and ds.classes == ["negative", "positive"]
    t = tmp_path / "data.tsv"
    t.write_text("Words\tTopic\nabout sport\tsport\nabout art\tart\n")
    ds2 = load_dataset(t, text_column="words", label_column="Topic")
    assert ds2.texts == ["about sport", "about art"] and ds2.labels.tolist() == [1, 0]
    with pytest.raises(EmbedkitError, match=r"text column .*Received: columns Words, Topic"):
        load_dataset(t)
    with pytest.raises(EmbedkitError, match="`label_column` must name a column"):
        load_dataset(t, text_column="Words", label_column="nope")


def test_fasttext_lines_and_malformed_line(tmp_path):
    f = tmp_path / "data.ft"
    f.write_text("__label__a first text\n__label__b second text\n")
    assert load_dataset(f).texts == ["first text", "second text"]
    f.write_text("__label__a first text\nno label here\n")
    with pytest.raises(EmbedkitError, match="line 2"):
        load_dataset(f)


def test_encoding_fallbacks_never_crash(tmp_path):
    assert decode_bytes("naïve café".encode("utf-8")) == ("naïve café", "utf-8")
    assert decode_bytes("\ufeffbom".encode("utf-8"))[0] == "bom"
    # a declared fallback is used before the detected ones
    text, enc = decode_bytes("привет".encode("cp1251"), "cp1251")
    assert (text, enc) == ("привет", "cp1251")
    # bytes undefined in cp1252 still decode (latin-1)
    assert decode_bytes(b"\x81\x8d\x90 ok")[1] == "latin-1"
    d = tmp_path / "two"
    d.mkdir()
    (d / "x.pos").write_bytes("très bien\n".encode("latin-1"))
    (d / "x.neg").write_bytes("mal\n".encode("utf-8"))
    ds = load_dataset(d)
    assert "très bien" in ds.texts and ds.encoding == "utf-8+cp1252"
    with pytest.raises(EmbedkitError, match="known codec"):
        decode_bytes(b"\xff", "no-such-codec")


def test_bad_inputs_one_line(tmp_path):
    with pytest.raises(EmbedkitError, match="Received: 'nope-dataset'"):
        load_dataset("nope-dataset")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmbedkitError, match="no data files"):
        load_dataset(tmp_path / "empty")
    one = tmp_path / "one.txt"
    one.write_text("a x\na y\n")
    with pytest.raises(EmbedkitError, match="at least 2 classes"):
        load_dataset(one)
    blank = tmp_path / "blank.txt"
    blank.write_text("\n\n")
    with pytest.raises(EmbedkitError, match="empty file"):
        load_dataset(blank)


def test_online_datasets_offline_message(monkeypatch):
    import keras.datasets.imdb as kimdb
    import sklearn.datasets

    def no_net(*a, **k):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(kimdb, "load_data", no_net)
    monkeypatch.setattr(sklearn.datasets, "fetch_20newsgroups", no_net)
    for name in ("imdb", "20newsgroups"):
        with pytest.raises(EmbedkitError) as e:
            load_dataset(name)
        msg = str(e.value)
        assert "\n" not in msg and "needs internet" in msg and "name resolution" in msg


# ------------------------------------------------------------------------------------------ splits
def _toy(n_pos=30, n_neg=20) -> Dataset:
    return Dataset.from_lists("toy", [f"t{i}" for i in range(n_pos + n_neg)], ["p"] * n_pos + ["n"] * n_neg)


def test_kfold_is_stratified_partition_and_seeded():
    ds = _toy()
    splits = make_splits(ds, folds=5, seed=0)
    assert [s.name for s in splits] == [f"fold{k}" for k in range(1, 6)]
    tests = np.concatenate([s.test for s in splits])
    assert sorted(tests.tolist()) == list(range(50))  # every example tested exactly once
    for s in splits:
        assert np.bincount(ds.labels[s.test]).tolist() == [4, 6]  # 20/30 split 5 ways
        parts = [set(s.train), set(s.val), set(s.test)]
        assert sum(len(p) for p in parts) == 50 and len(set().union(*parts)) == 50
    again = make_splits(ds, folds=5, seed=0)
    other = make_splits(ds, folds=5, seed=1)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(splits, again))
    assert not all(np.array_equal(a.test, b.test) for a, b in zip(splits, other))


def test_holdout_split_and_errors():
    ds = _toy()
    (sp,) = make_splits(ds, test_size=0.2, seed=0)
    assert sp.name == "holdout" and len(sp.test) == 10
    assert np.bincount(ds.labels[sp.test]).tolist() == [4, 6]
    with pytest.raises(EmbedkitError, match="smallest class"):
        make_splits(_toy(30, 3), folds=5)
    with pytest.raises(EmbedkitError, match="at least 2"):
        make_splits(ds, folds=1)
    with pytest.raises(EmbedkitError, match="test_size"):
        make_splits(ds, test_size=1.5)


def _many_classes(k: int, per_class: int) -> Dataset:
    texts = [f"word{c} text {i}" for c in range(k) for i in range(per_class)]
    return Dataset.from_lists("many", texts, [f"c{c:02d}" for c in range(k) for _ in range(per_class)])


def test_too_few_examples_per_class_for_a_stratified_holdout_is_one_line():
    """28 examples in 14 classes: a 10 % test set (3 examples) cannot hold every class (the fuzz suite's case;
    sklearn's own message was 'The test_size = 3 should be greater or equal to the number of classes = 14')."""
    ds = _many_classes(14, 2)
    with pytest.raises(EmbedkitError) as e:
        make_splits(ds, test_size=0.1)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("Too few examples per class for a stratified held-out split")
    assert "Received: 28 examples in 14 classes, test_size=0.1 (3 examples)" in msg
    with pytest.raises(EmbedkitError, match=r"Too few examples per class for stratified 10-fold CV.*\(2\)"):
        make_splits(ds, folds=10)
    # the share that can hold every class on both sides works, and so does CV within the smallest class
    (sp,) = make_splits(ds, test_size=0.5)
    assert sorted(np.bincount(ds.labels[sp.test]).tolist()) == [1] * 14
    assert len(make_splits(ds, folds=2)) == 2
    # a share too small for every class grows to one example per class when the rest keeps two per class
    (sp,) = make_splits(_many_classes(6, 6), test_size=0.1)
    assert np.bincount(_many_classes(6, 6).labels[sp.test]).tolist() == [1] * 6
    assert len(sp.val) == 6 and len(set(sp.train) | set(sp.val) | set(sp.test)) == 36
