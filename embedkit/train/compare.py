"""`compare_gensim`: train embedkit's Keras word2vec and gensim's ``Word2Vec`` (CBOW, or skip-gram with
``CBOWConfig(sg=True)``) on the same tokens and settings, then score both the same way (speed, memory, analogies,
WS353, SimLex-999, neighbour overlap).

Each trainer runs in its own fresh process, so its peak RSS is its own.

Example:
    from embedkit.train.config import CBOWConfig
    rows = compare_gensim(["corpus.txt"], CBOWConfig(epochs=1)).rows
    [r.trainer for r in rows]
    ['embedkit', 'gensim']
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import resource
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError, check_positive_int
from embedkit.text.tokenizer import Tokenizer
from embedkit.train.config import CBOWConfig
from embedkit.vectors.word_vectors import WordVectors


@dataclass
class TrainerReport:
    """One trainer's row of the comparison."""

    trainer: str
    seconds: float  # training time (corpus reading excluded, for both)
    words_per_sec: float  # raw corpus tokens × epochs / seconds
    vocab_size: int
    analogy_accuracy: float  # a fraction (0.1765 = 17.65 %) over the `analogy_vocab` most frequent words
    analogy_semantic: float
    analogy_syntactic: float
    ws353_spearman: float
    simlex_spearman: float
    overlap_at_10: float  # mean top-10 neighbour overlap with the other trainer, 200 most frequent words
    peak_rss_mb: float
    loss_per_epoch: list[float] = field(default_factory=list)
    analogy_vocab: int = 0  # the most frequent words the analogy search used (min(restrict_vocab, vocabulary))
    analogy_answered: int = 0  # questions whose four words are all among them

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Comparison:
    """Both rows plus the shared settings."""

    rows: list[TrainerReport]
    config: dict[str, Any]
    raw_words: int
    neighbours: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [r.to_dict() for r in self.rows], "config": self.config, "raw_words": self.raw_words,
                "neighbours": self.neighbours}


def compare_gensim(
    files: list[str | os.PathLike[str]],
    config: CBOWConfig | None = None,
    *,
    workers: int = 2,
    restrict_vocab: int = 30000,
    tokenizer: Tokenizer | None = None,
    neighbours_of: str | None = None,
) -> Comparison:
    """Train both trainers on ``files`` with ``config`` and evaluate them identically."""
    config = (config or CBOWConfig()).validate()
    check_positive_int("workers", workers)
    check_positive_int("restrict_vocab", restrict_vocab)
    tokenizer = tokenizer or Tokenizer()
    files = [str(f) for f in files]
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="embedkit-compare-") as tmp:
        tokens = Path(tmp) / "tokens.txt"
        raw_words = _write_tokens(files, tokenizer, tokens)
        results = {}
        for trainer in ("embedkit", "gensim"):
            out = Path(tmp) / trainer
            with ctx.Pool(1) as pool:
                results[trainer] = pool.apply(_train_child, (trainer, str(tokens), config.to_dict(), str(out), workers))
            results[trainer]["wv"] = WordVectors.load(out)
    from embedkit.evaluate.analogies import evaluate_analogies
    from embedkit.evaluate.word_pairs import evaluate_word_pairs

    wvs = {k: v["wv"] for k, v in results.items()}
    overlap = neighbour_overlap(wvs["embedkit"], wvs["gensim"], n_words=200, k=10)
    rows = []
    for name, res in results.items():
        wv = res["wv"]
        used = min(restrict_vocab, len(wv))
        an = evaluate_analogies(wv, restrict_vocab=used)
        ws = evaluate_word_pairs(wv, "ws353")
        sl = evaluate_word_pairs(wv, "simlex999")
        rows.append(TrainerReport(
            trainer=name, seconds=round(res["seconds"], 2),
            words_per_sec=round(raw_words * config.epochs / max(res["seconds"], 1e-9), 1),
            vocab_size=len(wv), analogy_accuracy=round(an.accuracy, 4),
            analogy_semantic=round(an.semantic_accuracy, 4), analogy_syntactic=round(an.syntactic_accuracy, 4),
            ws353_spearman=round(ws.spearman, 4), simlex_spearman=round(sl.spearman, 4),
            overlap_at_10=round(overlap, 4), peak_rss_mb=round(res["peak_rss_mb"], 1),
            loss_per_epoch=res.get("loss_per_epoch", []), analogy_vocab=used, analogy_answered=int(an.total),
        ))
    neighbours: dict[str, list[str]] = {}
    if neighbours_of:
        for name, wv in wvs.items():
            neighbours[name] = _top_neighbours(wv, neighbours_of, 10)
    return Comparison(rows=rows, config=config.to_dict(), raw_words=raw_words, neighbours=neighbours)


