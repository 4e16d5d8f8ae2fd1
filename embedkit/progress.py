"""One progress story for the whole library: long calls report :class:`ProgressEvent` objects to a
:data:`ProgressCallback`; the command line draws them (rich bars live in ``embedkit.cli`` only).

A library function that runs for a while takes ``progress: ProgressCallback | bool | None``:

- ``None`` / ``False``: nothing is reported;
- a callable: it receives every event (``event.task``, ``event.stage``, ``event.completed`` / ``event.total``,
  ``event.fields``; ``event["loss"]`` reads a field);
- ``True``: events are logged to the ``embedkit.progress`` logger at INFO level (no drawing).

Messages meant for people (warnings, notes) go through ``logging.getLogger("embedkit....")``.

>>> seen = []
>>> with Reporter(seen.append, "copy", total=2, unit="files") as rep:
...     rep.advance(1)
...     rep.advance(1, name="b")
>>> [(e.stage, e.completed) for e in seen], seen[-1]["name"]
([('start', 0.0), ('update', 1.0), ('update', 2.0), ('end', 2.0)], 'b')
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Union

STAGES = ("start", "update", "end")

log = logging.getLogger("embedkit.progress")


@dataclass(frozen=True)
class ProgressEvent:
    """One report from a long-running call.

    Attributes:
        task: what is running (``"train"``, ``"index"``, ``"download"``, ``"eval"``, ``"eval.run"``, ...).
        stage: ``"start"``, ``"update"`` or ``"end"`` of that task.
        completed: units done so far.
        total: units in all (None when unknown).
        unit: what a unit is (``"words"``, ``"vectors"``, ``"bytes"``, ``"runs"``, ``"epochs"``).
        description: a short label for the task (e.g. ``"Building hnsw index"``).
        fields: task-specific values (``loss``, ``words_per_sec``, ``epoch``, ...); ``event[name]`` reads one.
        message: a line worth showing people even where no bar is drawn (a finished run, an epoch), or None.
    """

    task: str
    stage: str = "update"
    completed: float = 0.0
    total: float | None = None
    unit: str = ""
    description: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)
    message: str | None = None

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        """A field, or ``default``."""
        return self.fields.get(name, default)

    @property
    def fraction(self) -> float | None:
        """``completed / total`` (None when the total is unknown or zero)."""
        return self.completed / self.total if self.total else None


ProgressCallback = Callable[[ProgressEvent], None]
ProgressArg = Union[ProgressCallback, bool, None]


def log_progress(event: ProgressEvent) -> None:
    """A :data:`ProgressCallback` that logs starts, ends and messages to ``embedkit.progress`` (INFO)."""
    if event.message:
        log.info(event.message)
    elif event.stage in ("start", "end") and event.description:
        done = f" ({event.completed:g}/{event.total:g} {event.unit})".rstrip() if event.total else ""
        log.info("%s: %s%s", event.description, "started" if event.stage == "start" else "done", done)


def _ignore(event: ProgressEvent) -> None:
    return None


def as_callback(progress: ProgressArg) -> ProgressCallback:
    """The callback for a ``progress`` argument (see the module docstring).

    >>> as_callback(None)(ProgressEvent("x")) is None
    True
    """
    if progress is None or progress is False:
        return _ignore
    if progress is True:
        return log_progress
    if not callable(progress):
        from embedkit.errors import EmbedkitError

        raise EmbedkitError(
            f"`progress` must be a callable taking a ProgressEvent, True or None. Received: {type(progress).__name__}"
        )
    return progress


class Reporter:
    """Emits the events of one task: ``start``, throttled ``update`` s, ``end`` (also on error).

    Args:
        progress: what :func:`as_callback` accepts.
        task, total, unit, description: as in :class:`ProgressEvent`.
        min_interval: seconds between two ``update`` events (the last update before ``end`` always goes).
    """

    def __init__(
        self,
        progress: ProgressArg,
        task: str,
        *,
        total: float | None = None,
        unit: str = "",
        description: str = "",
        min_interval: float = 0.0,
    ) -> None:
        self.callback = as_callback(progress)
        self.task, self.total, self.unit, self.description = task, total, unit, description
        self.min_interval = min_interval
        self.completed = 0.0
        self.fields: dict[str, Any] = {}
        self._last = -float("inf")
        self._started = False

    @property
    def active(self) -> bool:
        """False when nobody listens (callers may skip computing fields)."""
        return self.callback is not _ignore

    def _emit(self, stage: str, message: str | None = None) -> None:
        self.callback(ProgressEvent(self.task, stage, self.completed, self.total, self.unit, self.description,
                                    dict(self.fields), message))

    def start(self, **fields: Any) -> Reporter:
        """Announce the task (idempotent)."""
        if not self._started:
            self._started = True
            self.fields.update(fields)
            self._emit("start")
        return self

    def update(self, completed: float | None = None, *, message: str | None = None, force: bool = False,
               description: str | None = None, total: float | None = None, **fields: Any) -> None:
        """Set the units done (and fields); emitted unless throttled (``message`` / ``force`` always emit)."""
        self.start()
        if completed is not None:
            self.completed = float(completed)
        if description is not None:
            self.description = description
        if total is not None:
            self.total = total
        self.fields.update(fields)
        now = time.monotonic()
        if message is None and not force and now - self._last < self.min_interval:
            return
        self._last = now
        self._emit("update", message)

    def advance(self, n: float = 1, **kwargs: Any) -> None:
        """Add ``n`` units done."""
        self.update(self.completed + n, **kwargs)

    def end(self, *, message: str | None = None, **fields: Any) -> None:
        """Announce the end of the task."""
        self.start()
        self.fields.update(fields)
        self._emit("end", message)

    def __enter__(self) -> Reporter:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if et is None:
            self.end()
        else:
            self.fields["error"] = et.__name__
            self._emit("end")

