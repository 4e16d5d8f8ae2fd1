"""Convolutional classifiers: ``conv1d`` (the course's one-width CNN), ``kim-cnn`` (Kim 2014) and
``multichannel`` (Kim's CNN-multichannel).

Kim (2014): filter widths 3, 4 and 5 with 100 feature maps each, ReLU, max-over-time pooling, dropout 0.5 on
the penultimate layer, an l2 max-norm of 3 on the output weights, mini-batches of 50. Kim trained with
Adadelta; embedkit uses Adam (``learning_rate``) with early stopping on a validation split for every model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedkit.downstream.models.base import TextClassifier


class Conv1DClassifier(TextClassifier):
    """``conv1d``: Embedding → Conv1D(128, 5, relu) → GlobalMaxPooling1D → Dense; inputs of 5+ tokens."""

    name = "conv1d"
    min_length = 5  # the kernel width

    def body(self, x: Any) -> Any:
        from keras import layers

        x = layers.Conv1D(128, 5, activation="relu")(x)
        return layers.GlobalMaxPooling1D()(x)


class KimCNN(TextClassifier):
    """``kim-cnn``: Embedding → Conv1D(100, w, relu) for w in 3, 4, 5 → max-over-time pooling → concatenate
    (300 features) → Dropout(0.5) → Dense with max-norm 3 (Kim 2014)."""

    name = "kim-cnn"
    min_length = 5
    widths: tuple[int, ...] = (3, 4, 5)
    maps = 100
    head_max_norm = 3.0

    def body(self, x: Any) -> Any:
        from keras import layers

        pooled = [layers.GlobalMaxPooling1D()(layers.Conv1D(self.maps, w, activation="relu")(x)) for w in self.widths]
        return layers.Concatenate()(pooled)


class MultichannelCNN(KimCNN):
    """``multichannel``: Kim's CNN-multichannel: two copies of the embedding rows, one frozen and one
    fine-tuned, read by the same Kim CNN (each filter spans both channels: separate weights per channel).

    Two modes apply: ``non-static`` (both channels start from the pretrained vectors: Kim's row) and its
    control ``random`` (both channels start from the same random rows).
    """

    name = "multichannel"
    modes = ("random", "non-static")
    skip_reason = ("multichannel always has one frozen and one fine-tuned channel: it runs non-static "
                   "(from the vectors) and random (its control)")

    def embed(self, inputs: Any, *, vocab_size: int, embedding_dim: int, weights: np.ndarray | None,
              trainable: bool, embedding: Any = None) -> Any:
        from keras import layers

        if weights is None:  # one random start for both channels, Keras's default uniform range; NumPy's global
            # generator is the one keras.utils.set_random_seed seeds for the run
            weights = np.random.uniform(-0.05, 0.05, (vocab_size, embedding_dim)).astype(np.float32)
            weights[0] = 0.0
        channels = []
        for name, train in (("static_channel", False), ("tuned_channel", True)):
            layer = layers.Embedding(int(weights.shape[0]), int(weights.shape[1]), trainable=train, name=name)
            layer.build((None,))
            layer.embeddings.assign(weights)
            channels.append(layer(inputs))
        return layers.Concatenate(axis=-1)(channels)
