"""CLI: ``neighbours``, ``similarity``, ``analogy``, ``doesnt-match`` and ``index build``.

Nothing heavy is imported at module level: a one-off ``embedkit neighbours surf`` on a native set with a
built exact index loads neither FAISS nor TensorFlow (the exact index is a memory-mapped ``.npy``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from embedkit.cli.base import app, command, handle_errors
from embedkit.cli.options import AnalogyMethodOpt

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.search.vector_index import VectorIndex
    from embedkit.vectors.word_vectors import WordVectors

index_app = typer.Typer(no_args_is_help=True, help="Build and check the FAISS index of a vector set.")
app.add_typer(index_app, name="index")

VectorsOpt = Annotated[
    Optional[str], typer.Option("--vectors", "-v", help="Vector set name or path (default: the default set).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="NDJSON on stdout: one object per result.")]
KOpt = Annotated[int, typer.Option("-k", "--k", help="How many results.")]
ExactOpt = Annotated[bool, typer.Option("--exact", help="Exact (brute-force) search.")]
ApproxOpt = Annotated[bool, typer.Option("--approx", help="Approximate search (HNSW, or IVF for huge sets).")]
RestrictOpt = Annotated[
    Optional[int], typer.Option("--restrict-vocab", help="Search only the first N (most frequent) words.")
]


# -- shared plumbing ----------------------------------------------------------------------------------------
def _check_k(k: int, restrict_vocab: int | None = None) -> None:
    if k <= 0:
        raise typer.BadParameter(f"must be a positive integer. Received: k={k}", param_hint="-k")
    if restrict_vocab is not None and restrict_vocab <= 0:
        raise typer.BadParameter(f"must be a positive integer. Received: {restrict_vocab}", param_hint="--restrict-vocab")


def _open(spec: str | None) -> tuple[WordVectors, Path]:
    """Resolve ``--vectors`` and open the set (memory-mapped when native)."""
    from embedkit.vectors.home import resolve_vectors_path

    path = resolve_vectors_path(spec)
    if path.is_dir():
        from embedkit.vectors.formats.native import read_native

        wv = read_native(path)
    else:
        from embedkit.vectors.loading import load_vectors

        wv = load_vectors(path)
    if len(wv) == 0:
        from embedkit.errors import EmbedkitError

        raise EmbedkitError(f"Expected a vector set with at least one word. Received: an empty vocabulary in {path}")
    return wv, path


def _check_mode(exact: bool, approx: bool) -> None:
    if exact and approx:
        raise typer.BadParameter("use at most one of --exact and --approx. Received: both", param_hint="--exact")


def _index(wv: WordVectors, path: Path, exact: bool, approx: bool) -> VectorIndex:
    """The persisted index of a native set (built on first use), or an in-memory one for a file."""
    from embedkit.search.vector_index import VectorIndex, default_kind

    kind = default_kind(len(wv), wv.dim, approx=True if approx else (False if exact else None))
    if path.is_dir():
        return VectorIndex.for_vectors(path, kind, wv=wv, progress=True)
    typer.echo(
        f"Note: {path} is not a native set, so its index is built in memory each time; "
        "`embedkit convert` it to native to keep the index.",
        err=True,
    )
    return VectorIndex.build(wv, kind, progress=True)


def _emit_rows(rows: list[dict[str, Any]]) -> None:
    out = sys.stdout
    out.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    out.flush()


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    """A rich table on a terminal; tab-separated lines (header first) when stdout is a pipe or file."""
    if not sys.stdout.isatty():
        sys.stdout.write("".join("\t".join(r) + "\n" for r in [columns, *rows]))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, c in enumerate(columns):
        table.add_column(c, justify="left" if i == 1 or not rows or not _numeric(rows[0][i]) else "right")
    for r in rows:
        table.add_row(*r)
    Console(highlight=False).print(table)


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_batch(source: str) -> list[str]:
    if source == "-":
        text = sys.stdin.read()
    else:
        with open(source, encoding="utf-8") as fh:
            text = fh.read()
    return [line.strip() for line in text.splitlines() if line.strip()]


class _RawVocab:
    """A native set's ``vocab.txt`` kept as bytes: the row of a word and the word of a row without parsing
    every line (what a one-word query needs; parsing 400k lines would dominate its start-up)."""

    def __init__(self, path: Path) -> None:
        import numpy as np

        self.raw = (path / "vocab.txt").read_bytes()
        self.ends = np.flatnonzero(np.frombuffer(self.raw, np.uint8) == 10)

    def __len__(self) -> int:
        return len(self.ends)

    def row(self, word: str) -> int | None:
        """Row of ``word``, or None if it is not in the vocabulary."""
        import numpy as np

        if "\t" in word or "\n" in word or not word:
            return None
        needle = word.encode("utf-8") + b"\t"
        if self.raw.startswith(needle):
            return 0
        pos = self.raw.find(b"\n" + needle)
        return None if pos < 0 else int(np.searchsorted(self.ends, pos)) + 1

    def __getitem__(self, i: int) -> str:
        start = 0 if i == 0 else int(self.ends[i - 1]) + 1
        return self.raw[start : int(self.ends[i])].rpartition(b"\t")[0].decode("utf-8")


def _neighbours_native(
    path: Path, word: str, k: int, restrict_vocab: int | None, exact: bool, approx: bool
) -> Any:
    """Neighbours of one word in a native set, touching only the rows it needs; None means "use the
    general path" (unknown word: that path raises the error with close matches)."""
    import numpy as np

    from embedkit.errors import EmbedkitError, FormatError, check_positive_int
    from embedkit.vectors.formats.native import read_meta
    from embedkit.search.vector_index import VectorIndex, default_kind
    from embedkit.search.queries import NeighboursResult, to_neighbours

    meta = read_meta(path)
    size, dim = int(meta["size"]), int(meta["dim"])
    if size == 0:
        raise EmbedkitError(f"Expected a vector set with at least one word. Received: an empty vocabulary in {path}")
    if restrict_vocab is not None:
        check_positive_int("restrict_vocab", restrict_vocab)
    vocab = _RawVocab(path)
    row = vocab.row(word) if len(vocab) == size else None
    if row is None:
        return None
    vecs = np.load(path / "vectors.npy", mmap_mode="r", allow_pickle=False)
    if vecs.shape != (size, dim):
        raise FormatError(f"vectors.npy must have shape ({size}, {dim}) as meta.json says. Received: {vecs.shape}")
    kind = default_kind(size, dim, approx=True if approx else (False if exact else None))
    index = VectorIndex.for_vectors(path, kind, progress=True)
    scores, ids = index.search(np.asarray(vecs[row], np.float32)[None, :], k, restrict_vocab=restrict_vocab,
                               exclude=[{row}])
    return NeighboursResult(word, to_neighbours(vocab, scores[0], ids[0]))  # type: ignore[arg-type]


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
        raise typer.BadParameter("give either WORD or --batch FILE. Received: " + ("both" if word else "neither"),
                                 param_hint="WORD")
    from embedkit.vectors.home import resolve_vectors_path
    from embedkit.search.queries import neighbours, neighbours_batch, word_ids

    _check_mode(exact, approx)
    words = [word] if word is not None else _read_batch(batch or "-")
    path = resolve_vectors_path(vectors)
    fast = _neighbours_native(path, word, k, restrict_vocab, exact, approx) if word and path.is_dir() else None
    if fast is not None:
        results = [fast]
    else:
        wv, path = _open(str(path))
        if word is not None:
            word_ids(wv, [word])  # an unknown word fails before any index work
        index = _index(wv, path, exact, approx)
        if word is not None:
            results = [neighbours(wv, word, k, restrict_vocab=restrict_vocab, index=index)]
        else:
            known = [w for w in words if w in wv.key_to_index]
            for w in words:
                if w not in wv.key_to_index:
                    typer.echo(f"Skipped: word {w!r} is not in the vocabulary.", err=True)
            results = neighbours_batch(wv, known, k, restrict_vocab=restrict_vocab, index=index)
    if as_json:
        _emit_rows([r for res in results for r in res.rows()])
    else:
        for res in results:
            _table(f"Neighbours of {res.query!r}", ["#", "word", "cosine"],
                   [[str(n.rank), n.word, f"{n.score:.4f}"] for n in res.neighbours])
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

    wv, _ = _open(vectors)
    res = similarity(wv, word1, word2)
    if as_json:
        _emit_rows([res.to_dict()])
    else:
        _table("Similarity", ["word 1", "word 2", "cosine"], [[res.word1, res.word2, f"{res.similarity:.4f}"]])


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

    if method not in ANALOGY_METHODS:
        raise typer.BadParameter(f"must be one of {', '.join(ANALOGY_METHODS)} (or add, mul). Received: {method!r}",
                                 param_hint="--method")

    _check_mode(exact, approx)
    wv, path = _open(vectors)
    word_ids(wv, [a, b, c])
    index = _index(wv, path, exact, approx)
    res = analogy(wv, a, b, c, k, method=method, restrict_vocab=restrict_vocab, index=index)
    if as_json:
        _emit_rows(res.rows())
    else:
        label = "cosine" if ANALOGY_METHODS.canonical(method) == "3cosadd" else "3CosMul"
        _table(f"{a} : {b} :: {c} : ?", ["#", "word", label],
               [[str(n.rank), n.word, f"{n.score:.4f}"] for n in res.answers])


