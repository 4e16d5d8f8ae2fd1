"""How commands show results and progress: rich tables on a terminal, tab-separated lines or NDJSON on a
pipe, :class:`RichProgress` for the library's progress events, and the stderr handler for its log lines.

The library never draws; it reports :class:`embedkit.progress.ProgressEvent` objects and logs through
``logging.getLogger("embedkit...")``. This module is the only place that turns those into output.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.progress import ProgressEvent



def emit_json_lines(rows: Iterable[Mapping[str, Any]], *, ensure_ascii: bool = False) -> None:
    """NDJSON on stdout: one object per line (``ensure_ascii`` escapes non-ASCII text, as ``json.dumps`` does)."""
    out = sys.stdout
    out.write("".join(json.dumps(r, ensure_ascii=ensure_ascii) + "\n" for r in rows))
    out.flush()


def is_number(text: str) -> bool:
    """True if ``text`` reads as a number (right-aligned in tables)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    """A rich table on a terminal; tab-separated lines (header first) when stdout is a pipe or file."""
    if not sys.stdout.isatty():
        sys.stdout.write("".join("\t".join(r) + "\n" for r in [columns, *rows]))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, c in enumerate(columns):
        table.add_column(c, justify="left" if i == 1 or not rows or not is_number(rows[0][i]) else "right")
    for r in rows:
        table.add_row(*r)
    Console(highlight=False).print(table)


def print_fields(title: str, fields: Mapping[str, Any]) -> None:
    """A two-column rich table (name, value; lists joined with commas) of one record, e.g. ``embedkit info``."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False)
    for k, v in fields.items():
        table.add_row(k, ", ".join(v) if isinstance(v, list) else str(v))
    Console().print(table)


def note(message: str) -> None:
    """One line for people on stderr."""
    typer.echo(message, err=True)


# -- progress -------------------------------------------------------------------------------------------------
StatusFn = Callable[["ProgressEvent"], str]


class RichProgress:
    """A :data:`~embedkit.progress.ProgressCallback` that draws one rich bar per task on stderr.

    On a terminal each task (``event.task``) gets a bar with its description, completion, a status text and the
    time left; elsewhere (a log file, CI) the events' ``message`` lines and each task's end are printed as plain
    lines, so a log is never silent. ``status`` maps a task name to a function that formats an event's fields.
    Use it as a context manager around the library call.

    Example:
        with RichProgress(status={"train": lambda e: f"loss {e['loss']:.3f}"}) as progress:
            train_cbow(files, config, progress=progress)
    """

    def __init__(self, status: Mapping[str, StatusFn] | None = None, *, bytes_tasks: Iterable[str] = ()) -> None:
        self._console: Any = None  # rich is imported on the first event: a call that reports nothing never loads it
        self.status = dict(status or {})
        self.bytes_tasks = set(bytes_tasks)
        self._progress: Any = None
        self._bars: dict[str, Any] = {}

    @property
    def console(self) -> Any:
        """The rich console on stderr (made on first use)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        return self._console

    @property
    def live(self) -> bool:
        """True when bars are drawn (stderr is a terminal)."""
        return bool(self.console.is_terminal)

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Stop drawing (bars stay on screen)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._bars.clear()

    def _bar(self, event: ProgressEvent) -> Any:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        if self._progress is None:
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"),
                TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=self.console, transient=False,
            )
            self._progress.start()
        if event.task not in self._bars:
            self._bars[event.task] = self._progress.add_task(
                event.description or event.task, total=event.total, count="", status=""
            )
        return self._bars[event.task]

    def _count(self, event: ProgressEvent) -> str:
        if event.task in self.bytes_tasks:
            done = f"{event.completed / 1e6:,.1f}"
            return f"{done}/{event.total / 1e6:,.1f} MB" if event.total else f"{done} MB"
        if event.total and event.unit in ("", "fraction"):
            return f"{100 * event.completed / event.total:5.1f}%"
        if event.total:
            return f"{event.completed:,.0f}/{event.total:,.0f} {event.unit}".rstrip()
        return f"{event.completed:,.0f} {event.unit}".rstrip()

    def __call__(self, event: ProgressEvent) -> None:
        status_fn = self.status.get(event.task)
        status = ""
        if status_fn is not None and event.fields:
            try:
                status = status_fn(event)
            except (KeyError, TypeError, ValueError):
                status = ""
        if not self.live:
            if event.message:
                typer.echo(event.message, err=True)
            elif event.stage == "end" and event.description and "error" not in event.fields:
                typer.echo(f"{event.description}: done" + (f" ({status})" if status else ""), err=True)
            return
        bar = self._bar(event)
        self._progress.update(bar, completed=event.completed, total=event.total, count=self._count(event),
                              status=status, description=event.description or event.task)
        if event.stage == "end" and event.total is not None:
            self._progress.update(bar, completed=event.total if "error" not in event.fields else event.completed)


# -- logging --------------------------------------------------------------------------------------------------
class _StderrHandler(logging.Handler):
    """Writes each record's message as one line to the *current* ``sys.stderr`` (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            typer.echo(self.format(record), err=True)
        except Exception:  # noqa: BLE001 - logging must never break a command
            self.handleError(record)


def configure_logging(verbose: bool = False) -> None:
    """Send the library's ``embedkit.*`` log lines (INFO and up; DEBUG with ``verbose``) to stderr, once."""
    logger = logging.getLogger("embedkit")
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
