"""Labelled text-classification datasets: load them from the usual on-disk layouts and split them.

Layouts understood by :func:`load_dataset` (detected from what is on disk):

- **folder per class**, one document per file: ``DIR/pos/*.txt``, ``DIR/neg/*.txt`` (aclImdb, 20 Newsgroups,
  NLTK's ``movie_reviews``);
- **one file per class**, one example per line: ``rt-polarity.pos`` / ``rt-polarity.neg`` (MR), ``subj.*``,
  ``custrev.*``, ``mpqa.*`` — the class is the file's extension;
- **labelled lines** in one file: ``label text`` (SST ``stsa.binary.*``), ``LABEL:sub text`` (TREC; the coarse
  label by default), fastText ``__label__x text``;
- **CSV / TSV** with named columns (``text`` / ``sentence`` / ``review`` ... and ``label`` / ``class`` ...).

A directory whose files or sub-folders are named ``train``, ``dev`` / ``valid`` and ``test`` (``stsa.binary.train``,
aclImdb's ``train/`` and ``test/``) keeps those splits; otherwise :func:`make_splits` does a seeded stratified
k-fold CV or a held-out split. Every file is decoded as UTF-8 first, then with the declared ``encoding``, then
cp1252 and latin-1 (which cannot fail; :func:`embedkit.text.decoding.decode_bytes`): loading never crashes on
bytes, and :attr:`Dataset.encoding` says what was used. Binary files (NUL or control bytes) are refused.

Named datasets: ``pang_lee_polarity`` (200 MR sentences bundled with gensim; the offline default), ``imdb``
(``keras.datasets.imdb``) and ``20newsgroups`` (scikit-learn) — the last two need internet on first use.

>>> ds = load_dataset("pang_lee_polarity")
>>> len(ds), ds.classes
(200, ['neg', 'pos'])
>>> [s.name for s in make_splits(ds, folds=5, seed=0)][:2]
['fold1', 'fold2']
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError, check_positive_int
from embedkit.text.decoding import decode_bytes, read_text, split_lines  # decode_bytes: re-exported

__all__ = [
    "Dataset",
    "Split",
    "NAMED_DATASETS",
    "DEFAULT_DATASET",
    "load_dataset",
    "make_splits",
    "decode_bytes",
]

DEFAULT_DATASET = "pang_lee_polarity"
NAMED_DATASETS = {
    "pang_lee_polarity": "200 movie-review sentences (MR subset) bundled with gensim, fastText format",
    "imdb": "keras.datasets.imdb: 25k/25k movie reviews (download on first use)",
    "20newsgroups": "scikit-learn's 20 Newsgroups, headers/footers/quotes removed (download on first use)",
}

SPLIT_NAMES = ("train", "dev", "test")
_SPLIT_ALIASES = {"train": "train", "training": "train", "dev": "dev", "valid": "dev", "validation": "dev",
                  "val": "dev", "test": "test", "testing": "test"}
_IGNORED_FILES = re.compile(r"^(readme|license|licence|copying|changelog|notes?)(\..*)?$", re.I)
_IGNORED_DIRS = {"unsup"}  # aclImdb's unlabelled reviews
_TEXT_COLUMNS = ("text", "sentence", "review", "document", "content", "comment", "body", "tweet", "question")
_LABEL_COLUMNS = ("label", "labels", "class", "category", "sentiment", "target", "polarity", "y")
_FASTTEXT_RE = re.compile(r"^__label__(\S+)\s+(.*)$")


@dataclass
class Dataset:
    """Texts with integer labels, class names and, when the data came split, the given split of each example.

    Attributes:
        name: a short name (directory or file stem, or the named dataset).
        texts: the examples.
        labels: int array, ``classes[labels[i]]`` is the class of ``texts[i]``.
        classes: sorted class names.
        split: per-example ``"train"`` / ``"dev"`` / ``"test"`` when the data came with splits, else None.
        encoding: the encoding(s) used to decode the files (``"utf-8"``, ``"utf-8+cp1252"`` ...).
        source: where it was loaded from.

    Example:
        >>> ds = Dataset.from_lists("toy", ["good", "bad", "fine"], ["pos", "neg", "pos"])
        >>> ds.classes, ds.labels.tolist()
        (['neg', 'pos'], [1, 0, 1])
    """

    name: str
    texts: list[str]
    labels: np.ndarray
    classes: list[str]
    split: np.ndarray | None = None
    encoding: str = "utf-8"
    source: str = ""

    @classmethod
    def from_lists(
        cls,
        name: str,
        texts: Sequence[str],
        labels: Sequence[str],
        split: Sequence[str] | None = None,
        *,
        encoding: str = "utf-8",
        source: str = "",
    ) -> Dataset:
        """Build a dataset from parallel lists of texts and string labels (and optional split names)."""
        if len(texts) != len(labels):
            raise EmbedkitError(
                f"`texts` and `labels` must have the same length. Received: {len(texts)} texts, {len(labels)} labels"
            )
        if not texts:
            raise EmbedkitError(f"A dataset needs at least one labelled example. Received: 0 examples in {source or name!r}")
        classes = sorted({str(x) for x in labels})
        index = {c: i for i, c in enumerate(classes)}
        y = np.fromiter((index[str(x)] for x in labels), dtype=np.int64, count=len(labels))
        sp = None if split is None else np.asarray(list(split), dtype=object)
        return cls(name, list(texts), y, classes, sp, encoding, source)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Sequence[int] | np.ndarray) -> Dataset:
        """The examples at ``indices`` (classes, given splits and provenance kept).

        >>> Dataset.from_lists("t", ["a", "b", "c"], ["x", "y", "x"]).subset([0, 2]).texts
        ['a', 'c']
        """
        idx = np.asarray(indices, dtype=np.int64)
        return Dataset(self.name, [self.texts[i] for i in idx], self.labels[idx], list(self.classes),
                       None if self.split is None else self.split[idx], self.encoding, self.source)

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    def class_counts(self) -> dict[str, int]:
        """Examples per class."""
        counts = np.bincount(self.labels, minlength=self.num_classes)
        return {c: int(n) for c, n in zip(self.classes, counts)}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (not the texts)."""
        d: dict[str, Any] = {
            "name": self.name,
            "source": self.source,
            "size": len(self),
            "classes": self.class_counts(),
            "encoding": self.encoding,
            "given_splits": None,
        }
        if self.split is not None:
            d["given_splits"] = {s: int(np.sum(self.split == s)) for s in SPLIT_NAMES if np.any(self.split == s)}
        return d


