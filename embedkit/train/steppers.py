"""The ways the trainer steps through one chunk of batches, chosen once per run by :func:`choose_stepper`.

- :class:`GroupedStepper`: one thread; the model's ``train_group``, ``group`` batch steps unrolled in one XLA
  call (1 for short runs, whose compile must be quick; 8 or 16 for long ones,
  :func:`embedkit.train.batches.batches_per_call`). Deterministic: with one TensorFlow thread two runs are
  bit-identical.
- :class:`ThreadedStepper`: several threads step disjoint batches of a chunk at once on the same tables,
  Hogwild-style as gensim's workers. XLA holds a lock on every variable a compiled call touches, so each step is
  cut in three: the rows are gathered outside XLA (a shared lock), the arithmetic is one XLA call that touches no
  variable, and the row deltas are added by a short XLA call per step (the only time a table is locked).
- :class:`NativeStepper`: the native kernel (:mod:`embedkit.train.native`, ``CBOWConfig.kernel``): each call steps a
  group of batches example by example in place on the tables, as gensim's inner loop; several threads at once
  (Hogwild) for long runs, one (deterministic) otherwise.
- :class:`DistributedStepper`: the strategy's own loop (``fit_chunk`` of
  :class:`embedkit.train.strategies.DistributedContext` or of the parameter-server context).

Each reports the exact loss sum and example count of every chunk to a
:class:`embedkit.train.monitor.TrainingMonitor`. :meth:`prepare` turns a chunk's numpy batches into what
:meth:`run` steps through; the trainer calls it in the background thread that makes the batches. This module
imports Keras and TensorFlow; only the trainer imports it, when it trains.

Example:
    stepper = choose_stepper(model, None, estimated_batches=500, pad_id=len(vocab), threads=1)
    type(stepper).__name__
    'GroupedStepper'
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np
import tensorflow as tf

from embedkit.train.batches import batches_per_call, group_batches
from embedkit.train.monitor import TrainingMonitor

Batches = tuple[np.ndarray, ...]

THREADED_GROUP = 4
"""Batch steps per call of a :class:`ThreadedStepper` thread (each call is one graph function: Python stays out
of the loop; more per call gained nothing measurable on mixed-en)."""
NATIVE_GROUP = 8
"""Batches per call of the native kernel (a call costs tens of microseconds; a batch about a millisecond)."""
MIN_THREADED_BATCHES = 200
"""Runs shorter than this many batches step in one thread (starting threads costs more than it gains)."""


class ChunkStepper(Protocol):
    """Trains a model on one chunk's batches (``(span, window, target, negatives, alpha)``, leading axis: batch)."""

    def prepare(self, batches: Batches) -> Any:
        """What :meth:`run` steps through (called in the batch-making thread)."""
        ...

    def run(self, epoch: int, chunk: int, prepared: Any, n_real: int, monitor: TrainingMonitor) -> None:
        """Step through a prepared chunk (``n_real`` real targets; 0: an empty chunk) and report its loss."""
        ...


class GroupedStepper:
    """The model's ``train_group`` on groups of ``group`` batches (the last one padded), one XLA call each."""

    def __init__(self, model: Any, group: int, pad_id: int) -> None:
        self.group, self.pad_id = group, pad_id
        self.step = tf.function(model.train_group, jit_compile=True)

    def prepare(self, batches: Batches) -> list[tuple[Any, ...]]:
        return _group_tensors(batches, self.group, self.pad_id)

    def run(self, epoch: int, chunk: int, prepared: Any, n_real: int, monitor: TrainingMonitor) -> None:
        monitor.begin_chunk(epoch, chunk, len(prepared))
        if not n_real:
            return
        sums = []
        for j, data in enumerate(prepared):
            out = self.step(data)
            sums.append((out["loss_sum"], out["weight"]))
            if monitor.wants_update():  # reading the losses waits for the step: only when an event is due
                monitor.add_losses(_sum64(sums))
                sums = []
                monitor.batch_end(j, None)
        monitor.add_losses(_sum64(sums))
        monitor.batch_end(len(prepared) - 1, None)


