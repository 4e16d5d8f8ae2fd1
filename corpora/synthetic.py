"""A generated corpus with known structure, for tests and demos.

Each sentence is about one topic: most of its words are drawn from that topic's words, the rest are shared
function words. A good CBOW model puts a topic word's nearest neighbours in the same topic.

>>> c = SyntheticCorpus(n_topics=2, words_per_topic=3, n_sentences=2, seed=0)
>>> len(list(c.sentences()))
2
>>> c.topic_of("t1w02")
1
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from embedkit.files.atomic import atomic_open


@dataclass(frozen=True)
class SyntheticCorpus:
    """Topic-cluster corpus: ``n_topics`` × ``words_per_topic`` topic words plus ``n_function`` shared words."""

    n_topics: int = 8
    words_per_topic: int = 20
    n_sentences: int = 20000
    sentence_len: int = 12
    topic_share: float = 0.75
    n_function: int = 10
    seed: int = 7

    def topic_words(self, topic: int) -> list[str]:
        return [f"t{topic}w{i:02d}" for i in range(self.words_per_topic)]

    @property
    def function_words(self) -> list[str]:
        return [f"fn{i}" for i in range(self.n_function)]

    def topic_of(self, word: str) -> int | None:
        """The topic a word belongs to (None for function words)."""
        if word.startswith("t") and "w" in word:
            return int(word[1 : word.index("w")])
        return None

    def sentences(self) -> Iterator[list[str]]:
        """The sentences, deterministic in ``seed``."""
        rng = np.random.default_rng(self.seed)
        topics = np.array([self.topic_words(t) for t in range(self.n_topics)])
        fn = np.array(self.function_words)
        # Zipf-like word frequencies inside a topic, so counts differ as in real text.
        p = 1.0 / np.arange(1, self.words_per_topic + 1) ** 0.7
        p /= p.sum()
        for _ in range(self.n_sentences):
            t = rng.integers(self.n_topics)
            n = self.sentence_len
            is_topic = rng.random(n) < self.topic_share
            words = np.where(is_topic, topics[t][rng.choice(self.words_per_topic, n, p=p)], fn[rng.integers(0, len(fn), n)])
            yield words.tolist()

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write one sentence per line (atomically)."""
        with atomic_open(path, "w", encoding="utf-8") as fh:
            for s in self.sentences():
                fh.write(" ".join(s) + "\n")  # type: ignore[attr-defined]
