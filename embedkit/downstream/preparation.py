"""Turning a dataset into model inputs: empty texts out, splits, a vocabulary per split, padded id matrices,
bags of words, and the embedding rows of each vector set.

Texts are tokenised once with the ``glove`` preset of :class:`~embedkit.text.tokenizer.Tokenizer` (the
words, clitics and punctuation pretrained vectors know). Texts with no token at all are dropped before the
splits are made and counted (an all-padding row gives NaN under masked mean pooling). Each split gets a
``TextVectorization``-style :class:`~embedkit.text.vocabulary.Vocabulary` (0 = padding, 1 = ``[UNK]``); the
splits, seeds and vocabularies are the same for every model, mode and vector set, so their runs pair up.

>>> auto_maxlen([["w"] * n for n in range(1, 101)])
100
>>> truncate_tokens(list("abcdef"), 4, "pre"), truncate_tokens(list("abcdef"), 4, "post")
(['c', 'd', 'e', 'f'], ['a', 'b', 'c', 'd'])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from embedkit.text.tokenizer import Tokenizer
from embedkit.text.vocabulary import Vocabulary

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.downstream.config import EvalConfig
    from embedkit.downstream.datasets import Dataset, Split
    from embedkit.matrix.builder import CoverageReport
    from embedkit.vectors.word_vectors import WordVectors

TOKENIZER = "glove"
TOKENIZER_NOTE = "lowercase regex words, clitics ('s, n't) and punctuation"
PARTS = ("train", "val", "test")
#: Row sources of the matrix builder that hold a vector from the set (the rest: padding, special, initialised).
FOUND = ("exact", "lowercase", "normalised", "subword")


def auto_maxlen(token_lists: Sequence[Sequence[str]], cap: int = 400, floor: int = 5) -> int:
    """The 99th-percentile length, between ``floor`` (the widest conv kernel) and ``cap``."""
    if not token_lists:
        return floor
    lens = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
    return int(min(cap, max(floor, math.ceil(float(np.percentile(lens, 99))))))


def truncate_tokens(tokens: Sequence[str], maxlen: int, side: str) -> Sequence[str]:
    """At most ``maxlen`` tokens: ``pre`` keeps the end (Keras ``pad_sequences``' default), ``post`` the start."""
    if len(tokens) <= maxlen:
        return tokens
    return tokens[-maxlen:] if side == "pre" else tokens[:maxlen]


@dataclass
class PreparedSplit:
    """One split ready to train on: its vocabulary, the ``train`` / ``val`` / ``test`` ids and labels, and
    (on first use) bags of words over the whole texts."""

    split: Split
    vocab: Vocabulary
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    tokens: dict[str, list[list[str]]] = field(repr=False, default_factory=dict)
    truncated: int = 0
    _bags: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def maxlen(self) -> int:
        """Tokens per example."""
        return int(self.x["train"].shape[1])

    @property
    def bags(self) -> dict[str, Any]:
        """Per part, a sparse texts × vocabulary count matrix (CSR) over all tokens of each text."""
        if self._bags is None:
            import scipy.sparse as sp

            index = self.vocab.index
            bags = {}
            for part, toks in self.tokens.items():
                rows, cols = [], []
                for i, t in enumerate(toks):
                    ids = [index.get(w, 1) for w in t]
                    rows += [i] * len(ids)
                    cols += ids
                data = np.ones(len(rows), dtype=np.float32)
                bags[part] = sp.csr_matrix((data, (rows, cols)), shape=(len(toks), len(self.vocab)))
            self._bags = bags
        return self._bags


@dataclass
class PreparedDataset:
    """A dataset after tokenising: the examples kept, the dataset-wide vocabulary and the prepared splits."""

    dataset: Dataset
    tokens: list[list[str]]
    vocab: Vocabulary
    splits: list[PreparedSplit]
    empty_dropped: int = 0

    @property
    def maxlens(self) -> list[int]:
        """The distinct ``maxlen`` of the splits."""
        return sorted({p.maxlen for p in self.splits})

    @property
    def truncated_share(self) -> float:
        """Fraction of training / validation / test examples longer than ``maxlen`` (mean over splits)."""
        total = sum(sum(len(p.tokens[k]) for k in PARTS) for p in self.splits)
        return sum(p.truncated for p in self.splits) / total if total else 0.0


def prepare_dataset(dataset: Dataset, config: EvalConfig, min_length: int = 1) -> PreparedDataset:
    """Tokenise ``dataset``, drop empty texts, make the splits (given ones, or ``config.folds``-fold CV, or one
    held-out ``config.test_size`` split) and encode each one.

    ``min_length`` is the shortest input the models take (the widest convolution).
    """
    from embedkit.downstream.datasets import make_splits
    from embedkit.errors import EmbedkitError

    tokenize = Tokenizer.preset(TOKENIZER)
    all_tokens = [tokenize(t) for t in dataset.texts]
    keep = [i for i, t in enumerate(all_tokens) if t]
    empty = len(all_tokens) - len(keep)
    if empty:
        if not keep:
            raise EmbedkitError(f"Expected texts with words. Received: {empty} texts without a token in {dataset.name!r}")
        dataset = dataset.subset(keep)
        all_tokens = [all_tokens[i] for i in keep]
    folds = config.folds or None
    splits = make_splits(dataset, folds=folds, test_size=config.test_size, seed=0)
    dataset_vocab = Vocabulary.build(all_tokens)
    prepared: list[PreparedSplit] = []
    for sp in splits:
        parts = {p: [all_tokens[i] for i in getattr(sp, p)] for p in PARTS}
        if config.vocab == "all" and config.max_tokens is None:
            vocab = dataset_vocab
        else:
            vocab = Vocabulary.build(parts["train"] if config.vocab == "train" else all_tokens,
                                     max_tokens=config.max_tokens)
        maxlen = max(config.maxlen or auto_maxlen(parts["train"]), min_length)
        truncated = sum(len(t) > maxlen for p in PARTS for t in parts[p])
        x = {p: vocab.encode([truncate_tokens(t, maxlen, config.truncate) for t in parts[p]], maxlen) for p in PARTS}
        y = {p: dataset.labels[getattr(sp, p)] for p in PARTS}
        prepared.append(PreparedSplit(sp, vocab, x, y, parts, truncated))
    return PreparedDataset(dataset, all_tokens, dataset_vocab, prepared, empty)


class SetRows:
    """The embedding rows one vector set gives one dataset's words, built once (fallbacks included) and cut
    per split; its coverage of the dataset.

    Args:
        vocab: the dataset-wide vocabulary (with counts).
        vectors: the vector set.

    Example:
        rows = SetRows(prepared.vocab, wv)
        weights, known = rows.rows(split.vocab, "vectors", seed=0)
    """

    def __init__(self, vocab: Vocabulary, vectors: WordVectors) -> None:
        from embedkit.matrix.builder import build_embedding_matrix, vector_stats

        em = build_embedding_matrix(vocab, vectors, oov="zeros", counts=vocab.counts, top_missing=10)
        self.coverage: CoverageReport = em.coverage
        self.matrix = em.matrix
        self.found = np.isin(np.asarray(em.sources, dtype=object), FOUND)
        self.padding = np.asarray([s == "padding" for s in em.sources])
        self.index = vocab.index
        self.mean, self.std = vector_stats(vectors)
        self.dim = int(vectors.dim)

    def rows(self, vocab: Vocabulary, source: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``(weights, known)`` for the ids of ``vocab``: the pretrained rows (``source="vectors"``; rows the
        set does not know, and ``[UNK]``, drawn from the vectors' per-dimension normal) or random rows of the
        same per-dimension mean and std (``"scaled-random"``); padding rows are zero. ``known`` marks the rows
        holding a vector of the set (the same rows in both sources, so that controls pair up)."""
        ids = np.fromiter((self.index[w] for w in vocab.tokens), dtype=np.int64, count=len(vocab))
        known = self.found[ids]
        rng = np.random.default_rng(seed)
        if source == "vectors":
            weights = self.matrix[ids].copy()
            fill = ~known & ~self.padding[ids]
            weights[fill] = rng.normal(self.mean, self.std, (int(fill.sum()), self.dim))
        elif source == "scaled-random":
            weights = rng.normal(self.mean, self.std, (len(ids), self.dim))
            weights[self.padding[ids]] = 0.0
        else:  # pragma: no cover - the runner passes only these two
            raise ValueError(source)
        return weights.astype(np.float32), known
