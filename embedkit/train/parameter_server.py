"""CBOW training on ``tf.distribute.ParameterServerStrategy``: embedding tables sharded across parameter servers.

For vocabularies whose two tables do not fit one device. The roles come from ``TF_CONFIG``, as in
TensorFlow's parameter-server training:

- ``ps`` tasks hold the shards of both tables (``FixedShardsPartitioner``: one shard per ps task);
- ``worker`` tasks run the training steps; they read rows from the shards and add their updates back,
  asynchronously (as gensim's threads do on one machine: no lock, no averaging);
- the ``chief`` reads the corpus, builds the vocabulary and the batches (the trainer's own
  :meth:`~embedkit.train.batches.BatchMaker.make_chunk`) and schedules groups of batches onto the workers with a
  ``ClusterCoordinator``; it alone writes checkpoints and vectors.

Every process runs the same ``embedkit train-cbow --strategy parameter-server`` command; ``ps`` and ``worker``
processes serve until they are stopped (:func:`serve`). The step is the same function the Keras model's
``train_step`` uses (:func:`embedkit.train.update.cbow_batch_update`), applied to the sharded variables.
Keras 3's ``fit`` has no parameter-server path, so this loop is a ``ClusterCoordinator`` loop instead. The
trainer and its checkpoints see the sharded tables through :class:`embedkit.train.tables.Tables`, as they see
the Keras model.

Example:
    # every process, with its own TF_CONFIG (chief, worker and ps tasks):
    embedkit train-cbow corpus.txt -o big --strategy parameter-server
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.train.cluster import ClusterInfo, lost_peer, parse_tf_config
from embedkit.train.tables import CBOWTables

BATCHES_PER_CALL = 16  # batches in one scheduled function (one round trip to a worker)


def serve(info: ClusterInfo) -> None:
    """Run this process's ``ps`` or ``worker`` server until the process is stopped."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    server = tf.distribute.Server(
        tf.train.ClusterSpec(info.cluster), job_name=info.task_type, task_index=info.task_index,
        protocol="grpc", start=True,
    )
    server.join()


def context_from_tf_config(*, tf_config: str | None = None, collective_timeout: float = 120.0) -> ParameterServerContext:
    """The ``parameter-server`` entry of :data:`embedkit.train.strategies.STRATEGIES`: the chief's context, from
    ``TF_CONFIG`` (``tf_config``, else the environment). ``collective_timeout`` does not apply (no collectives).

    Raises:
        EmbedkitError: a bad ``TF_CONFIG``, or this process is a ``ps`` / ``worker`` task (it must :func:`serve`).
    """
    info = parse_tf_config(tf_config, strategy="parameter-server")
    if info.task_type != "chief":
        raise EmbedkitError(
            f"This process is a {info.task_type!r} task: it serves (embedkit.train.parameter_server.serve) instead of "
            f"training. Received: TF_CONFIG task {info.task_type!r} {info.task_index}"
        )
    if tf_config is not None:
        os.environ["TF_CONFIG"] = tf_config
    return make_parameter_server_context(info)


