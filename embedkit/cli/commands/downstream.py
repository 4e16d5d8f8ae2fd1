"""CLI: ``embedkit downstream`` (alias ``eval``) — train Keras text classifiers with random / static / non-static
embeddings."""


from typing import Annotated, Any, Optional

import typer

from embedkit.cli.base import command
from embedkit.cli.options import JsonOpt, VectorsOpt, usage_error
from embedkit.downstream.embeddings import EMBEDDINGS
from embedkit.downstream.models.registry import MODELS

def _epoch_status(event: Any) -> str:
    if event.stage == "end" and "accuracy" in event.fields:
        return f"test acc {event['accuracy']:.3f}"
    logs = event["logs"]
    return f"acc {logs.get('accuracy', float('nan')):.3f} val {logs.get('val_accuracy', float('nan')):.3f}"


# What the progress bars show beside each task (see embedkit.downstream.runner for the events).
STATUS = {
    "eval": lambda e: f"last {e['accuracy']:.3f}",
    "eval.run": _epoch_status,
}


@command("downstream")
def downstream(
    model: Annotated[
        str, typer.Option("--model", "-m", help=f"Comma-separated: {', '.join(MODELS)}, or all.")
    ] = "conv1d",
    vectors: VectorsOpt = None,
    dataset: Annotated[
        Optional[str],
        typer.Option("--dataset", "-d", help="Dataset path, or pang_lee_polarity (default), imdb, 20newsgroups."),
    ] = None,
    embedding: Annotated[
        str, typer.Option("--embedding", "-e", help=f"Comma-separated: {', '.join(EMBEDDINGS)}, or all.")
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
    as_json: JsonOpt = False,
) -> None:
    """Downstream evaluation: accuracy of Keras classifiers with random, frozen or fine-tuned embeddings."""
    from embedkit.cli.output import RichProgress, emit_json_lines, note
    from embedkit.downstream.config import VOCAB_SOURCES
    from embedkit.downstream.datasets import load_dataset
    from embedkit.downstream.runner import evaluate
    from embedkit.errors import EmbedkitError
    from embedkit.runtime import quiet_tensorflow
    from embedkit.vectors.vector_set import open_vectors

    try:
        models = MODELS.parse_list(model)
        modes = EMBEDDINGS.parse_list(embedding)
    except EmbedkitError as e:
        raise usage_error(str(e)) from None
    if vocab not in VOCAB_SOURCES:
        raise usage_error(f"must be train or all. Received: {vocab!r}", "--vocab")
    if patience < 0:
        raise usage_error(f"must be >= 0. Received: {patience}", "--patience")
    ds = load_dataset(dataset, encoding=encoding)
    quiet_tensorflow()
    wv = None
    vectors_name = None
    if any(EMBEDDINGS.get(m).pretrained for m in modes) or vectors is not None:
        vs = open_vectors(vectors)
        wv = vs.wv
        vectors_name = vectors or vs.name
    note(
        f"Dataset {ds.name}: {len(ds)} examples, {ds.num_classes} classes, encoding {ds.encoding}"
        + (f"; vectors {vectors_name} ({len(wv)} x {wv.dim})" if wv is not None else "")
    )
    with RichProgress(status=STATUS) as progress:
        report = evaluate(
            ds, models=models, embeddings=modes, vectors=wv, vectors_name=vectors_name, seeds=seeds, folds=folds,
            test_size=test_size, epochs=epochs, patience=patience or None, maxlen=maxlen, batch_size=batch_size,
            max_tokens=max_tokens, vocab=vocab, embedding_dim=dim, learning_rate=learning_rate, dropout=dropout,
            progress=progress, output=output,
        )
    if as_json:
        emit_json_lines(s.to_dict(history=False) for s in report.summaries)
    else:
        _print_table(report)
    if output is not None:
        note(f"Wrote report.json, report.md and {len(report.summaries)} learning-curve PNGs to {output}")


# The old name: the same command, listed in --help as an alias.
command("eval", help=f"(alias of downstream) {downstream.__doc__}")(downstream)


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