def _write_tokens(files: list[str], tokenizer: Tokenizer, out: Path) -> int:
    """Tokenize once; both trainers read these identical token lines (cut at 10,000 tokens as gensim)."""
    from embedkit.train.corpus import iter_sentences

    n = 0
    with open(out, "w", encoding="utf-8") as fh:
        for toks in iter_sentences(files, tokenizer):
            fh.write(" ".join(toks) + "\n")
            n += len(toks)
    if n == 0:
        raise EmbedkitError("The corpus must contain at least one token. Received: an empty corpus")
    return n


class _TokenLines:
    """Restartable iterable of the pre-tokenized lines (what gensim trains on)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __iter__(self):  # type: ignore[no-untyped-def]
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                yield line.split()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _train_child(trainer: str, tokens: str, cfg: dict[str, Any], out: str, workers: int) -> dict[str, Any]:
    """Runs in a fresh process: train one model on the token file, save it, report time and peak RSS."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported in this process
    config = CBOWConfig(**cfg)
    if trainer == "embedkit":
        from embedkit.train.trainer import train_cbow
        from embedkit.train.corpus import encode_corpus

        enc = encode_corpus(_TokenLines(tokens), min_count=config.min_count, max_vocab_size=config.max_vocab_size)
        res = train_cbow(enc, config)
        res.wv.save(out)
        return {"seconds": res.stats.seconds, "peak_rss_mb": _peak_rss_mb(), "loss_per_epoch": res.stats.loss_per_epoch}
    from gensim.models import Word2Vec

    sentences = _TokenLines(tokens)
    model = Word2Vec(vector_size=config.vector_size, window=config.window, min_count=config.min_count,
                     sample=config.sample, negative=config.negative, ns_exponent=config.ns_exponent,
                     sg=int(config.sg),
                     hs=0, cbow_mean=int(config.cbow_mean), alpha=config.alpha, min_alpha=config.min_alpha,
                     seed=config.seed, workers=workers)
    model.build_vocab(sentences)
    t0 = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=config.epochs)
    seconds = time.perf_counter() - t0
    WordVectors.from_gensim(model.wv).save(out)
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


def neighbour_overlap(a: WordVectors, b: WordVectors, n_words: int = 200, k: int = 10) -> float:
    """Mean |top-k(a) ∩ top-k(b)| / k over the ``n_words`` most frequent words of ``a`` that ``b`` has."""
    words = [w for w in a.keys[: n_words * 2] if w in b][:n_words]
    if not words:
        return 0.0
    na = [set(x) for x in _neighbours(a, words, k)]
    nb = [set(x) for x in _neighbours(b, words, k)]
    return float(np.mean([len(x & y) / k for x, y in zip(na, nb)]))


def _neighbours(wv: WordVectors, words: list[str], k: int) -> list[list[str]]:
    """Exact cosine top-k of each word (itself excluded), best first."""
    unit = wv.unit_vectors()
    idx = np.array([wv.key_to_index[w] for w in words])
    sims = unit[idx] @ unit.T
    sims[np.arange(len(idx)), idx] = -np.inf
    k = min(k, len(wv) - 1)
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1)
    top = np.take_along_axis(top, order, axis=1)
    return [[wv.keys[j] for j in row] for row in top.tolist()]


def _top_neighbours(wv: WordVectors, word: str, k: int) -> list[str]:
    return _neighbours(wv, [word], k)[0] if word in wv else []


def report_json_lines(cmp: Comparison) -> list[str]:
    """NDJSON lines (one object per trainer) for ``compare-gensim --json``."""
    return [json.dumps(r.to_dict() | {"raw_words": cmp.raw_words}) for r in cmp.rows]
