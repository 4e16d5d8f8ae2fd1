"""Train CBOW word2vec in Keras 3 (TensorFlow backend): ``train_cbow(corpus, CBOWConfig(...))``.

What gensim's ``Word2Vec(sg=0)`` does, with the same defaults: negative sampling from unigram^0.75 that
never uses the positive target as a negative, word2vec's frequent-word subsampling, a dynamic window drawn
uniformly from 1..window per target, the mean of the context (``cbow_mean``), and a learning rate decaying
linearly from ``alpha`` to ``min_alpha`` over all words of all epochs.

Examples are made in vectorised numpy per chunk of the corpus (subsampling, window sampling, shuffling),
in a background thread while Keras trains on the previous chunk; negatives are drawn there too, from alias
tables. Short runs go through Keras ``fit``; long runs call the model's ``train_group`` (8 or 16 batch steps
unrolled in one compiled call, see :func:`batches_per_call`), which is 1.4-1.7x faster per batch on CPU.
Between chunks a checkpoint can be written; ``resume=True`` continues from it and gives the same vectors as an
uninterrupted run.

Example:
    from embedkit.train.trainer import CBOWConfig, train_cbow
    sents = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    result = train_cbow(sents, CBOWConfig(vector_size=8, min_count=1, epochs=1))
    result.wv["cat"].shape
    (8,)
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.files.atomic import atomic_path, atomic_write_text
from embedkit.train.corpus import EncodedCorpus, Tokenizer, encode_corpus
from embedkit.errors import EmbedkitError, check_nonnegative_number, check_positive_int, check_positive_number
from embedkit.vectors.word_vectors import WordVectors



@dataclass
class CBOWConfig:
    """Hyper-parameters, named and defaulted as gensim's ``Word2Vec(sg=0)``.

    >>> CBOWConfig(vector_size=50).window
    5
    """

    vector_size: int = 100
    window: int = 5
    negative: int = 5
    min_count: int = 5
    max_vocab_size: int | None = None
    sample: float = 1e-3
    ns_exponent: float = 0.75
    cbow_mean: bool = True
    alpha: float = 0.025
    min_alpha: float = 0.0001
    epochs: int = 5
    seed: int = 1
    batch_size: int = 1024
    chunk_tokens: int = 1 << 20
    threads: int | None = None

    def validate(self) -> CBOWConfig:
        """Raise a one-line :class:`EmbedkitError` for any out-of-range value; return self."""
        for name in ("vector_size", "window", "negative", "min_count", "epochs", "batch_size", "chunk_tokens"):
            check_positive_int(name, getattr(self, name))
        if self.max_vocab_size is not None:
            check_positive_int("max_vocab_size", self.max_vocab_size)
        if self.threads is not None:
            check_positive_int("threads", self.threads)
        check_nonnegative_number("sample", self.sample)
        check_nonnegative_number("ns_exponent", self.ns_exponent)
        check_positive_number("alpha", self.alpha)
        check_nonnegative_number("min_alpha", self.min_alpha)
        if self.min_alpha > self.alpha:
            raise EmbedkitError(
                f"`min_alpha` must not exceed `alpha`. Received: alpha={self.alpha}, min_alpha={self.min_alpha}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise EmbedkitError(f"`seed` must be a non-negative integer. Received: seed={self.seed!r}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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


ProgressFn = Callable[[dict[str, Any]], None]


def train_cbow(
    corpus: Sequence[str | os.PathLike[str]] | Iterable[Sequence[str]] | EncodedCorpus,
    config: CBOWConfig | None = None,
    *,
    tokenizer: Tokenizer | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    checkpoint_every: float = 60.0,
    progress: ProgressFn | None = None,
    strategy: Any = None,
) -> CBOWResult:
    """Train CBOW on ``corpus`` (file paths, an iterable of token lists, or an :class:`EncodedCorpus`).

    Args:
        config: hyper-parameters (gensim's defaults when None).
        tokenizer: used for file corpora (lowercase ``[a-z0-9]+('[a-z]+)?`` by default).
        checkpoint_dir: where to keep a resumable checkpoint (written every ``checkpoint_every`` seconds
            at chunk boundaries, and kept if training is interrupted).
        resume: continue from the checkpoint in ``checkpoint_dir`` (it must match corpus and config).
        progress: called with a dict (epoch, fraction, words_per_sec, loss, eta_seconds) after each batch
            group; used by the CLI's progress bar.
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
        raw_words=enc.vocab.total_raw_words,
        kept_words=enc.n_tokens,
        vocab_size=len(enc.vocab),
        read_seconds=round(read_seconds, 3),
    )
    trainer = _Trainer(enc, config, stats, checkpoint_dir, checkpoint_every, progress, strategy)
    return trainer.run(resume)


class _Trainer:
    def __init__(
        self,
        enc: EncodedCorpus,
        config: CBOWConfig,
        stats: TrainingStats,
        checkpoint_dir: str | os.PathLike[str] | None,
        checkpoint_every: float,
        progress: ProgressFn | None,
        strategy: Any = None,
    ) -> None:
        self.enc = enc
        self.cfg = config
        self.stats = stats
        self.ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.checkpoint_every = checkpoint_every
        self.progress = progress
        self.V = len(enc.vocab)
        self.keep_p = enc.vocab.keep_probabilities(config.sample).astype(np.float32)
        self.sent = enc.sentence_ids()
        self.bounds = _chunk_bounds(enc.sentence_ends, config.chunk_tokens)
        self.total_work = float(enc.n_tokens) * config.epochs  # lr decays over kept words of all epochs
        self.noise = noise_distribution(enc.vocab.counts, config.ns_exponent)
        self.dist = strategy
        if strategy is not None:  # every worker must run the same number of chunks
            self.bounds = strategy.align_bounds(self.bounds, enc.sentence_ends)

    # -- data ----------------------------------------------------------------------------------------------
    def make_chunk(self, epoch: int, chunk: int) -> tuple[tuple[np.ndarray, ...], int]:
        """Training batches for one chunk of one epoch; deterministic in (seed, epoch, chunk).

        Returns ``((span, window, target, negatives, alpha), n_targets)``. Targets come in segments of ``S``
        consecutive (kept) words (:func:`segment_length`), and a segment reads its context from one span of
        ``S + 2·w`` words: ``span`` (n_batches, (B/S)·(S + 2w)) holds the spans of a batch's segments (target
        ``r`` of segment ``g`` is ``span[g·(S + 2w) + w + r]``),
        ``window`` (n_batches, B, 2w) says whether the word at offset -1..-w, +1..+w is in the target's
        context (inside its effective window, sentence and chunk), ``target`` (n_batches, B) holds the target
        ids, ``negatives`` (n_batches, B, negative) the noise words and ``alpha`` (n_batches,) the learning
        rate of each batch. Each step reads and writes each context
        row once instead of once per window it falls in.
        """
        cfg = self.cfg
        lo, hi = self.bounds[chunk], self.bounds[chunk + 1]
        worker = self.dist.worker_index if self.dist is not None else 0
        # Each worker of a distributed run draws its own stream (its shard differs anyway).
        rng = np.random.default_rng([cfg.seed, epoch, chunk] + ([worker] if worker else []))
        ids = self.enc.ids[lo:hi]
        sent = self.sent[lo:hi]
        keep = rng.random(ids.size, dtype=np.float32) < self.keep_p[ids]  # frequent-word subsampling
        kid, ks = ids[keep], sent[keep]
        m = kid.size
        w, bsz, V = cfg.window, cfg.batch_size, self.V
        seg = segment_length(bsz)
        n_batches = max(1, -(-m // bsz))
        M = n_batches * bsz
        n_seg = M // seg
        b = np.zeros(M, dtype=np.int32)
        b[:m] = rng.integers(1, w + 1, size=m, dtype=np.int32)  # dynamic window, uniform in 1..window
        # Padded sequences with w slots on both sides; padding never matches a sentence.
        seq = np.full(M + 2 * w, V, dtype=np.int32)
        seq[w : w + m] = kid
        sid = np.full(M + 2 * w, -1, dtype=np.int64)
        sid[w : w + m] = ks
        window = np.empty((M, 2 * w), dtype=bool)
        center = w + np.arange(M, dtype=np.int64)  # index of each target in seq
        cols = [-o for o in range(1, w + 1)] + list(range(1, w + 1))
        for c, o in enumerate(cols):
            window[:, c] = (sid[center + o] == sid[center]) & (b >= abs(o))
        tgt = np.zeros(M, dtype=np.int32)
        tgt[:m] = kid
        # Segments of `seg` consecutive targets, shuffled within the chunk: a batch mixes B/seg far-apart
        # places of the text (updates less correlated than one long run), while each segment still reads its
        # context from one span of seg + 2w words (padded coordinates: seq[start : start + seg + 2w]).
        order = rng.permutation(n_seg)
        starts = order.astype(np.int64) * seg
        span = seq[starts[:, None] + np.arange(seg + 2 * w)[None, :]].reshape(n_batches, -1)
        window = window.reshape(n_seg, seg, 2 * w)[order]
        tgt = tgt.reshape(n_seg, seg)[order].reshape(-1)
        # Learning rate per batch: linear in the share of all words processed, as word2vec.
        done = epoch * self.enc.n_tokens + lo
        frac_in_chunk = (np.arange(n_batches, dtype=np.float64) + 0.5) / n_batches
        progress = (done + frac_in_chunk * (hi - lo)) / self.total_work
        alpha = np.maximum(cfg.min_alpha, cfg.alpha - (cfg.alpha - cfg.min_alpha) * progress).astype(np.float32)
        neg = draw_negatives(rng, self.noise, tgt, cfg.negative)
        return (span, window.reshape(n_batches, bsz, 2 * w), tgt.reshape(n_batches, bsz),
                neg.reshape(n_batches, bsz, cfg.negative), alpha), m

    def estimated_batches(self) -> int:
        """Batches of the whole run, from the share of words subsampling is expected to keep."""
        counts = self.enc.vocab.counts.astype(np.float64)
        kept = float(np.dot(self.keep_p, counts)) / max(float(counts.sum()), 1.0)
        return int(self.enc.n_tokens * kept * self.cfg.epochs / self.cfg.batch_size)

    # -- checkpoints ---------------------------------------------------------------------------------------
    def _ckpt_state(self) -> dict[str, Any]:
        return {"config": self.cfg.to_dict(), "corpus_sha256": self.enc.digest, "vocab_size": self.V}

    def save_checkpoint(self, model: Any, epoch: int, chunk: int, losses: dict[str, Any]) -> None:
        assert self.ckpt is not None
        self.ckpt.mkdir(parents=True, exist_ok=True)
        state = self._ckpt_state() | {"epoch": epoch, "next_chunk": chunk, "losses": losses,
                                      "examples": self.stats.examples_trained, "seconds": self.elapsed()}
        with atomic_path(self.ckpt / "weights.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, w_in=model.input_embeddings.embeddings.numpy(),
                         w_out=model.output_embeddings.embeddings.numpy(),
                         step=np.int64(model.step_counter.numpy()))
        atomic_write_text(self.ckpt / "state.json", json.dumps(state) + "\n")

    def load_checkpoint(self, model: Any) -> dict[str, Any]:
        assert self.ckpt is not None
        try:
            state = json.loads((self.ckpt / "state.json").read_text())
            data = np.load(self.ckpt / "weights.npz")
        except FileNotFoundError:
            raise EmbedkitError(f"No checkpoint to resume from. Received: checkpoint_dir={str(self.ckpt)!r}") from None
        except (ValueError, OSError) as e:
            raise EmbedkitError(f"The checkpoint is unreadable ({e}). Received: {str(self.ckpt)!r}") from None
        mine = self._ckpt_state()
        for key in ("corpus_sha256", "vocab_size", "config"):
            theirs = state.get(key)
            if key == "config" and theirs is not None:
                theirs = {k: v for k, v in theirs.items() if k != "threads"}
                mine_v = {k: v for k, v in mine[key].items() if k != "threads"}
            else:
                mine_v = mine[key]
            if theirs != mine_v:
                raise EmbedkitError(
                    f"The checkpoint was made with a different {key.replace('_', ' ')}: resume needs the same corpus "
                    f"and settings. Received: checkpoint_dir={str(self.ckpt)!r}"
                )
        model.input_embeddings.embeddings.assign(data["w_in"])
        model.output_embeddings.embeddings.assign(data["w_out"])
        model.step_counter.assign(int(data["step"]))
        return state

    def elapsed(self) -> float:
        return self._elapsed_before + (time.perf_counter() - self._t0)

    # -- training ------------------------------------------------------------------------------------------
    def run(self, resume: bool) -> CBOWResult:
        from embedkit.runtime import import_tensorflow
        import_tensorflow()  # quiet start-up
        import tensorflow as tf

        cfg = self.cfg
        if cfg.threads is not None:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(cfg.threads)
                tf.config.threading.set_inter_op_parallelism_threads(cfg.threads)
            except RuntimeError:
                pass  # runtime already initialised in this process; keep its setting
        from embedkit.train.model import build_cbow_model

        dist = self.dist
        if dist is not None and hasattr(dist, "build_model"):  # parameter servers: sharded tables, no Keras fit
            model = dist.build_model(self.V, cfg.vector_size, cfg.window, cfg.negative, cbow_mean=cfg.cbow_mean,
                                     seed=cfg.seed)
        else:
            with dist.scope() if dist is not None else contextlib.nullcontext():  # tables mirrored per replica
                model = build_cbow_model(
                    self.V, cfg.vector_size, cfg.window, cfg.negative,
                    cbow_mean=cfg.cbow_mean, seed=cfg.seed, initial_alpha=cfg.alpha,
                    **({"jit_compile": dist.jit_compile} if dist is not None else {}),
                )
        if dist is not None:
            dist.prepare(model)
            self.stats.distribution = dist.to_dict()
        start_epoch, start_chunk = 0, 0
        epoch_loss: dict[str, Any] = {"sum": 0.0, "n": 0, "history": []}
        self._elapsed_before = 0.0
        if resume:
            state = self.load_checkpoint(model)
            start_epoch, start_chunk = state["epoch"], state["next_chunk"]
            epoch_loss = state["losses"]
            self.stats.examples_trained = state.get("examples", 0)
            self._elapsed_before = float(state.get("seconds", 0.0))
            self.stats.resumed_from = str(self.ckpt)
        self._t0 = time.perf_counter()
        n_chunks = len(self.bounds) - 1
        plan = [(e, c) for e in range(start_epoch, cfg.epochs) for c in range(n_chunks)
                if (e, c) >= (start_epoch, start_chunk)]
        group = batches_per_call(self.estimated_batches()) if dist is None else 1
        group_step = tf.function(model.train_group, jit_compile=True) if group > 1 else None
        cb = _ProgressCallback(self, plan, epoch_loss)
        last_ckpt = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(self.make_chunk, *plan[0]) if plan else None
            for k, (epoch, chunk) in enumerate(plan):
                assert pending is not None
                batches, n_real = pending.result()
                pending = pool.submit(self.make_chunk, *plan[k + 1]) if k + 1 < len(plan) else None
                grouped = None
                if dist is None and n_real and group_step is not None:
                    grouped = tuple(tf.constant(x) for x in group_batches(batches, group, pad_id=self.V))
                cb.begin_chunk(epoch, chunk, (grouped or batches)[0].shape[0])
                if dist is not None:  # all workers step together, even on an empty shard chunk
                    dist.fit_chunk(model, batches, cb)
                elif grouped is not None:
                    for j in range(int(grouped[0].shape[0])):
                        logs = group_step(tuple(x[j] for x in grouped))
                        cb.on_train_batch_end(j, {"loss": float(logs["loss"])})
                elif n_real:
                    ds = tf.data.Dataset.from_tensor_slices(batches)  # each element is one batch
                    model.fit(ds, epochs=1, verbose=0, callbacks=[cb], shuffle=False)
                self.stats.examples_trained += n_real
                if chunk == n_chunks - 1:
                    epoch_loss["history"].append(epoch_loss["sum"] / max(epoch_loss["n"], 1))
                    epoch_loss["sum"], epoch_loss["n"] = 0.0, 0
                if self.ckpt is not None and (dist is None or dist.is_chief) and (
                    time.perf_counter() - last_ckpt >= self.checkpoint_every or k == len(plan) - 1
                ):
                    nxt = plan[k + 1] if k + 1 < len(plan) else (cfg.epochs, 0)
                    self.save_checkpoint(model, nxt[0], nxt[1], epoch_loss)
                    last_ckpt = time.perf_counter()
        seconds = self.elapsed()
        self.stats.seconds = round(seconds, 3)
        self.stats.words_per_sec = round(self.stats.raw_words * cfg.epochs / max(seconds, 1e-9), 1)
        self.stats.loss_per_epoch = [round(float(x), 5) for x in epoch_loss["history"]]
        w_in = model.input_embeddings.embeddings.numpy()[: self.V]
        wv = WordVectors(self.enc.vocab.words, np.ascontiguousarray(w_in, dtype=np.float32),
                         self.enc.vocab.counts, source="embedkit train-cbow")
        return CBOWResult(wv=wv, stats=self.stats, output_vectors=model.output_embeddings.embeddings.numpy())


def _chunk_bounds(sentence_ends: np.ndarray, chunk_tokens: int) -> list[int]:
    """Token offsets that split the corpus into chunks of about ``chunk_tokens``, at sentence ends."""
    total = int(sentence_ends[-1]) if sentence_ends.size else 0
    bounds = [0]
    targets = np.arange(chunk_tokens, total, chunk_tokens)
    if targets.size:
        idx = np.searchsorted(sentence_ends, targets)
        for e in np.unique(sentence_ends[np.minimum(idx, sentence_ends.size - 1)]).tolist():
            if bounds[-1] < e < total:
                bounds.append(int(e))
    bounds.append(total)
    return bounds


def noise_distribution(counts: np.ndarray, exponent: float) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias tables for sampling word i with probability ∝ count_i ** exponent.

    Returns ``(accept, alias)``: draw ``j`` uniformly, keep it with probability ``accept[j]``, else take
    ``alias[j]``. Exact (no table rounding, unlike word2vec's 1e8-slot table) and small enough to stay in
    cache: two lookups in arrays of the vocabulary's size per negative.

    >>> acc, ali = noise_distribution(np.array([3, 1]), 1.0)
    >>> ((acc + np.bincount(ali, weights=1 - acc, minlength=2)) / 2).tolist()  # probability of each word
    [0.75, 0.25]
    """
    p = counts.astype(np.float64) ** exponent
    n = p.size
    scaled = p * (n / p.sum())
    accept = np.ones(n, dtype=np.float64)
    alias = np.arange(n, dtype=np.int64)
    small = [i for i in np.flatnonzero(scaled < 1.0).tolist()]
    large = [i for i in np.flatnonzero(scaled >= 1.0).tolist()]
    while small and large:
        s_i, l_i = small.pop(), large[-1]
        accept[s_i] = scaled[s_i]
        alias[s_i] = l_i
        scaled[l_i] -= 1.0 - scaled[s_i]
        if scaled[l_i] < 1.0:
            large.pop()
            small.append(l_i)
    return accept.astype(np.float32), alias.astype(np.int32)


def batches_per_call(total_batches: int) -> int:
    """Batch steps unrolled into one compiled call: 1 (plain Keras ``fit``) below 2,000 batches, 8 below
    10,000, else 16.

    Measured on mixed-en (1,024 targets, 42k words x 100): 2.5-3.3 ms per batch through ``fit``, 1.9 ms
    with 8 per call and 1.6 ms with 16, but XLA compiles 8 in 2.4-3.9 s and 16 in about 5.5 s, against
    0.7 s for one; short runs keep ``fit``.

    >>> batches_per_call(500), batches_per_call(5_000), batches_per_call(30_000)
    (1, 8, 16)
    """
    return 1 if total_batches < 2000 else 8 if total_batches < 10000 else 16


def group_batches(batches: tuple[np.ndarray, ...], group: int, pad_id: int) -> tuple[np.ndarray, ...]:
    """A chunk's ``(span, window, target, negatives, alpha)`` batches as groups of ``group`` batches.

    The last group is filled up with empty batches (padding ids, no context, learning rate 0).

    >>> b = (np.zeros((3, 14), np.int32), np.ones((3, 4, 2), bool), np.zeros((3, 4), np.int32),
    ...      np.zeros((3, 4, 1), np.int32), np.ones(3, np.float32))
    >>> g = group_batches(b, 2, pad_id=9)
    >>> [x.shape for x in g], int(g[0][1, 1, 0]), bool(g[1][1, 1].any())
    ([(2, 2, 14), (2, 2, 4, 2), (2, 2, 4), (2, 2, 4, 1), (2, 2)], 9, False)
    """
    pad = -batches[0].shape[0] % group
    out = []
    for k, x in enumerate(batches):
        if pad:
            x = np.concatenate([x, np.full((pad,) + x.shape[1:], pad_id if k == 0 else 0, dtype=x.dtype)])
        out.append(x.reshape((x.shape[0] // group, group) + x.shape[1:]))
    return tuple(out)


def segment_length(batch_size: int) -> int:
    """Targets per contiguous segment of a batch: 32 when it divides the batch size, else the whole batch.

    32 measured best on mixed-en: 64 correlates updates more (-0.4 pt analogy) and runs slower; 16 adds span
    overhead (0.50x gensim instead of 0.62x) without better quality.
    """
    return 32 if batch_size % 32 == 0 else batch_size


def draw_negatives(
    rng: np.random.Generator, noise: tuple[np.ndarray, np.ndarray], target: np.ndarray, k: int
) -> np.ndarray:
    """``k`` noise words per target from the alias tables; a draw equal to its target is drawn again once.

    Draws that still equal the target are left in place and masked out of the update (as gensim skips them),
    so the positive word is never used as a negative.
    """
    accept, alias = noise
    n = accept.size

    def draw(shape: tuple[int, ...]) -> np.ndarray:
        j = np.minimum((rng.random(shape, dtype=np.float32) * n).astype(np.int32), n - 1)
        return np.where(rng.random(shape, dtype=np.float32) < accept[j], j, alias[j])

    neg = draw((target.size, k))
    hit = neg == target[:, None]
    if hit.any():
        neg[hit] = draw((int(hit.sum()),))
    return neg


class _ProgressCallback:
    """Feeds words/s, loss and ETA to the progress function; a Keras callback built lazily."""

    def __new__(cls, trainer: _Trainer, plan: list[tuple[int, int]], epoch_loss: dict[str, Any]) -> Any:
        import keras

        class _CB(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.trainer = trainer
                self.epoch_loss = epoch_loss
                self.total = len(plan)
                self.done_chunks = 0
                self.n_chunks = len(trainer.bounds) - 1
                self.batches = 1
                self.epoch = 0
                self.chunk = 0
                self.t_start = time.perf_counter()
                self.last_report = 0.0
                self.words_start = (plan[0][0] * trainer.enc.n_tokens + trainer.bounds[plan[0][1]]) if plan else 0

            def begin_chunk(self, epoch: int, chunk: int, n_batches: int) -> None:
                self.epoch, self.chunk = epoch, chunk
                self.batches = max(1, n_batches)
                self.done_chunks += 1

            def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
                loss = float((logs or {}).get("loss", 0.0))
                self.epoch_loss["sum"] += loss
                self.epoch_loss["n"] += 1
                now = time.perf_counter()
                if trainer.progress is None or (now - self.last_report < 0.25 and batch < self.batches - 1):
                    return
                self.last_report = now
                tr = self.trainer
                lo, hi = tr.bounds[self.chunk], tr.bounds[self.chunk + 1]
                kept_done = self.epoch * tr.enc.n_tokens + lo + (hi - lo) * (batch + 1) / self.batches
                frac = kept_done / tr.total_work
                secs = time.perf_counter() - self.t_start
                rate_kept = (kept_done - self.words_start) / max(secs, 1e-9)
                scale = tr.enc.vocab.total_raw_words / max(tr.enc.n_tokens, 1)
                tr.progress({
                    "epoch": self.epoch + 1, "epochs": tr.cfg.epochs, "fraction": frac,
                    "words_per_sec": rate_kept * scale, "loss": loss,
                    "eta_seconds": (tr.total_work - kept_done) / max(rate_kept, 1e-9),
                })

        return _CB()
