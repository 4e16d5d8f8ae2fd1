"""CLI: ``coverage``: how well a vector set covers a vocabulary or a text sample (no TensorFlow needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from embedkit.cli.base import command


def _read_texts(path: str) -> list[str]:
    p = Path(path)
    if not p.is_file():
        from embedkit.errors import EmbedkitError

        raise EmbedkitError(f"Texts file does not exist. Received: {path!r}")
    if p.suffix == ".gz":
        import gzip

        with gzip.open(p, "rt", encoding="utf-8", errors="replace") as fh:
            return fh.read().splitlines()
    return p.read_text(encoding="utf-8", errors="replace").splitlines()


@command("coverage")
def coverage(
    vectors: Annotated[Optional[str], typer.Option(
        "--vectors", "-v", help="Vectors file, native directory or set name (default set if omitted).")] = None,
    vocab: Annotated[Optional[str], typer.Option(
        "--vocab", help="Vocabulary file: one token per line (optional count column) or JSON list/word_index.")] = None,
    texts: Annotated[Optional[str], typer.Option(
        "--texts", help="Text file (.gz ok): builds a frequency vocabulary, or counts tokens for --vocab.")] = None,
    max_tokens: Annotated[Optional[int], typer.Option(
        "--max-tokens", help="Vocabulary size cut-off for --texts (like TextVectorization's max_tokens).")] = None,
    top: Annotated[int, typer.Option("--top", help="How many missing words to list.")] = 20,
    oov: Annotated[str, typer.Option(
        "--oov", help="random | zeros | mean | fail (fail: exit 1 if any word is missing).")] = "zeros",
    lowercase: Annotated[bool, typer.Option("--lowercase/--no-lowercase", help="Lowercase fallback.")] = True,
    normalise: Annotated[bool, typer.Option("--normalise/--no-normalise", help="Accent/punctuation fallback.")] = True,
    subword: Annotated[bool, typer.Option("--subword/--no-subword", help="Subword composition fallback.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
) -> None:
    """Coverage of a vocabulary by a vector set: types/tokens covered, fallbacks used, top missing words."""
    if vocab is None and texts is None:
        raise typer.BadParameter("give --vocab FILE or --texts FILE (or both). Received: neither", param_hint="--vocab")
    if max_tokens is not None and max_tokens < 3:
        raise typer.BadParameter(f"must be an integer >= 3. Received: {max_tokens}", param_hint="--max-tokens")
    if oov not in ("random", "zeros", "mean", "fail"):
        raise typer.BadParameter(f"must be one of random, zeros, mean, fail. Received: {oov!r}", param_hint="--oov")
    if top < 0:
        raise typer.BadParameter(f"must be a non-negative integer. Received: {top}", param_hint="--top")
    from embedkit.vectors.catalog import resolve_vectors_path
    from embedkit.vectors.loading import load_vectors
    from embedkit.matrix.builder import build_embedding_matrix
    from embedkit.matrix.adapters import read_vocab_file, vocab_from_texts

    lines = _read_texts(texts) if texts is not None else None
    counts = None
    if vocab is not None:
        voc, counts = read_vocab_file(vocab)
    else:
        voc, counts = vocab_from_texts(lines or [], max_tokens=max_tokens)
        lines = None  # counts already come from the texts
    path = resolve_vectors_path(vectors)
    wv = load_vectors(path)
    em = build_embedding_matrix(
        voc, wv, oov=oov, seed=0, counts=counts, texts=lines, lowercase_fallback=lowercase,
        normalise_fallback=normalise, subword_fallback=subword, top_missing=top,
    )
    rep = em.coverage
    if as_json:
        d = rep.to_dict()
        d["vectors"] = str(path)
        typer.echo(json.dumps(d))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    summary = Table(title=f"Coverage of {rep.lookup_types} words by {path}", show_header=False)
    summary.add_row("vocabulary rows", f"{rep.vocab_size} ({rep.by_fallback['padding']} padding, "
                                       f"{rep.by_fallback['special']} special)")
    summary.add_row("types covered", f"{rep.types_covered} / {rep.lookup_types} ({rep.type_coverage:.2%})")
    if rep.tokens_total is not None:
        cov = f"{rep.token_coverage:.2%}" if rep.token_coverage is not None else "n/a"
        summary.add_row("tokens covered", f"{rep.tokens_covered} / {rep.tokens_total} ({cov})")
    for step in ("exact", "lowercase", "normalised", "subword", "initialised"):
        summary.add_row(f"  {step}", str(rep.by_fallback[step]))
    console.print(summary)
    if rep.missing:
        missing = Table(title=f"Most frequent missing words (top {len(rep.missing)})")
        missing.add_column("word")
        missing.add_column("count", justify="right")
        for tok, c in rep.missing:
            missing.add_row(Text(tok), "-" if c is None else str(c))
        console.print(missing)
