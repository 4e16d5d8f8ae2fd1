"""`MODELS`: the downstream model zoo by name, and :func:`build_model`.

Adding a model: one :class:`~embedkit.downstream.models.base.TextClassifier` subclass (a body) in a module of
this package and one line in :data:`MODELS`.

>>> MODELS.names()
['pool', 'flatten', 'lstm', 'bilstm', 'bilstm2', 'gru', 'bigru', 'conv1d']
>>> MODELS.get("conv1d").min_length
5
"""

from __future__ import annotations

from typing import Any

from embedkit.downstream.models.base import TextClassifier
from embedkit.registry import Registry

MODELS: Registry[type[TextClassifier]] = Registry("model", {
    "pool": "embedkit.downstream.models.pooling:PoolClassifier",
    "flatten": "embedkit.downstream.models.pooling:FlattenClassifier",
    "lstm": "embedkit.downstream.models.recurrent:LSTMClassifier",
    "bilstm": "embedkit.downstream.models.recurrent:BiLSTMClassifier",
    "bilstm2": "embedkit.downstream.models.recurrent:StackedBiLSTMClassifier",
    "gru": "embedkit.downstream.models.recurrent:GRUClassifier",
    "bigru": "embedkit.downstream.models.recurrent:BiGRUClassifier",
    "conv1d": "embedkit.downstream.models.convolutional:Conv1DClassifier",
})


def build_model(
    name: str,
    *,
    vocab_size: int,
    maxlen: int,
    num_classes: int,
    embedding: Any = None,
    embedding_dim: int = 100,
    dropout: float = 0.5,
    units: int = 64,
    learning_rate: float = 1e-3,
) -> Any:
    """A compiled Keras model ``name`` (one of :data:`MODELS`).

    ``embedding`` is a ready ``keras.layers.Embedding`` (e.g. from ``build_embedding_matrix(...)
    .embedding_layer()``); None makes a trainable random one of ``embedding_dim``.

    Example:
        m = build_model("conv1d", vocab_size=100, maxlen=20, num_classes=2)
        m.output_shape
        (None, 1)
    """
    return MODELS.get(name)(units=units).build(
        vocab_size=vocab_size, maxlen=maxlen, num_classes=num_classes, embedding=embedding,
        embedding_dim=embedding_dim, dropout=dropout, learning_rate=learning_rate,
    )
