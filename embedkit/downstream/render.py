"""The tables of a downstream report, built once and drawn three ways: the terminal (narrow: every table fits
80 columns), ``report.md`` and a self-contained ``report.html`` (inline CSS, plots as data URIs, no network).

Numbers are shown in percent points here; the JSON keeps fractions.

>>> fmt_ci(0.0912, 0.1151), fmt_gain(-0.004), fmt_params(32257, 1030757)
('[+9.1, +11.5]', '-0.4', '32k/1.0M')
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any

from embedkit.downstream.curves import plot_name
from embedkit.downstream.embeddings import EMBEDDINGS

# The report's types (embedkit.downstream.report imports this module: no import back).
DatasetResult = Any
EvalReport = Any
Table = tuple[list[str], list[list[str]]]
SET_WIDTH = 14


def fmt_pct(x: float | None, digits: int = 1) -> str:
    """A fraction as percent (``0.7712`` → ``77.1``); ``-`` for None / NaN."""
    if x is None or x != x:
        return "-"
    return f"{100 * x:.{digits}f}"


def fmt_gain(x: float | None, digits: int = 1) -> str:
    """A signed difference in points (``0.103`` → ``+10.3``)."""
    if x is None or x != x:
        return "-"
    return f"{100 * x:+.{digits}f}"


def fmt_ci(lo: float | None, hi: float | None, digits: int = 1) -> str:
    """A 95 % interval in points: ``[+9.1, +11.5]`` (``-`` when there are too few runs)."""
    if lo is None or hi is None:
        return "-"
    return f"[{fmt_gain(lo, digits)}, {fmt_gain(hi, digits)}]"


def fmt_count(n: int) -> str:
    """A parameter count in 3 significant characters: ``951``, ``32k``, ``1.0M``."""
    if n >= 10**6:
        return f"{n / 1e6:.1f}M"
    if n >= 10**4:
        return f"{n / 1e3:.0f}k"
    if n >= 10**3:
        return f"{n / 1e3:.1f}k"
    return str(n)


def fmt_params(trainable: int, total: int) -> str:
    """``trainable/total`` parameters, compact."""
    return f"{fmt_count(trainable)}/{fmt_count(total)}"


def short_set(name: str | None, width: int = SET_WIDTH) -> str:
    """A vector set's label in a narrow table (``-`` without vectors; long paths: their last part)."""
    if name is None:
        return "-"
    label = name.rstrip("/").rsplit("/", 1)[-1] or name
    return label if len(label) <= width else label[: width - 1] + "~"


# ------------------------------------------------------------------------------------------------ the tables
def gain_table(d: DatasetResult, compact: bool = True) -> Table:
    """The headline: gain of each pretrained mode over its control, 95 % CI, wins / runs."""
    cols = ["model", "set", "mode", "acc", "gain", "95% CI", "wins"]
    if not compact:
        cols = ["model", "vectors", "mode", "accuracy", "control", "control acc.", "gain", "95% CI",
                "95% CI (CV-corrected)", "wins / runs", "p"]
    rows = []
    for g in d.gains:
        diff = g.difference
        wins = f"{diff.wins}/{diff.n}"
        if compact:
            rows.append([g.model, short_set(g.vectors), g.mode, fmt_pct(g.accuracy), fmt_gain(diff.mean),
                         fmt_ci(diff.ci_low, diff.ci_high), wins])
        else:
            rows.append([g.model, g.vectors, g.mode, fmt_pct(g.accuracy, 2), g.control, fmt_pct(g.control_accuracy, 2),
                         fmt_gain(diff.mean, 2), fmt_ci(diff.ci_low, diff.ci_high, 2),
                         fmt_ci(diff.ci_corrected_low, diff.ci_corrected_high, 2), wins,
                         "-" if diff.p_value is None else f"{diff.p_value:.2g}"])
    return cols, rows


