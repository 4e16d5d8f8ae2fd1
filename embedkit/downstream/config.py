"""`EvalConfig`: the settings of a downstream evaluation, checked once.

>>> c = EvalConfig(models="pool,conv1d", embeddings=["static"], seeds=1)
>>> c.models, c.embeddings, c.pretrained
(['pool', 'conv1d'], ['static'], ['static'])
>>> EvalConfig(seeds=0)
Traceback (most recent call last):
...
embedkit.errors.EmbedkitError: `seeds` must be a positive integer. Received: seeds=0
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from embedkit.downstream.embeddings import EMBEDDINGS
from embedkit.downstream.models.registry import MODELS
from embedkit.errors import EmbedkitError, check_positive_int
from embedkit.registry import Registry

VOCAB_SOURCES = ("train", "all")


def parse_choices(text: str | Sequence[str], allowed: Iterable[str], what: str) -> list[str]:
    """``"a,b"`` / ``["a", "b"]`` / ``"all"`` → a checked list of choices (order kept, duplicates dropped).

    >>> parse_choices("static,random", EMBEDDINGS, "embedding")
    ['static', 'random']
    """
    return Registry(what, dict.fromkeys(allowed)).parse_list(text)


@dataclass
class EvalConfig:
    """What :func:`embedkit.downstream.runner.evaluate` trains and how (every value checked on creation).

    Attributes:
        models / embeddings: names from :data:`~embedkit.downstream.models.registry.MODELS` /
            :data:`~embedkit.downstream.embeddings.EMBEDDINGS` (a comma-separated string, a list, or ``"all"``;
            stored as a list of names).
        seeds: runs per split (seeds 0..seeds-1); the CV folds are the same for every seed and model.
        folds: k-fold CV when set (and the data has no given splits); else one held-out ``test_size`` split.
        epochs / patience: at most ``epochs``, early stopping on validation loss (``patience=None``: off).
        maxlen: tokens kept per example (default: 99th-percentile training length, at most 400).
        vocab: ``"train"`` builds each split's vocabulary from its training texts (test words never seen in
            training become ``[UNK]``); ``"all"`` uses every text of the dataset, never its labels, as Kim (2014)
            did, so test words the vectors know get their pretrained rows.
        batch_size, max_tokens, embedding_dim, dropout, units, learning_rate: model and training settings
            (``embedding_dim`` None: the vectors' dimension, or 100 without vectors).
    """

    models: Sequence[str] = ("conv1d",)
    embeddings: Sequence[str] = ("random",)
    seeds: int = 3
    folds: int | None = None
    test_size: float = 0.1
    epochs: int = 10
    patience: int | None = 2
    maxlen: int | None = None
    batch_size: int = 50
    max_tokens: int | None = None
    vocab: str = "train"
    embedding_dim: int | None = None
    dropout: float = 0.5
    units: int = 64
    learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        self.models = MODELS.parse_list(self.models if isinstance(self.models, str) else list(self.models))
        self.embeddings = EMBEDDINGS.parse_list(
            self.embeddings if isinstance(self.embeddings, str) else list(self.embeddings)
        )
        check_positive_int("seeds", self.seeds)
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        for name in ("patience", "maxlen", "max_tokens"):
            if getattr(self, name) is not None:
                check_positive_int(name, getattr(self, name))
        if self.vocab not in VOCAB_SOURCES:
            raise EmbedkitError(f"`vocab` must be 'train' or 'all'. Received: vocab={self.vocab!r}")
        lr = self.learning_rate
        if not (isinstance(lr, (int, float)) and 0 < lr < 10):
            raise EmbedkitError(f"`learning_rate` must be a number in (0, 10). Received: learning_rate={lr!r}")
        if not 0 <= self.dropout < 1:
            raise EmbedkitError(f"`dropout` must be in [0, 1). Received: dropout={self.dropout!r}")

    @property
    def pretrained(self) -> list[str]:
        """The embedding modes that need pretrained vectors."""
        return [e for e in self.embeddings if EMBEDDINGS.get(e).pretrained]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)
