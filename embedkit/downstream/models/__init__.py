"""The downstream model zoo: Keras text classifiers by name.

- :mod:`~embedkit.downstream.models.registry`: :data:`MODELS` and :func:`build_model`;
- :mod:`~embedkit.downstream.models.base`: :class:`DownstreamModel` (what the runner calls), :class:`TextClassifier`
  (Keras: embedding → body → dropout → head);
- one module per family: :mod:`~embedkit.downstream.models.pooling` (pool, flatten),
  :mod:`~embedkit.downstream.models.recurrent` (lstm, bilstm, bilstm2, gru, bigru),
  :mod:`~embedkit.downstream.models.convolutional` (kim-cnn, multichannel, conv1d),
  :mod:`~embedkit.downstream.models.linear` (logreg: scikit-learn, no Keras).

Keras is imported only when a model is built.

>>> "bigru" in MODELS
True
"""

from __future__ import annotations

from embedkit.downstream.models.base import DownstreamModel, TextClassifier
from embedkit.downstream.models.registry import MODELS, build_model

__all__ = ["MODELS", "DownstreamModel", "TextClassifier", "build_model"]
