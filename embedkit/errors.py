"""Error types raised by embedkit.

Every error embedkit raises for bad input is an :class:`EmbedkitError` whose message is one line that says
what was expected and what was received, keras-hub style::

    >>> raise EmbedkitError("`dim` must be a positive integer. Received: dim=-3")
    Traceback (most recent call last):
    ...
    embedkit.errors.EmbedkitError: `dim` must be a positive integer. Received: dim=-3

The CLI prints such messages on one line to stderr and exits with status 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from pathlib import Path


class EmbedkitError(ValueError):
    """Bad input or state that the user can fix; the message is a single line."""


class FormatError(EmbedkitError):
    """A vectors file is malformed (wrong value count, bad bytes, truncated, ...)."""


class UnknownWordError(EmbedkitError, KeyError):
    """A query word is not in the vocabulary."""

    def __init__(self, word: str, suggestions: list[str] | None = None) -> None:
        self.word = word
        self.suggestions = list(suggestions or [])
        msg = f"Word {word!r} is not in the vocabulary."
        if self.suggestions:
            msg += " Close matches: " + ", ".join(self.suggestions[:5]) + "."
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is a positive int, else raise a one-line :class:`EmbedkitError`.

    >>> check_positive_int("dim", 3)
    3
    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise EmbedkitError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value


def check_nonnegative_number(name: str, value: object) -> float:
    """Return ``value`` as float if it is a finite number >= 0, else raise :class:`EmbedkitError`."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise EmbedkitError(f"`{name}` must be a non-negative number. Received: {name}={value!r}")
    return float(value)


def check_positive_number(name: str, value: object) -> float:
    """Return ``value`` as float if it is a finite number > 0, else raise :class:`EmbedkitError`."""
    v = check_nonnegative_number(name, value) if not isinstance(value, bool) else None
    if v is None or v <= 0:
        raise EmbedkitError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return v


def check_input_file(path: object, what: str = "file") -> "Path":
    """``path`` as a ``Path`` if it names an existing regular file, else a one-line :class:`EmbedkitError`.

    >>> check_input_file("/nonexistent.txt", "vectors file")
    Traceback (most recent call last):
    ...
    embedkit.errors.EmbedkitError: Vectors file does not exist. Received: '/nonexistent.txt'
    """
    from pathlib import Path

    p = Path(path)  # type: ignore[arg-type]
    if p.is_dir():
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise EmbedkitError(f"Expected {article} {what}. Received: directory {str(p)!r}")
    if not p.exists():
        raise EmbedkitError(f"{what[0].upper() + what[1:]} does not exist. Received: {str(p)!r}")
    if not p.is_file():  # a FIFO would block the read forever, a device never ends: neither is a file
        import stat

        mode = p.stat().st_mode
        kind = "FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "device"
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise EmbedkitError(f"Expected {article} {what} (a regular file). Received: {kind} {str(p)!r}")
    return p


def run_script(main: "Callable[[], object]") -> None:
    """Run a script's ``main`` (the benchmarks in ``scripts/``): an :class:`EmbedkitError` ends it with its one-line
    message on stderr and exit status 1, as the CLI does, instead of a traceback; ``main``'s integer result is
    the exit status.

    >>> run_script(lambda: None)
    Traceback (most recent call last):
    ...
    SystemExit: 0
    """
    import sys

    try:
        code = main()
    except EmbedkitError as e:
        print(f"Error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else 0)
