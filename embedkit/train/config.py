"""`CBOWConfig`: the word2vec trainer's hyper-parameters, named and defaulted as gensim's ``Word2Vec(sg=0)``;
``sg=True`` trains skip-gram instead of CBOW (gensim's ``sg=1``).

>>> CBOWConfig(vector_size=50, epochs=0).validate()
Traceback (most recent call last):
...
embedkit.errors.EmbedkitError: `epochs` must be a positive integer. Received: epochs=0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from embedkit.errors import EmbedkitError, check_nonnegative_number, check_positive_int, check_positive_number


MAX_WINDOW = 100
"""Largest ``window``: a batch holds ``2·window`` context slots per target (gensim's users rarely go past 20)."""
MAX_NEGATIVE = 100
"""Largest ``negative``: each target (skip-gram: each pair) draws that many noise words per step."""
MAX_BATCH_SIZE = 1 << 16
"""Largest ``batch_size`` (targets, or skip-gram pairs, per step)."""
SCORE_METRICS = ("analogy_accuracy", "ws353", "simlex")
"""The scores ``train_cbow(..., evaluate_each_epoch=True)`` adds to each epoch's logs (higher is better)."""
EARLY_STOP_METRICS = ("loss", *SCORE_METRICS)
"""What ``--early-stop`` may watch."""
KERNELS = ("auto", "native", "xla")
"""``kernel``: how a step updates the tables (:mod:`embedkit.train.native`).

``native``: the compiled example-by-example loop of gensim, threads stepping at once; ``xla``: the batched XLA
update (GPUs, ``tf.distribute``); ``auto``: native on a CPU when the kernel builds, else XLA."""


@dataclass
class CBOWConfig:
    """Hyper-parameters, named and defaulted as gensim's ``Word2Vec(sg=0)``.

    ``sg=True`` trains skip-gram (gensim's ``sg=1``): then ``batch_size`` counts (context, target) pairs per step.

    >>> CBOWConfig(vector_size=50).window
    5
    >>> CBOWConfig(window=10**8).validate()
    Traceback (most recent call last):
    ...
    embedkit.errors.EmbedkitError: `window` must be at most 100 (a batch holds 2·window context slots per target). Received: window=100000000
    """

    vector_size: int = 100
    window: int = 5
    negative: int = 5
    min_count: int = 5
    max_vocab_size: int | None = None
    sample: float = 1e-3
    ns_exponent: float = 0.75
    cbow_mean: bool = True
    alpha: float = 0.025
    min_alpha: float = 0.0001
    epochs: int = 5
    seed: int = 1
    batch_size: int = 1024
    chunk_tokens: int = 1 << 17  # tokens whose batches are built at a time: the memory
    shuffle_tokens: int = 1 << 20  # tokens whose target (skip-gram: pair) segments are shuffled into batches together
    threads: int | None = None
    sg: bool = False
    kernel: str = "auto"  # "native" (gensim's example-by-example loop, compiled), "xla" or "auto" (embedkit.train.native)

    def validate(self) -> CBOWConfig:
        """Raise a one-line :class:`EmbedkitError` for any out-of-range value; return self."""
        for name in ("vector_size", "window", "negative", "min_count", "epochs", "batch_size", "chunk_tokens",
                     "shuffle_tokens"):
            check_positive_int(name, getattr(self, name))
        if self.max_vocab_size is not None:
            check_positive_int("max_vocab_size", self.max_vocab_size)
        if self.threads is not None:
            check_positive_int("threads", self.threads)
        for name, top, why in (("window", MAX_WINDOW, "a batch holds 2·window context slots per target"),
                               ("negative", MAX_NEGATIVE, "each target draws that many noise words per step"),
                               ("batch_size", MAX_BATCH_SIZE, "a step holds that many targets")):
            if getattr(self, name) > top:
                raise EmbedkitError(f"`{name}` must be at most {top} ({why}). Received: {name}={getattr(self, name)}")
        if self.kernel not in KERNELS:
            raise EmbedkitError(f"`kernel` must be one of {', '.join(KERNELS)}. Received: kernel={self.kernel!r}")
        if not isinstance(self.sg, bool):
            raise EmbedkitError(f"`sg` must be True or False. Received: sg={self.sg!r}")
        check_nonnegative_number("sample", self.sample)
        check_nonnegative_number("ns_exponent", self.ns_exponent)
        check_positive_number("alpha", self.alpha)
        check_nonnegative_number("min_alpha", self.min_alpha)
        if self.min_alpha > self.alpha:
            raise EmbedkitError(
                f"`min_alpha` must not exceed `alpha`. Received: alpha={self.alpha}, min_alpha={self.min_alpha}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise EmbedkitError(f"`seed` must be a non-negative integer. Received: seed={self.seed!r}")
        return self

    @property
    def built_tokens(self) -> int:
        """Tokens whose batches are built at once (the memory): ``chunk_tokens`` for CBOW; skip-gram makes about
        ``window + 1`` pairs per kept word, so it builds ``chunk_tokens / (window + 1)`` tokens at a time (about as
        many batches as a CBOW chunk). Both shuffle over a window of ``shuffle_tokens``.

        >>> CBOWConfig().built_tokens, CBOWConfig(sg=True).built_tokens
        (131072, 21845)
        """
        return max(self.chunk_tokens // (self.window + 1), 1) if self.sg else self.chunk_tokens

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (saved in ``training.json`` and in checkpoints)."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> CBOWConfig:
        """A validated copy with ``changes``.

        >>> CBOWConfig().replace(vector_size=50).vector_size
        50
        """
        return dataclasses.replace(self, **changes).validate()