@command("doesnt-match")
def doesnt_match_cmd(
    words: Annotated[list[str], typer.Argument(help="Two or more words.")],
    vectors: VectorsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Which word fits least with the others (lowest cosine to their mean)."""
    from embedkit.search.queries import doesnt_match

    wv, _ = _open(vectors)
    res = doesnt_match(wv, words)
    if as_json:
        _emit_rows([res.to_dict()])
    else:
        rows = [[w, f"{s:.4f}", "<- odd one out" if w == res.odd_one_out else ""] for w, s in res.similarities.items()]
        _table("Doesn't match", ["word", "cosine to mean", ""], rows)


@index_app.command("build")
@handle_errors
def index_build(
    vectors: VectorsOpt = None,
    kind: Annotated[str, typer.Option("--kind", help="auto | exact | hnsw | ivf")] = "auto",
    check_recall: Annotated[
        bool, typer.Option("--check-recall", help="Measure recall@k against exact search on a sample.")
    ] = False,
    sample: Annotated[int, typer.Option("--sample", help="Queries for --check-recall.")] = 1000,
    k: KOpt = 10,
    as_json: JsonOpt = False,
) -> None:
    """(Re)build the index of a native vector set and save it beside the vectors."""
    from embedkit.search.vector_index import KINDS

    if kind != "auto" and kind not in KINDS:
        raise typer.BadParameter(f"must be auto or one of {', '.join(KINDS)}. Received: {kind!r}", param_hint="--kind")
    _check_k(k)
    if sample <= 0:
        raise typer.BadParameter(f"must be a positive integer. Received: {sample}", param_hint="--sample")
    import time

    from embedkit.errors import EmbedkitError
    from embedkit.vectors.formats.native import read_native
    from embedkit.vectors.home import resolve_vectors_path
    from embedkit.search.vector_index import VectorIndex, index_path

    path = resolve_vectors_path(vectors)
    if not path.is_dir():
        raise EmbedkitError(
            f"Expected a native vector set (convert it with `embedkit convert`). Received: file {str(path)!r}"
        )
    wv = read_native(path)
    t = time.perf_counter()
    idx = VectorIndex.for_vectors(path, None if kind == "auto" else kind, wv=wv, rebuild=True, progress=True)
    info: dict[str, Any] = {"kind": idx.kind, "size": idx.ntotal, "dim": idx.dim, "params": idx.params,
                            "path": str(index_path(path, idx.kind)), "build_s": round(time.perf_counter() - t, 3)}
    if check_recall:
        rep = idx.recall_at_k(wv, k=k, sample=sample)
        info.update(recall_at_k=rep.recall, k=k, sample=rep.sample, index_qps=round(rep.index_qps, 1),
                    exact_qps=round(rep.exact_qps, 1))
    if as_json:
        _emit_rows([info])
        return
    typer.echo(f"Built {idx.kind} index of {idx.ntotal} vectors (dim {idx.dim}) in {info['build_s']} s: "
               f"{info['path']}", err=True)
    if check_recall:
        typer.echo(f"recall@{k}: {info['recall_at_k']:.4f} (sample {info['sample']}, "
                   f"{info['index_qps']:.0f} vs exact {info['exact_qps']:.0f} queries/s)")
