"""CLI: ``intrinsic`` (alias ``evaluate``: analogies + word-pair similarity), ``plot`` (2-D word map),
``export-projector``.

Each takes the vectors as its argument or as ``--vectors`` (the default set when neither is given).
"""


import json
from typing import Annotated, Any, Optional

import typer

from embedkit.cli.base import command
from embedkit.cli.options import AnalogyMethodOpt, VectorsArg, VectorsOpt, check_positive, pick_vectors, usage_error


@command("intrinsic")
def intrinsic(
    vectors: VectorsArg = None,
    analogies: Annotated[Optional[str], typer.Option("--analogies", help="questions-words style file (default: gensim's questions-words.txt; 'none' to skip).")] = None,
    pairs: Annotated[str, typer.Option("--pairs", help="Comma-separated: ws353, simlex999 or 'w1 w2 score' files ('none' to skip).")] = "ws353,simlex999",
    restrict_vocab: Annotated[int, typer.Option("--restrict-vocab", help="Only the first N words count (gensim's default 300000).")] = 300000,
    method: AnalogyMethodOpt = "3cosadd",
    case_sensitive: Annotated[bool, typer.Option("--case-sensitive", help="Do not upper-case words before lookup.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="NDJSON: one object per section, total and pairs file.")] = False,
    vectors_option: VectorsOpt = None,
) -> None:
    """Analogy accuracy (per section, semantic vs syntactic, OOV counted) and similarity correlations."""
    from embedkit.evaluate.analogies import evaluate_analogies
    from embedkit.evaluate.word_pairs import evaluate_word_pairs
    from embedkit.search.queries import ANALOGY_METHODS
    from embedkit.vectors.vector_set import open_vectors

    spec = pick_vectors(vectors, vectors_option)
    check_positive(restrict_vocab, "--restrict-vocab")
    if method not in ANALOGY_METHODS:
        raise usage_error(f"must be one of {', '.join(ANALOGY_METHODS)} (or add, mul). Received: {method!r}", "--method")
    pair_specs = [p.strip() for p in pairs.split(",") if p.strip() and p.strip().lower() != "none"]
    skip_analogies = analogies is not None and analogies.lower() == "none"
    if skip_analogies and not pair_specs:
        raise usage_error("nothing to evaluate. Received: --analogies none and --pairs none", "--pairs")
    vs = open_vectors(spec)
    wv = vs.wv
    ci = not case_sensitive
    result = None
    if not skip_analogies:
        result = evaluate_analogies(wv, analogies, restrict_vocab=restrict_vocab, method=method, case_insensitive=ci)
    pair_results = [evaluate_word_pairs(wv, p, restrict_vocab=restrict_vocab, case_insensitive=ci) for p in pair_specs]

    if as_json:
        if result is not None:
            for s in result.sections:
                typer.echo(json.dumps({"type": "analogy_section", **s.to_dict()}))
            d = result.to_dict()
            d.pop("sections")
            typer.echo(json.dumps({"type": "analogy_total", "vectors": str(vs.path), **d}))
        for pr in pair_results:
            typer.echo(json.dumps({"type": "pairs", "vectors": str(vs.path), **pr.to_dict()}))
        return

    from rich.console import Console

    console = Console()
    if result is not None:
        console.print(_analogy_table(result, f"Analogies · {method} · restrict {result.restrict_vocab:,} · {vs.path}"))
        if result.oov:
            console.print(f"{result.oov} of {result.questions} questions ({result.oov_ratio:.1%}) skipped: a word "
                          f"outside the first {result.restrict_vocab:,} words.", style="dim")
    if pair_results:
        console.print(_pairs_table(pair_results))


# The old name: the same command, listed in --help as an alias.
command("evaluate", help=f"(alias of intrinsic) {intrinsic.__doc__}")(intrinsic)


def _analogy_table(result: Any, title: str) -> Any:
    from rich.table import Table

    t = Table(title=title)
    for col, just in (("section", "left"), ("kind", "left"), ("correct", "right"), ("answered", "right"),
                      ("OOV", "right"), ("accuracy", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for s in result.sections:
        t.add_row(s.name, "semantic" if s.semantic else "syntactic", str(s.correct), str(s.total), str(s.oov),
                  f"{100 * s.accuracy:.1f}%")
    t.add_section()
    for part in (result.part(True), result.part(False)):
        t.add_row(f"[bold]{part.name}[/]", "", str(part.correct), str(part.total), str(part.oov),
                  f"{100 * part.accuracy:.1f}%" if part.total else "-")
    t.add_row("[bold]total[/]", "", str(result.correct), str(result.total), str(result.oov),
              f"[bold]{100 * result.accuracy:.1f}%[/]")
    return t


def _pairs_table(pair_results: list[Any]) -> Any:
    from rich.table import Table

    t = Table(title="Word-pair similarity")
    for col in ("set", "spearman", "pearson", "pairs used", "OOV pairs"):
        t.add_column(col, justify="left" if col == "set" else "right")
    for pr in pair_results:
        t.add_row(pr.name, f"{pr.spearman:.4f}", f"{pr.pearson:.4f}", f"{pr.pairs_used}/{pr.pairs_total}",
                  f"{pr.oov} ({pr.oov_ratio:.1%})")
    return t


@command("plot")
def plot(
    vectors: VectorsArg = None,
    words: Annotated[Optional[str], typer.Option("--words", help="Comma-separated words, e.g. surf,waves,car,jeep.")] = None,
    top: Annotated[Optional[int], typer.Option("--top", help="Plot the N most frequent words instead (default 300).")] = None,
    method: Annotated[str, typer.Option("--method", help="pca | tsne")] = "pca",
    output: Annotated[str, typer.Option("-o", "--output", help="Image file (.png, .svg, .pdf).")] = "map.png",
    title: Annotated[Optional[str], typer.Option("--title", help="Title (default: method, word count and set name).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an output file embedkit did not write.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the words and 2-D coordinates as one JSON object.")] = False,
    vectors_option: VectorsOpt = None,
) -> None:
    """A labelled 2-D map (PCA or t-SNE) of chosen words or the most frequent ones."""
    from embedkit.cli.output import note
    from embedkit.evaluate.plots import PLOT_METHODS, plot_words
    from embedkit.files.outputs import claim_output, record_output
    from embedkit.vectors.vector_set import open_vectors

    spec = pick_vectors(vectors, vectors_option)
    if method not in PLOT_METHODS:
        raise usage_error(f"must be one of {', '.join(PLOT_METHODS)}. Received: {method!r}", "--method")
    if words is not None and top is not None:
        raise usage_error(f"use either --words or --top. Received: both (--top {top})", "--top")
    check_positive(top, "--top")
    word_list = None if words is None else [w for w in words.split(",") if w.strip()]
    if word_list is not None and not word_list:
        raise usage_error(f"must list at least one word. Received: {words!r}", "--words")
    claim_output(output, "file", overwrite=overwrite)  # before any work; never a folder, FIFO or device
    vs = open_vectors(spec)
    r = plot_words(vs.wv, word_list, output, top=top, method=method, title=title, set_name=vs.name)
    record_output(r.path)
    if as_json:
        typer.echo(json.dumps(r.to_dict()))
    note(f"Wrote {r.path} ({r.width_px}x{r.height_px}, {len(r.words)} words, {method}).")


@command("export-projector")
def export_projector_cmd(
    vectors: VectorsArg = None,
    output: Annotated[str, typer.Option("-o", "--output", help="Directory for vectors.tsv, metadata.tsv, projector_config.pbtxt.")] = "projector",
    top: Annotated[int, typer.Option("--top", help="Export the N most frequent words (0 = all).")] = 10000,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Write into a non-empty folder embedkit did not write.")] = False,
    vectors_option: VectorsOpt = None,
) -> None:
    """Write TensorBoard embedding-projector files (open with `tensorboard --logdir DIR`)."""
    from embedkit.cli.output import note
    from embedkit.evaluate.projector import claim_projector_dir, export_projector
    from embedkit.vectors.vector_set import open_vectors

    spec = pick_vectors(vectors, vectors_option)
    if top < 0:
        raise usage_error(f"must be 0 (all) or a positive integer. Received: {top}", "--top")
    claim_projector_dir(output, overwrite=overwrite)  # before any work
    r = export_projector(open_vectors(spec).wv, output, top=top or None, overwrite=overwrite)
    note(f"Wrote {r.rows} vectors of dim {r.dim} to {r.directory}/ ({', '.join(r.files)}); "
         f"view with: tensorboard --logdir {r.directory}")
