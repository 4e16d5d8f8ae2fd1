"""CLI: ``train-cbow`` and ``compare-gensim``.

Both take the same word2vec hyper-parameters and tokenizer options (``--sg`` for skip-gram), declared once in
:data:`CBOW_OPTIONS`; a command receives them built as one :class:`CBOWOptions`. Out-of-range values are usage
errors (exit 2). TensorFlow is imported only when training starts.
"""


import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from embedkit.cli.base import command
from embedkit.cli.options import OptionGroup, option, usage_error
from embedkit.cli.output import RichProgress, note
from embedkit.errors import check_positive_int
from embedkit.text.tokenizer import DEFAULT_PATTERN, Tokenizer
from embedkit.train.config import CBOWConfig

WORD2VEC_TEXT = "vectors.w2v.txt"  # as embedkit.train.trainer.WORD2VEC_TEXT (the CLI does not import the trainer)

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.progress import ProgressEvent

Corpus = Annotated[
    Optional[list[str]],
    typer.Argument(help="Corpus files (.txt/.gz/.bz2/.xz, one sentence per line) or registered corpus names; "
                        "none = the embedded default corpus."),
]
Dim = Annotated[Optional[int], typer.Option("--dim", "--vector-size",
                                            help="Vector dimensionality [default: 100, or the --init-vectors / "
                                                 "--continue set's].")]
Window = Annotated[int, typer.Option(help="Maximum context window (the effective one is drawn in 1..window).")]
Negative = Annotated[int, typer.Option(help="Negative samples per target.")]
MinCount = Annotated[int, typer.Option("--min-count", help="Ignore words seen fewer times.")]
Sample = Annotated[float, typer.Option(help="Frequent-word subsampling threshold (0 = off).")]
Epochs = Annotated[int, typer.Option(help="Passes over the corpus.")]
Alpha = Annotated[float, typer.Option(help="Initial learning rate (decays linearly to --min-alpha).")]
MinAlpha = Annotated[float, typer.Option("--min-alpha", help="Final learning rate.")]
BatchSize = Annotated[int, typer.Option("--batch-size", help="Targets (skip-gram: pairs) per training step.")]
Seed = Annotated[int, typer.Option(help="Random seed.")]
Threads = Annotated[Optional[int], typer.Option(help="Training threads, Hogwild as gensim's workers [default: the "
                                                     "CPU cores, at most 4]; 1 = bit-reproducible.")]
MaxVocab = Annotated[Optional[int], typer.Option("--max-vocab-size", help="Keep at most this many words.")]
CbowMean = Annotated[bool, typer.Option("--cbow-mean/--cbow-sum", help="Average or sum the context vectors.")]
TokenPattern = Annotated[str, typer.Option("--token-pattern", help="Regular expression of one token.")]
Lowercase = Annotated[bool, typer.Option("--lowercase/--no-lowercase", help="Lowercase text before tokenizing.")]
SkipGram = Annotated[bool, typer.Option("--sg/--cbow", help="Skip-gram (gensim's sg=1) instead of CBOW.")]
Kernel = Annotated[str, typer.Option("--kernel", help="How steps update the tables: native (gensim's example-by-"
                                                    "example loop, compiled on first use), xla (batched XLA update) "
                                                    "or auto (native on a CPU when it builds).")]
ChunkTokens = Annotated[int, typer.Option("--chunk-tokens", help="Corpus tokens whose batches are built at a time "
                                                             "(the unit of memory; skip-gram builds this / (window "
                                                             "+ 1); batches are still shuffled over 1M tokens).")]

OPTION_NAMES = {"vector_size": "--dim", "window": "--window", "negative": "--negative", "min_count": "--min-count",
                "sample": "--sample", "epochs": "--epochs", "alpha": "--alpha", "min_alpha": "--min-alpha",
                "batch_size": "--batch-size", "seed": "--seed", "threads": "--threads",
                "max_vocab_size": "--max-vocab-size", "pattern": "--token-pattern", "chunk_tokens": "--chunk-tokens",
                "kernel": "--kernel"}


@dataclass
class CBOWOptions:
    """The word2vec hyper-parameters and the tokenizer a command was given (``dim_given``: ``--dim`` was typed)."""

    config: CBOWConfig
    tokenizer: Tokenizer
    dim_given: bool = True


