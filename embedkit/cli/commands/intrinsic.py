"""CLI: ``evaluate`` (analogies + word-pair similarity), ``plot`` (2-D word map), ``export-projector``."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from embedkit.cli.base import command
from embedkit.cli.options import AnalogyMethodOpt


def _load(vectors: Optional[str]):  # type: ignore[no-untyped-def]
    from embedkit.vectors.catalog import resolve_vectors_path
    from embedkit.vectors.loading import load_vectors

    path = resolve_vectors_path(vectors)
    return load_vectors(path), path


@command("evaluate")
def evaluate(
    vectors: Annotated[Optional[str], typer.Argument(help="Vectors file, native directory or set name (default set if omitted).")] = None,
    analogies: Annotated[Optional[str], typer.Option("--analogies", help="questions-words style file (default: gensim's questions-words.txt; 'none' to skip).")] = None,
    pairs: Annotated[str, typer.Option("--pairs", help="Comma-separated: ws353, simlex999 or 'w1 w2 score' files ('none' to skip).")] = "ws353,simlex999",
    restrict_vocab: Annotated[int, typer.Option("--restrict-vocab", help="Only the first N words count (gensim's default 300000).")] = 300000,
    method: AnalogyMethodOpt = "3cosadd",
    case_sensitive: Annotated[bool, typer.Option("--case-sensitive", help="Do not upper-case words before lookup.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="NDJSON: one object per section, total and pairs file.")] = False,
) -> None:
    """Analogy accuracy (per section, semantic vs syntactic, OOV counted) and similarity correlations."""
    from embedkit.evaluate.intrinsic import evaluate_analogies, evaluate_word_pairs
    from embedkit.search.queries import ANALOGY_METHODS

    if restrict_vocab <= 0:
        raise typer.BadParameter(f"must be a positive integer. Received: {restrict_vocab}", param_hint="--restrict-vocab")
    if method not in ANALOGY_METHODS:
        raise typer.BadParameter(f"must be one of {', '.join(ANALOGY_METHODS)} (or add, mul). Received: {method!r}",
                                 param_hint="--method")
    pair_specs = [p.strip() for p in pairs.split(",") if p.strip() and p.strip().lower() != "none"]
    skip_analogies = analogies is not None and analogies.lower() == "none"
    if skip_analogies and not pair_specs:
        raise typer.BadParameter("nothing to evaluate. Received: --analogies none and --pairs none", param_hint="--pairs")
    wv, path = _load(vectors)
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
            typer.echo(json.dumps({"type": "analogy_total", "vectors": str(path), **d}))
        for pr in pair_results:
            typer.echo(json.dumps({"type": "pairs", "vectors": str(path), **pr.to_dict()}))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console()
    if result is not None:
        t = Table(title=f"Analogies · {method} · restrict {result.restrict_vocab:,} · {path}")
        for col, just in (("section", "left"), ("kind", "left"), ("correct", "right"), ("answered", "right"),
                          ("OOV", "right"), ("accuracy", "right")):
            t.add_column(col, justify=just)  # type: ignore[arg-type]
        for s in result.sections:
            t.add_row(s.name, "semantic" if s.semantic else "syntactic", str(s.correct), str(s.total), str(s.oov),
                      f"{100 * s.accuracy:.1f}%")
        t.add_section()
        for label, sem in (("semantic", True), ("syntactic", False)):
            secs = [s for s in result.sections if s.semantic == sem]
            c, n, o = sum(s.correct for s in secs), sum(s.total for s in secs), sum(s.oov for s in secs)
            t.add_row(f"[bold]{label}[/]", "", str(c), str(n), str(o), f"{100 * c / n:.1f}%" if n else "-")
        t.add_row("[bold]total[/]", "", str(result.correct), str(result.total), str(result.oov),
                  f"[bold]{100 * result.accuracy:.1f}%[/]")
        console.print(t)
        if result.oov:
            console.print(f"{result.oov} of {result.questions} questions ({result.oov_ratio:.1f}%) skipped: a word "
                          f"outside the first {result.restrict_vocab:,} words.", style="dim")
    if pair_results:
        t = Table(title="Word-pair similarity")
        for col in ("set", "spearman", "pearson", "pairs used", "OOV pairs"):
            t.add_column(col, justify="left" if col == "set" else "right")
        for pr in pair_results:
            t.add_row(pr.name, f"{pr.spearman:.4f}", f"{pr.pearson:.4f}", f"{pr.pairs_used}/{pr.pairs_total}",
                      f"{pr.oov} ({pr.oov_ratio:.1f}%)")
        console.print(t)


@command("plot")
def plot(
    vectors: Annotated[Optional[str], typer.Argument(help="Vectors file, native directory or set name (default set if omitted).")] = None,
    words: Annotated[Optional[str], typer.Option("--words", help="Comma-separated words, e.g. surf,waves,car,jeep.")] = None,
    top: Annotated[Optional[int], typer.Option("--top", help="Plot the N most frequent words instead (default 300).")] = None,
    method: Annotated[str, typer.Option("--method", help="pca | tsne")] = "pca",
    output: Annotated[str, typer.Option("-o", "--output", help="Image file (.png, .svg, .pdf).")] = "map.png",
    title: Annotated[Optional[str], typer.Option("--title", help="Title (default: method, word count and set name).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the words and 2-D coordinates as one JSON object.")] = False,
) -> None:
    """A labelled 2-D map (PCA or t-SNE) of chosen words or the most frequent ones."""
    from embedkit.evaluate.plots import PLOT_METHODS, plot_words

    if method not in PLOT_METHODS:
        raise typer.BadParameter(f"must be one of {', '.join(PLOT_METHODS)}. Received: {method!r}", param_hint="--method")
    if words is not None and top is not None:
        raise typer.BadParameter(f"use either --words or --top. Received: both (--top {top})", param_hint="--top")
    if top is not None and top <= 0:
        raise typer.BadParameter(f"must be a positive integer. Received: {top}", param_hint="--top")
    word_list = None if words is None else [w for w in words.split(",") if w.strip()]
    if word_list is not None and not word_list:
        raise typer.BadParameter(f"must list at least one word. Received: {words!r}", param_hint="--words")
    wv, path = _load(vectors)
    from pathlib import Path

    r = plot_words(wv, word_list, output, top=top, method=method, title=title, set_name=Path(path).name)
    if as_json:
        typer.echo(json.dumps(r.to_dict()))
    typer.echo(f"Wrote {r.path} ({r.width_px}x{r.height_px}, {len(r.words)} words, {method}).", err=True)


@command("export-projector")
def export_projector_cmd(
    vectors: Annotated[Optional[str], typer.Argument(help="Vectors file, native directory or set name (default set if omitted).")] = None,
    output: Annotated[str, typer.Option("-o", "--output", help="Directory for vectors.tsv, metadata.tsv, projector_config.pbtxt.")] = "projector",
    top: Annotated[int, typer.Option("--top", help="Export the N most frequent words (0 = all).")] = 10000,
) -> None:
    """Write TensorBoard embedding-projector files (open with `tensorboard --logdir DIR`)."""
    from embedkit.evaluate.projector import export_projector

    if top < 0:
        raise typer.BadParameter(f"must be 0 (all) or a positive integer. Received: {top}", param_hint="--top")
    wv, _ = _load(vectors)
    r = export_projector(wv, output, top=top or None)
    typer.echo(f"Wrote {r.rows} vectors of dim {r.dim} to {r.directory}/ ({', '.join(r.files)}); "
               f"view with: tensorboard --logdir {r.directory}", err=True)
