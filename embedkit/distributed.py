"""Scale CBOW training out on ``tf.distribute``: strategies by name, ``TF_CONFIG``, input shards, chief-only writes.

Strategies (``embedkit train-cbow --strategy NAME``):

- ``default``: no distribution (one process, Keras ``fit`` with XLA) - the normal trainer.
- ``mirrored``: ``tf.distribute.MirroredStrategy`` over the local GPUs (the CPU when there is none).
- ``multi-worker``: ``tf.distribute.MultiWorkerMirroredStrategy`` across the processes/machines listed in
  ``TF_CONFIG``; every worker runs the same command.
- ``parameter-server``: recognised and validated, but training refuses it with a one-line error: Keras 3's
  ``Model.fit`` has no ``ParameterServerStrategy`` support (no ``ClusterCoordinator`` path), and the
  sparse train step reads embedding rows of a single table.

How a distributed run works: every worker reads the corpus and builds the same vocabulary (deterministic;
the workers check with a collective that they agree on the corpus digest and vocabulary size), then trains
only on its own shard of the token stream: contiguous runs of whole lines balanced by token count. Each
chunk the workers agree on the number of steps (shorter shards are padded with empty batches that update
nothing), each step all-reduces the sparse (``IndexedSlices``) updates, so all replicas keep identical
tables. Only the chief writes checkpoints and vectors.

Two deviations from the single-process trainer, both forced by TensorFlow and measured:

- XLA is off when more than one replica syncs: the sparse all-reduce is a ``CollectiveGatherV2`` op,
  which has no XLA CPU kernel ("No registered 'CollectiveGatherV2' OpKernel for XLA_CPU_JIT devices").
- The training loop is a ``strategy.run`` loop over the model's own ``train_step`` instead of ``fit``:
  Keras 3.15's ``fit`` under a strategy reduces the first data batch across replicas before building
  (``_maybe_symbolic_build``), which fails for a ``(span, context, target, alpha)`` tuple.

Example:
    >>> ctx = make_context("default")
    >>> ctx is None
    True
    >>> parse_tf_config('{"cluster": {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}, '
    ...                 '"task": {"type": "worker", "index": 1}}').is_chief
    False
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError

STRATEGIES = ("default", "mirrored", "multi-worker", "parameter-server")
DEFAULT_COLLECTIVE_TIMEOUT = 120.0  # seconds a step's collective may wait for a peer before failing


def free_local_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1, for a local multi-worker ``TF_CONFIG`` (tests, benchmarks).

    >>> len(set(free_local_ports(2)))
    2
    """
    import socket

    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


# -- TF_CONFIG -------------------------------------------------------------------------------------------------
@dataclass
class ClusterInfo:
    """The cluster described by ``TF_CONFIG`` and this process's place in it."""

    cluster: dict[str, list[str]]
    task_type: str
    task_index: int

    @property
    def num_workers(self) -> int:
        """Training processes (chief + workers)."""
        return len(self.cluster.get("chief", [])) + len(self.cluster.get("worker", []))

    @property
    def worker_index(self) -> int:
        """This process's rank among the training processes (the chief is 0)."""
        if self.task_type == "chief":
            return 0
        return len(self.cluster.get("chief", [])) + self.task_index if self.task_type == "worker" else -1

    @property
    def is_chief(self) -> bool:
        """The process that writes checkpoints and vectors: ``chief``, else worker 0."""
        if "chief" in self.cluster:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_index == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"num_workers": self.num_workers, "is_chief": self.is_chief}