def _cbow_options(
    *, dim: int | None = None, window: int = 5, negative: int = 5, min_count: int = 5, sample: float = 1e-3,
    epochs: int = 5, alpha: float = 0.025, min_alpha: float = 0.0001, batch_size: int = 1024, seed: int = 1,
    threads: int | None = None, max_vocab_size: int | None = None, cbow_mean: bool = True,
    token_pattern: str = DEFAULT_PATTERN, lowercase: bool = True, sg: bool = False, chunk_tokens: int = 1 << 17,
    kernel: str = "auto",
) -> CBOWOptions:
    from embedkit.errors import EmbedkitError
    from embedkit.train.corpus import check_training_tokenizer

    try:
        if dim is not None:
            check_positive_int("dim", dim)  # named as the user typed it
        config = CBOWConfig(vector_size=100 if dim is None else dim, window=window, negative=negative,
                            min_count=min_count, sample=sample, epochs=epochs, alpha=alpha, min_alpha=min_alpha,
                            batch_size=batch_size, seed=seed, threads=threads, max_vocab_size=max_vocab_size,
                            cbow_mean=cbow_mean, sg=sg, chunk_tokens=chunk_tokens, kernel=kernel).validate()
        tokenizer = check_training_tokenizer(Tokenizer(token_pattern, lowercase))
    except EmbedkitError as e:  # out-of-range options are usage errors, as elsewhere in the CLI
        message = str(e)
        name = message[1:].split("`", 1)[0] if message.startswith("`") else ""
        raise usage_error(message, OPTION_NAMES.get(name, "--dim" if name == "dim" else None)) from None
    return CBOWOptions(config, tokenizer, dim_given=dim is not None)


CBOW_OPTIONS = OptionGroup("cbow", [
    option("dim", Dim, None),
    option("window", Window, 5),
    option("negative", Negative, 5),
    option("min_count", MinCount, 5),
    option("sample", Sample, 1e-3),
    option("epochs", Epochs, 5),
    option("alpha", Alpha, 0.025),
    option("min_alpha", MinAlpha, 0.0001),
    option("batch_size", BatchSize, 1024),
    option("seed", Seed, 1),
    option("threads", Threads, None),
    option("max_vocab_size", MaxVocab, None),
    option("cbow_mean", CbowMean, True),
    option("token_pattern", TokenPattern, DEFAULT_PATTERN),
    option("lowercase", Lowercase, True),
    option("sg", SkipGram, False),
    option("chunk_tokens", ChunkTokens, 1 << 17),
    option("kernel", Kernel, "auto"),
], _cbow_options)
"""The options of ``train-cbow`` (all) and ``compare-gensim`` (all but ``--max-vocab-size`` and ``--cbow-mean``)."""


def _corpus_files(corpus: list[str] | None) -> list[Path]:
    from embedkit.corpora import default_corpus, resolve_corpus

    if not corpus:
        note("No corpus given: using the embedded default corpus (gensim's bundled texts).")
        return default_corpus()
    files: list[Path] = []
    from embedkit.errors import check_input_file

    for c in corpus:
        files.extend(check_input_file(f, "corpus file") for f in resolve_corpus(c))  # before "Reading ..."
    return files


def _train_status(event: "ProgressEvent") -> str:
    """The status text of the training bar."""
    return f"epoch {event['epoch']}/{event['epochs']}  {event['words_per_sec']:>9,.0f} words/s  loss {event['loss']:.4f}"


