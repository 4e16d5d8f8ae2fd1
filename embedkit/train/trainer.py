"""Train word2vec (CBOW, or skip-gram) in Keras 3 (TensorFlow backend): ``train_cbow(corpus, CBOWConfig(...))``.

What gensim's ``Word2Vec`` does, with the same defaults: negative sampling from unigram^0.75 that never uses the
positive target as a negative, word2vec's frequent-word subsampling, a dynamic window drawn uniformly from
1..window per target, the mean of the context (``cbow_mean``), and a learning rate decaying linearly from
``alpha`` to ``min_alpha`` over all words of all epochs; ``CBOWConfig(sg=True)`` trains skip-gram as gensim's
``sg=1``.

A run reads the corpus once (:mod:`embedkit.train.corpus`), then for each chunk of each epoch makes the
batches in vectorised numpy (:class:`embedkit.train.batches.BatchMaker`, in a background thread while the
model trains on the previous chunk) and steps through them one way chosen for the whole run
(:mod:`embedkit.train.steppers`: several Hogwild threads for long runs, one thread for short runs or
``threads=1``, the strategy's loop when distributed), with the update of ``CBOWConfig.kernel``: on a CPU the native
kernel (:mod:`embedkit.train.native`, gensim's example-by-example loop compiled as TensorFlow ops), else the
batched XLA update. Keras callbacks see every epoch
(:mod:`embedkit.train.callbacks`: exact loss, words/s, learning rate, intrinsic scores on request). Between
chunks a checkpoint can be written (:mod:`embedkit.train.checkpoints`); ``resume=True`` continues from it
(with ``threads=1``, to the same vectors as an uninterrupted run). The tables can start from other vectors or
continue a trained set (:mod:`embedkit.train.warm`). Progress is reported as
:class:`~embedkit.progress.ProgressEvent` s (:mod:`embedkit.train.monitor`).

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
import gc
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
from embedkit.train.batches import BATCHING, BatchMaker, chunk_bounds
from embedkit.train.checkpoints import Checkpoint
from embedkit.train.config import CBOWConfig
from embedkit.train.corpus import EncodedCorpus, check_training_tokenizer, encode_corpus
from embedkit.train.monitor import TrainingMonitor
from embedkit.train.warm import OUTPUT_TABLE_FILE, TRAINING_FILE, StartTables
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
    words_per_sec: float = 0.0  # raw corpus words × epochs trained / training seconds (gensim's measure)
    loss_per_epoch: list[float] = field(default_factory=list)
    history: list[dict[str, float]] = field(default_factory=list)  # each epoch's logs, as callbacks saw them
    epochs_trained: int = 0
    best_epoch: int | None = None  # 1-based epoch whose vectors were kept (early stopping), else None
    stepper: str = ""
    threads: int = 1
    kernel: str = ""  # "native" or "xla": what stepped (CBOWConfig.kernel resolved)
    init: dict[str, Any] | None = None  # warm start / continued training (embedkit.train.warm)
    resumed_from: str | None = None
    distribution: dict[str, Any] | None = None  # the tf.distribute setting, when there is one

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class CBOWResult:
    """The trained word vectors (with counts), the output table and the training statistics.

    ``wv.vectors`` is the run's own copy; ``output_vectors`` (kept to train further) is a read-only snapshot of the
    model's output table (``np.array(result.output_vectors)`` for a copy to change).
    """

    wv: WordVectors
    stats: TrainingStats
    output_vectors: np.ndarray | None = None

    def save(self, path: str | os.PathLike[str], also_word2vec: bool = False, *, overwrite: bool = False) -> Path:
        """Save the vectors as a native set with ``training.json`` and the output table inside it (so the set can
        be trained further, :func:`embedkit.train.warm.continue_training`), and optionally word2vec text.
        An existing output embedkit did not write is refused unless ``overwrite`` (see
        :meth:`WordVectors.save <embedkit.vectors.word_vectors.WordVectors.save>`)."""
        from embedkit.files.atomic import atomic_path
        from embedkit.files.outputs import record_output

        path = Path(path)
        self.wv.save(path, overwrite=overwrite, source=f"embedkit train-cbow ({self.stats.corpus_sha256[:12]})",
                     extra_meta={"trainer": "embedkit-sg" if self.stats.config.get("sg") else "embedkit-cbow",
                                 "vector_size": self.wv.dim})
        atomic_write_text(path / TRAINING_FILE, json.dumps(self.stats.to_dict(), indent=2) + "\n")
        if self.output_vectors is not None:
            with atomic_path(path / OUTPUT_TABLE_FILE) as tmp, open(tmp, "wb") as fh:
                np.save(fh, np.ascontiguousarray(self.output_vectors, dtype=np.float32))
        if also_word2vec:
            self.wv.save(path / WORD2VEC_TEXT, format="word2vec", overwrite=overwrite)
            record_output(path / WORD2VEC_TEXT)
        return path


WORD2VEC_TEXT = "vectors.w2v.txt"
"""The word2vec text copy ``train-cbow --word2vec-text`` writes inside the set."""


def default_threads() -> int:
    """Stepping threads when ``CBOWConfig.threads`` is None: the CPU cores, at most 4 (as gensim, whose
    default is 3 workers; past 4 the shared rows make Hogwild contend)."""
    return max(1, min(os.cpu_count() or 1, 4))


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
    callbacks: Sequence[Any] | None = None,
    evaluate_each_epoch: bool | int = False,
    init_vectors: Any = None,
    continue_from: str | os.PathLike[str] | None = None,
) -> CBOWResult:
    """Train word2vec on ``corpus`` (file paths, an iterable of token lists, or an :class:`EncodedCorpus`).

    Args:
        config: hyper-parameters (gensim's defaults when None; ``sg=True`` for skip-gram).
        tokenizer: used for file corpora (lowercase ``[a-z0-9]+('[a-z]+)?`` by default).
        checkpoint_dir: where to keep a resumable checkpoint (written every ``checkpoint_every`` seconds
            at chunk boundaries, at the end of the run, and kept if training is interrupted).
        resume: continue from the checkpoint in ``checkpoint_dir`` (it must match corpus and config).
        progress: a :data:`~embedkit.progress.ProgressCallback` (True: log them) receiving the run's
            :class:`~embedkit.progress.ProgressEvent` s, task ``"train"``, fields ``epoch``, ``epochs``,
            ``fraction``, ``words_per_sec``, ``loss``, ``eta_seconds`` (see :mod:`embedkit.train.monitor`);
            the CLI draws them as a progress bar.
        strategy: a :class:`embedkit.train.strategies.DistributedContext` (``make_context("multi-worker")``) to
            train this worker's shard under ``tf.distribute``; only its chief writes checkpoints.
        callbacks: Keras callbacks (``keras.callbacks.TensorBoard``, ``EarlyStopping``, ``ModelCheckpoint``,
            your own), called as ``fit`` calls them; see :mod:`embedkit.train.callbacks` for the logs.
        evaluate_each_epoch: add ``analogy_accuracy`` (over the N most frequent words: True = 30,000, or give N),
            ``ws353`` and ``simlex`` of the current vectors to every epoch's logs.
        init_vectors: start the input vectors of the corpus words from this set (name, path or WordVectors).
        continue_from: go on training a set embedkit trained (both tables; its vocabulary grows by the corpus's).

    Example:
        result = train_cbow(["corpus.txt"], CBOWConfig(epochs=10), evaluate_each_epoch=True,
                            callbacks=[keras.callbacks.TensorBoard("runs/1")])
        result.stats.history[-1]["loss"]
    """
    config = (config or CBOWConfig()).validate()
    if resume and checkpoint_dir is None:
        raise EmbedkitError("`resume` needs a checkpoint directory. Received: resume=True, checkpoint_dir=None")
    if init_vectors is not None and continue_from is not None:
        raise EmbedkitError("Give `init_vectors` or `continue_from`, not both. Received: both")
    if isinstance(evaluate_each_epoch, int) and not isinstance(evaluate_each_epoch, bool) and evaluate_each_epoch < 1:
        raise EmbedkitError(f"`evaluate_each_epoch` must be True or a positive number of words. "
                            f"Received: {evaluate_each_epoch!r}")
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
            check_training_tokenizer(tokenizer or Tokenizer())
        if strategy is not None:  # this worker's files or lines; the chief's vocabulary of the whole corpus
            enc = strategy.encode_shard(corpus, tokenizer=tokenizer, min_count=config.min_count,
                                        max_vocab_size=config.max_vocab_size)
        else:
            enc = encode_corpus(corpus, tokenizer=tokenizer, min_count=config.min_count,
                                max_vocab_size=config.max_vocab_size)
    start: StartTables | None = None
    if continue_from is not None:
        from embedkit.train.warm import continue_training

        enc, start = continue_training(enc, continue_from, dim=config.vector_size, seed=config.seed)
    elif init_vectors is not None:
        from embedkit.train.warm import warm_start

        start = warm_start(enc, init_vectors, dim=config.vector_size, seed=config.seed)
    check_table_memory(len(enc.vocab), config.vector_size)
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
        init=start.source if start is not None else None,
    )
    if start is not None:
        log.info("%s", start.describe())
    extra_callbacks: list[Any] = list(callbacks or [])
    run = _Run(enc, config, stats, checkpoint_dir, checkpoint_every, progress, strategy, start)
    return run.train(resume, extra_callbacks, evaluate_each_epoch)


def check_table_memory(vocab_size: int, dim: int) -> None:
    """One line instead of "Out of memory" when the two tables alone cannot fit this machine's memory.

    >>> check_table_memory(10, 10**12)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    embedkit.errors.EmbedkitError: The two training tables need ... Received: vocab_size=10, dim=1000000000000
    """
    need = 2.0 * (vocab_size + 1) * dim * 4
    try:
        have = float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return
    if need > 0.9 * have:
        raise EmbedkitError(
            f"The two training tables need {need / 2**30:,.1f} GiB (2 x vocabulary x dim float32) but this machine "
            f"has {have / 2**30:,.1f} GiB: lower --dim, --max-vocab-size or raise --min-count. "
            f"Received: vocab_size={vocab_size}, dim={dim}"
        )


class _Run:
    """One training run: batches, model, stepper, callbacks, checkpoints and the loop over the chunks of every
    epoch."""

    def __init__(
        self,
        enc: EncodedCorpus,
        config: CBOWConfig,
        stats: TrainingStats,
        checkpoint_dir: str | os.PathLike[str] | None,
        checkpoint_every: float,
        progress: ProgressArg,
        strategy: Any = None,
        start: StartTables | None = None,
    ) -> None:
        self.enc, self.cfg, self.stats = enc, config, stats
        self.checkpoint_every = checkpoint_every
        self.progress = progress
        self.dist = strategy
        self.start = start
        self.V = len(enc.vocab)
        bounds = chunk_bounds(enc.sentence_ends, config.built_tokens)
        if strategy is not None:  # every worker must run the same number of chunks
            bounds = strategy.align_bounds(bounds, enc.sentence_ends)
        self.batches = BatchMaker(enc, config, bounds=bounds, worker=strategy.worker_index if strategy else 0)
        identity = {"config": config.to_dict(), "corpus_sha256": enc.digest, "vocab_size": self.V,
                    "batching": BATCHING}
        if start is not None:
            identity["init"] = start.source
        self.checkpoint = None if checkpoint_dir is None else Checkpoint(checkpoint_dir, identity)
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
            if cfg.sg:
                raise EmbedkitError("Skip-gram trains in one process; distributed strategies train CBOW. "
                                    f"Received: sg=True, strategy={self.dist.name!r}")
            return self.dist.build_model(*args, **kwargs)
        from embedkit.train.model import build_cbow_model

        return build_cbow_model(*args, sg=cfg.sg, **kwargs)

    def alpha_after(self, epoch: int) -> float:
        """The learning rate when ``epoch`` (0-based) ends."""
        cfg = self.cfg
        return max(cfg.min_alpha, cfg.alpha - (cfg.alpha - cfg.min_alpha) * (epoch + 1) / cfg.epochs)

    def train(self, resume: bool, user_callbacks: list[Any], evaluate_each_epoch: bool | int) -> CBOWResult:
        from embedkit.runtime import import_tensorflow
        import_tensorflow()  # quiet start-up
        import tensorflow as tf

        cfg, dist = self.cfg, self.dist
        threads = cfg.threads or default_threads()
        if dist is not None:
            threads = 1
        try:
            # Each Hogwild thread steps on one core (measured faster than XLA's own two-thread ops); one thread
            # with one TensorFlow thread is bit-reproducible.
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1 if threads == 1 else threads + 1)
        except RuntimeError:
            pass  # runtime already initialised in this process; keep its setting
        from embedkit.train.callbacks import IntrinsicScores, restore_states, save_states
        from embedkit.train.native import choose_kernel
        from embedkit.train.steppers import choose_stepper, reused_buffers

        import keras

        kernel = choose_kernel(cfg.kernel, distributed=dist is not None)  # may build it first: not training time
        model = self.build_model()
        if self.start is not None:
            out = self.start.output if self.start.output is not None else np.zeros((self.V, cfg.vector_size), np.float32)
            model.set_tables(self.start.input, out, 0)
        if hasattr(model, "words"):
            model.words = self.enc.vocab.words
        if dist is not None:
            self.stats.distribution = dist.to_dict()
        callbacks = list(user_callbacks)
        scorer = None
        if evaluate_each_epoch:  # measured before the callbacks run, so every one of them sees the scores
            scorer = IntrinsicScores(restrict_vocab=30000 if evaluate_each_epoch is True else int(evaluate_each_epoch))
            scorer.set_model(model)
        start, losses, history, stopped = (0, 0), None, [], False
        if resume:
            assert self.checkpoint is not None
            state = self.checkpoint.load(model)
            start, losses = (int(state["epoch"]), int(state["next_chunk"])), state["losses"]
            if not isinstance(losses, dict):
                raise EmbedkitError(f"The checkpoint's losses must be an object. Received: {type(losses).__name__}")
            history = list(state.get("history", []))
            stopped = bool(state.get("stopped", False))
            self.stats.examples_trained = int(state.get("examples", 0))
            self._elapsed_before = float(state.get("seconds", 0.0))
            self.stats.resumed_from = str(self.checkpoint.directory)
            restore_states(callbacks, state.get("callbacks", {}), state.get("extra", {}))
            log.debug("resuming from %s at epoch %d, chunk %d", self.checkpoint.directory, *start)
        self._t0 = time.perf_counter()
        n_chunks = self.batches.n_chunks
        plan = [] if stopped else [(e, c) for e in range(start[0], cfg.epochs) for c in range(n_chunks)
                                   if (e, c) >= start]
        stepper = choose_stepper(model, dist, self.batches.estimated_batches(), pad_id=self.V, threads=threads,
                                 kernel=kernel)
        self.stats.stepper, self.stats.threads, self.stats.kernel = type(stepper).__name__, threads, kernel
        log.debug("stepping %d chunks with %s (%s kernel, %d threads)", len(plan), type(stepper).__name__, kernel,
                  threads)
        monitor = TrainingMonitor(self.progress, kept_words=self.enc.n_tokens, raw_words=self.stats.raw_words,
                                  bounds=self.batches.bounds, epochs=cfg.epochs,
                                  start=plan[0] if plan else (cfg.epochs, 0), losses=losses)
        cbs = keras.callbacks.CallbackList(callbacks, model=model if isinstance(model, keras.Model) else None,
                                           epochs=cfg.epochs, steps=n_chunks, verbose=0)
        if isinstance(model, keras.Model):
            model.stop_training = False
        writes = self.checkpoint is not None and (dist is None or dist.is_chief)
        last_ckpt = time.perf_counter()
        logs: dict[str, Any] = dict(history[-1]) if history else {}

        def make(ec: tuple[int, int]) -> tuple[Any, int]:
            batches, n_real = self.batches.make_chunk(*ec)
            return stepper.prepare(batches), n_real

        def save(nxt: tuple[int, int], stop: bool = False) -> None:
            assert self.checkpoint is not None
            cb_states, cb_arrays = save_states(callbacks)
            self.checkpoint.save(model, {"epoch": nxt[0], "next_chunk": nxt[1], "losses": monitor.losses,
                                         "examples": self.stats.examples_trained, "seconds": self.elapsed(),
                                         "history": history, "stopped": stop, "callbacks": cb_states},
                                 serial=nxt[0] * n_chunks + nxt[1], extra=cb_arrays)

        gc_was_enabled = gc.isenabled()
        gc.disable()  # Python's collector found nothing here but cost ~4 % of a long run's time
        buffers = reused_buffers()
        buffers.__enter__()
        try:
            cbs.on_train_begin()
            with monitor, concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                pending = pool.submit(make, plan[0]) if plan else None
                for k, (epoch, chunk) in enumerate(plan):
                    assert pending is not None
                    if chunk == 0 or k == 0:
                        cbs.on_epoch_begin(epoch)
                    t_wait = time.perf_counter()
                    prepared, n_real = pending.result()
                    pending = pool.submit(make, plan[k + 1]) if k + 1 < len(plan) else None
                    cbs.on_train_batch_begin(chunk)
                    t_step = time.perf_counter()
                    stepper.run(epoch, chunk, prepared, n_real, monitor)
                    del prepared
                    log.debug("epoch %d chunk %d: %.3f s waiting for batches, %.3f s stepping", epoch, chunk,
                              t_step - t_wait, time.perf_counter() - t_step)
                    self.stats.examples_trained += n_real
                    cbs.on_train_batch_end(chunk, {"loss": monitor.epoch_loss()})
                    stop = False
                    if chunk == n_chunks - 1:
                        logs = monitor.end_epoch(epoch, report=False)
                        logs["learning_rate"] = self.alpha_after(epoch)
                        if isinstance(model, keras.Model):
                            model.optimizer.learning_rate.assign(logs["learning_rate"])
                        if scorer is not None:
                            logs.update(scorer.scores())
                        cbs.on_epoch_end(epoch, logs)
                        monitor.report_epoch(epoch, logs)
                        history.append({k2: float(v) for k2, v in logs.items()
                                        if isinstance(v, (int, float, np.floating))})
                        stop = bool(getattr(model, "stop_training", False))
                    last = k == len(plan) - 1 or stop
                    if writes and (time.perf_counter() - last_ckpt >= self.checkpoint_every or last):
                        save(plan[k + 1] if k + 1 < len(plan) and not stop else (cfg.epochs, 0), stop=stop)
                        last_ckpt = time.perf_counter()
                    if stop:
                        log.info("early stop after epoch %d", epoch + 1)
                        if pending is not None:
                            pending.cancel()
                        break
            cbs.on_train_end(logs)
        finally:
            buffers.__exit__(None, None, None)
            if gc_was_enabled:
                gc.enable()
            close = getattr(stepper, "close", None)
            if close is not None:
                close()
        seconds = self.elapsed()
        self.stats.seconds = round(seconds, 3)
        self.stats.epochs_trained = len(history)
        self.stats.words_per_sec = round(self.stats.raw_words * max(self.stats.epochs_trained, 1)
                                         / max(seconds, 1e-9), 1)
        self.stats.loss_per_epoch = [round(float(h["loss"]), 6) for h in history if "loss" in h]
        self.stats.history = history
        for cb in callbacks:
            best = getattr(cb, "best_epoch", None)
            if getattr(cb, "restore_best_weights", False) and getattr(cb, "best_weights", None) is not None:
                self.stats.best_epoch = int(best) + 1
        final = getattr(model, "final_tables", None)  # the Keras model shares its output table; others copy both
        tables = final() if final is not None else model.get_tables()
        counts = self.start.counts if self.start is not None and self.start.counts is not None else self.enc.vocab.counts
        wv = WordVectors(self.enc.vocab.words, np.ascontiguousarray(tables.input[: self.V], dtype=np.float32),
                         counts, source="embedkit train-cbow")
        return CBOWResult(wv=wv, stats=self.stats, output_vectors=tables.output)
