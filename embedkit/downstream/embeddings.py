"""`EMBEDDINGS`: how a downstream run's embedding layer starts and whether it trains.

- ``random``: a random embedding, trained with the model;
- ``static``: the pretrained vectors, frozen (Kim 2014's CNN-static);
- ``non-static``: the pretrained vectors, fine-tuned with the model.

>>> EMBEDDINGS.names(), EMBEDDINGS.get("static").trainable
(['random', 'static', 'non-static'], False)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from embedkit.registry import Registry


@dataclass(frozen=True)
class EmbeddingMode:
    """An embedding mode: ``pretrained`` rows from the vectors (else random), ``trainable`` with the model."""

    name: str
    pretrained: bool
    trainable: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


EMBEDDINGS: Registry[EmbeddingMode] = Registry("embedding", {
    "random": EmbeddingMode("random", pretrained=False, trainable=True),
    "static": EmbeddingMode("static", pretrained=True, trainable=False),
    "non-static": EmbeddingMode("non-static", pretrained=True, trainable=True),
})
