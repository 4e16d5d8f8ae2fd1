"""Training word vectors: corpus reading, batches, the Keras CBOW model, the trainer, gensim comparison,
tf.distribute strategies and parameter servers.

Nothing here imports TensorFlow until a model is built.
"""

from __future__ import annotations

from embedkit.lazy import lazy_exports

_EXPORTS = {
    "CBOWConfig": "embedkit.train.trainer",
    "train_cbow": "embedkit.train.trainer",
    "CBOWResult": "embedkit.train.trainer",
    "TrainingStats": "embedkit.train.trainer",
    "compare_gensim": "embedkit.train.compare",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)
