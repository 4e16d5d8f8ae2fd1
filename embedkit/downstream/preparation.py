"""Turning a dataset into model inputs: splits, a vocabulary per split, padded id matrices.

Texts are tokenised once with the ``glove`` preset of :class:`~embedkit.text.tokenizer.Tokenizer` (the
words, clitics and punctuation pretrained vectors know); each split gets a ``TextVectorization``-style
:class:`~embedkit.text.vocabulary.Vocabulary` (0 = padding, 1 = ``[UNK]``).

>>> auto_maxlen([["w"] * n for n in range(1, 101)])
100
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from embedkit.text.tokenizer import Tokenizer
from embedkit.text.vocabulary import Vocabulary

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.downstream.config import EvalConfig
    from embedkit.downstream.datasets import Dataset, Split

TOKENIZER = "glove"
TOKENIZER_NOTE = "lowercase regex words, clitics ('s, n't) and punctuation"
PARTS = ("train", "val", "test")


def auto_maxlen(token_lists: Sequence[Sequence[str]], cap: int = 400, floor: int = 5) -> int:
    """The 99th-percentile length, between ``floor`` (the widest conv kernel) and ``cap``."""
    if not token_lists:
        return floor
    lens = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
    return int(min(cap, max(floor, math.ceil(float(np.percentile(lens, 99))))))


@dataclass
class PreparedSplit:
    """One split ready to train on: its vocabulary and the ``train`` / ``val`` / ``test`` ids and labels."""

    split: Split
    vocab: Vocabulary
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]

    @property
    def maxlen(self) -> int:
        """Tokens per example."""
        return int(self.x["train"].shape[1])


def prepare_splits(dataset: Dataset, config: EvalConfig, min_length: int = 1) -> list[PreparedSplit]:
    """The splits of ``dataset`` (given ones, or ``config.folds`` / ``config.test_size``), encoded.

    ``min_length`` is the shortest input the models take (the widest convolution).
    """
    from embedkit.downstream.datasets import make_splits

    splits = make_splits(dataset, folds=config.folds, test_size=config.test_size, seed=0)
    tokenize = Tokenizer.preset(TOKENIZER)
    tokens = [tokenize(t) for t in dataset.texts]
    prepared: list[PreparedSplit] = []
    for sp in splits:
        train_tokens = [tokens[i] for i in sp.train]
        vocab = Vocabulary.build(train_tokens if config.vocab == "train" else tokens, max_tokens=config.max_tokens)
        maxlen = max(config.maxlen or auto_maxlen(train_tokens), min_length)
        x = {p: vocab.encode([tokens[i] for i in getattr(sp, p)], maxlen) for p in PARTS}
        y = {p: dataset.labels[getattr(sp, p)] for p in PARTS}
        prepared.append(PreparedSplit(sp, vocab, x, y))
    return prepared