def make_parameter_server_context(info: ClusterInfo) -> ParameterServerContext:
    """The chief's strategy and coordinator (the ps and worker servers must be reachable)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec(info.cluster), task_type="chief", task_id=0, rpc_layer="grpc"
    )
    n_ps = len(info.cluster["ps"])
    strategy = tf.distribute.ParameterServerStrategy(
        resolver, variable_partitioner=tf.distribute.experimental.partitioners.FixedShardsPartitioner(n_ps)
    )
    coordinator = tf.distribute.coordinator.ClusterCoordinator(strategy)
    return ParameterServerContext(strategy=strategy, coordinator=coordinator, cluster=info)


@dataclass
class ParameterServerContext:
    """What the CBOW trainer needs to run on a parameter-server cluster (it runs on the chief only)."""

    strategy: Any
    coordinator: Any
    cluster: ClusterInfo
    name: str = "parameter-server"
    worker_index: int = 0  # the trainer's view: one process (the chief) makes all batches
    num_workers: int = 1
    is_chief: bool = True
    jit_compile: bool = False
    _step: Any = field(default=None, repr=False)
    _shards: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ps_tasks(self) -> int:
        return len(self.cluster.cluster["ps"])

    @property
    def worker_tasks(self) -> int:
        return len(self.cluster.cluster["worker"])

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.name, "ps_tasks": self.ps_tasks, "worker_tasks": self.worker_tasks,
                "table_shards": self._shards}

    # -- the trainer's hooks (same names as DistributedContext) ---------------------------------------------
    def encode_shard(self, corpus: Any, *, tokenizer: Any = None, min_count: int = 5,
                     max_vocab_size: int | None = None) -> Any:
        from embedkit.train.corpus import encode_corpus

        return encode_corpus(corpus, tokenizer=tokenizer, min_count=min_count, max_vocab_size=max_vocab_size)

    def shard_encoded(self, enc: Any) -> Any:
        return enc

    def align_bounds(self, bounds: list[int], sentence_ends: np.ndarray) -> list[int]:
        return bounds

    def build_model(self, vocab_size: int, dim: int, window: int, negative: int, *, cbow_mean: bool = True,
                    seed: int = 1, initial_alpha: float = 0.025) -> ShardedCBOW:
        """Both tables as variables sharded over the ps tasks, initialised as the Keras model does
        (``initial_alpha`` is unused: each batch brings its learning rate)."""
        import tensorflow as tf

        from embedkit.train.update import initial_input_vectors

        init_in = initial_input_vectors(vocab_size, dim, seed)
        with self.strategy.scope():
            w_in = tf.Variable(init_in, name="input_vectors")
            w_out = tf.Variable(tf.zeros((vocab_size, dim)), name="output_vectors")
            steps = tf.Variable(0, dtype=tf.int64, name="step_counter")
        self._shards = [{"table": name, "rows": int(v.shape[0]), "device": v.device}
                        for name, var in (("input", w_in), ("output", w_out)) for v in _shards(var)]
        return ShardedCBOW(w_in, w_out, steps, dim=dim, window=window, cbow_mean=cbow_mean)

    def fit_chunk(self, model: ShardedCBOW, batches: tuple[np.ndarray, ...], monitor: Any = None) -> float:
        """Schedule a chunk's batches in groups onto the workers and wait for all of them; each group's loss goes
        to ``monitor.batch_end`` (a :class:`~embedkit.train.monitor.TrainingMonitor`)."""
        import tensorflow as tf

        step = self._step_fn(model)
        n = int(batches[-1].shape[0])
        results = []
        try:
            for lo in range(0, n, BATCHES_PER_CALL):
                args = tuple(tf.constant(a[lo : lo + BATCHES_PER_CALL]) for a in batches)
                results.append((lo, self.coordinator.schedule(step, args=args)))
            self.coordinator.join()
            loss = 0.0
            for lo, r in results:
                loss = float(r.fetch())
                if monitor is not None:
                    monitor.batch_end(min(lo + BATCHES_PER_CALL, n) - 1, loss)
        except (tf.errors.OpError, RuntimeError) as e:
            raise lost_peer(e) from None
        return loss

    def _step_fn(self, model: ShardedCBOW) -> Any:
        if self._step is None or self._step[0] is not model:
            import tensorflow as tf

            self._step = (model, tf.function(model.train_group, reduce_retracing=True))
        return self._step[1]


class ShardedCBOW:
    """The CBOW tables as variables sharded over the ps tasks, and the step a worker runs on them.

    Implements :class:`embedkit.train.tables.Tables`: checkpoints and the final vectors read and write the
    tables whole, shard by shard.
    """

    def __init__(self, w_in: Any, w_out: Any, steps: Any, *, dim: int, window: int, cbow_mean: bool) -> None:
        self.w_in, self.w_out, self.step_counter = w_in, w_out, steps
        self.dim, self.window, self.cbow_mean = dim, window, cbow_mean

    def get_tables(self) -> CBOWTables:
        """Both tables, their shards concatenated, and the step count."""
        return CBOWTables(_read_whole(self.w_in), _read_whole(self.w_out), int(self.step_counter.numpy()))

    def set_tables(self, input: np.ndarray, output: np.ndarray, step: int) -> None:
        """Write both tables shard by shard, and the step count."""
        _assign_whole(self.w_in, input)
        _assign_whole(self.w_out, output)
        self.step_counter.assign(int(step))

    def train_group(self, span: Any, in_window: Any, target: Any, neg: Any, alpha: Any) -> Any:
        """Batch steps one after the other on a worker (the group's leading axis); returns the last loss."""
        import tensorflow as tf

        from embedkit.train.update import cbow_batch_update

        w_in, w_out = self.w_in, self.w_out

        # Not ShardedVariable.sparse_read: in TF 2.21 it returns the rows grouped by shard, not in the order
        # of the ids asked for (measured: ids [0, 6, 3] over shards of 4 + 3 rows give rows 0, 3, 6).
        def read_in(ids: Any) -> Any:
            return tf.nn.embedding_lookup(w_in, ids)

        def read_out(ids: Any) -> Any:
            return tf.nn.embedding_lookup(w_out, ids)

        loss = tf.constant(0.0)
        for i in tf.range(tf.shape(alpha)[0]):
            up = cbow_batch_update(read_in, read_out, span[i], in_window[i], target[i], neg[i],
                                   dim=self.dim, window=self.window, cbow_mean=self.cbow_mean)
            a = tf.cast(alpha[i], tf.float32)
            w_in.scatter_add(tf.IndexedSlices(a * up["in_delta"], up["in_ids"]))
            w_out.scatter_add(tf.IndexedSlices(a * up["out_delta"], up["out_ids"]))
            self.step_counter.assign_add(1)
            loss = up["loss"]
        return loss


def _read_whole(var: Any) -> np.ndarray:
    """A sharded variable's rows, all shards in order."""
    import tensorflow as tf

    return tf.concat([v.read_value() for v in _shards(var)], axis=0).numpy()


def _assign_whole(var: Any, value: np.ndarray) -> None:
    lo = 0
    for v in _shards(var):
        n = int(v.shape[0])
        v.assign(value[lo : lo + n])
        lo += n


def _shards(var: Any) -> list[Any]:
    """The pieces of a sharded variable (one ps task: the variable itself)."""
    return list(getattr(var, "variables", None) or [var])
