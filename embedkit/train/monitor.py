"""`TrainingMonitor`: each epoch's mean loss, and progress events (task ``"train"``) while the trainer runs.

Events are :class:`embedkit.progress.ProgressEvent` objects with ``completed`` = the fraction of the run done
(``total`` 1.0) and the fields ``epoch``, ``epochs``, ``fraction``, ``words_per_sec`` (raw corpus words, as
gensim counts them), ``loss`` (the last step's) and ``eta_seconds`` (None until the first step). Updates are
throttled to one every 0.25 s, plus one at the end of each chunk; the end of each epoch is an event with a
``message`` (``"epoch 1/5: loss 2.3456, 123,456 words/s"``), so a log shows one line per epoch.

>>> seen = []
>>> with TrainingMonitor(seen.append, kept_words=100, raw_words=120, bounds=[0, 100], epochs=2,
...                      start=(0, 0)) as mon:
...     mon.begin_chunk(0, 0, n_batches=2)
...     mon.batch_end(0, 3.0); mon.batch_end(1, 2.0); mon.end_epoch(0)
>>> seen[-3]["fraction"], mon.losses["history"], seen[-2].message.split(",")[0], seen[-1].stage
(0.5, [2.5], 'epoch 1/2: loss 2.5000', 'end')
"""

from __future__ import annotations

import time
from typing import Any

from embedkit.progress import ProgressArg, Reporter

REPORT_EVERY = 0.25  # seconds between two progress events inside a chunk


class TrainingMonitor:
    """Sums the loss of each epoch and reports the run's progress.

    Args:
        progress: a :data:`~embedkit.progress.ProgressCallback`, True (log) or None.
        kept_words: tokens of one epoch that are in the vocabulary (what the learning rate decays over).
        raw_words: tokens of one epoch before ``min_count`` (for gensim-comparable words/s).
        bounds: the chunk bounds (token offsets) of an epoch.
        epochs: epochs of the whole run.
        start: ``(epoch, chunk)`` this run starts at (later than ``(0, 0)`` on resume).
        losses: the loss sums of a resumed run (``{"sum", "n", "history"}``, as checkpoints save them).
    """

    def __init__(self, progress: ProgressArg, *, kept_words: int, raw_words: int, bounds: list[int], epochs: int,
                 start: tuple[int, int], losses: dict[str, Any] | None = None) -> None:
        self.reporter = Reporter(progress, "train", total=1.0, min_interval=REPORT_EVERY)
        self.losses: dict[str, Any] = losses if losses is not None else {"sum": 0.0, "n": 0, "history": []}
        self.kept_words, self.bounds, self.epochs = kept_words, bounds, epochs
        self.total_work = float(kept_words) * epochs
        self.scale = raw_words / max(kept_words, 1)
        self.words_start = start[0] * kept_words + bounds[min(start[1], len(bounds) - 1)]
        self.t_start = time.perf_counter()
        self.epoch, self.chunk, self.batches = start[0], start[1], 1

    def __enter__(self) -> TrainingMonitor:
        """Announce the run (its first event)."""
        self.reporter.start(epoch=min(self.epoch, self.epochs - 1) + 1, epochs=self.epochs,
                            fraction=self.words_start / max(self.total_work, 1.0), words_per_sec=0.0, loss=0.0,
                            eta_seconds=None)
        return self

    def __exit__(self, *exc: Any) -> None:
        """Announce the end of the run (with the error's name when it failed)."""
        self.reporter.__exit__(*exc)

    def begin_chunk(self, epoch: int, chunk: int, n_batches: int) -> None:
        """A chunk of ``n_batches`` steps (or groups of steps) starts."""
        self.epoch, self.chunk = epoch, chunk
        self.batches = max(1, n_batches)

    def batch_end(self, batch: int, loss: float) -> None:
        """Step (or group) ``batch`` of the chunk is done with ``loss``."""
        self.losses["sum"] += loss
        self.losses["n"] += 1
        if not self.reporter.active:
            return
        lo, hi = self.bounds[self.chunk], self.bounds[self.chunk + 1]
        # Keras fit names the last step of a call (steps_per_execution) even past the end of the data.
        batch = min(batch, self.batches - 1)
        kept_done = self.epoch * self.kept_words + lo + (hi - lo) * (batch + 1) / self.batches
        rate_kept = (kept_done - self.words_start) / max(time.perf_counter() - self.t_start, 1e-9)
        self.reporter.update(
            kept_done / self.total_work, force=batch >= self.batches - 1,
            epoch=self.epoch + 1, epochs=self.epochs, fraction=kept_done / self.total_work,
            words_per_sec=rate_kept * self.scale, loss=loss,
            eta_seconds=(self.total_work - kept_done) / max(rate_kept, 1e-9),
        )

    def end_epoch(self, epoch: int) -> None:
        """Close the loss sum of ``epoch`` (0-based) and report the epoch's line."""
        mean = self.losses["sum"] / max(self.losses["n"], 1)
        self.losses["history"].append(mean)
        self.losses["sum"], self.losses["n"] = 0.0, 0
        if self.reporter.active:
            wps = float(self.reporter.fields.get("words_per_sec") or 0.0)
            self.reporter.update(message=f"epoch {epoch + 1}/{self.epochs}: loss {mean:.4f}, {wps:,.0f} words/s",
                                 epoch=epoch + 1)