@dataclass
class Split:
    """Indices of one train / validation / test partition (validation is carved from train for early stopping)."""

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Sizes of the parts."""
        return {"name": self.name, "train": len(self.train), "val": len(self.val), "test": len(self.test)}


# ---------------------------------------------------------------------------------------------------- decoding
def _read_text(path: Path, encoding: str | None, used: set[str]) -> str:
    # read_text refuses a binary file: it is not a dataset (it would "parse" as labelled lines)
    text, enc = read_text(path, encoding, what="dataset file")
    used.add(enc)
    return text


_lines = split_lines


def _split_of(name: str) -> str | None:
    """'stsa.binary.train' → 'train', 'valid.csv' → 'dev', 'train_5500.label' → 'train'; else None."""
    for tok in re.split(r"[^A-Za-z]+", name.lower()):
        if tok in _SPLIT_ALIASES:
            return _SPLIT_ALIASES[tok]
    return None


# ---------------------------------------------------------------------------------------------------- file parsers
def _parse_labelled_lines(text: str, path: Path, fine_labels: bool) -> tuple[list[str], list[str]]:
    """fastText ``__label__x text``, TREC ``LABEL:sub text`` or ``label text`` lines."""
    texts: list[str] = []
    labels: list[str] = []
    lines = _lines(text)
    if not lines:
        raise EmbedkitError(f"Expected labelled lines ('label text'). Received: an empty file {str(path)!r}")
    fasttext = lines[0].startswith("__label__")
    for n, line in enumerate(lines, 1):
        if fasttext:
            m = _FASTTEXT_RE.match(line)
            if m is None:
                raise EmbedkitError(
                    f"Expected fastText lines '__label__x text'. Received: line {n} of {str(path)!r}: {line[:60]!r}"
                )
            label, body = m.group(1), m.group(2)
        else:
            parts = line.split(None, 1)
            if len(parts) != 2:
                raise EmbedkitError(
                    f"Expected 'label text' lines. Received: line {n} of {str(path)!r}: {line[:60]!r}"
                )
            label, body = parts
            if ":" in label and not fine_labels:
                label = label.split(":", 1)[0]  # TREC coarse class
        labels.append(label)
        texts.append(body)
    return texts, labels


def _parse_table(
    text: str, path: Path, text_column: str | None, label_column: str | None
) -> tuple[list[str], list[str]]:
    """CSV / TSV with a header row; the delimiter comes from the suffix or is sniffed."""
    suffix = path.suffix.lower()
    if suffix == ".tsv":
        delim = "\t"
    elif suffix == ".csv":
        delim = ","
    else:
        first = text.split("\n", 1)[0]
        delim = "\t" if "\t" in first else ","
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise EmbedkitError(f"Expected a CSV/TSV file with a header row. Received: empty file {str(path)!r}") from None
    lower = [h.lower() for h in header]

    def pick(given: str | None, names: tuple[str, ...], what: str) -> int:
        if given is not None:
            if given in header:
                return header.index(given)
            if given.lower() in lower:
                return lower.index(given.lower())
            raise EmbedkitError(
                f"`{what}_column` must name a column of {path.name} ({', '.join(header)}). Received: {given!r}"
            )
        for cand in names:
            if cand in lower:
                return lower.index(cand)
        raise EmbedkitError(
            f"Expected a {what} column named one of {', '.join(names)} (or pass {what}_column). "
            f"Received: columns {', '.join(header)} in {path.name}"
        )

    ti = pick(text_column, _TEXT_COLUMNS, "text")
    li = pick(label_column, _LABEL_COLUMNS, "label")
    texts: list[str] = []
    labels: list[str] = []
    for n, row in enumerate(reader, 2):
        if not row or all(not c.strip() for c in row):
            continue
        if max(ti, li) >= len(row):
            raise EmbedkitError(
                f"Expected {len(header)} columns per row. Received: {len(row)} on row {n} of {str(path)!r}"
            )
        texts.append(row[ti])
        labels.append(row[li].strip())
    return texts, labels


def _is_table(path: Path, text_column: str | None) -> bool:
    return path.suffix.lower() in (".csv", ".tsv") or text_column is not None


def _read_labelled_file(
    path: Path, encoding: str | None, used: set[str], fine_labels: bool, text_column: str | None,
    label_column: str | None,
) -> tuple[list[str], list[str]]:
    text = _read_text(path, encoding, used)
    if _is_table(path, text_column):
        return _parse_table(text, path, text_column, label_column)
    return _parse_labelled_lines(text, path, fine_labels)


def _visible(p: Path) -> bool:
    return not p.name.startswith(".") and not _IGNORED_FILES.match(p.name)


def _class_dirs(root: Path) -> list[Path]:
    return sorted(d for d in root.iterdir() if d.is_dir() and _visible(d) and d.name not in _IGNORED_DIRS)


def _read_folder_per_class(root: Path, encoding: str | None, used: set[str]) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for d in _class_dirs(root):
        files = sorted(f for f in d.iterdir() if f.is_file() and _visible(f))
        for f in files:
            body = _read_text(f, encoding, used).replace("\r\n", "\n").strip()
            if body:
                texts.append(body)
                labels.append(d.name)
    return texts, labels


def _class_names(files: list[Path]) -> list[str]:
    exts = [f.suffix.lstrip(".") for f in files]
    if all(exts) and len(set(exts)) == len(exts):
        return exts
    stems = [f.name for f in files]
    return stems


def _read_file_per_class(files: list[Path], encoding: str | None, used: set[str]) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for f, cls in zip(files, _class_names(files)):
        lines = _lines(_read_text(f, encoding, used))
        texts += lines
        labels += [cls] * len(lines)
    return texts, labels


# ---------------------------------------------------------------------------------------------------- loading
def load_dataset(
    spec: str | os.PathLike[str] | None = None,
    *,
    encoding: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    fine_labels: bool = False,
) -> Dataset:
    """Load a labelled text dataset from a path (any layout in the module docstring) or a named dataset.

    Args:
        spec: a file, a directory, or one of :data:`NAMED_DATASETS`; None loads ``pang_lee_polarity``.
        encoding: fallback encoding tried after UTF-8 (cp1252 and latin-1 follow it).
        text_column / label_column: column names for CSV/TSV (default: detected from common names).
        fine_labels: keep TREC's fine ``LABEL:sub`` labels instead of the coarse ``LABEL``.

    Example:
        >>> load_dataset("pang_lee_polarity").class_counts()
        {'neg': 100, 'pos': 100}
    """
    if spec is None:
        spec = DEFAULT_DATASET
    text = os.fspath(spec)
    p = Path(text).expanduser()
    if not p.exists():
        if text in NAMED_DATASETS:
            return _load_named(text)
        raise EmbedkitError(
            f"Expected a dataset path or one of {', '.join(NAMED_DATASETS)}. Received: {text!r} (no such path)"
        )
    used: set[str] = set()
    name = p.name if p.is_dir() else p.stem
    if p.is_file():
        texts, labels = _read_labelled_file(p, encoding, used, fine_labels, text_column, label_column)
        return _finish(name, texts, labels, None, used, p)

    subdirs = _class_dirs(p)
    files = sorted(f for f in p.iterdir() if f.is_file() and _visible(f))
    dir_splits = {d: _split_of(d.name) for d in subdirs}
    if subdirs and any(s is not None for s in dir_splits.values()):
        # aclImdb-style: train/ and test/ (and maybe dev/), each folder-per-class.
        texts, labels, splits = [], [], []
        for d, s in dir_splits.items():
            if s is None:
                continue
            t, lab = _read_folder_per_class(d, encoding, used)
            texts += t
            labels += lab
            splits += [s] * len(t)
        return _finish(name, texts, labels, splits, used, p)
    if subdirs:
        texts, labels = _read_folder_per_class(p, encoding, used)
        return _finish(name, texts, labels, None, used, p)
    file_splits = {f: _split_of(f.name) for f in files}
    if files and any(s is not None for s in file_splits.values()):
        texts, labels, splits = [], [], []
        for f, s in file_splits.items():
            if s is None:
                continue
            t, lab = _read_labelled_file(f, encoding, used, fine_labels, text_column, label_column)
            texts += t
            labels += lab
            splits += [s] * len(t)
        return _finish(name, texts, labels, splits, used, p)
    if len(files) == 1:
        texts, labels = _read_labelled_file(files[0], encoding, used, fine_labels, text_column, label_column)
        return _finish(name, texts, labels, None, used, p)
    if len(files) >= 2:
        texts, labels = _read_file_per_class(files, encoding, used)
        return _finish(name, texts, labels, None, used, p)
    raise EmbedkitError(
        "Expected a dataset directory with one sub-folder or one file per class, or labelled files. "
        f"Received: {str(p)!r} with no data files"
    )


def _finish(
    name: str, texts: list[str], labels: list[str], splits: list[str] | None, used: set[str], path: Path
) -> Dataset:
    if not texts:
        raise EmbedkitError(f"A dataset needs at least one labelled example. Received: 0 examples in {str(path)!r}")
    enc = "+".join(e for e in ("utf-16", "utf-8", "cp1252", "latin-1") if e in used) or "+".join(sorted(used))
    ds = Dataset.from_lists(name, texts, labels, splits, encoding=enc or "utf-8", source=str(path))
    if ds.num_classes < 2:
        raise EmbedkitError(
            f"A classification dataset needs at least 2 classes. Received: only {ds.classes[0]!r} in {str(path)!r}"
        )
    return ds


def _load_named(name: str) -> Dataset:
    if name == "pang_lee_polarity":
        from gensim.test.utils import datapath

        import dataclasses

        return dataclasses.replace(load_dataset(datapath("pang_lee_polarity.cor")), name="pang_lee_polarity")
    if name == "imdb":
        return _load_keras_imdb()
    if name == "20newsgroups":
        return _load_20newsgroups()
    raise AssertionError(name)  # pragma: no cover


def _offline(what: str, err: BaseException, local_hint: str) -> EmbedkitError:
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return EmbedkitError(
        f"Could not download {what} (it needs internet on first use; {local_hint}). Received: {reason}"
    )


def _load_keras_imdb() -> Dataset:
    """keras.datasets.imdb decoded back to words (its word index: ids are shifted by 3).

    Keras prints "Downloading data from ..." and a progress bar on **stdout**; they are kept off it (a
    ``--json`` consumer reads stdout) and logged as one line instead, and TensorFlow is imported quietly.
    """
    import contextlib
    import io as _io
    import logging

    from embedkit.runtime import import_tensorflow, quiet_tensorflow

    quiet_tensorflow()
    import_tensorflow()
    captured = _io.StringIO()
    try:
        with contextlib.redirect_stdout(captured):
            from keras.datasets import imdb

            (xtr, ytr), (xte, yte) = imdb.load_data()
            word_index = imdb.get_word_index()
    except Exception as e:  # network errors come as several types (URLError, Exception from get_file)
        raise _offline("keras.datasets.imdb", e, "offline, pass --dataset path/to/aclImdb") from None
    if "Downloading" in captured.getvalue():
        logging.getLogger("embedkit.downstream.datasets").info("Downloaded keras.datasets.imdb into the Keras cache")
    inv = {i + 3: w for w, i in word_index.items()}
    texts = [" ".join(inv.get(int(t), "") for t in seq[1:] if int(t) in inv) for seq in list(xtr) + list(xte)]
    labels = ["pos" if int(v) else "neg" for v in list(ytr) + list(yte)]
    splits = ["train"] * len(xtr) + ["test"] * len(xte)
    return Dataset.from_lists("imdb", texts, labels, splits, source="keras.datasets.imdb")


def _load_20newsgroups() -> Dataset:
    try:
        from sklearn.datasets import fetch_20newsgroups

        parts = {
            s: fetch_20newsgroups(subset=s, remove=("headers", "footers", "quotes"), download_if_missing=True)
            for s in ("train", "test")
        }
    except Exception as e:
        raise _offline(
            "20 Newsgroups", e, "offline, pass --dataset path/to/20news-bydate (folder per class)"
        ) from None
    texts, labels, splits = [], [], []
    for s, b in parts.items():
        texts += list(b.data)
        labels += [b.target_names[i] for i in b.target]
        splits += [s] * len(b.data)
    return Dataset.from_lists("20newsgroups", texts, labels, splits, source="sklearn.datasets.fetch_20newsgroups")


# ---------------------------------------------------------------------------------------------------- splitting
def make_splits(
    dataset: Dataset,
    *,
    folds: int | None = None,
    test_size: float = 0.1,
    val_size: float = 0.1,
    seed: int = 0,
) -> list[Split]:
    """Train / validation / test index sets for ``dataset``.

    Given splits are used as given (``test``, else ``dev`` as the test set); validation comes from ``dev`` when
    there is both a dev and a test split, otherwise a seeded stratified ``val_size`` of train. Without given
    splits: stratified ``folds``-fold CV when ``folds`` is set, else one stratified held-out split of ``test_size``.

    Example:
        >>> ds = load_dataset("pang_lee_polarity")
        >>> s = make_splits(ds, seed=1)[0]
        >>> len(s.train) + len(s.val) + len(s.test)
        200
    """
    from sklearn.model_selection import StratifiedKFold, train_test_split

    if folds is not None:
        check_positive_int("folds", folds)
        if folds < 2:
            raise EmbedkitError(f"`folds` must be at least 2 (or unset for a held-out split). Received: folds={folds}")
    if not 0 < test_size < 1:
        raise EmbedkitError(f"`test_size` must be between 0 and 1. Received: test_size={test_size!r}")
    if not 0 < val_size < 1:
        raise EmbedkitError(f"`val_size` must be between 0 and 1. Received: val_size={val_size!r}")
    y = dataset.labels
    n = len(y)

    def stratify_ok(idx: np.ndarray, parts: int) -> np.ndarray | None:
        counts = np.bincount(y[idx])
        return y[idx] if counts[counts > 0].min() >= parts else None

    def hold_out(idx: np.ndarray, share: float, s: int, *, test: bool) -> tuple[np.ndarray, np.ndarray]:
        """A seeded split of ``idx`` with ``share`` held out, stratified when every class has two examples.

        When ``share`` of ``idx`` is fewer examples than there are classes, the held-out part grows to one
        example per class if the rest keeps two per class on average. Otherwise a test split is an error
        (too few examples per class) and a validation split (it only steers early stopping) is a plain
        seeded split.
        """
        strat = stratify_ok(idx, 2)
        k = len(np.unique(y[idx]))
        n = len(idx)
        n_out = max(1, round(share * n))
        if strat is not None and not k <= n_out <= n - k:
            if n_out < k and k <= n - 2 * k:
                n_out = k
            elif test:
                raise EmbedkitError(
                    f"Too few examples per class for a stratified held-out split: the test part must hold one "
                    f"example of each of the {k} classes and the training part at least two per class, so "
                    f"`test_size` x {n} must be between {k} and {n - k} with {n} >= {3 * k} examples "
                    f"(or use folds). Received: {n} examples in {k} classes, test_size={share:g} ({n_out} examples)"
                )
            else:
                strat = None
        a, b = train_test_split(idx, test_size=n_out, random_state=s, stratify=strat)
        return np.sort(a), np.sort(b)

    def carve_val(train: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
        if len(train) < 4:
            raise EmbedkitError(f"Too few training examples to hold out a validation set. Received: {len(train)}")
        return hold_out(train, val_size, s, test=False)

    if dataset.split is not None and (np.any(dataset.split == "test") or np.any(dataset.split == "dev")):
        idx = np.arange(n)
        tr = idx[dataset.split == "train"]
        dev = idx[dataset.split == "dev"]
        te = idx[dataset.split == "test"]
        if len(tr) == 0:
            raise EmbedkitError(f"The given splits have no training examples. Received: {dataset.to_dict()['given_splits']}")
        if len(te) and len(dev):
            return [Split("given", tr, dev, te, {"given": True})]
        test = te if len(te) else dev
        tr2, va = carve_val(tr, seed)
        return [Split("given", tr2, va, test, {"given": True})]

    idx = np.arange(n)
    if folds is None:
        if n < 5:
            raise EmbedkitError(f"Too few examples for a held-out split. Received: {n}")
        tr, te = hold_out(idx, test_size, seed, test=True)
        tr2, va = carve_val(tr, seed)
        return [Split("holdout", tr2, va, te)]
    smallest = int(np.bincount(y).min())
    if smallest < folds:
        raise EmbedkitError(
            f"Too few examples per class for stratified {folds}-fold CV: `folds` must not exceed the size of the "
            f"smallest class ({smallest}). Received: folds={folds}"
        )
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    out = []
    for k, (tr, te) in enumerate(skf.split(idx, y), 1):
        tr2, va = carve_val(tr, seed + k)
        out.append(Split(f"fold{k}", tr2, va, te))
    return out


def iter_split_texts(dataset: Dataset, split: Split) -> Iterator[tuple[str, list[str], np.ndarray]]:
    """Yield ``(part, texts, labels)`` for ``train``, ``val`` and ``test`` of ``split``."""
    for part in ("train", "val", "test"):
        idx = getattr(split, part)
        yield part, [dataset.texts[i] for i in idx], dataset.labels[idx]