def results_table(d: DatasetResult, compact: bool = True) -> Table:
    """Every (model, mode, set): accuracy ± std, macro-F1, epochs, trainable / total parameters."""
    if compact:
        cols = ["model", "set", "mode", "acc±sd", "F1", "ep", "params"]
    else:
        cols = ["model", "vectors", "mode", "accuracy", "macro-F1", "epochs (restored)", "s/epoch",
                "trainable / total params", "runs", "at cap, still improving"]
    rows = []
    for s in d.summaries:
        pretrained = EMBEDDINGS.get(s.embedding).needs_vectors
        vec = s.vectors if pretrained else (f"({s.vectors} dim)" if s.vectors else "-")
        if compact:
            rows.append([s.model, short_set(s.vectors) if pretrained else "-", s.embedding,
                         f"{fmt_pct(s.accuracy_mean)}±{fmt_pct(s.accuracy_std)}", fmt_pct(s.macro_f1_mean),
                         f"{s.epochs_mean:.1f}" if s.epochs_mean else "-",
                         fmt_params(s.trainable_params, s.params)])
        else:
            rows.append([s.model, str(vec), s.embedding, f"{fmt_pct(s.accuracy_mean, 2)} ± {fmt_pct(s.accuracy_std, 2)}",
                         fmt_pct(s.macro_f1_mean, 2),
                         f"{s.epochs_mean:.1f} ({s.best_epoch_mean:.1f})" if s.epochs_mean else "-",
                         f"{s.seconds_per_epoch:.2f}", f"{s.trainable_params:,} / {s.params:,}", str(len(s.runs)),
                         f"{s.capped} / {s.still_improving}"])
    return cols, rows


def ranking_table(d: DatasetResult, compact: bool = True) -> Table:
    """Vector sets ranked per (model, mode), with the paired difference to the best set."""
    cols = ["model", "mode", "#", "set", "acc", "gain", "vs best", "95% CI"]
    rows = []
    for r in d.ranking:
        gain = fmt_gain(r.gain.difference.mean) if r.gain else "-"
        vs = fmt_gain(r.to_best.mean) if r.to_best else "best"
        ci = fmt_ci(r.to_best.ci_low, r.to_best.ci_high) if r.to_best else ""
        rows.append([r.model, r.mode, str(r.rank), short_set(r.vectors) if compact else r.vectors,
                     fmt_pct(r.accuracy), gain, vs, ci])
    return cols, rows


def coverage_table(d: DatasetResult, compact: bool = True) -> Table:
    """Per vector set: OOV share (types, tokens) and rows per fallback step."""
    cols = ["set", "OOV typ", "OOV tok", "exact", "lower", "norm", "subw", "init"]
    rows = []
    for name, c in d.coverage.items():
        fb = c.get("by_fallback", {})
        rows.append([short_set(name) if compact else name, f"{fmt_pct(c.get('oov_types'))}%",
                     f"{fmt_pct(c.get('oov_tokens'))}%",
                     *(str(fb.get(k, 0)) for k in ("exact", "lowercase", "normalised", "subword", "initialised"))])
    return cols, rows


def folds_table(d: DatasetResult) -> Table:
    """Per-run test accuracy: one column per (model, mode, set), one row per (split, seed)."""
    cols = ["split", "seed"] + [f"{s.model} {s.embedding}" + (f" · {s.vectors}" if s.vectors and
                                EMBEDDINGS.get(s.embedding).needs_vectors else "") for s in d.summaries]
    keys = list(dict.fromkeys(r.key for s in d.summaries for r in s.runs))
    by = [{r.key: r for r in s.runs} for s in d.summaries]
    rows = []
    for k in keys:
        cells = []
        for m in by:
            r = m.get(k)
            cells.append("-" if r is None else fmt_pct(r.accuracy, 2) + ("*" if r.still_improving else ""))
        rows.append([k[0], str(k[1]), *cells])
    return cols, rows


