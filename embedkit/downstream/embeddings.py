"""`EMBEDDINGS`: how a downstream run's embedding layer starts and whether it trains, and the control each
pretrained mode is judged against.

- ``random``: Keras's default random embedding, trained with the model (Kim 2014's CNN-rand);
- ``frozen-random``: random vectors with the pretrained matrix's shape and per-dimension mean and scale, frozen
  (the control of ``static``: the same number of trainable weights, no information in the rows);
- ``static``: the pretrained vectors, frozen (Kim's CNN-static);
- ``non-static``: the pretrained vectors, fine-tuned with the model (Kim's CNN-non-static).

The headline of a report is the paired **gain** of each pretrained mode over its control:
``static - frozen-random`` and ``non-static - random`` (:data:`CONTROLS`).

>>> EMBEDDINGS.names(), EMBEDDINGS.get("static").trainable
(['random', 'frozen-random', 'static', 'non-static'], False)
>>> CONTROLS["static"], EMBEDDINGS.get("frozen-random").needs_vectors
('frozen-random', True)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from embedkit.registry import Registry

#: Where the rows of the embedding matrix come from.
SOURCES = ("init", "scaled-random", "vectors")


@dataclass(frozen=True)
class EmbeddingMode:
    """An embedding mode.

    Attributes:
        name: the registry name.
        source: ``vectors`` (pretrained rows), ``scaled-random`` (random rows with the vectors' per-dimension
            mean and std) or ``init`` (the layer's own random initialiser).
        trainable: the rows train with the model.
    """

    name: str
    source: str
    trainable: bool

    @property
    def pretrained(self) -> bool:
        """The rows are the pretrained vectors."""
        return self.source == "vectors"

    @property
    def needs_vectors(self) -> bool:
        """A vector set is needed to build the rows (pretrained rows, or their scale)."""
        return self.source != "init"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return {**asdict(self), "pretrained": self.pretrained}


EMBEDDINGS: Registry[EmbeddingMode] = Registry("embedding", {
    "random": EmbeddingMode("random", source="init", trainable=True),
    "frozen-random": EmbeddingMode("frozen-random", source="scaled-random", trainable=False),
    "static": EmbeddingMode("static", source="vectors", trainable=False),
    "non-static": EmbeddingMode("non-static", source="vectors", trainable=True),
})

#: The control of each pretrained mode: same shape and same trainable weights, no pretrained information.
CONTROLS: dict[str, str] = {"static": "frozen-random", "non-static": "random"}
