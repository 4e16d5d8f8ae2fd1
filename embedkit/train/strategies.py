"""Scale CBOW training out on ``tf.distribute``: strategies by name, ``TF_CONFIG``, input shards, chief-only writes.

Strategies (``embedkit train-cbow --strategy NAME``):

- ``default``: no distribution (one process, Keras ``fit`` with XLA) - the normal trainer.
- ``mirrored``: ``tf.distribute.MirroredStrategy`` over the local GPUs (the CPU when there is none).
- ``multi-worker``: ``tf.distribute.MultiWorkerMirroredStrategy`` across the processes/machines listed in
  ``TF_CONFIG``; every worker runs the same command.
- ``parameter-server``: ``tf.distribute.ParameterServerStrategy``, both tables sharded across the ``ps`` tasks
  of ``TF_CONFIG``; the chief schedules the steps onto the workers (see :mod:`embedkit.train.parameter_server`).

How a distributed run works: the chief reads the whole corpus once, builds the vocabulary and broadcasts
it (words, counts, corpus digest) to the other workers with one all-reduce; each worker reads and trains on
only its own shard: whole files when there are at least as many files as workers (balanced by size), else
every n-th line. Each
chunk the workers agree on the number of steps (shorter shards are padded with empty batches that update
nothing), each step all-reduces the sparse (``IndexedSlices``) updates, so all replicas keep identical
tables. Only the chief writes checkpoints and vectors.

Two deviations from the single-process trainer, both forced by TensorFlow and measured:

- XLA is off when more than one replica syncs: the sparse all-reduce is a ``CollectiveGatherV2`` op,
  which has no XLA CPU kernel ("No registered 'CollectiveGatherV2' OpKernel for XLA_CPU_JIT devices").
- The training loop is a ``strategy.run`` loop over the model's own ``train_step`` instead of ``fit``:
  Keras 3.15's ``fit`` under a strategy reduces the first data batch across replicas before building
  (``_maybe_symbolic_build``), which fails for a ``(span, context, target, alpha)`` tuple.

The cluster itself (``TF_CONFIG``, :class:`~embedkit.train.cluster.ClusterInfo`) is described in
:mod:`embedkit.train.cluster`; strategies are looked up by name in :data:`STRATEGIES`.

Example:
    >>> ctx = make_context("default")
    >>> ctx is None
    True
    >>> STRATEGIES.names()
    ['default', 'mirrored', 'multi-worker', 'parameter-server']
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.registry import Registry
from embedkit.train.cluster import ClusterInfo, lost_peer, parse_tf_config

DEFAULT_COLLECTIVE_TIMEOUT = 120.0  # seconds a step's collective may wait for a peer before failing


# -- the distributed context -------------------------------------------------------------------------------
@dataclass
class DistributedContext:
    """A ``tf.distribute`` strategy plus what the CBOW trainer needs to run under it.

    Create it with :func:`make_context` before any other TensorFlow work in the process.
    """

    name: str
    strategy: Any
    worker_index: int = 0
    num_workers: int = 1
    is_chief: bool = True
    collective_timeout: float = DEFAULT_COLLECTIVE_TIMEOUT
    cluster: ClusterInfo | None = None
    steps_per_execution: int = 32
    _step_fn: Any = field(default=None, repr=False)
    _gather_fn: Any = field(default=None, repr=False)
    _model_id: Any = field(default=None, repr=False)

    @property
    def replicas(self) -> int:
        """Replicas that sync each step (all workers × local devices)."""
        return int(self.strategy.num_replicas_in_sync)

    @property
    def local_replicas(self) -> int:
        return max(1, self.replicas // max(self.num_workers, 1))

    @property
    def jit_compile(self) -> bool:
        """XLA only when no cross-replica collective runs inside the step (see the module docstring)."""
        return self.replicas == 1

    def scope(self) -> Any:
        """The strategy's variable scope: build the model and its optimizer inside it."""
        return self.strategy.scope()

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.name, "worker_index": self.worker_index, "num_workers": self.num_workers,
                "is_chief": self.is_chief, "replicas": self.replicas, "jit_compile": self.jit_compile}

    # -- agreement between workers (collectives outside the training step) --------------------------------
    def agree_max(self, values: Any) -> np.ndarray:
        """Element-wise maximum of an int vector over all replicas (identity on one replica)."""
        arr = np.atleast_1d(np.asarray(values, dtype=np.int64))
        if self.replicas == 1:
            return arr
        from embedkit.runtime import import_tensorflow
        import_tensorflow()  # quiet start-up
        import tensorflow as tf

        if self._gather_fn is None:
            strategy = self.strategy
            opts = tf.distribute.experimental.CommunicationOptions()  # no timeout: peers may still be reading

            def fn(x: Any) -> Any:  # ReduceOp has only SUM and MEAN: gather every replica's vector instead
                return tf.distribute.get_replica_context().all_gather(x[None, :], axis=0, options=opts)

            self._gather_fn = tf.function(lambda x: strategy.run(fn, args=(x,)))
        try:
            out = self._gather_fn(tf.constant(arr))
        except tf.errors.OpError as e:
            raise lost_peer(e) from None
        return np.asarray(self.strategy.experimental_local_results(out)[0].numpy()).max(axis=0)

    def broadcast_bytes(self, payload: bytes | None) -> bytes:
        """The chief's ``payload`` on every worker (others pass None): one all-reduce of int32 words.

        No timeout: workers wait here while the chief reads the whole corpus.
        """
        from embedkit.runtime import import_tensorflow
        import_tensorflow()  # quiet start-up
        import tensorflow as tf

        mine = payload if self.is_chief else b""
        size = int(self.agree_max([len(mine or b"")])[0])
        words = np.zeros(-(-size // 4), dtype=np.int32)
        if self.is_chief and mine:
            words.view(np.uint8)[: len(mine)] = np.frombuffer(mine, dtype=np.uint8)
        if self.replicas == 1:
            return words.view(np.uint8)[:size].tobytes()
        strategy = self.strategy
        opts = tf.distribute.experimental.CommunicationOptions()
        local = self.local_replicas

        def fn(x: Any) -> Any:  # every local replica but the first contributes zeros too
            first = tf.equal(tf.math.floormod(tf.distribute.get_replica_context().replica_id_in_sync_group, local), 0)
            x = tf.where(first, x, tf.zeros_like(x))
            return tf.distribute.get_replica_context().all_reduce("sum", x, options=opts)

        run = tf.function(lambda x: strategy.run(fn, args=(x,)))
        try:
            out = run(tf.constant(words))
        except tf.errors.OpError as e:
            raise lost_peer(e) from None
        got = np.asarray(strategy.experimental_local_results(out)[0].numpy(), dtype=np.int32)
        return got.view(np.uint8)[:size].tobytes()

    # -- input sharding -----------------------------------------------------------------------------------
    def encode_shard(self, corpus: Any, *, tokenizer: Any = None, min_count: int = 5,
                     max_vocab_size: int | None = None) -> Any:
        """This worker's part of the corpus, encoded with the vocabulary the chief built once and shared.

        The chief reads the whole corpus once (counting every word, keeping only its own lines) and
        broadcasts the vocabulary, the counts and the corpus digest; every other worker reads and tokenizes
        only its own files or lines (:func:`embedkit.train.corpus.plan_shards`). A chief that fails (empty
        corpus, unreadable file) sends its one-line error, so every worker stops with it.
        """
        from embedkit.train.corpus import CorpusStats, corpus_vocabulary, encode_corpus, encode_with_vocabulary, plan_shards

        if self.num_workers == 1:
            return encode_corpus(corpus, tokenizer=tokenizer, min_count=min_count, max_vocab_size=max_vocab_size)
        shard = plan_shards(corpus, self.num_workers)[self.worker_index]
        fingerprint = _source_fingerprint(corpus)
        if self.is_chief:
            try:
                enc = encode_corpus(corpus, tokenizer=tokenizer, min_count=min_count, max_vocab_size=max_vocab_size,
                                    shard=shard)
            except EmbedkitError as e:
                self.broadcast_bytes(json.dumps({"error": str(e)}).encode())
                raise
            v = enc.vocab
            self.broadcast_bytes(json.dumps({
                "words": v.words, "counts": v.counts.tolist(), **enc.stats.to_dict(), "digest": enc.digest,
                "fingerprint": fingerprint,
            }).encode("utf-8", "surrogatepass"))
            return enc
        msg = json.loads(self.broadcast_bytes(None).decode("utf-8", "surrogatepass"))
        if "error" in msg:
            raise EmbedkitError(f"The chief could not read the corpus: {msg['error']}")
        if fingerprint is not None and msg["fingerprint"] is not None and fingerprint != msg["fingerprint"]:
            raise EmbedkitError(
                "All workers must read the same corpus files. Received: files whose names or sizes differ from "
                f"the chief's on worker {self.worker_index}"
            )
        vocab = corpus_vocabulary(msg["words"], np.asarray(msg["counts"], dtype=np.int64))
        stats = CorpusStats(total_raw_words=int(msg["total_raw_words"]), min_count=int(msg["min_count"]),
                            dropped_words=int(msg["dropped_words"]))
        return encode_with_vocabulary(corpus, vocab, digest=msg["digest"], stats=stats, tokenizer=tokenizer,
                                      shard=shard)

    def shard_encoded(self, enc: Any) -> Any:
        """This worker's lines (every ``num_workers``-th) of a corpus every worker already holds encoded."""
        if self.num_workers == 1:
            return enc
        from embedkit.train.corpus import EncodedCorpus

        lengths = np.diff(enc.sentence_ends, prepend=0)
        mine = np.arange(lengths.size) % self.num_workers == self.worker_index
        return EncodedCorpus(vocab=enc.vocab, ids=enc.ids[np.repeat(mine, lengths)],
                             sentence_ends=np.cumsum(lengths[mine]).astype(np.int64), digest=enc.digest,
                             stats=enc.stats)

    def align_bounds(self, bounds: list[int], sentence_ends: np.ndarray) -> list[int]:
        """Chunk bounds with the same number of chunks on every worker (the largest any worker has)."""
        want = int(self.agree_max([len(bounds) - 1])[0])
        if want == len(bounds) - 1:
            return bounds
        total = int(sentence_ends[-1]) if sentence_ends.size else 0
        cuts = np.searchsorted(sentence_ends, np.arange(1, want) * total / want)
        inner = [int(sentence_ends[min(c, sentence_ends.size - 1)]) for c in cuts] if sentence_ends.size else []
        return [0] + sorted(min(max(c, 0), total) for c in inner) + [total]

    # -- training -----------------------------------------------------------------------------------------
    def build_model(self, vocab_size: int, dim: int, window: int, negative: int, *, cbow_mean: bool = True,
                    seed: int = 1, initial_alpha: float = 0.025) -> Any:
        """The Keras CBOW model with its tables (and optimizer) mirrored on every replica; XLA as
        :attr:`jit_compile` says."""
        from embedkit.train.model import build_cbow_model

        with self.scope():
            return build_cbow_model(vocab_size, dim, window, negative, cbow_mean=cbow_mean, seed=seed,
                                    initial_alpha=initial_alpha, jit_compile=self.jit_compile)

    def fit_chunk(self, model: Any, batches: tuple[np.ndarray, ...], monitor: Any = None) -> float:
        """Train ``model`` on one chunk's batches (as :meth:`embedkit.train.batches.BatchMaker.make_chunk` makes
        them) on every replica; each call's loss goes to ``monitor.batch_end`` (a
        :class:`~embedkit.train.monitor.TrainingMonitor`).

        All workers run the same number of steps: a worker with fewer batches repeats its last one with
        learning rate 0 (SGD then changes nothing). Returns the last step's loss on this worker.
        """
        import tensorflow as tf

        *data, alpha = batches
        n = int(alpha.shape[0])
        lr = self.local_replicas
        need = int(self.agree_max([n])[0]) if self.replicas > 1 else n
        need = -(-need // lr) * lr
        if need > n:  # repeat the last batch with learning rate 0: the step runs (collectives match), updates nothing
            data = [np.concatenate([a, np.repeat(a[-1:], need - n, axis=0)]) for a in data]
            alpha = np.concatenate([alpha, np.zeros(need - n, alpha.dtype)])
        arrays = tuple(tf.constant(a) for a in (*data, alpha))
        run = self._runner(model, arrays)
        steps = need // lr
        done, loss = 0, 0.0
        k = max(1, self.steps_per_execution)
        try:
            while done < steps:
                todo = min(k, steps - done)
                loss = float(run(arrays, tf.constant(done), tf.constant(todo)))
                done += todo
                if monitor is not None:
                    monitor.batch_end(min(done * lr, n) - 1, loss)
        except tf.errors.OpError as e:
            raise lost_peer(e) from None
        return loss

    def _runner(self, model: Any, arrays: tuple[Any, ...]) -> Any:
        key = (id(model), tuple((a.dtype, a.shape.rank) for a in arrays))
        if self._step_fn is not None and self._model_id == key:
            return self._step_fn
        import tensorflow as tf

        strategy = self.strategy
        lr = self.local_replicas

        if self.jit_compile:  # one replica, no collective in the step: XLA as in the single-process trainer
            step = tf.function(model.train_step, jit_compile=True, reduce_retracing=True)

            def one_step(arrays: Any, i: Any) -> Any:
                return strategy.run(step, args=(tuple(a[i] for a in arrays),))
        else:  # no nested tf.function: the step's all-reduce is a merge point (TF refuses it nested)

            def replica_step(arrays: Any, i: Any) -> Any:
                # Replica ids are worker-major, so id % local replicas is this replica's slot on its worker.
                j = i * lr + tf.math.floormod(tf.distribute.get_replica_context().replica_id_in_sync_group, lr)
                return model.train_step(tuple(a[j] for a in arrays))

            def one_step(arrays: Any, i: Any) -> Any:
                return strategy.run(replica_step, args=(arrays, i))

        sig = [tuple(tf.TensorSpec([None] * a.shape.rank, a.dtype) for a in arrays),
               tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)]

        @tf.function(input_signature=sig)
        def run(arrays: Any, first: Any, n: Any) -> Any:
            loss = tf.constant(0.0)
            for i in tf.range(first, first + n):
                out = one_step(arrays, i)
                loss = strategy.experimental_local_results(out["loss"])[0]
            return loss

        self._step_fn, self._model_id = run, key
        return run


def _source_fingerprint(corpus: Any) -> str | None:
    """Names and sizes of the corpus files (None for in-memory corpora): cheap to compare across workers."""
    from embedkit.train.corpus import file_sizes, is_paths

    if not corpus or not is_paths(corpus):
        return None
    parts = [f"{os.path.basename(os.fspath(c))}:{n}" for c, n in zip(corpus, file_sizes(corpus))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _no_context(*, tf_config: str | None, collective_timeout: float) -> None:
    """``default``: no distribution."""
    return None


def _mirrored_context(*, tf_config: str | None, collective_timeout: float) -> DistributedContext:
    """``mirrored``: ``MirroredStrategy`` over this machine's GPUs (its CPU when there is none)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return DistributedContext("mirrored", tf.distribute.MirroredStrategy(), collective_timeout=collective_timeout)


def _multi_worker_context(*, tf_config: str | None, collective_timeout: float) -> DistributedContext:
    """``multi-worker``: ``MultiWorkerMirroredStrategy`` over the workers of ``TF_CONFIG``."""
    info = parse_tf_config(tf_config, strategy="multi-worker")
    if tf_config is not None:
        os.environ["TF_CONFIG"] = tf_config
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    opts = tf.distribute.experimental.CommunicationOptions(timeout_seconds=collective_timeout)
    with contextlib.redirect_stdout(None):
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=opts)
    return DistributedContext("multi-worker", strategy, worker_index=info.worker_index, num_workers=info.num_workers,
                              is_chief=info.is_chief, collective_timeout=collective_timeout, cluster=info)


STRATEGIES: Registry[Any] = Registry("strategy", {
    "default": _no_context,
    "mirrored": _mirrored_context,
    "multi-worker": _multi_worker_context,
    "parameter-server": "embedkit.train.parameter_server:context_from_tf_config",
})
"""Strategy name -> factory ``(tf_config=..., collective_timeout=...) -> context`` (None for ``default``)."""


def make_context(
    name: str = "default",
    *,
    collective_timeout: float | None = None,
    tf_config: str | None = None,
) -> Any:
    """Create the ``tf.distribute`` strategy called ``name`` (see :data:`STRATEGIES`); None for ``default``.

    Must run before any other TensorFlow work in the process (TensorFlow fixes the cluster at start-up).
    ``collective_timeout`` (seconds; default 120) bounds how long a training step waits for a peer, so a lost
    worker ends the run with an error instead of a hang. Returns a :class:`DistributedContext`, or for
    ``parameter-server`` a :class:`embedkit.train.parameter_server.ParameterServerContext`.

    >>> make_context("default") is None
    True
    """
    factory = STRATEGIES.get(name)
    if collective_timeout is not None and not collective_timeout > 0:
        raise EmbedkitError(f"`collective_timeout` must be a positive number. Received: {collective_timeout!r}")
    return factory(tf_config=tf_config, collective_timeout=float(collective_timeout or DEFAULT_COLLECTIVE_TIMEOUT))


def describe_devices() -> dict[str, Any]:
    """Which accelerators TensorFlow and FAISS see (imports both): ``{"tf_gpus": n, "faiss_gpus": n}``."""
    import tensorflow as tf

    out: dict[str, Any] = {"tf_gpus": len(tf.config.list_physical_devices("GPU"))}
    try:
        import faiss

        out["faiss_gpus"] = int(faiss.get_num_gpus()) if hasattr(faiss, "get_num_gpus") else 0
    except ImportError:  # pragma: no cover
        out["faiss_gpus"] = 0
    return out
