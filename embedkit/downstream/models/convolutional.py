"""Convolutional classifier: ``conv1d`` (Kim 2014 style, one filter width)."""

from __future__ import annotations

from typing import Any

from embedkit.downstream.models.base import TextClassifier


class Conv1DClassifier(TextClassifier):
    """``conv1d``: Embedding → Conv1D(128, 5, relu) → GlobalMaxPooling1D → Dense; inputs of 5+ tokens."""

    name = "conv1d"
    min_length = 5  # the kernel width

    def body(self, x: Any) -> Any:
        from keras import layers

        x = layers.Conv1D(128, 5, activation="relu")(x)
        return layers.GlobalMaxPooling1D()(x)
