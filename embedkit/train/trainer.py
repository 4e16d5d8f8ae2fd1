"""Train CBOW word2vec in Keras 3 (TensorFlow backend): ``train_cbow(corpus, CBOWConfig(...))``.

What gensim's ``Word2Vec(sg=0)`` does, with the same defaults: negative sampling from unigram^0.75 that
never uses the positive target as a negative, word2vec's frequent-word subsampling, a dynamic window drawn
uniformly from 1..window per target, the mean of the context (``cbow_mean``), and a learning rate decaying
linearly from ``alpha`` to ``min_alpha`` over all words of all epochs.

A run reads the corpus once (:mod:`embedkit.train.corpus`), then for each chunk of each epoch makes the
batches in vectorised numpy (:class:`embedkit.train.batches.BatchMaker`, in a background thread while the
model trains on the previous chunk) and steps through them one way chosen for the whole run
(:mod:`embedkit.train.steppers`: Keras ``fit`` for short runs, unrolled groups of steps for long ones, the
strategy's loop when distributed). Between chunks a checkpoint can be written
(:mod:`embedkit.train.checkpoints`); ``resume=True`` continues from it and gives the same vectors as an
uninterrupted run. Progress is reported as :class:`~embedkit.progress.ProgressEvent` s
(:mod:`embedkit.train.monitor`).

Example:
    from embedkit.train.trainer import CBOWConfig, train_cbow
    sents = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    result = train_cbow(sents, CBOWConfig(vector_size=8, min_count=1, epochs=1))
    result.wv["cat"].shape
    (8,)
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.files.atomic import atomic_write_text
from embedkit.progress import ProgressArg
from embedkit.text.tokenizer import Tokenizer
from embedkit.train.batches import BatchMaker, chunk_bounds
from embedkit.train.checkpoints import Checkpoint
from embedkit.train.config import CBOWConfig
from embedkit.train.corpus import EncodedCorpus, encode_corpus
from embedkit.train.monitor import TrainingMonitor
from embedkit.vectors.word_vectors import WordVectors

__all__ = ["CBOWConfig", "CBOWResult", "TrainingStats", "train_cbow"]

log = logging.getLogger("embedkit.train")


@dataclass
class TrainingStats:
    """What happened during training (saved as ``training.json`` beside the vectors)."""

    config: dict[str, Any]
    tokenizer: dict[str, Any] | None
    corpus_sha256: str
    corpus_files: list[str]
    raw_words: int  # tokens in the corpus (one epoch), before min_count
    kept_words: int  # tokens in the vocabulary (one epoch)
    vocab_size: int
    examples_trained: int = 0
    seconds: float = 0.0  # training time (excludes reading the corpus)
    read_seconds: float = 0.0
    words_per_sec: float = 0.0  # raw corpus words × epochs / training seconds (gensim's measure)
    loss_per_epoch: list[float] = field(default_factory=list)
    resumed_from: str | None = None
    distribution: dict[str, Any] | None = None  # the tf.distribute setting, when there is one

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class CBOWResult:
    """The trained word vectors (with counts) and the training statistics."""

    wv: WordVectors
    stats: TrainingStats
    output_vectors: np.ndarray | None = None

    def save(self, path: str | os.PathLike[str], also_word2vec: bool = False) -> Path:
        """Save the vectors as a native set with ``training.json`` inside it (and optionally word2vec text)."""
        path = Path(path)
        self.wv.save(path, source=f"embedkit train-cbow ({self.stats.corpus_sha256[:12]})",
                     extra_meta={"trainer": "embedkit-cbow", "vector_size": self.wv.dim})
        atomic_write_text(path / "training.json", json.dumps(self.stats.to_dict(), indent=2) + "\n")
        if also_word2vec:
            self.wv.save(path / "vectors.w2v.txt", format="word2vec")
        return path


def train_cbow(
    corpus: Sequence[str | os.PathLike[str]] | Iterable[Sequence[str]] | EncodedCorpus,
    config: CBOWConfig | None = None,
    *,
    tokenizer: Tokenizer | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    checkpoint_every: float = 60.0,
    progress: ProgressArg = None,
    strategy: Any = None,
) -> CBOWResult:
    """Train CBOW on ``corpus`` (file paths, an iterable of token lists, or an :class:`EncodedCorpus`).

    Args:
        config: hyper-parameters (gensim's defaults when None).
        tokenizer: used for file corpora (lowercase ``[a-z0-9]+('[a-z]+)?`` by default).
        checkpoint_dir: where to keep a resumable checkpoint (written every ``checkpoint_every`` seconds
            at chunk boundaries, and kept if training is interrupted).
        resume: continue from the checkpoint in ``checkpoint_dir`` (it must match corpus and config).
        progress: a :data:`~embedkit.progress.ProgressCallback` (True: log them) receiving the run's
            :class:`~embedkit.progress.ProgressEvent` s, task ``"train"``, fields ``epoch``, ``epochs``,
            ``fraction``, ``words_per_sec``, ``loss``, ``eta_seconds`` (see :mod:`embedkit.train.monitor`);
            the CLI draws them as a progress bar.
        strategy: a :class:`embedkit.train.strategies.DistributedContext` (``make_context("multi-worker")``) to
            train this worker's shard under ``tf.distribute``; only its chief writes checkpoints.
    """
    config = (config or CBOWConfig()).validate()
    if resume and checkpoint_dir is None:
        raise EmbedkitError("`resume` needs a checkpoint directory. Received: resume=True, checkpoint_dir=None")
    t_read = time.perf_counter()
    files: list[str] = []
    if isinstance(corpus, EncodedCorpus):
        enc = strategy.shard_encoded(corpus) if strategy is not None else corpus
    else:
        if isinstance(corpus, (str, os.PathLike)):
            corpus = [corpus]
        if isinstance(corpus, (list, tuple)) and all(isinstance(c, (str, os.PathLike)) for c in corpus):
            if not corpus:
                raise EmbedkitError("Expected at least one corpus file. Received: none")
            files = [str(c) for c in corpus]
        if strategy is not None:  # this worker's files or lines; the chief's vocabulary of the whole corpus
            enc = strategy.encode_shard(corpus, tokenizer=tokenizer, min_count=config.min_count,
                                        max_vocab_size=config.max_vocab_size)
        else:
            enc = encode_corpus(corpus, tokenizer=tokenizer, min_count=config.min_count,
                                max_vocab_size=config.max_vocab_size)
    read_seconds = time.perf_counter() - t_read
    stats = TrainingStats(
        config=config.to_dict(),
        tokenizer=(tokenizer or Tokenizer()).to_dict() if files else None,
        corpus_sha256=enc.digest,
        corpus_files=files,
        raw_words=enc.stats.total_raw_words,
        kept_words=enc.n_tokens,
        vocab_size=len(enc.vocab),
        read_seconds=round(read_seconds, 3),
    )
    return _Run(enc, config, stats, checkpoint_dir, checkpoint_every, progress, strategy).train(resume)


class _Run:
    """One training run: batches, model, stepper, checkpoints and the loop over the chunks of every epoch."""

    def __init__(
        self,
        enc: EncodedCorpus,
        config: CBOWConfig,
        stats: TrainingStats,
        checkpoint_dir: str | os.PathLike[str] | None,
        checkpoint_every: float,
        progress: ProgressArg,
        strategy: Any = None,
    ) -> None:
        self.enc, self.cfg, self.stats = enc, config, stats
        self.checkpoint_every = checkpoint_every
        self.progress = progress
        self.dist = strategy
        self.V = len(enc.vocab)
        bounds = chunk_bounds(enc.sentence_ends, config.chunk_tokens)
        if strategy is not None:  # every worker must run the same number of chunks
            bounds = strategy.align_bounds(bounds, enc.sentence_ends)
        self.batches = BatchMaker(enc, config, bounds=bounds, worker=strategy.worker_index if strategy else 0)
        self.checkpoint = None if checkpoint_dir is None else Checkpoint(
            checkpoint_dir, {"config": config.to_dict(), "corpus_sha256": enc.digest, "vocab_size": self.V}
        )
        self._elapsed_before = 0.0
        self._t0 = time.perf_counter()

    def elapsed(self) -> float:
        """Training seconds so far, those of the runs this one resumes included."""
        return self._elapsed_before + (time.perf_counter() - self._t0)

    def build_model(self) -> Any:
        """The Keras model, or the strategy's (mirrored tables, or tables sharded over parameter servers)."""
        cfg = self.cfg
        args = (self.V, cfg.vector_size, cfg.window, cfg.negative)
        kwargs = {"cbow_mean": cfg.cbow_mean, "seed": cfg.seed, "initial_alpha": cfg.alpha}
        if self.dist is not None:
            return self.dist.build_model(*args, **kwargs)
        from embedkit.train.model import build_cbow_model

        return build_cbow_model(*args, **kwargs)

    def train(self, resume: bool) -> CBOWResult:
        from embedkit.runtime import import_tensorflow
        import_tensorflow()  # quiet start-up
        import tensorflow as tf

        cfg, dist = self.cfg, self.dist
        if cfg.threads is not None:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(cfg.threads)
                tf.config.threading.set_inter_op_parallelism_threads(cfg.threads)
            except RuntimeError:
                pass  # runtime already initialised in this process; keep its setting
        from embedkit.train.steppers import choose_stepper

        model = self.build_model()
        if dist is not None:
            self.stats.distribution = dist.to_dict()
        start, losses = (0, 0), None
        if resume:
            assert self.checkpoint is not None
            state = self.checkpoint.load(model)
            start, losses = (state["epoch"], state["next_chunk"]), state["losses"]
            self.stats.examples_trained = state.get("examples", 0)
            self._elapsed_before = float(state.get("seconds", 0.0))
            self.stats.resumed_from = str(self.checkpoint.directory)
            log.debug("resuming from %s at epoch %d, chunk %d", self.checkpoint.directory, *start)
        self._t0 = time.perf_counter()
        n_chunks = self.batches.n_chunks
        plan = [(e, c) for e in range(start[0], cfg.epochs) for c in range(n_chunks) if (e, c) >= start]
        stepper = choose_stepper(model, dist, self.batches.estimated_batches(), pad_id=self.V)
        log.debug("stepping %d chunks with %s", len(plan), type(stepper).__name__)
        monitor = TrainingMonitor(self.progress, kept_words=self.enc.n_tokens, raw_words=self.stats.raw_words,
                                  bounds=self.batches.bounds, epochs=cfg.epochs,
                                  start=plan[0] if plan else (cfg.epochs, 0), losses=losses)
        writes = self.checkpoint is not None and (dist is None or dist.is_chief)
        last_ckpt = time.perf_counter()
        with monitor, concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(self.batches.make_chunk, *plan[0]) if plan else None
            for k, (epoch, chunk) in enumerate(plan):
                assert pending is not None
                batches, n_real = pending.result()
                pending = pool.submit(self.batches.make_chunk, *plan[k + 1]) if k + 1 < len(plan) else None
                stepper.run(epoch, chunk, batches, n_real, monitor)
                self.stats.examples_trained += n_real
                if chunk == n_chunks - 1:
                    monitor.end_epoch(epoch)
                if writes and (time.perf_counter() - last_ckpt >= self.checkpoint_every or k == len(plan) - 1):
                    nxt = plan[k + 1] if k + 1 < len(plan) else (cfg.epochs, 0)
                    assert self.checkpoint is not None
                    self.checkpoint.save(model, {"epoch": nxt[0], "next_chunk": nxt[1], "losses": monitor.losses,
                                                 "examples": self.stats.examples_trained, "seconds": self.elapsed()})
                    last_ckpt = time.perf_counter()
        seconds = self.elapsed()
        self.stats.seconds = round(seconds, 3)
        self.stats.words_per_sec = round(self.stats.raw_words * cfg.epochs / max(seconds, 1e-9), 1)
        self.stats.loss_per_epoch = [round(float(x), 5) for x in monitor.losses["history"]]
        tables = model.get_tables()
        wv = WordVectors(self.enc.vocab.words, np.ascontiguousarray(tables.input[: self.V], dtype=np.float32),
                         self.enc.vocab.counts, source="embedkit train-cbow")
        return CBOWResult(wv=wv, stats=self.stats, output_vectors=tables.output)