def parse_tf_config(text: str | None = None, *, strategy: str = "multi-worker") -> ClusterInfo:
    """Parse and validate ``TF_CONFIG`` (``text``, else the environment variable) for ``strategy``.

    Raises a one-line :class:`EmbedkitError` naming what is wrong.

    >>> parse_tf_config('{"cluster": {"worker": ["h:1"]}, "task": {"type": "worker", "index": 0}}').num_workers
    1
    """
    if text is None:
        text = os.environ.get("TF_CONFIG")
    if not text:
        raise EmbedkitError(f"--strategy {strategy} needs the TF_CONFIG environment variable. Received: none")
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as e:
        raise EmbedkitError(f"TF_CONFIG must be JSON. Received: {text[:60]!r} ({e.msg})") from None
    if not isinstance(cfg, dict) or not isinstance(cfg.get("cluster"), dict):
        raise EmbedkitError(f"TF_CONFIG must have a \"cluster\" object. Received: {text[:60]!r}")
    cluster: dict[str, list[str]] = {}
    allowed = {"chief", "worker", "ps", "evaluator"}
    for role, addrs in cfg["cluster"].items():
        if role not in allowed:
            raise EmbedkitError(f"TF_CONFIG cluster roles must be among {sorted(allowed)}. Received: {role!r}")
        if not isinstance(addrs, list) or not addrs or not all(isinstance(a, str) for a in addrs):
            raise EmbedkitError(f"TF_CONFIG cluster[{role!r}] must be a non-empty list of \"host:port\". Received: {addrs!r}")
        for a in addrs:
            host, _, port = a.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise EmbedkitError(f"TF_CONFIG addresses must be \"host:port\". Received: {a!r} in {role!r}")
        cluster[role] = list(addrs)
    if len(cluster.get("chief", [])) > 1:
        raise EmbedkitError(f"TF_CONFIG may list at most one chief. Received: {len(cluster['chief'])}")
    flat = [a for addrs in cluster.values() for a in addrs]
    dup = sorted({a for a in flat if flat.count(a) > 1})
    if dup:
        raise EmbedkitError(f"TF_CONFIG addresses must be distinct. Received: {dup[0]!r} more than once")
    task = cfg.get("task")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise EmbedkitError(f"TF_CONFIG must have a \"task\" with \"type\" and \"index\". Received: task={task!r}")
    ttype, tindex = task["type"], task["index"]
    if ttype not in cluster:
        raise EmbedkitError(f"TF_CONFIG task type must be one of the cluster roles {sorted(cluster)}. Received: {ttype!r}")
    if isinstance(tindex, bool) or not isinstance(tindex, int) or not 0 <= tindex < len(cluster[ttype]):
        raise EmbedkitError(
            f"TF_CONFIG task index must be in 0..{len(cluster[ttype]) - 1} for {ttype!r}. Received: index={tindex!r}"
        )
    info = ClusterInfo(cluster, ttype, tindex)
    if strategy == "multi-worker":
        if "ps" in cluster:
            raise EmbedkitError("TF_CONFIG for --strategy multi-worker must not list \"ps\" tasks. Received: "
                                f"{len(cluster['ps'])} ps (use --strategy parameter-server)")
        if "worker" not in cluster:
            raise EmbedkitError(f"TF_CONFIG for --strategy multi-worker needs \"worker\" tasks. Received: {sorted(cluster)}")
    elif strategy == "parameter-server":
        missing = [r for r in ("chief", "worker", "ps") if r not in cluster]
        if missing:
            raise EmbedkitError(f"TF_CONFIG for --strategy parameter-server needs chief, worker and ps tasks. "
                                f"Received: no {', '.join(missing)}")
    return info


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
        from embedkit.tf_import import import_tensorflow
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
            raise _lost_peer(e) from None
        return np.asarray(self.strategy.experimental_local_results(out)[0].numpy()).max(axis=0)

    def check_same_corpus(self, digest: str, vocab_size: int, n_tokens: int) -> None:
        """Fail with one line unless every worker encoded the same corpus (same digest and vocabulary)."""
        h = int(hashlib.sha256(digest.encode()).hexdigest()[:14], 16)
        mine = np.array([h, -h, vocab_size, -vocab_size, n_tokens, -n_tokens], np.int64)
        got = self.agree_max(mine)
        if not np.array_equal(got[0::2], -got[1::2]):
            raise EmbedkitError(
                "All workers must read the same corpus with the same settings. Received: a different corpus digest "
                f"or vocabulary on some worker (this is worker {self.worker_index}, vocabulary {vocab_size})"
            )

    # -- input sharding -----------------------------------------------------------------------------------
    def shard(self, enc: Any) -> Any:
        """This worker's shard of an :class:`~embedkit.corpus.EncodedCorpus` (whole lines, balanced by tokens).

        The vocabulary (and its raw word count) stays the corpus's, so the learning-rate schedule, the
        subsampling and the noise distribution are those of the whole corpus.
        """
        self.check_same_corpus(enc.digest, len(enc.vocab), enc.n_tokens)
        lo, hi = shard_bounds(enc.sentence_ends, self.num_workers, self.worker_index)
        if self.num_workers == 1:
            return enc
        from embedkit.corpus import EncodedCorpus

        ends = enc.sentence_ends
        t_lo = int(ends[lo - 1]) if lo > 0 else 0
        t_hi = int(ends[hi - 1]) if hi > 0 else 0
        return EncodedCorpus(vocab=enc.vocab, ids=enc.ids[t_lo:t_hi], sentence_ends=ends[lo:hi] - t_lo,
                             digest=enc.digest)

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
    def prepare(self, model: Any) -> None:
        """Give each worker its own negative-sampling stream (same seed, offset by worker)."""
        model.seed = int(model.seed) + 1_000_003 * self.worker_index

    def fit_chunk(self, model: Any, batches: tuple[np.ndarray, ...], callback: Any = None) -> float:
        """Train ``model`` on one chunk's batches (as ``_Trainer.make_chunk`` makes them) on every replica.

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
                if callback is not None:
                    callback.on_train_batch_end(min(done * lr, n) - 1, {"loss": loss})
        except tf.errors.OpError as e:
            raise _lost_peer(e) from None
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


def _lost_peer(e: Exception) -> EmbedkitError:
    first = (getattr(e, "message", None) or str(e)).strip().splitlines()
    detail = first[0][:160] if first else type(e).__name__
    return EmbedkitError(
        "A worker was lost or stopped answering during distributed training: restart every worker with --resume "
        f"and the same --checkpoint-dir. Received: {type(e).__name__}: {detail}"
    )


def shard_bounds(sentence_ends: np.ndarray, num_workers: int, index: int) -> tuple[int, int]:
    """Sentence range ``[lo, hi)`` of worker ``index``: whole lines, about ``1/num_workers`` of the tokens each.

    >>> shard_bounds(np.array([2, 4, 6, 8]), 2, 1)
    (2, 4)
    """
    n = int(sentence_ends.size)
    if num_workers <= 1 or n == 0:
        return 0, n
    total = float(sentence_ends[-1])
    cuts = np.searchsorted(sentence_ends, np.arange(1, num_workers) * total / num_workers, side="left") + 1
    edges = [0] + np.minimum(cuts, n).tolist() + [n]
    return int(edges[index]), int(max(edges[index], edges[index + 1]))


def make_context(
    name: str = "default",
    *,
    collective_timeout: float | None = None,
    tf_config: str | None = None,
) -> DistributedContext | None:
    """Create the ``tf.distribute`` strategy called ``name`` (see :data:`STRATEGIES`); None for ``default``.

    Must run before any other TensorFlow work in the process (TensorFlow fixes the cluster at start-up).
    ``collective_timeout`` (seconds; default 120) bounds how long a training step waits for a peer, so a lost
    worker ends the run with an error instead of a hang.

    >>> make_context("default") is None
    True
    """
    if name not in STRATEGIES:
        raise EmbedkitError(f"`strategy` must be one of {', '.join(STRATEGIES)}. Received: strategy={name!r}")
    if collective_timeout is not None and not collective_timeout > 0:
        raise EmbedkitError(f"`collective_timeout` must be a positive number. Received: {collective_timeout!r}")
    timeout = float(collective_timeout or DEFAULT_COLLECTIVE_TIMEOUT)
    if name == "default":
        return None
    if name == "parameter-server":
        parse_tf_config(tf_config, strategy=name)
        raise EmbedkitError(
            "--strategy parameter-server is not supported by the Keras 3 CBOW trainer (Keras 3 fit has no "
            "ParameterServerStrategy path). Received: --strategy parameter-server; use multi-worker"
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if name == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
        return DistributedContext(name, strategy, collective_timeout=timeout)
    info = parse_tf_config(tf_config, strategy=name)
    if tf_config is not None:
        os.environ["TF_CONFIG"] = tf_config
    opts = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)
    with contextlib.redirect_stdout(None):
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=opts)
    return DistributedContext(name, strategy, worker_index=info.worker_index, num_workers=info.num_workers,
                              is_chief=info.is_chief, collective_timeout=timeout, cluster=info)


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
