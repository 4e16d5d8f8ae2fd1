"""CLI: ``neighbours``, ``similarity``, ``analogy``, ``doesnt-match`` and ``index build``.

Nothing heavy is imported at module level: a one-off ``embedkit neighbours surf`` on a native set with a
built exact index loads neither FAISS nor TensorFlow (the exact index is a memory-mapped ``.npy``).
"""


import sys
from pathlib import Path
import time
from typing import Annotated, Any, Optional

import typer

from embedkit.cli.base import app, command, handle_errors
from embedkit.cli.options import (
    AnalogyMethodOpt,
    ApproxOpt,
    ExactOpt,
    JsonOpt,
    KOpt,
    RestrictOpt,
    VectorsOpt,
    check_positive,
    usage_error,
)
from embedkit.cli.output import RichProgress, emit_json_lines, note, print_table

index_app = typer.Typer(no_args_is_help=True, help="Build and check the FAISS index of a vector set.")
app.add_typer(index_app, name="index")


def _check_k(k: int, restrict_vocab: int | None = None) -> None:
    check_positive(k, "-k", "k")
    check_positive(restrict_vocab, "--restrict-vocab")


def _check_mode(exact: bool, approx: bool) -> None:
    if exact and approx:
        raise usage_error("use at most one of --exact and --approx. Received: both", "--exact")


def _index_progress() -> RichProgress:
    """Draws index builds (an IVF build shows its training step)."""
    return RichProgress(status={"index": lambda e: e.get("status") or ""})


def _read_batch(source: str) -> list[str]:
    """The query words of ``--batch`` (a file, or ``-`` for stdin): one per line, blank lines skipped."""
    from embedkit.errors import EmbedkitError

    name = "stdin" if source == "-" else repr(source)
    try:
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except IsADirectoryError:
        raise EmbedkitError(f"Expected a file of query words for --batch. Received: directory {name}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise EmbedkitError(
            f"Expected UTF-8 text, one query word per line, in --batch. Received: bytes {raw[e.start:e.end + 3]!r} "
            f"at byte {e.start} of {name}"
        ) from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _print_neighbours(title: str, label: str, results: list[Any]) -> None:
    print_table(title, ["#", "word", label], [[str(n.rank), n.word, f"{n.score:.4f}"] for n in results])


# -- commands ---------------------------------------------------------------------------------------------
@command("neighbours")
def neighbours_cmd(
    word: Annotated[Optional[str], typer.Argument(help="Query word (or use --batch).")] = None,
    k: KOpt = 10,
    vectors: VectorsOpt = None,
    exact: ExactOpt = False,
    approx: ApproxOpt = False,
    restrict_vocab: RestrictOpt = None,
    as_json: JsonOpt = False,
    batch: Annotated[
        Optional[str], typer.Option("--batch", help="File with one query word per line, or - for stdin.")
    ] = None,
) -> None:
    """Nearest words to WORD by cosine similarity (WORD itself excluded)."""
    _check_k(k, restrict_vocab)
    if (word is None) == (batch is None):
        raise usage_error("give either WORD or --batch FILE. Received: " + ("both" if word else "neither"), "WORD")
    from embedkit.search.queries import neighbours_batch, neighbours_of
    from embedkit.vectors.vector_set import open_vectors

    _check_mode(exact, approx)
    words = [word] if word is not None else _read_batch(batch or "-")
    vs = open_vectors(vectors)
    with _index_progress() as progress:
        if word is not None:
            results = [neighbours_of(vs, word, k, restrict_vocab=restrict_vocab, exact=exact, approx=approx,
                                     progress=progress)]
        else:
            wv = vs.require_words()
            index = vs.index(exact=exact, approx=approx, progress=progress)
            known = [w for w in words if w in wv.key_to_index]
            for w in words:
                if w not in wv.key_to_index:
                    suggestions = wv.suggest(w)
                    close = f" Close matches: {', '.join(suggestions)}." if suggestions else ""
                    note(f"Skipped: word {w!r} is not in the vocabulary.{close}")
            results = neighbours_batch(wv, known, k, restrict_vocab=restrict_vocab, index=index)
    if as_json:
        emit_json_lines(r for res in results for r in res.rows())
    elif word is None and not sys.stdout.isatty():  # a pipe: one table whose rows name their query
        sys.stdout.write("".join("\t".join(r) + "\n" for r in [["query", "#", "word", "cosine"]] + [
            [res.query, str(n.rank), n.word, f"{n.score:.4f}"] for res in results for n in res.neighbours]))
    else:
        for res in results:
            _print_neighbours(f"Neighbours of {res.query!r}", "cosine", res.neighbours)
    if word is None and len(results) != len(words):
        raise typer.Exit(1)


