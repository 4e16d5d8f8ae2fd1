"""Bag-of-embeddings classifiers: ``pool`` (mean of the token vectors) and ``flatten`` (their concatenation)."""

from __future__ import annotations

from typing import Any

from embedkit.downstream.models.base import TextClassifier


class PoolClassifier(TextClassifier):
    """``pool``: Embedding → GlobalAveragePooling1D (padding masked out) → Dense."""

    name = "pool"
    masks_padding = True

    def body(self, x: Any) -> Any:
        from keras import layers

        return layers.GlobalAveragePooling1D()(x)


class FlattenClassifier(TextClassifier):
    """``flatten``: Embedding → Flatten (every position its own weights) → Dense."""

    name = "flatten"

    def body(self, x: Any) -> Any:
        from keras import layers

        return layers.Flatten()(x)