def train_cbow_cmd(
    corpus: Corpus = None,
    output: Annotated[str, typer.Option("-o", "--output", help="Set name in EMBEDKIT_HOME, or a directory path.")] = "cbow",
    *,
    cbow: CBOWOptions,
    checkpoint_dir: Annotated[Optional[Path], typer.Option("--checkpoint-dir", help="Keep a resumable checkpoint here.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint in --checkpoint-dir.")] = False,
    checkpoint_every: Annotated[float, typer.Option("--checkpoint-every", help="Seconds between checkpoints.")] = 60.0,
    word2vec_text: Annotated[bool, typer.Option("--word2vec-text", help="Also write vectors.w2v.txt.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an output that embedkit did not write.")] = False,
    no_default: Annotated[bool, typer.Option("--no-default", help="Do not make the result the default set.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the training stats as JSON.")] = False,
    tensorboard: Annotated[Optional[Path], typer.Option("--tensorboard", help="Write TensorBoard logs of every epoch "
                                                        "(loss, words/s, learning rate, scores) here.")] = None,
    eval_each_epoch: Annotated[bool, typer.Option("--eval-each-epoch", help="Measure analogy accuracy (30,000 most "
                                                  "frequent words), WS353 and SimLex after every epoch.")] = False,
    early_stop: Annotated[Optional[str], typer.Option("--early-stop", help="Stop when this metric stops improving "
                                                      "and keep the best epoch's vectors: loss, analogy_accuracy, "
                                                      "ws353 or simlex (scores imply --eval-each-epoch).")] = None,
    patience: Annotated[int, typer.Option("--patience", help="Epochs without improvement before --early-stop "
                                          "stops.")] = 1,
    init_vectors: Annotated[Optional[str], typer.Option("--init-vectors", help="Start the input vectors of the "
                                                        "corpus words from this set (name or path, e.g. "
                                                        "glove-6b-50d); other words start as usual.")] = None,
    continue_from: Annotated[Optional[str], typer.Option("--continue", help="Go on training a set embedkit trained "
                                                         "(both tables; new corpus words are added).")] = None,
    strategy: Annotated[str, typer.Option("--strategy", help="default | mirrored | multi-worker (TF_CONFIG) | "
                                          "parameter-server (TF_CONFIG); see docs/scaling.md.")] = "default",
    collective_timeout: Annotated[Optional[float], typer.Option(
        "--collective-timeout", help="Seconds a distributed step waits for a lost worker before failing.")] = None,
) -> None:
    """Train word2vec (CBOW, or skip-gram with --sg) in Keras (TensorFlow) and save the vectors; they become the
    default set."""
    cfg = cbow.config
    from embedkit.files.outputs import claim_output
    from embedkit.vectors.formats.native import is_native_set
    from embedkit.vectors.home import check_set_name, is_set_name, set_default, vectors_dir

    is_name = is_set_name(output) and not Path(output).exists() and "/" not in output
    target = vectors_dir() / check_set_name(output) if is_name else Path(output)
    if resume and checkpoint_dir is None:
        raise usage_error("needs --checkpoint-dir. Received: --resume alone", "--resume")
    if init_vectors is not None and continue_from is not None:
        raise usage_error("give --init-vectors or --continue, not both. Received: both", "--init-vectors")
    if patience < 1:
        raise usage_error(f"must be a positive integer. Received: patience={patience}", "--patience")
    if early_stop is not None:
        from embedkit.train.config import EARLY_STOP_METRICS

        if early_stop not in EARLY_STOP_METRICS:
            raise usage_error(f"must be one of {', '.join(EARLY_STOP_METRICS)}. Received: {early_stop!r}",
                              "--early-stop")
    # Every output is claimed before training starts: an hour of training never ends on "cannot write".
    claim_output(target, "dir", overwrite=overwrite, owned=is_native_set)
    if word2vec_text:
        claim_output(target / WORD2VEC_TEXT, "file", overwrite=overwrite or is_native_set(target))
    if tensorboard is not None and tensorboard.exists() and not tensorboard.is_dir():
        raise usage_error(f"must be a directory. Received: file {str(tensorboard)!r}", "--tensorboard")
    from embedkit.train.strategies import STRATEGIES, make_context

    if strategy not in STRATEGIES:
        raise usage_error(f"must be one of {', '.join(STRATEGIES)}. Received: {strategy!r}", "--strategy")
    if strategy == "parameter-server" and _serve_if_not_chief():
        return
    if not cbow.dim_given and (init_vectors or continue_from):
        from embedkit.vectors.vector_set import open_vectors

        cfg = cfg.replace(vector_size=open_vectors(init_vectors or continue_from).dim)
    dist = make_context(strategy, collective_timeout=collective_timeout)  # before any other TensorFlow work
    files = _corpus_files(corpus)
    if resume:  # a damaged checkpoint is refused before the corpus is read (its corpus is checked after)
        from embedkit.train.checkpoints import Checkpoint

        Checkpoint(checkpoint_dir, {}).verify()
    note(f"Reading {', '.join(str(f) for f in files)} ...")
    from embedkit.train.trainer import train_cbow

    callbacks = []
    if tensorboard is not None:
        from embedkit.runtime import import_tensorflow

        import_tensorflow()  # quietly, before Keras imports it
        import keras

        callbacks.append(keras.callbacks.TensorBoard(str(tensorboard), write_graph=False))
    if early_stop is not None:
        from embedkit.train.callbacks import early_stopping

        callbacks.append(early_stopping(early_stop, patience))
    evaluate = eval_each_epoch or (early_stop is not None and early_stop != "loss")
    try:
        with RichProgress(status={"train": _train_status}) as progress:
            result = train_cbow([str(f) for f in files], cfg, checkpoint_dir=checkpoint_dir, resume=resume,
                                checkpoint_every=checkpoint_every, progress=progress, strategy=dist,
                                tokenizer=cbow.tokenizer, callbacks=callbacks, evaluate_each_epoch=evaluate,
                                init_vectors=init_vectors, continue_from=continue_from)
    except KeyboardInterrupt:
        if checkpoint_dir is not None:
            note(f"Interrupted: resume with --resume --checkpoint-dir {checkpoint_dir}")
        raise
    if dist is not None and not dist.is_chief:  # only the chief writes vectors
        note(f"Worker {dist.worker_index} of {dist.num_workers} done; the chief saves the vectors.")
        return
    result.save(target, also_word2vec=word2vec_text, overwrite=overwrite)
    if is_name and not no_default:
        set_default(output)
    s = result.stats
    kind = "skip-gram" if cfg.sg else "CBOW"
    best = f", kept epoch {s.best_epoch}'s vectors" if s.best_epoch else ""
    note(
        f"Trained {kind}: {s.vocab_size} words x {cfg.vector_size} on {s.raw_words:,} tokens x {s.epochs_trained} "
        f"epochs in {s.seconds:.1f} s ({s.words_per_sec:,.0f} words/s{best}); saved to {target}"
        + (" (default set)" if is_name and not no_default else "")
    )
    if as_json:
        typer.echo(json.dumps(s.to_dict()))


