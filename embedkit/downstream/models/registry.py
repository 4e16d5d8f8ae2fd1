"""`MODELS`: the downstream model zoo by name, and :func:`build_model`.

Models people cite: ``kim-cnn`` and ``multichannel`` (Kim 2014) and ``logreg`` (SentEval's mean of the word
vectors with logistic regression); the course's models: ``pool``, ``flatten``, ``lstm``, ``bilstm``,
``bilstm2``, ``gru``, ``bigru``, ``conv1d``.

Adding a model: one :class:`~embedkit.downstream.models.base.TextClassifier` subclass (a body) or
:class:`~embedkit.downstream.models.base.DownstreamModel` subclass (its own ``fit_and_score``) in a module of
this package and one line in :data:`MODELS`.

>>> MODELS.names()[:3]
['kim-cnn', 'multichannel', 'logreg']
>>> MODELS.get("conv1d").min_length, MODELS.get("logreg").modes
(5, ('frozen-random', 'static'))
"""

from __future__ import annotations

from typing import Any

from embedkit.downstream.models.base import DownstreamModel, TextClassifier
from embedkit.errors import EmbedkitError
from embedkit.registry import Registry

MODELS: Registry[type[DownstreamModel]] = Registry("model", {
    "kim-cnn": "embedkit.downstream.models.convolutional:KimCNN",
    "multichannel": "embedkit.downstream.models.convolutional:MultichannelCNN",
    "logreg": "embedkit.downstream.models.linear:MeanVectorLogReg",
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
    weights: Any = None,
    trainable: bool = True,
) -> Any:
    """A compiled Keras model ``name`` (one of :data:`MODELS`).

    ``embedding`` is a ready ``keras.layers.Embedding`` (e.g. from ``build_embedding_matrix(...)
    .embedding_layer()``); else the model makes its own from ``weights`` (rows, ``trainable`` or frozen) or,
    without weights, a trainable random one of ``embedding_dim``. ``logreg`` is not a Keras model.

    Example:
        m = build_model("conv1d", vocab_size=100, maxlen=20, num_classes=2)
        m.output_shape
        (None, 1)
    """
    cls = MODELS.get(name)
    if not issubclass(cls, TextClassifier):
        raise EmbedkitError(f"`build_model` builds Keras models. Received: {name!r}, which is not one")
    return cls(units=units).build(
        vocab_size=vocab_size, maxlen=maxlen, num_classes=num_classes, embedding=embedding,
        embedding_dim=embedding_dim, dropout=dropout, learning_rate=learning_rate, weights=weights,
        trainable=trainable,
    )
