"""`TrainingMonitor`: each epoch's exact loss and speed, and progress events (task ``"train"``) while the trainer runs.

The loss of an epoch is the mean negative-sampling loss over all its examples (targets with some context; skip-gram:
pairs): steppers hand in each chunk's loss *sum* and example count, accumulated in float64 and reset at each epoch
(gensim's running loss is a float32 tally that stalls and is shared between threads: gensim #2735, #2743).

Events are :class:`embedkit.progress.ProgressEvent` objects with ``completed`` = the fraction of the run done
(``total`` 1.0) and the fields ``epoch``, ``epochs``, ``fraction``, ``words_per_sec`` (raw corpus words, as
gensim counts them), ``loss`` (the epoch's running mean) and ``eta_seconds`` (None until the first step). Updates
are throttled to one every 0.25 s, plus one at the end of each chunk; the end of each epoch is an event with a
``message`` (``"epoch 1/5: loss 2.3456, 123,456 words/s"``), so a log shows one line per epoch.

>>> seen = []
>>> with TrainingMonitor(seen.append, kept_words=100, raw_words=120, bounds=[0, 100], epochs=2,
...                      start=(0, 0)) as mon:
...     mon.begin_chunk(0, 0, n_batches=2)
...     mon.add_losses((10.0, 4.0)); mon.batch_end(1, None); logs = mon.end_epoch(0)
>>> logs["loss"], mon.losses["history"], seen[-2].message.split(",")[0], seen[-1].stage
(2.5, [2.5], 'epoch 1/2: loss 2.5000', 'end')
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
        losses: the loss sums of a resumed run (``{"sum", "weight", "n", "history"}``, as checkpoints save them).
    """

    def __init__(self, progress: ProgressArg, *, kept_words: int, raw_words: int, bounds: list[int], epochs: int,
                 start: tuple[int, int], losses: dict[str, Any] | None = None) -> None:
        self.reporter = Reporter(progress, "train", total=1.0, min_interval=REPORT_EVERY)
        self.losses: dict[str, Any] = {"sum": 0.0, "weight": 0.0, "n": 0, "history": []}
        self.losses.update(losses or {})
        self.kept_words, self.bounds, self.epochs = kept_words, bounds, epochs
        self.total_work = float(kept_words) * epochs
        self.scale = raw_words / max(kept_words, 1)
        self.words_start = start[0] * kept_words + bounds[min(start[1], len(bounds) - 1)]
        self.t_start = time.perf_counter()
        self.epoch_started = (self.t_start, self.words_start)
        self.epoch, self.chunk, self.batches = start[0], start[1], 1
        self.last_loss = 0.0
        self._last_update = -float("inf")

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

    def add_losses(self, sums: tuple[float, float]) -> None:
        """Add a chunk's (or a step's) loss sum and example count to the epoch's (float64)."""
        self.losses["sum"] += float(sums[0])
        self.losses["weight"] += float(sums[1])
        if sums[1]:
            self.last_loss = self.losses["sum"] / self.losses["weight"]

    def epoch_loss(self) -> float:
        """The epoch's mean loss so far: exact when steppers hand in sums, else the mean of the step losses."""
        if self.losses["weight"]:
            return float(self.losses["sum"] / self.losses["weight"])
        return float(self.losses.get("step_sum", 0.0) / max(self.losses["n"], 1))

    def wants_update(self) -> bool:
        """True when a progress event would be shown now (steppers skip reading losses otherwise)."""
        if not self.reporter.active:
            return False
        now = time.monotonic()
        if now - self._last_update < REPORT_EVERY:
            return False
        self._last_update = now
        return True

    def batch_end(self, batch: int, loss: float | None) -> None:
        """Step (or group) ``batch`` of the chunk is done; ``loss`` is a step's mean loss when the stepper has no
        sums to hand in (distributed runs), else None."""
        if loss is not None:
            self.losses["step_sum"] = self.losses.get("step_sum", 0.0) + loss
            self.losses["n"] += 1
            self.last_loss = loss if not self.losses["weight"] else self.last_loss
        if not self.reporter.active:
            return
        lo, hi = self.bounds[self.chunk], self.bounds[self.chunk + 1]
        batch = min(batch, self.batches - 1)
        kept_done = self.epoch * self.kept_words + lo + (hi - lo) * (batch + 1) / self.batches
        rate_kept = (kept_done - self.words_start) / max(time.perf_counter() - self.t_start, 1e-9)
        self.reporter.update(
            kept_done / self.total_work, force=batch >= self.batches - 1,
            epoch=self.epoch + 1, epochs=self.epochs, fraction=kept_done / self.total_work,
            words_per_sec=rate_kept * self.scale, loss=self.epoch_loss() if self.losses["weight"] else self.last_loss,
            eta_seconds=(self.total_work - kept_done) / max(rate_kept, 1e-9),
        )

    def end_epoch(self, epoch: int, report: bool = True) -> dict[str, float]:
        """Close the loss sum of ``epoch`` (0-based) and return its figures: ``loss`` (exact mean),
        ``words_per_sec`` (raw words of the epoch's part this run trained / seconds) and ``epoch_seconds``; the
        epoch's line is reported now, or by :meth:`report_epoch` when ``report`` is False."""
        mean = self.epoch_loss()
        self.losses["history"].append(mean)
        self.losses.update(sum=0.0, weight=0.0, n=0, step_sum=0.0)
        now = time.perf_counter()
        words_now = (epoch + 1) * self.kept_words
        t0, w0 = self.epoch_started
        seconds = max(now - t0, 1e-9)
        wps = (words_now - w0) * self.scale / seconds
        self.epoch_started = (now, words_now)
        logs = {"loss": mean, "words_per_sec": wps, "epoch_seconds": seconds}
        if report:
            self.report_epoch(epoch, logs)
        return logs

    def report_epoch(self, epoch: int, logs: dict[str, Any]) -> None:
        """The epoch's line: ``epoch 2/5: loss 2.1234, 812,345 words/s`` (and the scores callbacks added)."""
        if not self.reporter.active:
            return
        text = f"epoch {epoch + 1}/{self.epochs}: loss {logs['loss']:.4f}, {logs['words_per_sec']:,.0f} words/s"
        if "analogy_accuracy" in logs:
            text += f", analogy {100 * logs['analogy_accuracy']:.2f} %"
        for key in ("ws353", "simlex"):
            if key in logs:
                text += f", {key} {logs[key]:.3f}"
        self.reporter.update(message=text, epoch=epoch + 1, force=True)
