"""The Typer app object, error handling shared by all commands, and command registration."""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from typer.core import TyperGroup


class OneLineErrorsGroup(TyperGroup):
    """The root command group: a usage error is one ``Error: ...`` line on stderr and exit code 2, with no
    usage block; other click errors keep their exit codes and are one line too."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except typer.Abort as e:
            if isinstance(e.__cause__, EOFError):
                typer.echo("Error: Unexpected end of input. Received: a truncated file or stream", err=True)
            else:
                typer.echo("Interrupted.", err=True)
            sys.exit(1)
        except typer.TyperException as e:  # click's errors (typer vendors click): usage errors exit 2
            message = e.format_message() if hasattr(e, "format_message") else str(e)
            if type(e).__name__ == "NoArgsIsHelpError":  # bare `embedkit`: the help text, as before
                typer.echo(message, err=True)
            else:
                message = " ".join(message.split())
                if "Received" not in message:  # click's own messages say what is wrong, not what was given
                    import shlex

                    given = kwargs.get("args", args[0] if args else None)
                    given = sys.argv[1:] if given is None else list(given)
                    message = f"{message.rstrip('.')}. Received: embedkit {shlex.join(given)}".rstrip()
                typer.echo(f"Error: {message}", err=True)
            sys.exit(getattr(e, "exit_code", 2))
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=OneLineErrorsGroup,
    name="embedkit",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain click errors: one line, no boxes
    pretty_exceptions_enable=False,
    help="Word embeddings: train CBOW in Keras, convert GloVe/word2vec, search with FAISS, evaluate.",
    context_settings={"help_option_names": ["-h", "--help"]},
)



def _version(value: bool) -> None:
    if value:
        from embedkit import __version__

        typer.echo(f"embedkit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", help="Also show the library's debug log lines."),
) -> None:
    """Word embeddings: train CBOW in Keras, convert GloVe/word2vec, search with FAISS, evaluate."""
    from embedkit.cli.output import configure_logging

    configure_logging(verbose)


vectors_app = typer.Typer(no_args_is_help=True, help="List named vector sets and choose the default one.")
app.add_typer(vectors_app, name="vectors")

# Modules that define commands on `app`; each is imported once by `register_all`.
COMMAND_MODULES = [
    "embedkit.cli.commands.vectors",
    "embedkit.cli.commands.train",
    "embedkit.cli.commands.search",
    "embedkit.cli.commands.matrix",
    "embedkit.cli.commands.intrinsic",
    "embedkit.cli.commands.downstream",
    "embedkit.cli.commands.scale",
    "embedkit.cli.commands.serve",
]

_registered = False


def register_all() -> None:
    """Import every command module (idempotent); modules not written yet are skipped."""
    global _registered
    if _registered:
        return
    for mod in COMMAND_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise
    _registered = True


F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 1) -> None:
    """Print one line to stderr and exit with ``code``."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Turn library errors into one stderr line and exit code 1 (Ctrl-C: 130), never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from embedkit.errors import EmbedkitError

        # typer's own exits and usage errors (BadParameter, ...) are not caught here and keep their codes.
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except EmbedkitError as e:
            fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
        except KeyboardInterrupt:
            typer.echo("Interrupted: nothing was written.", err=True)
            raise typer.Exit(130) from None
        except FileNotFoundError as e:
            fail(f"File not found. Received: {e.filename!r}")
        except IsADirectoryError as e:
            fail(f"Expected a file. Received: directory {e.filename!r}")
        except PermissionError as e:
            fail(f"Permission denied. Received: {e.filename!r}")
        except BrokenPipeError:  # e.g. `| head`: the reader has what it wanted
            try:
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more to flush to the closed pipe
            except OSError:
                pass
            raise typer.Exit(0) from None
        except OSError as e:
            fail(f"{e.strerror or e}. Received: {getattr(e, 'filename', None)!r}")
        except MemoryError:
            fail("Out of memory. Received: an input too large for this machine")
        except UnicodeDecodeError as e:
            fail(f"Expected {e.encoding} text (see --encoding where a command has it). "
                 f"Received: bytes {e.object[e.start:e.end + 3]!r} at byte {e.start}")
        except EOFError:
            fail("Unexpected end of input. Received: a truncated file or stream")
        except Exception as e:  # noqa: BLE001 - the last line of defence: one line, details with --verbose
            import logging

            logging.getLogger("embedkit.cli").debug("internal error", exc_info=True)
            fail(f"Internal error ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); please report "
                 f"it with the command. Received: run with --verbose for the traceback")

    return wrapper  # type: ignore[return-value]


def command(*args: Any, **kwargs: Any) -> Callable[[F], F]:
    """``@command("name")``: register a function on the main app with error handling."""

    def deco(fn: F) -> F:
        app.command(*args, **kwargs)(handle_errors(fn))
        return fn

    return deco