def suite_table(report: EvalReport) -> Table:
    """Datasets × vector sets (× models): the headline mode's accuracy and its gain over the control."""
    sets = list(dict.fromkeys(g.vectors for g in report.gains)) or list(
        dict.fromkeys(s.vectors for s in report.summaries if s.vectors))
    cols = ["dataset", "model", "mode", *[short_set(v, 12) for v in sets]]
    rows = []
    for d in report.datasets:
        for model in dict.fromkeys(s.model for s in d.summaries):
            for mode in dict.fromkeys(g.mode for g in d.gains if g.model == model):
                cells = []
                for v in sets:
                    g = next((g for g in d.gains if (g.model, g.mode, g.vectors) == (model, mode, v)), None)
                    cells.append("-" if g is None else f"{fmt_pct(g.accuracy)} {fmt_gain(g.difference.mean)}")
                rows.append([d.name, model, mode, *cells])
    return cols, rows


def terminal_header(d: DatasetResult) -> str:
    """What ran on this dataset, in one line."""
    ds = d.dataset
    return (f"{d.name}: {ds.get('size')} texts, {len(ds.get('classes') or {})} classes; {d.protocol}, "
            f"{d.seeds} seed(s)/split")


def header_lines(d: DatasetResult) -> list[str]:
    """What ran on this dataset, in a few lines."""
    ds = d.dataset
    classes = ds.get("classes") or {}
    lines = [
        f"{ds.get('size')} examples, {len(classes)} classes, encoding {ds.get('encoding')}, source {ds.get('source')}",
        f"protocol: {d.protocol}, {d.seeds} seed(s) per split; maxlen {', '.join(map(str, d.maxlen))} "
        f"({fmt_pct(d.truncated_share)}% of examples truncated)",
    ]
    if ds.get("empty_dropped"):
        lines.append(f"{ds['empty_dropped']} empty texts (no token) dropped before splitting")
    return lines


# ------------------------------------------------------------------------------------------------ Markdown
def _md_table(table: Table) -> list[str]:
    cols, rows = table
    if not rows:
        return []
    esc = [[c.replace("|", "\\|") for c in r] for r in rows]
    return ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols), *("| " + " | ".join(r) + " |" for r in esc), ""]


