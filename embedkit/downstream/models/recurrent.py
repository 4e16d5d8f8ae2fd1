"""Recurrent classifiers: ``lstm``, ``bilstm``, ``bilstm2`` (two stacked bidirectional LSTMs), ``gru``, ``bigru``.

All honour the padding mask and use ``units`` cells (the second ``bilstm2`` layer half as many).
"""

from __future__ import annotations

from typing import Any

from embedkit.downstream.models.base import TextClassifier


class LSTMClassifier(TextClassifier):
    """``lstm``: Embedding → LSTM(units) → Dense."""

    name = "lstm"
    masks_padding = True

    def body(self, x: Any) -> Any:
        from keras import layers

        return layers.LSTM(self.units)(x)


class BiLSTMClassifier(TextClassifier):
    """``bilstm``: Embedding → Bidirectional(LSTM(units)) → Dense."""

    name = "bilstm"
    masks_padding = True

    def body(self, x: Any) -> Any:
        from keras import layers

        return layers.Bidirectional(layers.LSTM(self.units))(x)


class StackedBiLSTMClassifier(TextClassifier):
    """``bilstm2``: Embedding → Bidirectional(LSTM(units), sequences) → Bidirectional(LSTM(units // 2)) → Dense."""

    name = "bilstm2"
    masks_padding = True

    def body(self, x: Any) -> Any:
        from keras import layers

        x = layers.Bidirectional(layers.LSTM(self.units, return_sequences=True))(x)
        return layers.Bidirectional(layers.LSTM(max(1, self.units // 2)))(x)


class GRUClassifier(TextClassifier):
    """``gru``: Embedding → GRU(units) → Dense."""

    name = "gru"
    masks_padding = True

    def body(self, x: Any) -> Any:
        from keras import layers

        return layers.GRU(self.units)(x)


class BiGRUClassifier(TextClassifier):
    """``bigru``: Embedding → Bidirectional(GRU(units)) → Dense."""

    name = "bigru"
    masks_padding = True

    def body(self, x: Any) -> Any:
        from keras import layers

        return layers.Bidirectional(layers.GRU(self.units))(x)
