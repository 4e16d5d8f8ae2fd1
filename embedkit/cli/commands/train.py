"""CLI: ``train-cbow`` and ``compare-gensim``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from embedkit.cli.base import command
from embedkit.text.tokenizer import DEFAULT_PATTERN, Tokenizer

Corpus = Annotated[
    Optional[list[str]],
    typer.Argument(help="Corpus files (.txt/.gz/.bz2/.xz, one sentence per line) or registered corpus names; "
                        "none = the embedded default corpus."),
]
Dim = Annotated[int, typer.Option("--dim", "--vector-size", help="Vector dimensionality.")]
Window = Annotated[int, typer.Option(help="Maximum context window (the effective one is drawn in 1..window).")]
Negative = Annotated[int, typer.Option(help="Negative samples per target.")]
MinCount = Annotated[int, typer.Option("--min-count", help="Ignore words seen fewer times.")]
Sample = Annotated[float, typer.Option(help="Frequent-word subsampling threshold (0 = off).")]
Epochs = Annotated[int, typer.Option(help="Passes over the corpus.")]
Alpha = Annotated[float, typer.Option(help="Initial learning rate (decays linearly to --min-alpha).")]
MinAlpha = Annotated[float, typer.Option("--min-alpha", help="Final learning rate.")]
BatchSize = Annotated[int, typer.Option("--batch-size", help="Targets per training step.")]
Seed = Annotated[int, typer.Option(help="Random seed.")]
Threads = Annotated[Optional[int], typer.Option(help="CPU threads for TensorFlow (1 = bit-reproducible).")]
MaxVocab = Annotated[Optional[int], typer.Option("--max-vocab-size", help="Keep at most this many words.")]
CbowMean = Annotated[bool, typer.Option("--cbow-mean/--cbow-sum", help="Average or sum the context vectors.")]
TokenPattern = Annotated[str, typer.Option("--token-pattern", help="Regular expression of one token.")]
Lowercase = Annotated[bool, typer.Option("--lowercase/--no-lowercase", help="Lowercase text before tokenizing.")]


def _config(**kw: Any) -> Any:
    from embedkit.train.trainer import CBOWConfig
    from embedkit.errors import check_positive_int

    check_positive_int("dim", kw["vector_size"])  # named as the user typed it
    return CBOWConfig(**kw).validate()


def _corpus_files(corpus: list[str] | None) -> list[Path]:
    from embedkit.corpora import default_corpus, resolve_corpus

    if not corpus:
        typer.echo("No corpus given: using the embedded default corpus (gensim's bundled texts).", err=True)
        return default_corpus()
    files: list[Path] = []
    for c in corpus:
        files.extend(resolve_corpus(c))
    return files


@command("train-cbow")
def train_cbow_cmd(
    corpus: Corpus = None,
    output: Annotated[str, typer.Option("-o", "--output", help="Set name in EMBEDKIT_HOME, or a directory path.")] = "cbow",
    dim: Dim = 100,
    window: Window = 5,
    negative: Negative = 5,
    min_count: MinCount = 5,
    sample: Sample = 1e-3,
    epochs: Epochs = 5,
    alpha: Alpha = 0.025,
    min_alpha: MinAlpha = 0.0001,
    batch_size: BatchSize = 1024,
    seed: Seed = 1,
    threads: Threads = None,
    max_vocab_size: MaxVocab = None,
    cbow_mean: CbowMean = True,
    token_pattern: TokenPattern = DEFAULT_PATTERN,
    lowercase: Lowercase = True,
    checkpoint_dir: Annotated[Optional[Path], typer.Option("--checkpoint-dir", help="Keep a resumable checkpoint here.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint in --checkpoint-dir.")] = False,
    checkpoint_every: Annotated[float, typer.Option("--checkpoint-every", help="Seconds between checkpoints.")] = 60.0,
    word2vec_text: Annotated[bool, typer.Option("--word2vec-text", help="Also write vectors.w2v.txt.")] = False,
    no_default: Annotated[bool, typer.Option("--no-default", help="Do not make the result the default set.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the training stats as JSON.")] = False,
    strategy: Annotated[str, typer.Option("--strategy", help="default | mirrored | multi-worker (TF_CONFIG) | "
                                          "parameter-server (TF_CONFIG); see docs/scaling.md.")] = "default",
    collective_timeout: Annotated[Optional[float], typer.Option(
        "--collective-timeout", help="Seconds a distributed step waits for a lost worker before failing.")] = None,
) -> None:
    """Train CBOW word2vec in Keras (TensorFlow) and save the vectors; they become the default set."""
    cfg = _config(vector_size=dim, window=window, negative=negative, min_count=min_count, sample=sample,
                  epochs=epochs, alpha=alpha, min_alpha=min_alpha, batch_size=batch_size, seed=seed,
                  threads=threads, max_vocab_size=max_vocab_size, cbow_mean=cbow_mean)
    from embedkit.vectors.home import check_set_name, is_set_name, set_default, vectors_dir

    is_name = is_set_name(output) and not Path(output).exists() and "/" not in output
    target = vectors_dir() / check_set_name(output) if is_name else Path(output)
    if resume and checkpoint_dir is None:
        raise typer.BadParameter("needs --checkpoint-dir. Received: --resume alone", param_hint="--resume")
    from embedkit.train.strategies import STRATEGIES, make_context

    if strategy not in STRATEGIES:
        raise typer.BadParameter(f"must be one of {', '.join(STRATEGIES)}. Received: {strategy!r}", param_hint="--strategy")
    if strategy == "parameter-server" and _serve_if_not_chief():
        return
    dist = make_context(strategy, collective_timeout=collective_timeout)  # before any other TensorFlow work
    files = _corpus_files(corpus)
    typer.echo(f"Reading {', '.join(str(f) for f in files)} ...", err=True)
    result = _train_with_progress(files, cfg, checkpoint_dir, resume, checkpoint_every, dist,
                                  Tokenizer(token_pattern, lowercase))
    if dist is not None and not dist.is_chief:  # only the chief writes vectors
        typer.echo(f"Worker {dist.worker_index} of {dist.num_workers} done; the chief saves the vectors.", err=True)
        return
    result.save(target, also_word2vec=word2vec_text)
    if is_name and not no_default:
        set_default(output)
    s = result.stats
    typer.echo(
        f"Trained {s.vocab_size} words x {cfg.vector_size} on {s.raw_words:,} tokens x {cfg.epochs} epochs in "
        f"{s.seconds:.1f} s ({s.words_per_sec:,.0f} words/s); saved to {target}"
        + (" (default set)" if is_name and not no_default else ""),
        err=True,
    )
    if as_json:
        typer.echo(json.dumps(s.to_dict()))


def _serve_if_not_chief() -> bool:
    """A ``ps`` or ``worker`` task of a parameter-server cluster serves until stopped (the chief trains)."""
    from embedkit.train.strategies import parse_tf_config

    info = parse_tf_config(strategy="parameter-server")
    if info.task_type == "chief":
        return False
    from embedkit.train.parameter_server import serve

    typer.echo(f"Serving as {info.task_type} {info.task_index} of the parameter-server cluster; stop this process "
               "when the chief has saved the vectors.", err=True)
    serve(info)
    return True


def _train_with_progress(files: list[Path], cfg: Any, checkpoint_dir: Path | None, resume: bool,
                         checkpoint_every: float, dist: Any = None, tokenizer: Any = None) -> Any:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from embedkit.train.trainer import train_cbow

    columns = [
        TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[wps]:>9,.0f} words/s"),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TimeRemainingColumn(),
    ]
    from rich.console import Console

    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as bar:
        task = bar.add_task("train", total=1.0, epoch=1, epochs=cfg.epochs, wps=0.0, loss=0.0)

        def update(p: dict[str, Any]) -> None:
            bar.update(task, completed=p["fraction"], epoch=p["epoch"], wps=p["words_per_sec"], loss=p["loss"])

        try:
            return train_cbow([str(f) for f in files], cfg, checkpoint_dir=checkpoint_dir, resume=resume,
                              checkpoint_every=checkpoint_every, progress=update, strategy=dist,
                              tokenizer=tokenizer)
        except KeyboardInterrupt:
            if checkpoint_dir is not None:
                typer.echo(f"Interrupted: resume with --resume --checkpoint-dir {checkpoint_dir}", err=True)
            raise


@command("compare-gensim")
def compare_gensim_cmd(
    corpus: Corpus = None,
    dim: Dim = 100,
    window: Window = 5,
    negative: Negative = 5,
    min_count: MinCount = 5,
    sample: Sample = 1e-3,
    epochs: Epochs = 5,
    alpha: Alpha = 0.025,
    min_alpha: MinAlpha = 0.0001,
    batch_size: BatchSize = 1024,
    seed: Seed = 1,
    threads: Threads = None,
    token_pattern: TokenPattern = DEFAULT_PATTERN,
    lowercase: Lowercase = True,
    workers: Annotated[int, typer.Option(help="gensim worker threads.")] = 2,
    restrict_vocab: Annotated[int, typer.Option("--restrict-vocab", help="Analogy vocabulary cut-off.")] = 30000,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per trainer (NDJSON).")] = False,
    neighbours_of: Annotated[Optional[str], typer.Option("--neighbours", help="Also show both models' neighbours of this word.")] = None,
) -> None:
    """Train embedkit's CBOW and gensim's Word2Vec(sg=0) on the same tokens and settings; compare them."""
    cfg = _config(vector_size=dim, window=window, negative=negative, min_count=min_count, sample=sample,
                  epochs=epochs, alpha=alpha, min_alpha=min_alpha, batch_size=batch_size, seed=seed,
                  threads=threads)
    from embedkit.train.compare import compare_gensim, report_json_lines

    files = _corpus_files(corpus)
    typer.echo("Training embedkit and gensim on the same tokens (each in its own process) ...", err=True)
    cmp = compare_gensim(files, cfg, workers=workers, restrict_vocab=restrict_vocab, neighbours_of=neighbours_of,
                         tokenizer=Tokenizer(token_pattern, lowercase))
    if as_json:
        for line in report_json_lines(cmp):
            typer.echo(line)
        return
    from rich.console import Console
    from rich.table import Table

    e, g = cmp.rows
    table = Table(title=f"CBOW: embedkit (Keras) vs gensim Word2Vec(sg=0) — {cmp.raw_words:,} tokens x {cfg.epochs} epochs")
    table.add_column("metric")
    table.add_column("embedkit", justify="right")
    table.add_column("gensim", justify="right")
    table.add_column("embedkit vs gensim", justify="right")
    def row(name: str, a: float, b: float, fmt: str, rel: str) -> None:
        diff = f"{a / b:.2f}x" if rel == "ratio" and b else f"{a - b:+{fmt}}"
        table.add_row(name, format(a, fmt), format(b, fmt), diff)
    row("training seconds", e.seconds, g.seconds, ".1f", "ratio")
    row("words/s", e.words_per_sec, g.words_per_sec, ",.0f", "ratio")
    row("vocabulary", e.vocab_size, g.vocab_size, ",d" if False else ",.0f", "diff")
    row(f"analogy acc (top {restrict_vocab:,})", e.analogy_accuracy * 100, g.analogy_accuracy * 100, ".2f", "diff")
    row("WS353 spearman", e.ws353_spearman, g.ws353_spearman, ".3f", "diff")
    row("SimLex-999 spearman", e.simlex_spearman, g.simlex_spearman, ".3f", "diff")
    table.add_row("neighbour overlap@10", f"{e.overlap_at_10:.3f}", "", "(top 200 words)")
    row("peak RSS MB", e.peak_rss_mb, g.peak_rss_mb, ".0f", "ratio")
    Console().print(table)
    for name, words in cmp.neighbours.items():
        typer.echo(f"{name:>8} neighbours of {neighbours_of!r}: {', '.join(words) or '(not in vocabulary)'}")