def markdown_report(report: EvalReport) -> str:
    """The Markdown text of ``report``."""
    c = report.config
    lines = ["# Downstream evaluation", "",
             f"- models: {', '.join(c.get('models', []))}; modes: {', '.join(c.get('embeddings', []))}",
             f"- vectors: {', '.join(c.get('vectors') or []) or '(none: random only)'}",
             f"- training: at most {c.get('epochs')} epochs, early stopping on validation loss (patience "
             f"{c.get('patience')}, best weights restored); batch {c.get('batch_size')}; vocabulary "
             f"{c.get('vocab')}; long texts keep their {'end' if c.get('truncate') == 'pre' else 'start'}",
             "- gain = pretrained mode − its control (static − frozen-random, non-static − random), paired over "
             "the same splits and seeds; 95 % CI from a paired t over the runs", ""]
    if len(report.datasets) > 1:
        lines += ["## Suite", "", *_md_table(suite_table(report))]
    for d in report.datasets:
        lines += [f"## {d.name}", "", *(f"- {h}" for h in header_lines(d)), ""]
        for title, table in (("Gain over the control", gain_table(d, compact=False)),
                             ("Vector sets ranked", ranking_table(d, compact=False)),
                             ("Results", results_table(d, compact=False)),
                             ("Coverage of the dataset's words", coverage_table(d, compact=False)),
                             ("Per split and seed (test accuracy, * = stopped at the cap still improving)",
                              folds_table(d))):
            body = _md_table(table)
            if body:
                lines += [f"### {title}", "", *body]
        if d.notes:
            lines += ["### Notes", "", *(f"- {n}" for n in d.notes), ""]
    if report.notes:
        lines += ["## Notes", "", *(f"- {n}" for n in report.notes), ""]
    pngs = [f for f in report.files if f.endswith(".png")]
    if pngs:
        lines += ["## Validation curves", "", *(f"![{f[:-4]}]({f})" for f in pngs), ""]
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------------------------------------ HTML
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;
color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right;white-space:nowrap}
th{background:#f3f3f3}td:nth-child(-n+3){text-align:left}
.pos{color:#0a6b0a;font-weight:600}.neg{color:#a31515;font-weight:600}
.scroll{overflow-x:auto}ul.notes li{margin:.2em 0}img{max-width:100%;border:1px solid #eee}
.small{color:#666;font-size:.85em}
"""


def _html_table(table: Table, signed: Sequence[str] = ("gain",)) -> str:
    cols, rows = table
    if not rows:
        return ""
    idx = {i for i, c in enumerate(cols) if c in signed}
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            cls = ""
            if i in idx and c[:1] in "+-" and c != "-":
                cls = ' class="pos"' if c.startswith("+") else ' class="neg"'
            cells.append(f"<td{cls}>{html.escape(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>'


def html_report(report: EvalReport, images: dict[str, bytes]) -> str:
    """``report`` as one self-contained HTML page; ``images`` (file name → PNG bytes) are inlined."""
    c = report.config
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<title>embedkit downstream report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Downstream evaluation</h1>",
        "<ul>",
        f"<li>models: {esc(', '.join(c.get('models', [])))}; modes: {esc(', '.join(c.get('embeddings', [])))}</li>",
        f"<li>vectors: {esc(', '.join(c.get('vectors') or []) or '(none: random only)')}</li>",
        f"<li>at most {c.get('epochs')} epochs, early stopping on validation loss (patience {c.get('patience')}, "
        f"best weights restored); batch {c.get('batch_size')}; vocabulary {esc(str(c.get('vocab')))}; long texts "
        f"keep their {'end' if c.get('truncate') == 'pre' else 'start'}</li>",
        "<li><b>gain</b> = pretrained mode − its control (static − frozen-random, non-static − random), paired "
        "over the same splits and seeds; 95 % CI from a paired t over the runs (CV-corrected: Nadeau &amp; "
        "Bengio's correction for overlapping training folds)</li>",
        "</ul>",
    ]
    if len(report.datasets) > 1:
        parts += ["<h2>Suite</h2>", _html_table(suite_table(report), signed=())]
    for d in report.datasets:
        parts.append(f"<h2>{esc(d.name)}</h2><ul>" + "".join(f"<li>{esc(h)}</li>" for h in header_lines(d)) + "</ul>")
        for title, table in (("Gain over the control", gain_table(d, compact=False)),
                             ("Vector sets ranked", ranking_table(d, compact=False)),
                             ("Results", results_table(d, compact=False)),
                             ("Coverage of the dataset's words", coverage_table(d, compact=False))):
            body = _html_table(table, signed=("gain", "vs best"))
            if body:
                parts += [f"<h3>{esc(title)}</h3>", body]
        for model in dict.fromkeys(s.model for s in d.summaries):
            png = images.get(plot_name(d.name, model))
            if png:
                data = base64.b64encode(png).decode("ascii")
                parts += [f"<h3>Validation curves: {esc(model)}</h3>",
                          f'<img alt="{esc(d.name)} {esc(model)} validation curves" src="data:image/png;base64,{data}">']
        folds = _html_table(folds_table(d), signed=())
        if folds:
            parts += ["<h3>Per split and seed (test accuracy; * stopped at the cap still improving)</h3>", folds]
        if d.notes:
            parts += ["<h3>Notes</h3>", '<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in d.notes) + "</ul>"]
    if report.notes:
        parts += ["<h2>Notes</h2>", '<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in report.notes) + "</ul>"]
    parts.append('<p class="small">Written by embedkit. Accuracies and gains in percent points; report.json '
                 "holds every run as fractions.</p></body></html>")
    return "\n".join(parts) + "\n"
