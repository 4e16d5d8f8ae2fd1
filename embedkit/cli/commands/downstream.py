"""CLI: ``embedkit eval`` — train Keras text classifiers with random / static / non-static embeddings."""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

from embedkit.cli.base import command

_MODELS = "pool, flatten, lstm, bilstm, bilstm2, gru, bigru, conv1d"


@command("eval")
def eval_downstream(
    model: Annotated[str, typer.Option("--model", "-m", help=f"Comma-separated: {_MODELS}, or all.")] = "conv1d",
    vectors: Annotated[
        Optional[str], typer.Option("--vectors", "-v", help="Pretrained vectors: path or set name (default set).")
    ] = None,
    dataset: Annotated[
        Optional[str],
        typer.Option("--dataset", "-d", help="Dataset path, or pang_lee_polarity (default), imdb, 20newsgroups."),
    ] = None,
    embedding: Annotated[
        str, typer.Option("--embedding", "-e", help="Comma-separated: random, static, non-static, or all.")
    ] = "random,static",
    seeds: Annotated[int, typer.Option(help="Runs per split (seeds 0..N-1).")] = 3,
    folds: Annotated[Optional[int], typer.Option(help="Stratified k-fold CV (default: one held-out split).")] = None,
    test_size: Annotated[float, typer.Option(help="Held-out share when there are no folds or given splits.")] = 0.1,
    epochs: Annotated[int, typer.Option(help="Maximum epochs (early stopping on validation loss).")] = 10,
    patience: Annotated[int, typer.Option(help="Early-stopping patience in epochs (0: off).")] = 2,
    maxlen: Annotated[Optional[int], typer.Option(help="Tokens per example (default: 99th percentile, <= 400).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Training batch size.")] = 50,
    max_tokens: Annotated[Optional[int], typer.Option(help="Vocabulary size cap (default: all words).")] = None,
    vocab: Annotated[
        str, typer.Option(help="train: vocabulary from the training texts; all: from every text (Kim 2014).")
    ] = "train",
    dim: Annotated[Optional[int], typer.Option(help="Dimension of random embeddings (default: the vectors').")] = None,
    learning_rate: Annotated[float, typer.Option("--learning-rate", help="Adam learning rate.")] = 1e-3,
    dropout: Annotated[float, typer.Option(help="Dropout before the output layer.")] = 0.5,
    encoding: Annotated[Optional[str], typer.Option(help="Fallback encoding of the dataset files.")] = None,
    output: Annotated[
        Optional[str], typer.Option("--output", "-o", help="Directory for report.json, report.md and PNG curves.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per (model, embedding).")] = False,
) -> None:
    """Downstream evaluation: accuracy of Keras classifiers with random, frozen or fine-tuned embeddings."""
    from embedkit.downstream.datasets import load_dataset
    from embedkit.downstream.runner import EMBEDDINGS, MODELS, evaluate, parse_choices
    from embedkit.errors import EmbedkitError

    try:
        models = parse_choices(model, MODELS, "model")
        modes = parse_choices(embedding, EMBEDDINGS, "embedding")
    except EmbedkitError as e:
        raise typer.BadParameter(str(e)) from None
    if vocab not in ("train", "all"):
        raise typer.BadParameter(f"must be train or all. Received: {vocab!r}", param_hint="--vocab")
    if patience < 0:
        raise typer.BadParameter(f"must be >= 0. Received: {patience}", param_hint="--patience")
    ds = load_dataset(dataset, encoding=encoding)
    _quiet_tensorflow()
    wv = None
    vectors_name = None
    if any(m != "random" for m in modes) or vectors is not None:
        from embedkit.vectors.catalog import resolve_vectors_path
        from embedkit.vectors.loading import load_vectors

        path = resolve_vectors_path(vectors)
        wv = load_vectors(path)
        vectors_name = vectors or path.name
    typer.echo(
        f"Dataset {ds.name}: {len(ds)} examples, {ds.num_classes} classes, encoding {ds.encoding}"
        + (f"; vectors {vectors_name} ({len(wv)} x {wv.dim})" if wv is not None else ""),
        err=True,
    )
    with _RichProgress() as progress:
        report = evaluate(
            ds, models=models, embeddings=modes, vectors=wv, vectors_name=vectors_name, seeds=seeds, folds=folds,
            test_size=test_size, epochs=epochs, patience=patience or None, maxlen=maxlen, batch_size=batch_size,
            max_tokens=max_tokens, vocab=vocab, embedding_dim=dim, learning_rate=learning_rate, dropout=dropout,
            progress=progress, output=output,
        )
    if as_json:
        for s in report.summaries:
            typer.echo(json.dumps(s.to_dict(history=False)))
    else:
        _print_table(report)
    if output is not None:
        typer.echo(f"Wrote report.json, report.md and {len(report.summaries)} learning-curve PNGs to {output}", err=True)


def _quiet_tensorflow() -> None:
    """Keep TensorFlow's C++ and retracing chatter off the progress display."""
    import logging
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def _print_table(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{report.dataset['name']}: {report.config['protocol']}, {report.config['seeds']} seed(s)")
    for col in ("model", "embedding", "accuracy", "macro-F1", "epochs", "s/epoch", "params", "runs"):
        table.add_column(col, justify="left" if col in ("model", "embedding") else "right")
    for s in report.summaries:
        table.add_row(
            s.model, s.embedding, f"{100 * s.accuracy_mean:.2f} ± {100 * s.accuracy_std:.2f}",
            f"{100 * s.macro_f1_mean:.2f}", f"{s.epochs_mean:.1f}", f"{s.seconds_per_epoch:.2f}", f"{s.params:,}",
            str(len(s.runs)),
        )
    Console().print(table)


class _RichProgress:  # duck-types embedkit.downstream.runner.EvalProgress (kept out of the CLI's import path)
    """A rich progress display on stderr: one bar for all runs, one for the epochs of the current run."""

    def __enter__(self) -> _RichProgress:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        # Not a terminal (a log file, CI): one plain line per finished run instead of live bars.
        self._live = console.is_terminal
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"), console=console, transient=False, disable=not self._live,
        )
        self._progress.start()
        self._all: Any = None
        self._run: Any = None
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()

    # evaluate() calls these (the EvalProgress hooks)
    def run_start(self, info: Any) -> None:
        p = self._progress
        if self._all is None:
            self._all = p.add_task("runs", total=info.total, status="")
        if self._run is not None:
            p.remove_task(self._run)
        self._run = p.add_task(f"{info.model}/{info.embedding} {info.split} seed {info.seed}", total=info.epochs,
                               status="")

    def epoch_end(self, info: Any, epoch: int, logs: dict[str, float]) -> None:
        status = f"acc {logs.get('accuracy', float('nan')):.3f} val {logs.get('val_accuracy', float('nan')):.3f}"
        self._progress.update(self._run, completed=epoch, status=status)

    def run_end(self, info: Any, result: Any) -> None:
        p = self._progress
        p.update(self._run, completed=info.epochs, status=f"test acc {result.accuracy:.3f}")
        p.update(self._all, completed=info.index, status=f"last {result.accuracy:.3f}")
        if not self._live:
            typer.echo(
                f"[{info.index}/{info.total}] {info.model}/{info.embedding} {info.split} seed {info.seed}: "
                f"test acc {result.accuracy:.4f}, {result.epochs} epochs, {result.seconds_per_epoch:.2f} s/epoch",
                err=True,
            )
