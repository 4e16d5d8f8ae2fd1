"""CLI: ``coverage``: how well a vector set covers a vocabulary or a text sample (no TensorFlow needed)."""


import json
from typing import Annotated, Optional

import typer

from embedkit.cli.base import command
from embedkit.cli.options import VectorsOpt, usage_error


@command("coverage")
def coverage(
    vectors: VectorsOpt = None,
    vocab: Annotated[Optional[str], typer.Option(
        "--vocab", help="Vocabulary file: one token per line (optional count column) or JSON list/word_index.")] = None,
    texts: Annotated[Optional[str], typer.Option(
        "--texts", help="Text file (.gz ok): builds a frequency vocabulary, or counts tokens for --vocab.")] = None,
    encoding: Annotated[Optional[str], typer.Option(
        "--encoding", help="Fallback encoding of --texts (tried after UTF-8; cp1252 and latin-1 follow).")] = None,
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
    from embedkit.matrix.adapters import read_text_lines, read_vocab_file, vocab_from_texts
    from embedkit.matrix.builder import OOV_STRATEGIES, build_embedding_matrix
    from embedkit.vectors.vector_set import open_vectors

    if vocab is None and texts is None:
        raise usage_error("give --vocab FILE or --texts FILE (or both). Received: neither", "--vocab")
    if max_tokens is not None and max_tokens < 3:
        raise usage_error(f"must be an integer >= 3. Received: {max_tokens}", "--max-tokens")
    if oov not in OOV_STRATEGIES:
        raise usage_error(f"must be one of {', '.join(OOV_STRATEGIES)}. Received: {oov!r}", "--oov")
    if top < 0:
        raise usage_error(f"must be a non-negative integer. Received: {top}", "--top")

    lines = read_text_lines(texts, encoding) if texts is not None else None
    counts = None
    if vocab is not None:
        voc, counts = read_vocab_file(vocab)
    else:
        voc, counts = vocab_from_texts(lines or [], max_tokens=max_tokens)
        lines = None  # counts already come from the texts
    vs = open_vectors(vectors)
    em = build_embedding_matrix(
        voc, vs.wv, oov=oov, seed=0, counts=counts, texts=lines, lowercase_fallback=lowercase,
        normalise_fallback=normalise, subword_fallback=subword, top_missing=top,
    )
    rep = em.coverage
    if as_json:
        d = rep.to_dict()
        d["vectors"] = str(vs.path)
        typer.echo(json.dumps(d))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    summary = Table(title=f"Coverage of {rep.lookup_types} words by {vs.path}", show_header=False)
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