class ThreadedStepper:
    """``threads`` threads step the groups of a chunk (thread ``k`` takes groups ``k, k + threads, ...``).

    A thread's call runs ``group`` batches, each as: gather the rows it reads (``ResourceGather``, outside XLA),
    compute the update in XLA from those rows (no variable inside, so the threads never wait for each other here),
    and add the deltas in a short XLA call on both tables. A step may read rows that another thread is about to
    change (Hogwild, as gensim's worker threads): runs are not bit-reproducible; use one thread for that. The ids
    a batch reads are computed on the host, and a group's batches come as one tensor per array, sliced in the graph.
    """

    def __init__(self, model: Any, threads: int, group: int, pad_id: int) -> None:
        self.model, self.threads, self.group, self.pad_id = model, threads, group, pad_id
        tin, tout = model.input_table(), model.output_table()
        math = tf.function(model.batch_deltas, jit_compile=True)
        apply = tf.function(model.apply_deltas, jit_compile=True)

        def run_group(data: Any) -> Any:
            out_ids, arrays, alphas = data  # the group's tensors, leading axis: its batches (sliced in the graph)
            total, weight = tf.constant(0.0), tf.constant(0.0)
            for i in range(group):
                batch = tuple(a[i] for a in arrays)
                in_ids = batch[0]
                up = math(tin.sparse_read(in_ids), tout.sparse_read(out_ids[i]), batch, alphas[i])
                apply(in_ids, up["in_delta"], out_ids[i], up["out_delta"])
                total += up["loss_sum"]
                weight += up["weight"]
            return total, weight

        self.step = tf.function(run_group)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="embedkit-step")

    def prepare(self, batches: Batches) -> list[Any]:
        grouped = group_batches(batches, self.group, pad_id=self.pad_id)
        *arrays, alpha = grouped
        if self.model.sg:  # (context, target, neg, live)
            out_ids = np.concatenate([arrays[1][..., None], arrays[2]], axis=-1)
        else:  # (span, window, target, neg)
            out_ids = np.concatenate([arrays[2][..., None], arrays[3]], axis=-1)
        out_ids = out_ids.reshape(out_ids.shape[:2] + (-1,))
        const = tf.constant  # one tensor per array and group (a tensor per batch cost 7 host calls a batch)
        return [(const(out_ids[j]), tuple(const(a[j]) for a in arrays), const(alpha[j]))
                for j in range(alpha.shape[0])]

    def run(self, epoch: int, chunk: int, prepared: Any, n_real: int, monitor: TrainingMonitor) -> None:
        monitor.begin_chunk(epoch, chunk, len(prepared))
        if not n_real:
            return
        monitor.add_losses(_sum64(_step_in_threads(self.pool, self.threads, prepared, self.step, monitor)))
        self.model.step_counter.assign_add(len(prepared) * self.group)
        monitor.batch_end(len(prepared) - 1, None)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


class NativeStepper:
    """The native kernel (:mod:`embedkit.train.native`): each call steps ``group`` batches example by example, as
    gensim's inner loop, on the model's tables in place.

    With ``threads`` > 1, thread ``k`` takes groups ``k, k + threads, ...`` at once on the same tables (Hogwild, as
    gensim's workers: not bit-reproducible); with one thread a run is deterministic.
    """

    def __init__(self, model: Any, threads: int, group: int, pad_id: int) -> None:
        from embedkit.train.native import load_word2vec_ops

        self.model, self.threads, self.group, self.pad_id = model, threads, group, pad_id
        ops = load_word2vec_ops()
        tin, tout = model.input_table(), model.output_table()
        if model.sg:
            def steps(context: Any, target: Any, neg: Any, live: Any, alpha: Any) -> Any:
                return ops.embedkit_sg_steps(tin.handle, tout.handle, context, target, neg, live, alpha)
        else:
            window, cbow_mean = model.window, model.cbow_mean

            def steps(span: Any, in_window: Any, target: Any, neg: Any, alpha: Any) -> Any:
                return ops.embedkit_cbow_steps(tin.handle, tout.handle, span, in_window, target, neg, alpha,
                                               window=window, cbow_mean=cbow_mean)
        # Called eagerly: the op runs in the calling thread with the GIL released. Through a tf.function each call
        # went to TensorFlow's executor threads, whose wake-ups and spinning cost a third more time (mixed-en,
        # two threads: CBOW 4.2 -> 3.1 s, skip-gram 19.0 -> 13.2 s an epoch).
        self.step = steps
        self.pool = (concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="embedkit-step")
                     if threads > 1 else None)

    def prepare(self, batches: Batches) -> list[tuple[Any, ...]]:
        return _group_tensors(batches, self.group, self.pad_id)

    def run(self, epoch: int, chunk: int, prepared: Any, n_real: int, monitor: TrainingMonitor) -> None:
        monitor.begin_chunk(epoch, chunk, len(prepared))
        if not n_real:
            return
        if self.pool is None:
            sums = []
            for j, data in enumerate(prepared):
                sums.append(self.step(*data))
                if monitor.wants_update():
                    monitor.add_losses(_sum_native(sums))
                    sums = []
                    monitor.batch_end(j, None)
            monitor.add_losses(_sum_native(sums))
        else:
            results = _step_in_threads(self.pool, self.threads, prepared, lambda data: self.step(*data), monitor)
            monitor.add_losses(_sum_native(results))
        self.model.step_counter.assign_add(len(prepared) * self.group)
        monitor.batch_end(len(prepared) - 1, None)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)


