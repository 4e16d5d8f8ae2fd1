"""`CBOWConfig`: the CBOW trainer's hyper-parameters, named and defaulted as gensim's ``Word2Vec(sg=0)``.

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


@dataclass
class CBOWConfig:
    """Hyper-parameters, named and defaulted as gensim's ``Word2Vec(sg=0)``.

    >>> CBOWConfig(vector_size=50).window
    5
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
    chunk_tokens: int = 1 << 20
    threads: int | None = None

    def validate(self) -> CBOWConfig:
        """Raise a one-line :class:`EmbedkitError` for any out-of-range value; return self."""
        for name in ("vector_size", "window", "negative", "min_count", "epochs", "batch_size", "chunk_tokens"):
            check_positive_int(name, getattr(self, name))
        if self.max_vocab_size is not None:
            check_positive_int("max_vocab_size", self.max_vocab_size)
        if self.threads is not None:
            check_positive_int("threads", self.threads)
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

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (saved in ``training.json`` and in checkpoints)."""
        return dataclasses.asdict(self)
