"""CLI: ``embedkit downstream`` (alias ``eval``): what are the vectors worth to text classifiers? The paired
gain of pretrained embeddings over their controls, on one dataset or a suite, for one or several vector sets."""


from typing import Annotated, Any, Optional

import typer

from embedkit.cli.base import command
from embedkit.cli.options import JsonOpt, usage_error
from embedkit.downstream.config import DEFAULT_TRUNCATE, TRUNCATE_SIDES, VOCAB_SOURCES
from embedkit.downstream.embeddings import EMBEDDINGS
from embedkit.downstream.models.registry import MODELS


def _epoch_status(event: Any) -> str:
    if event.stage == "end" and "accuracy" in event.fields:
        return f"test acc {event['accuracy']:.3f}"
    logs = event["logs"]
    return f"loss {logs.get('val_loss', float('nan')):.3f} val acc {logs.get('val_accuracy', float('nan')):.3f}"


# What the progress bars show beside each task (see embedkit.downstream.runner for the events).
STATUS = {
    "eval": lambda e: f"last {e['accuracy']:.3f}",
    "eval.run": _epoch_status,
}


@command("downstream")
def downstream(
    model: Annotated[
        str, typer.Option("--model", "-m", help=f"Comma-separated: {', '.join(MODELS)}, or all.")
    ] = "kim-cnn",
    vectors: Annotated[
        Optional[str], typer.Option("--vectors", "-v", help="Vector set name(s) or path(s), comma-separated: "
                                    "the sets run on identical splits and are ranked (default: the default set).")
    ] = None,
    dataset: Annotated[
        Optional[str],
        typer.Option("--dataset", "-d", help="Dataset path, or pang_lee_polarity (the embedded default), imdb, "
                     "20newsgroups."),
    ] = None,
    suite: Annotated[
        Optional[str], typer.Option("--suite", help="Run a suite of datasets with their standard protocols: "
                                    "senteval, or a manifest file.")
    ] = None,
    datasets: Annotated[
        Optional[str], typer.Option("--datasets", help="With --suite: only these datasets (e.g. MR,CR,SUBJ,MPQA).")
    ] = None,
    data_dir: Annotated[
        Optional[str], typer.Option("--data-dir", help="With --suite: folder of local copies (mr/, cr/, ...).")
    ] = None,
    download: Annotated[
        bool, typer.Option("--download", help="With --suite: download missing datasets (checksums verified).")
    ] = False,
    embedding: Annotated[
        str, typer.Option("--embedding", "-e", help=f"Comma-separated: {', '.join(EMBEDDINGS)}, or all. "
                          "Gains: static - frozen-random, non-static - random.")
    ] = "static,frozen-random",
    seeds: Annotated[
        Optional[int], typer.Option(help="Runs per split (default: 1 per fold under CV, 3 on a single split).")
    ] = None,
    folds: Annotated[int, typer.Option(help="Stratified k-fold CV unless the data has splits; 0: one held-out "
                                       "split.")] = 10,
    test_size: Annotated[float, typer.Option(help="Held-out share with --folds 0.")] = 0.1,
    epochs: Annotated[int, typer.Option(help="Epoch cap; early stopping on validation loss decides.")] = 50,
    patience: Annotated[int, typer.Option(help="Early-stopping patience in epochs (0: off).")] = 3,
    maxlen: Annotated[Optional[int], typer.Option(help="Tokens per example (default: 99th percentile, <= 400).")] = None,
    truncate: Annotated[
        str, typer.Option(help="Which end long texts keep: pre keeps the end (Keras pad_sequences), post the start.")
    ] = DEFAULT_TRUNCATE,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Training batch size.")] = 50,
    max_tokens: Annotated[Optional[int], typer.Option(help="Vocabulary size cap (default: all words).")] = None,
    vocab: Annotated[
        str, typer.Option(help="all: vocabulary from every text, labels unused (Kim 2014, SentEval); train: from "
                          "each split's training texts.")
    ] = "all",
    dim: Annotated[Optional[int], typer.Option(help="Dimension of random embeddings (default: the vectors').")] = None,
    learning_rate: Annotated[float, typer.Option("--learning-rate", help="Adam learning rate.")] = 1e-3,
    dropout: Annotated[float, typer.Option(help="Dropout before the output layer.")] = 0.5,
    encoding: Annotated[Optional[str], typer.Option(help="Fallback encoding of the dataset files.")] = None,
    output: Annotated[
        Optional[str], typer.Option("--output", "-o", help="Directory for report.html, report.json, report.md "
                                    "and curve plots.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Let --output replace a folder embedkit did not write.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Downstream evaluation: the gain of pretrained vectors over controls, with 95% CIs, for Keras
    classifiers (kim-cnn, ...) and logistic regression."""
    from embedkit.cli.output import RichProgress, emit_json_lines, note
    from embedkit.downstream.config import EvalConfig
    from embedkit.downstream.report import claim_report_dir
    from embedkit.errors import EmbedkitError
    from embedkit.runtime import quiet_tensorflow

    try:
        models = MODELS.parse_list(model)
        modes = EMBEDDINGS.parse_list(embedding)
    except EmbedkitError as e:
        raise usage_error(str(e)) from None
    if vocab not in VOCAB_SOURCES:
        raise usage_error(f"must be all or train. Received: {vocab!r}", "--vocab")
    if truncate not in TRUNCATE_SIDES:
        raise usage_error(f"must be pre (keep the end) or post (keep the start). Received: {truncate!r}", "--truncate")
    if patience < 0:
        raise usage_error(f"must be >= 0. Received: {patience}", "--patience")
    if folds < 0 or folds == 1:
        raise usage_error(f"must be 0 (held-out split) or at least 2. Received: {folds}", "--folds")
    if suite is not None and dataset is not None:
        raise usage_error(f"give --dataset or --suite, not both. Received: {dataset!r} and {suite!r}", "--suite")
    if suite is None and (datasets or data_dir or download):
        raise usage_error("--datasets, --data-dir and --download go with --suite. Received: no --suite", "--suite")
    specs = [v.strip() for v in vectors.split(",")] if vectors is not None else []
    if vectors is not None and (not all(specs) or len(set(specs)) != len(specs)):
        raise usage_error(f"must list distinct vector sets separated by commas. Received: {vectors!r}", "--vectors")
    config = EvalConfig(
        models=models, embeddings=modes, seeds=seeds, folds=folds, test_size=test_size, epochs=epochs,
        patience=patience or None, maxlen=maxlen, truncate=truncate, batch_size=batch_size, max_tokens=max_tokens,
        vocab=vocab, embedding_dim=dim, dropout=dropout, learning_rate=learning_rate,
    )
    if output is not None:
        claim_report_dir(output, overwrite=overwrite)  # before any work
    quiet_tensorflow()
    with RichProgress(status=STATUS) as progress:
        # The data first (a wrong path or suite is one line at once), then the vector sets (seconds to open).
        if suite is not None:
            from embedkit.downstream.runner import run_suite
            from embedkit.downstream.suites import load_suite_data

            data: Any = load_suite_data(suite, datasets=datasets.split(",") if datasets else None,
                                        data_dir=data_dir, download=download, progress=progress)
        else:
            from embedkit.downstream.datasets import load_dataset, make_splits
            from embedkit.downstream.runner import run_evaluation

            data = load_dataset(dataset, encoding=encoding)
            make_splits(data, folds=folds or None, test_size=test_size)  # a protocol the data cannot give: one line
        sets = _open_sets(specs, config.needs_vectors)
        common = dict(vectors=sets or None, output=output, overwrite=overwrite, progress=progress)
        names = ", ".join(f"{n} ({len(wv)} x {wv.dim})" for n, wv in sets) or "(none)"
        if suite is not None:
            note(f"Suite {data.name}: {', '.join(d.name for d in data.datasets)}; models {', '.join(models)}; "
                 f"modes {', '.join(modes)}; vectors {names}")
            report = run_suite(data, config, **common)
        else:
            what = " (the embedded default)" if dataset is None else ""
            protocol = "its given splits" if data.split is not None else (
                f"stratified {folds}-fold CV" if folds else f"a held-out {test_size:.0%} split")
            note(f"Dataset {data.name}{what}: {len(data)} examples, {data.num_classes} classes, encoding "
                 f"{data.encoding}; {protocol}; models {', '.join(models)}; modes {', '.join(modes)}; vectors {names}")
            report = run_evaluation(data, config, **common)
    if as_json:
        emit_json_lines(_json_rows(report))
    else:
        _print_report(report)
        for n in [*report.notes, *(x for d in report.datasets for x in d.notes)]:
            note(f"note: {n}")
    if output is not None:
        note(f"Wrote {', '.join(report.files)} to {output}")


# The old name: the same command, listed in --help as an alias.
command("eval", help=f"(alias of downstream) {downstream.__doc__}")(downstream)


def _open_sets(specs: list[str], needed: bool) -> list[tuple[str, Any]]:
    from embedkit.vectors.vector_set import open_vectors

    if not specs:
        if not needed:
            return []
        vs = open_vectors(None)
        return [(vs.name, vs.wv)]
    sets = []
    for spec in specs:
        vs = open_vectors(spec)
        sets.append((spec, vs.wv))
    return sets


def _json_rows(report: Any) -> Any:
    for d in report.datasets:
        for g in d.gains:
            yield {"type": "gain", "dataset": d.name, **g.to_dict()}
        for r in d.ranking:
            yield {"type": "ranking", "dataset": d.name, **r.to_dict()}
        for s in d.summaries:
            yield {"type": "result", "dataset": d.name, **s.to_dict(history=False)}
        for name, c in d.coverage.items():
            yield {"type": "coverage", "dataset": d.name, "vectors": name, **c}
        yield {"type": "dataset", "dataset": d.name, "protocol": d.protocol, "seeds": d.seeds, "notes": d.notes,
               **{k: v for k, v in d.dataset.items() if k != "name"}}
    yield {"type": "report", "config": report.config, "notes": report.notes, "files": report.files}


def _print_report(report: Any) -> None:
    """Narrow rich tables (each fits 80 columns): the suite overview, then per dataset the gains, the set
    ranking, the results and the coverage."""
    from rich.console import Console

    from embedkit.downstream.render import (
        coverage_table,
        gain_table,
        ranking_table,
        results_table,
        suite_table,
        terminal_header,
    )

    console = Console(highlight=False)
    if len(report.datasets) > 1:
        console.print(_rich_table("Suite: accuracy and gain over the control (points)", suite_table(report)))
    for d in report.datasets:
        console.print(terminal_header(d))
        for title, table in (("gain over the control (points, 95% CI)", gain_table(d)),
                             ("vector sets ranked", ranking_table(d)),
                             ("results (accuracy %, trainable/total params)", results_table(d)),
                             ("coverage of the dataset's words", coverage_table(d))):
            if table[1]:
                console.print(_rich_table(f"{d.name}: {title}", table))


def _rich_table(title: str, table: Any) -> Any:
    from rich import box
    from rich.table import Table

    from embedkit.cli.output import is_number

    cols, rows = table
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    for i, c in enumerate(cols):
        numeric = bool(rows) and all(is_number(r[i].rstrip("%").split("±")[0].split(" ")[0]) or r[i] in ("-", "")
                                     for r in rows)
        t.add_column(c, justify="right" if numeric else "left", no_wrap=True)
    for r in rows:
        t.add_row(*r)
    return t