class DistributedStepper:
    """The strategy's ``fit_chunk``: every worker steps, even through an empty chunk of its shard."""

    def __init__(self, model: Any, strategy: Any) -> None:
        self.model, self.strategy = model, strategy

    def prepare(self, batches: Batches) -> Batches:
        return batches

    def run(self, epoch: int, chunk: int, prepared: Any, n_real: int, monitor: TrainingMonitor) -> None:
        monitor.begin_chunk(epoch, chunk, prepared[0].shape[0])
        self.strategy.fit_chunk(self.model, prepared, monitor)


def choose_stepper(model: Any, strategy: Any, estimated_batches: int, pad_id: int, threads: int = 1,
                   kernel: str = "xla") -> ChunkStepper:
    """The stepper of a run: the strategy's loop when there is a strategy; the native kernel (``kernel="native"``,
    :class:`NativeStepper`); else ``threads`` (> 1) Hogwild threads for runs of at least
    :data:`MIN_THREADED_BATCHES` batches, or one thread unrolled by the run's length. Runs shorter than
    :data:`MIN_THREADED_BATCHES` batches step in one thread either way."""
    if strategy is not None:
        return DistributedStepper(model, strategy)
    if kernel == "native":
        return NativeStepper(model, threads if estimated_batches >= MIN_THREADED_BATCHES else 1, NATIVE_GROUP, pad_id)
    if threads > 1 and estimated_batches >= MIN_THREADED_BATCHES:
        return ThreadedStepper(model, threads, THREADED_GROUP, pad_id)
    return GroupedStepper(model, batches_per_call(estimated_batches), pad_id)


@contextlib.contextmanager
def reused_buffers() -> Iterator[None]:
    """Keep freed memory in the process while training (glibc ``mallopt``), restoring glibc's defaults after.

    Each step allocates megabytes of temporaries; with glibc's defaults every such buffer is a fresh ``mmap``
    whose pages the kernel zeroes on first touch, and page faults take a lock that threads share: measured on
    mixed-en with two threads, 1.9 ms per batch and one busy core, against 1.0 ms per batch and 1.7 cores with
    buffers reused. A no-op where the C library is not glibc.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        yield
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 1 << 30)
    mallopt(m_trim_threshold, 1 << 31)
    try:
        yield
    finally:
        mallopt(m_mmap_threshold, 128 * 1024)  # glibc's defaults
        mallopt(m_trim_threshold, 128 * 1024)
        libc.malloc_trim(0)


def _group_tensors(batches: Batches, group: int, pad_id: int) -> list[tuple[Any, ...]]:
    """A chunk's batches as groups of ``group`` (:func:`~embedkit.train.batches.group_batches`), one tensor per array
    and group."""
    grouped = group_batches(batches, group, pad_id=pad_id)
    return [tuple(tf.constant(x[j]) for x in grouped) for j in range(grouped[0].shape[0])]


def _step_in_threads(pool: concurrent.futures.ThreadPoolExecutor, threads: int, prepared: list[Any],
                     step: Any, monitor: TrainingMonitor) -> list[Any]:
    """``step`` on every item of ``prepared``, thread ``k`` of ``threads`` taking items ``k, k + threads, ...``; reports
    progress while they run and returns the results (a thread's error is raised here)."""
    done = [0]
    lock = threading.Lock()

    def work(k: int) -> list[Any]:
        out = []
        for j in range(k, len(prepared), threads):
            out.append(step(prepared[j]))
            with lock:
                done[0] += 1
        return out

    futures = [pool.submit(work, k) for k in range(min(threads, len(prepared)))]
    pending = set(futures)
    while pending:
        finished, pending = concurrent.futures.wait(pending, timeout=0.25)
        for f in finished:
            f.result()  # a thread's error ends the run here
        if pending and monitor.wants_update():
            monitor.batch_end(max(done[0] - 1, 0), None)
    return [r for f in futures for r in f.result()]


def _sum64(pairs: list[tuple[Any, Any]]) -> tuple[float, float]:
    """The float64 sums of ``(loss_sum, weight)`` tensors (one device-to-host read per chunk)."""
    if not pairs:
        return 0.0, 0.0
    arr = np.array([[float(a), float(b)] for a, b in pairs], dtype=np.float64)
    return float(arr[:, 0].sum()), float(arr[:, 1].sum())


def _sum_native(results: list[Any]) -> tuple[float, float]:
    """The float64 sums of the native kernel's ``[loss sum, examples]`` results."""
    if not results:
        return 0.0, 0.0
    total = np.sum([r.numpy() for r in results], axis=0, dtype=np.float64)
    return float(total[0]), float(total[1])
