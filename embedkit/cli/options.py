"""Options shared by several commands, declared once.

Single options are ``Annotated`` types (``VectorsOpt``, ``JsonOpt``, ...). A group of options that several
commands take together (the CBOW hyper-parameters of ``train-cbow`` and ``compare-gensim``) is an
:class:`OptionGroup`: ``@group.apply`` adds its parameters to a command's signature and hands the command one
object built from them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, Optional, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])

VectorsOpt = Annotated[
    Optional[str], typer.Option("--vectors", "-v", help="Vector set name or path (default: the default set).")
]
VectorsArg = Annotated[
    Optional[str],
    typer.Argument(help="Vectors file, native directory or set name (same as --vectors; default set if omitted)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="NDJSON on stdout: one object per result.")]
KOpt = Annotated[int, typer.Option("-k", "--k", help="How many results.")]
ExactOpt = Annotated[bool, typer.Option("--exact", help="Exact (brute-force) search.")]
ApproxOpt = Annotated[bool, typer.Option("--approx", help="Approximate search (HNSW, or IVF for huge sets).")]
RestrictOpt = Annotated[
    Optional[int], typer.Option("--restrict-vocab", help="Search only the first N (most frequent) words.")
]
OverwriteOpt = Annotated[
    bool, typer.Option("--overwrite", help="Replace an existing output that embedkit did not write (never a FIFO, "
                                           "a device, or a directory where a file is meant).")
]
AnalogyMethodOpt = Annotated[
    str, typer.Option("--method", help="3cosadd (alias add) or 3cosmul (alias mul).")
]


def usage_error(message: str, param_hint: str | None = None) -> typer.BadParameter:
    """A usage error (exit code 2) with the one-line message ``message``."""
    return typer.BadParameter(message, param_hint=param_hint)


def check_positive(value: int | None, hint: str, name: str | None = None) -> None:
    """A usage error unless ``value`` is None or a positive integer."""
    if value is not None and value <= 0:
        shown = f"{name}={value}" if name else str(value)
        raise usage_error(f"must be a positive integer. Received: {shown}", hint)


def pick_vectors(positional: str | None, option: str | None) -> str | None:
    """The vectors a command was given as its argument or as ``--vectors`` (not both)."""
    if positional is not None and option is not None and positional != option:
        raise usage_error(f"give the vectors once, as VECTORS or --vectors. Received: {positional!r} and {option!r}",
                          "--vectors")
    return option if option is not None else positional


class OptionGroup:
    """Parameters that several commands share, turned into one value by ``build(**values)``.

    Args:
        name: the keyword under which the command receives the built value.
        params: ``inspect.Parameter`` objects (keyword-only, ``Annotated`` typer options with defaults).
        build: makes the value from the parameters' values (it may raise ``EmbedkitError``).
    """

    def __init__(self, name: str, params: list[inspect.Parameter], build: Callable[..., Any]) -> None:
        self.name = name
        self.params = params
        self.build = build

    def apply(self, fn: F, *, exclude: tuple[str, ...] = (), defaults: dict[str, Any] | None = None,
              after: str | None = None) -> F:
        """``fn`` with this group's options added (minus ``exclude``); ``fn`` gets ``name=build(...)``.

        The options come last in ``--help``, or right after ``fn``'s parameter ``after`` (the parameters that
        follow it must then be keyword-only: put a ``*`` before them).
        """
        sig = inspect.signature(fn, eval_str=True)
        mine = [p.replace(default=(defaults or {}).get(p.name, p.default)) for p in self.params
                if p.name not in exclude]
        own = [p for p in sig.parameters.values() if p.name != self.name]
        if after is not None:
            at = [p.name for p in own].index(after) + 1
            own, mine = own[:at], [*mine, *own[at:]]
        names = {p.name for p in self.params if p.name not in exclude}

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
            kwargs[self.name] = self.build(**values)
            return fn(*args, **kwargs)

        wrapper.__signature__ = sig.replace(parameters=[*own, *mine])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in [*own, *mine]}
        del wrapper.__wrapped__  # typer must read the new signature, not fn's
        return wrapper  # type: ignore[return-value]


def option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    """One keyword-only parameter of an :class:`OptionGroup`."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
