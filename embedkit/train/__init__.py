"""Training word vectors: corpus reading, batches, the Keras CBOW model, the trainer, gensim comparison,
tf.distribute strategies and parameter servers.

Modules, in the order the data flows:

- ``config``: :class:`CBOWConfig`, the hyper-parameters;
- ``corpus``: reading and encoding a corpus (its vocabulary, shards of it for distributed runs);
- ``batches``: subsampling, windows, negatives and learning rates as numpy batches per chunk;
- ``update``: word2vec's CBOW update in TensorFlow ops and the input table's start (no TF at import);
- ``tables``: the ``Tables`` interface (both tables and the step count) that checkpoints and results use;
- ``model``: the Keras ``CBOWModel`` (imports Keras; only loaded to train);
- ``steppers``: the three ways of stepping a chunk (Keras ``fit``, unrolled groups, a strategy's loop);
- ``monitor``: loss per epoch and progress events; ``checkpoints``: resumable checkpoints;
- ``trainer``: :func:`train_cbow`, :class:`TrainingStats`, :class:`CBOWResult`;
- ``cluster``, ``strategies``, ``parameter_server``: ``TF_CONFIG``, ``tf.distribute`` strategies by name,
  tables sharded over parameter servers;
- ``compare``: :func:`compare_gensim`.

Nothing here imports TensorFlow until a model is built.

>>> from embedkit.train import CBOWConfig
>>> CBOWConfig().vector_size
100
"""

from __future__ import annotations

from embedkit.lazy import lazy_exports

_EXPORTS = {
    "CBOWConfig": "embedkit.train.config",
    "train_cbow": "embedkit.train.trainer",
    "CBOWResult": "embedkit.train.trainer",
    "TrainingStats": "embedkit.train.trainer",
    "compare_gensim": "embedkit.train.compare",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)
