"""`TextClassifier`: the base class of the downstream model zoo.

Every model is ``Embedding → body → Dropout → Dense`` head (sigmoid for two classes, softmax otherwise),
compiled with Adam and accuracy; a subclass gives only its body. Keras is imported when a model is built.

Example:
    from embedkit.downstream.models.convolutional import Conv1DClassifier
    Conv1DClassifier().build(vocab_size=100, maxlen=20, num_classes=2).output_shape
    (None, 1)
"""

from __future__ import annotations

from typing import Any, ClassVar


class TextClassifier:
    """One Keras text classifier of the zoo (a builder of functional ``keras.Model`` objects).

    Subclasses set :attr:`name` (their registry name), :attr:`masks_padding` (the body honours the padding mask,
    so a random embedding gets ``mask_zero=True``) and :attr:`min_length` (the shortest input the body takes),
    and implement :meth:`body`.

    Args:
        units: width of recurrent bodies (LSTM / GRU units); the other bodies have fixed sizes.
    """

    name: ClassVar[str] = ""
    masks_padding: ClassVar[bool] = False
    min_length: ClassVar[int] = 1

    def __init__(self, units: int = 64) -> None:
        self.units = units

    def body(self, x: Any) -> Any:
        """The layers between the embedded tokens ``x`` (batch × maxlen × dim) and the dropout before the head."""
        raise NotImplementedError

    def build(
        self,
        *,
        vocab_size: int,
        maxlen: int,
        num_classes: int,
        embedding: Any = None,
        embedding_dim: int = 100,
        dropout: float = 0.5,
        learning_rate: float = 1e-3,
    ) -> Any:
        """The compiled Keras model.

        ``embedding`` is a ready ``keras.layers.Embedding`` (e.g. from ``build_embedding_matrix(...)
        .embedding_layer()``); None makes a trainable random one of ``embedding_dim``.
        """
        from embedkit.runtime import import_tensorflow

        import_tensorflow()  # quiet start-up
        import keras
        from keras import layers

        # Layers are made in this order (embedding, body, dropout, head): seeded initialisers depend on it.
        if embedding is None:
            embedding = layers.Embedding(vocab_size, embedding_dim, mask_zero=self.masks_padding, name="embedding")
        inputs = keras.Input(shape=(maxlen,), dtype="int32", name="tokens")
        x = self.body(embedding(inputs))
        if dropout > 0:
            x = layers.Dropout(dropout)(x)
        if num_classes == 2:
            outputs = layers.Dense(1, activation="sigmoid")(x)
            loss = "binary_crossentropy"
        else:
            outputs = layers.Dense(num_classes, activation="softmax")(x)
            loss = "sparse_categorical_crossentropy"
        model = keras.Model(inputs, outputs, name=self.name)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])
        return model
