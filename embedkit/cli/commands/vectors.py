"""CLI: ``convert``, ``info``, ``vectors list``, ``vectors set-default`` and ``vectors download``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from embedkit.cli.base import command, fail, handle_errors, vectors_app

FORMAT_HELP = "native | word2vec | word2vec-bin | glove"


@command("convert")
def convert(
    src: Annotated[str, typer.Argument(help="Input vectors: file, native directory or set name.")],
    dst: Annotated[str, typer.Argument(help="Output path (a directory for native), or a set name with --name.")],
    to: Annotated[str, typer.Option("--to", help=FORMAT_HELP)] = "native",
    from_format: Annotated[Optional[str], typer.Option("--from", help="Input format (default: detect).")] = None,
    encoding: Annotated[str, typer.Option(help="Encoding of the words in a text input.")] = "utf-8",
    skip_bad_lines: Annotated[bool, typer.Option("--skip-bad-lines", help="Skip malformed lines.")] = False,
    dtype: Annotated[str, typer.Option(help="float32 or float16 (native output).")] = "float32",
    precision: Annotated[Optional[int], typer.Option(help="Significant digits for text output.")] = None,
    as_name: Annotated[
        bool, typer.Option("--name", help="DST is a set name: write the native set into EMBEDKIT_HOME.")
    ] = False,
) -> None:
    """Convert vectors between formats (atomic: nothing is left behind on error or Ctrl-C)."""
    from embedkit.vectors.formats import FORMATS, read_vectors
    from embedkit.vectors.home import resolve_vectors_path

    if to not in FORMATS:
        fail(f"`--to` must be one of {', '.join(FORMATS)}. Received: --to {to!r}", code=2)
    if from_format is not None and from_format not in FORMATS:
        fail(f"`--from` must be one of {', '.join(FORMATS)}. Received: --from {from_format!r}", code=2)
    if as_name:
        from embedkit.vectors.home import is_set_name, set_path

        if to != "native":
            fail(f"`--name` writes a native set, so --to must be native. Received: --to {to!r}", code=2)
        if not is_set_name(dst):
            fail(f"With --name, DST must be letters, digits, '.', '_' or '-'. Received: {dst!r}", code=2)
        dst = str(set_path(dst))
    report: dict[str, int] = {}
    wv = read_vectors(
        resolve_vectors_path(src), format=from_format, encoding=encoding, skip_bad_lines=skip_bad_lines,
        report=report,
    )
    kwargs: dict[str, object] = {"dtype": dtype} if to == "native" else {"precision": precision}
    if to == "word2vec-bin":
        kwargs = {}
    wv.save(dst, format=to, **kwargs)
    notes = []
    if report.get("skipped_lines"):
        notes.append(f"skipped {report['skipped_lines']} bad lines")
    if report.get("duplicates"):
        notes.append(f"dropped {report['duplicates']} duplicate words (kept the first)")
    extra = f" ({'; '.join(notes)})" if notes else ""
    typer.echo(f"Wrote {len(wv)} vectors of dim {wv.dim} to {dst} as {to}{extra}.", err=True)


@command("info")
def info(
    vectors: Annotated[Optional[str], typer.Argument(help="Vectors file, native directory or set name.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    sample: Annotated[int, typer.Option(help="How many sample words to show.")] = 10,
) -> None:
    """Size, dimension, norms summary and sample words of a vector set."""
    from embedkit.vectors.home import resolve_vectors_path
    from embedkit.vectors.info import describe_path

    if sample < 0:
        fail(f"`--sample` must be a non-negative integer. Received: --sample {sample}", code=2)
    path = resolve_vectors_path(vectors)
    summary = describe_path(path, sample=sample)
    if as_json:
        typer.echo(json.dumps(summary))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{path}", show_header=False)
    for k, v in summary.items():
        table.add_row(k, ", ".join(v) if isinstance(v, list) else str(v))
    Console().print(table)


@vectors_app.command("list")
@handle_errors
def vectors_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Named vector sets in EMBEDKIT_HOME (* marks the default)."""
    from embedkit.vectors.formats.native import read_meta
    from embedkit.vectors.home import get_default, list_sets, vectors_dir
    from embedkit.vectors.named import KNOWN_SETS

    default = get_default()
    rows = []
    for name in list_sets():
        meta = read_meta(vectors_dir() / name)
        rows.append({"name": name, "default": name == default, "size": meta["size"], "dim": meta["dim"],
                     "source": meta.get("source"), "installed": True})
    for name in KNOWN_SETS:
        if name not in {r["name"] for r in rows}:
            rows.append({"name": name, "default": False, "size": None, "dim": KNOWN_SETS[name].dim,
                         "source": KNOWN_SETS[name].description, "installed": False})
    if as_json:
        for r in rows:
            typer.echo(json.dumps(r))
        return
    for r in rows:
        mark = "*" if r["default"] else " "
        size = f"{r['size']:>8}" if r["size"] is not None else "(not installed)"
        typer.echo(f"{mark} {r['name']:<24} {size} x {r['dim']:<4} {r['source'] or ''}")
    typer.echo(f"home: {vectors_dir()}", err=True)


@vectors_app.command("set-default")
@handle_errors
def vectors_set_default(name: Annotated[str, typer.Argument(help="A set in EMBEDKIT_HOME or a known set.")]) -> None:
    """Make NAME the vector set query commands use without --vectors (installs known sets)."""
    from embedkit.vectors.home import set_default

    set_default(name)
    typer.echo(f"Default vector set: {name}", err=True)


@vectors_app.command("download")
@handle_errors
def vectors_download(
    name: Annotated[str, typer.Argument(help="A known set, e.g. glove-6b-50d.")],
    force: Annotated[bool, typer.Option("--force", help="Download and reinstall even if installed.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Download NAME's official archive (checked, resumable) and install it into EMBEDKIT_HOME."""
    from embedkit.vectors.home import vectors_dir
    from embedkit.vectors.named import KNOWN_SETS, download_named_set

    if name not in KNOWN_SETS:
        fail(f"NAME must be one of {', '.join(KNOWN_SETS)}. Received: {name!r}", code=2)
    if (vectors_dir() / name / "meta.json").is_file() and not force:
        typer.echo(f"{name} is already installed in {vectors_dir() / name} (use --force to download again).", err=True)
        return
    path = download_named_set(name, progress=progress, force=force)
    typer.echo(f"Installed {name} in {path}", err=True)