def _serve_if_not_chief() -> bool:
    """A ``ps`` or ``worker`` task of a parameter-server cluster serves until stopped (the chief trains)."""
    from embedkit.train.cluster import parse_tf_config

    info = parse_tf_config(strategy="parameter-server")
    if info.task_type == "chief":
        return False
    from embedkit.train.parameter_server import serve

    note(f"Serving as {info.task_type} {info.task_index} of the parameter-server cluster; stop this process "
         "when the chief has saved the vectors.")
    serve(info)
    return True


def compare_gensim_cmd(
    corpus: Corpus = None,
    *,
    cbow: CBOWOptions,
    workers: Annotated[int, typer.Option(help="gensim worker threads.")] = 2,
    restrict_vocab: Annotated[int, typer.Option("--restrict-vocab", help="Analogy vocabulary cut-off (the most "
                                                "frequent words).")] = 30000,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per trainer (NDJSON).")] = False,
    neighbours_of: Annotated[Optional[str], typer.Option("--neighbours", help="Also show both models' neighbours of this word.")] = None,
) -> None:
    """Train embedkit's word2vec and gensim's Word2Vec (sg=0, or sg=1 with --sg) on the same tokens and settings;
    compare them."""
    cfg = cbow.config
    if workers < 1:
        raise usage_error(f"must be a positive integer. Received: workers={workers}", "--workers")
    if restrict_vocab < 1:
        raise usage_error(f"must be a positive integer. Received: restrict_vocab={restrict_vocab}", "--restrict-vocab")
    from embedkit.train.compare import compare_gensim, report_json_lines

    files = _corpus_files(corpus)
    note("Training embedkit and gensim on the same tokens (each in its own process) ...")
    cmp = compare_gensim(files, cfg, workers=workers, restrict_vocab=restrict_vocab, neighbours_of=neighbours_of,
                         tokenizer=cbow.tokenizer)
    if as_json:
        for line in report_json_lines(cmp):
            typer.echo(line)
        return
    _print_comparison(cmp, cfg.epochs, workers, cfg.sg)
    for name, words in cmp.neighbours.items():
        typer.echo(f"{name:>8} neighbours of {neighbours_of!r}: {', '.join(words) or '(not in vocabulary)'}")


def _print_comparison(cmp: Any, epochs: int, workers: int, sg: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    e, g = cmp.rows
    kind = "skip-gram" if sg else "CBOW"
    table = Table(title=f"{kind}: embedkit (Keras) vs gensim Word2Vec(sg={int(sg)}, workers={workers}) — "
                        f"{cmp.raw_words:,} tokens x {epochs} epochs")
    table.add_column("metric")
    table.add_column("embedkit", justify="right")
    table.add_column("gensim", justify="right")
    table.add_column("embedkit vs gensim", justify="right")

    def row(name: str, a: float, b: float, fmt: str, rel: str, unit: str = "") -> None:
        diff = f"{a / b:.2f}x" if rel == "ratio" and b else f"{a - b:+{fmt}}{unit}"
        table.add_row(name, format(a, fmt), format(b, fmt), diff)

    row("training seconds", e.seconds, g.seconds, ".1f", "ratio")
    row("words/s", e.words_per_sec, g.words_per_sec, ",.0f", "ratio")
    row("vocabulary (words)", e.vocab_size, g.vocab_size, ",.0f", "diff")
    answered = f", {e.analogy_answered:,} questions" if e.analogy_answered else ""
    row(f"analogy accuracy, % (3CosAdd; {e.analogy_vocab:,} most frequent words{answered})",
        e.analogy_accuracy * 100, g.analogy_accuracy * 100, ".2f", "diff", " pt")
    row("WS353 Spearman rho", e.ws353_spearman, g.ws353_spearman, ".3f", "diff")
    row("SimLex-999 Spearman rho", e.simlex_spearman, g.simlex_spearman, ".3f", "diff")
    table.add_row("neighbour overlap@10 (fraction, 200 most frequent words)", f"{e.overlap_at_10:.3f}", "", "")
    row("peak RSS, MB", e.peak_rss_mb, g.peak_rss_mb, ",.0f", "ratio")
    Console().print(table)


command("train-cbow")(CBOW_OPTIONS.apply(train_cbow_cmd, after="output"))
command("compare-gensim")(CBOW_OPTIONS.apply(compare_gensim_cmd, exclude=("max_vocab_size", "cbow_mean"),
                                             after="corpus"))