@command("similarity")
def similarity_cmd(
    word1: Annotated[str, typer.Argument(help="First word.")],
    word2: Annotated[str, typer.Argument(help="Second word.")],
    vectors: VectorsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cosine similarity of two words."""
    from embedkit.search.queries import similarity
    from embedkit.vectors.vector_set import open_vectors

    res = similarity(open_vectors(vectors).require_words(), word1, word2)
    if as_json:
        emit_json_lines([res.to_dict()])
    else:
        print_table("Similarity", ["word 1", "word 2", "cosine"], [[res.word1, res.word2, f"{res.similarity:.4f}"]])


@command("analogy")
def analogy_cmd(
    a: Annotated[str, typer.Argument(help="A (A is to B ...)")],
    b: Annotated[str, typer.Argument(help="B")],
    c: Annotated[str, typer.Argument(help="C (... as C is to ?)")],
    k: KOpt = 5,
    method: AnalogyMethodOpt = "add",
    vectors: VectorsOpt = None,
    exact: ExactOpt = False,
    approx: ApproxOpt = False,
    restrict_vocab: RestrictOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A is to B as C is to ? (e.g. `embedkit analogy man king woman` -> queen)."""
    _check_k(k, restrict_vocab)
    from embedkit.search.queries import ANALOGY_METHODS, analogy, word_ids
    from embedkit.vectors.vector_set import open_vectors

    if method not in ANALOGY_METHODS:
        raise usage_error(f"must be one of {', '.join(ANALOGY_METHODS)} (or add, mul). Received: {method!r}",
                          "--method")
    _check_mode(exact, approx)
    vs = open_vectors(vectors)
    wv = vs.require_words()
    word_ids(wv, [a, b, c])  # an unknown word fails before any index work
    with _index_progress() as progress:
        index = vs.index(exact=exact, approx=approx, progress=progress)
    res = analogy(wv, a, b, c, k, method=method, restrict_vocab=restrict_vocab, index=index)
    if as_json:
        emit_json_lines(res.rows())
    else:
        label = "cosine" if ANALOGY_METHODS.canonical(method) == "3cosadd" else "3CosMul"
        _print_neighbours(f"{a} : {b} :: {c} : ?", label, res.answers)


@command("doesnt-match")
def doesnt_match_cmd(
    words: Annotated[list[str], typer.Argument(help="Two or more words.")],
    vectors: VectorsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Which word fits least with the others (lowest cosine to their mean)."""
    from embedkit.search.queries import doesnt_match
    from embedkit.vectors.vector_set import open_vectors

    res = doesnt_match(open_vectors(vectors).require_words(), words)
    if as_json:
        emit_json_lines([res.to_dict()])
    else:
        rows = [[w, f"{s:.4f}", "<- odd one out" if w == res.odd_one_out else ""] for w, s in res.similarities.items()]
        print_table("Doesn't match", ["word", "cosine to mean", ""], rows)


@index_app.command("build")
@handle_errors
def index_build(
    vectors: VectorsOpt = None,
    kind: Annotated[str, typer.Option("--kind", help="auto | exact | hnsw | ivf (auto with --check-recall: the "
                                                     "approximate kind for the set's size)")] = "auto",
    check_recall: Annotated[
        bool, typer.Option("--check-recall", help="Measure recall@k against exact search on a sample.")
    ] = False,
    sample: Annotated[int, typer.Option("--sample", help="Queries for --check-recall.")] = 1000,
    k: KOpt = 10,
    as_json: JsonOpt = False,
) -> None:
    """(Re)build the index of a native vector set and save it beside the vectors."""
    from embedkit.search.vector_index import KINDS, index_path
    from embedkit.vectors.vector_set import open_vectors

    if kind != "auto" and kind not in KINDS:
        raise usage_error(f"must be auto or one of {', '.join(KINDS)}. Received: {kind!r}", "--kind")
    _check_k(k)
    check_positive(sample, "--sample")
    vs = open_vectors(vectors).require_native()
    chosen: str | None = None if kind == "auto" else kind
    if chosen is None and check_recall:  # recall is a property of an approximate index: check the one queries use
        from embedkit.search.vector_index import default_kind

        chosen = default_kind(vs.size, vs.dim, approx=True)
    t = time.perf_counter()
    with _index_progress() as progress:
        idx = vs.index(chosen, rebuild=True, progress=progress)
    info: dict[str, Any] = {"kind": idx.kind, "size": idx.ntotal, "dim": idx.dim, "params": idx.params,
                            "path": str(index_path(vs.path, idx.kind)), "build_s": round(time.perf_counter() - t, 3)}
    if check_recall:
        rep = idx.recall_at_k(vs.matrix, k=k, sample=sample)
        info.update(recall_at_k=rep.recall, k=k, sample=rep.sample, index_qps=round(rep.index_qps, 1),
                    exact_qps=round(rep.exact_qps, 1))
    if as_json:
        emit_json_lines([info])
        return
    note(f"Built {idx.kind} index of {idx.ntotal} vectors (dim {idx.dim}) in {info['build_s']} s: {info['path']}")
    if check_recall:
        typer.echo(f"recall@{k}: {info['recall_at_k']:.4f} (sample {info['sample']}, "
                   f"{info['index_qps']:.0f} vs exact {info['exact_qps']:.0f} queries/s)")
