"""CLI: ``convert``, ``info``, ``vectors list``, ``vectors set-default`` and ``vectors download``."""


from typing import Annotated, Optional

import typer

from embedkit.cli.base import command, fail, handle_errors, vectors_app
from embedkit.cli.options import VectorsArg, VectorsOpt, pick_vectors
from embedkit.cli.output import RichProgress, emit_json_lines, note, print_fields

FORMAT_HELP = "native | word2vec | word2vec-bin | glove"
FROM_HELP = "Input format: native | word2vec | word2vec-bin | glove | fasttext (default: detect)."


@command("convert")
def convert(
    src: Annotated[str, typer.Argument(help="Input vectors: file, native directory or set name.")],
    dst: Annotated[str, typer.Argument(help="Output path (a directory for native), or a set name with --name.")],
    to: Annotated[str, typer.Option("--to", help=FORMAT_HELP)] = "native",
    from_format: Annotated[Optional[str], typer.Option("--from", help=FROM_HELP)] = None,
    encoding: Annotated[str, typer.Option(help="Encoding of the words in a text input.")] = "utf-8",
    skip_bad_lines: Annotated[bool, typer.Option("--skip-bad-lines", help="Skip malformed lines.")] = False,
    dtype: Annotated[str, typer.Option(help="float32 or float16 (native output).")] = "float32",
    precision: Annotated[Optional[int], typer.Option(help="Significant digits for text output.")] = None,
    as_name: Annotated[
        bool, typer.Option("--name", help="DST is a set name: write the native set into EMBEDKIT_HOME.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing DST that embedkit did not write.")
    ] = False,
) -> None:
    """Convert vectors between formats (atomic: nothing is left behind on error or Ctrl-C).

    A fastText .bin becomes a native set that keeps its n-gram table, so out-of-vocabulary words get
    fastText's vectors in neighbours, similarity and embedding matrices.
    """
    from embedkit.vectors.convert import convert_vectors
    from embedkit.vectors.formats import FORMATS, writable_formats
    from embedkit.vectors.home import is_set_name, set_path
    from embedkit.vectors.vector_set import open_vectors

    if to not in writable_formats():
        fail(f"`--to` must be one of {', '.join(writable_formats())}. Received: --to {to!r}", code=2)
    if from_format is not None and from_format not in FORMATS:
        fail(f"`--from` must be one of {', '.join(FORMATS)}. Received: --from {from_format!r}", code=2)
    if dtype not in ("float32", "float16"):
        fail(f"`--dtype` must be float32 or float16. Received: --dtype {dtype!r}", code=2)
    if precision is not None and not 1 <= precision <= 17:
        fail(f"`--precision` must be an integer in 1..17. Received: --precision {precision}", code=2)
    if as_name:
        if to != "native":
            fail(f"`--name` writes a native set, so --to must be native. Received: --to {to!r}", code=2)
        if not is_set_name(dst):
            fail(f"With --name, DST must be letters, digits, '.', '_' or '-'. Received: {dst!r}", code=2)
        dst = str(set_path(dst))
    res = convert_vectors(open_vectors(src).path, dst, to=to, from_format=from_format, encoding=encoding,
                          skip_bad_lines=skip_bad_lines, dtype=dtype, precision=precision, overwrite=overwrite)
    notes = []
    if res.skipped_lines:
        notes.append(f"skipped {res.skipped_lines} bad lines")
    if res.duplicates:
        notes.append(f"dropped {res.duplicates} duplicate words (kept the first)")
    if res.subwords:
        notes.append(f"kept the fastText n-gram table ({res.subwords} buckets)")
    extra = f" ({'; '.join(notes)})" if notes else ""
    note(f"Wrote {res.size} vectors of dim {res.dim} to {dst} as {to}{extra}.")


@command("info")
def info(
    vectors: VectorsArg = None,
    vectors_opt: VectorsOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    sample: Annotated[int, typer.Option(help="How many sample words to show.")] = 10,
) -> None:
    """Size, dimension, norms summary and sample words of a vector set (VECTORS or --vectors)."""
    from embedkit.vectors.info import describe_set
    from embedkit.vectors.vector_set import open_vectors

    if sample < 0:
        fail(f"`--sample` must be a non-negative integer. Received: --sample {sample}", code=2)
    vs = open_vectors(pick_vectors(vectors, vectors_opt))
    summary = describe_set(vs, sample=sample)
    if as_json:
        emit_json_lines([summary], ensure_ascii=True)
        return
    print_fields(f"{vs.path}", summary)


@vectors_app.command("list")
@handle_errors
def vectors_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Named vector sets in EMBEDKIT_HOME (* marks the default)."""
    from embedkit.vectors.catalog import list_vector_sets
    from embedkit.vectors.home import vectors_dir

    rows = [e.to_dict() for e in list_vector_sets()]
    if as_json:
        emit_json_lines(rows, ensure_ascii=True)
        return
    for r in rows:
        mark = "*" if r["default"] else " "
        size = f"{r['size']:>8}" if r["size"] is not None else "(not installed)"
        typer.echo(f"{mark} {r['name']:<24} {size} x {r['dim']:<4} {r['source'] or ''}")
    note(f"home: {vectors_dir()}")


@vectors_app.command("set-default")
@handle_errors
def vectors_set_default(name: Annotated[str, typer.Argument(help="A set in EMBEDKIT_HOME or a known set.")]) -> None:
    """Make NAME the vector set query commands use without --vectors (installs known sets)."""
    from embedkit.vectors.catalog import make_default

    make_default(name)
    note(f"Default vector set: {name}")


@vectors_app.command("download")
@handle_errors
def vectors_download(
    name: Annotated[str, typer.Argument(help="A known set, e.g. glove-6b-50d.")],
    force: Annotated[bool, typer.Option("--force", help="Download and reinstall even if installed.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Download NAME's official archive (checked, resumable) and install it into EMBEDKIT_HOME."""
    from embedkit.vectors.home import is_installed, set_path
    from embedkit.vectors.named import KNOWN_SETS, download_named_set

    if name not in KNOWN_SETS:
        fail(f"NAME must be one of {', '.join(KNOWN_SETS)}. Received: {name!r}", code=2)
    if is_installed(name) and not force:
        note(f"{name} is already installed in {set_path(name)} (use --force to download again).")
        return
    bars = RichProgress(bytes_tasks={"download"}) if progress else None
    try:
        path = download_named_set(name, progress=bars, force=force)
    finally:
        if bars is not None:
            bars.close()
    note(f"Installed {name} in {path}")
