"""`EvalConfig`: the settings of a downstream evaluation, checked once.

>>> c = EvalConfig(models="logreg,kim-cnn", embeddings=["static"], seeds=1)
>>> c.models, c.embeddings, c.pretrained
(['logreg', 'kim-cnn'], ['static'], ['static'])
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

VOCAB_SOURCES = ("all", "train")
TRUNCATE_SIDES = ("pre", "post")
#: Which end of a long text is kept by default: the end, as Keras ``pad_sequences`` (truncating='pre'); on
#: movie_reviews it scored above keeping the start in 3 of 3 paired seeds (BENCHMARKS.md, with its CI).
DEFAULT_TRUNCATE = "pre"
DEFAULT_FOLDS = 10
DEFAULT_MODELS = ("kim-cnn",)
DEFAULT_EMBEDDINGS = ("static", "frozen-random")


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
            stored as a list of names). A mode a model does not take is skipped with a note.
        seeds: runs per split (seeds 0..seeds-1); None: 1 per fold under CV (the folds replicate), 3 on a
            single split. The splits are the same for every seed, model, mode and vector set (paired runs).
        folds: k-fold CV (default 10, SentEval's protocol) unless the data comes with splits; 0 for one
            held-out ``test_size`` split.
        epochs / patience: a generous cap, so that early stopping on validation loss (best weights restored)
            decides when each run stops; ``patience=None`` trains every run for ``epochs``.
        maxlen: tokens kept per example (default: 99th-percentile training length, at most 400).
        truncate: which end a longer text keeps: ``pre`` drops the start and keeps the end (Keras
            ``pad_sequences``' default), ``post`` keeps the start.
        vocab: ``"all"`` builds the vocabulary from every text of the dataset, never its labels (Kim 2014,
            SentEval: test words the vectors know keep their vectors); ``"train"`` from each split's training
            texts only (test words never seen in training become ``[UNK]``).
        batch_size, max_tokens, embedding_dim, dropout, units, learning_rate: model and training settings
            (``embedding_dim`` None: each vector set's dimension, or 100 without vectors).
    """

    models: Sequence[str] = DEFAULT_MODELS
    embeddings: Sequence[str] = DEFAULT_EMBEDDINGS
    seeds: int | None = None
    folds: int | None = DEFAULT_FOLDS
    test_size: float = 0.1
    epochs: int = 50
    patience: int | None = 3
    maxlen: int | None = None
    truncate: str = DEFAULT_TRUNCATE
    batch_size: int = 50
    max_tokens: int | None = None
    vocab: str = "all"
    embedding_dim: int | None = None
    dropout: float = 0.5
    units: int = 64
    learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        self.models = MODELS.parse_list(self.models if isinstance(self.models, str) else list(self.models))
        self.embeddings = EMBEDDINGS.parse_list(
            self.embeddings if isinstance(self.embeddings, str) else list(self.embeddings)
        )
        if self.seeds is not None:
            check_positive_int("seeds", self.seeds)
        if self.folds is not None and self.folds != 0:
            check_positive_int("folds", self.folds)
            if self.folds < 2:
                raise EmbedkitError(f"`folds` must be at least 2 (or 0 for a held-out split). Received: folds={self.folds}")
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        for name in ("patience", "maxlen", "max_tokens", "embedding_dim", "units"):
            if getattr(self, name) is not None:
                check_positive_int(name, getattr(self, name))
        if self.vocab not in VOCAB_SOURCES:
            raise EmbedkitError(f"`vocab` must be 'all' or 'train'. Received: vocab={self.vocab!r}")
        if self.truncate not in TRUNCATE_SIDES:
            raise EmbedkitError(f"`truncate` must be 'pre' (keep the end) or 'post' (keep the start). "
                                f"Received: truncate={self.truncate!r}")
        if not (isinstance(self.test_size, (int, float)) and 0 < self.test_size < 1):
            raise EmbedkitError(f"`test_size` must be between 0 and 1. Received: test_size={self.test_size!r}")
        lr = self.learning_rate
        if not (isinstance(lr, (int, float)) and 0 < lr < 10):
            raise EmbedkitError(f"`learning_rate` must be a number in (0, 10). Received: learning_rate={lr!r}")
        if not 0 <= self.dropout < 1:
            raise EmbedkitError(f"`dropout` must be in [0, 1). Received: dropout={self.dropout!r}")

    @property
    def pretrained(self) -> list[str]:
        """The embedding modes whose rows are the pretrained vectors."""
        return [e for e in self.embeddings if EMBEDDINGS.get(e).pretrained]

    @property
    def needs_vectors(self) -> bool:
        """Some mode needs a vector set (pretrained rows, or their scale for ``frozen-random``)."""
        return any(EMBEDDINGS.get(e).needs_vectors for e in self.embeddings)

    def seeds_for(self, n_splits: int) -> int:
        """The seeds per split: :attr:`seeds`, or 1 under CV and 3 on a single split."""
        if self.seeds is not None:
            return self.seeds
        return 1 if n_splits > 1 else 3

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)
