"""The three ways the trainer steps through one chunk of batches, chosen once per run by :func:`choose_stepper`.

- :class:`FitStepper`: Keras ``fit`` over the chunk (short runs: one compiled step is quick to build);
- :class:`GroupedStepper`: the model's ``train_group``, 8 or 16 steps unrolled in one XLA call (long runs,
  :func:`embedkit.train.batches.batches_per_call`), 1.4-1.7x faster per batch on CPU;
- :class:`DistributedStepper`: the strategy's own loop (``fit_chunk`` of
  :class:`embedkit.train.strategies.DistributedContext` or of the parameter-server context).

Each reports every step's (or group's) loss to a :class:`embedkit.train.monitor.TrainingMonitor`. This module
imports Keras and TensorFlow; only the trainer imports it, when it trains.

Example:
    stepper = choose_stepper(model, None, estimated_batches=500, pad_id=len(vocab))
    type(stepper).__name__
    'FitStepper'
"""

from __future__ import annotations

from typing import Any, Protocol

import keras
import numpy as np
import tensorflow as tf

from embedkit.train.batches import batches_per_call, group_batches
from embedkit.train.monitor import TrainingMonitor

Batches = tuple[np.ndarray, ...]


class ChunkStepper(Protocol):
    """Trains a model on one chunk's batches (``(span, window, target, negatives, alpha)``, leading axis: batch)."""

    def run(self, epoch: int, chunk: int, batches: Batches, n_real: int, monitor: TrainingMonitor) -> None:
        """Step through ``batches`` (``n_real`` real targets; 0: an empty chunk) and report each loss."""
        ...


class FitStepper:
    """Keras ``fit`` on a dataset whose elements are the chunk's batches (``steps_per_execution`` per call)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def run(self, epoch: int, chunk: int, batches: Batches, n_real: int, monitor: TrainingMonitor) -> None:
        monitor.begin_chunk(epoch, chunk, batches[0].shape[0])
        if not n_real:
            return
        ds = tf.data.Dataset.from_tensor_slices(batches)  # each element is one batch
        self.model.fit(ds, epochs=1, verbose=0, callbacks=[_LossCallback(monitor)], shuffle=False)


class GroupedStepper:
    """The model's ``train_group`` on groups of ``group`` batches (the last one padded), one XLA call each."""

    def __init__(self, model: Any, group: int, pad_id: int) -> None:
        self.group, self.pad_id = group, pad_id
        self.step = tf.function(model.train_group, jit_compile=True)

    def run(self, epoch: int, chunk: int, batches: Batches, n_real: int, monitor: TrainingMonitor) -> None:
        if not n_real:
            monitor.begin_chunk(epoch, chunk, batches[0].shape[0])
            return
        grouped = tuple(tf.constant(x) for x in group_batches(batches, self.group, pad_id=self.pad_id))
        n_groups = int(grouped[0].shape[0])
        monitor.begin_chunk(epoch, chunk, n_groups)
        for j in range(n_groups):
            logs = self.step(tuple(x[j] for x in grouped))
            monitor.batch_end(j, float(logs["loss"]))


class DistributedStepper:
    """The strategy's ``fit_chunk``: every worker steps, even through an empty chunk of its shard."""

    def __init__(self, model: Any, strategy: Any) -> None:
        self.model, self.strategy = model, strategy

    def run(self, epoch: int, chunk: int, batches: Batches, n_real: int, monitor: TrainingMonitor) -> None:
        monitor.begin_chunk(epoch, chunk, batches[0].shape[0])
        self.strategy.fit_chunk(self.model, batches, monitor)


def choose_stepper(model: Any, strategy: Any, estimated_batches: int, pad_id: int) -> ChunkStepper:
    """The stepper of a run: the strategy's loop when there is a strategy, else by the run's length."""
    if strategy is not None:
        return DistributedStepper(model, strategy)
    group = batches_per_call(estimated_batches)
    return GroupedStepper(model, group, pad_id) if group > 1 else FitStepper(model)


class _LossCallback(keras.callbacks.Callback):
    """Hands the loss of each ``fit`` call to the monitor."""

    def __init__(self, monitor: TrainingMonitor) -> None:
        super().__init__()
        self.monitor = monitor

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.monitor.batch_end(batch, float((logs or {}).get("loss", 0.0)))
