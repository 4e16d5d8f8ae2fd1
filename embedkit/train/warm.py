"""Warm starts and continued training: where a run's tables start when they do not start at random.

Two ways (gensim users ask for both: gensim #368, #1030):

- **warm start** (:func:`warm_start`, ``train-cbow --init-vectors SET``): the input vectors of the corpus words
  that an existing set has (GloVe, word2vec, an embedkit set; exact match, else the lowercase form) start as that
  set's rows; the other words start as usual, the output table at zero. The vocabulary is the corpus's.
- **continued training** (:func:`continue_training`, ``train-cbow --continue SET``): a set embedkit trained (it
  keeps its output table beside the vectors) goes on with both tables, for more epochs on the same corpus or on a
  new one. The vocabulary grows: the set's words keep their rows (and their order), corpus words it lacks are
  appended and start as usual. Noise words and subsampling follow the new corpus's counts (a word the new corpus
  lacks is never drawn, so it keeps its vector); the saved counts add up both.

Both return a :class:`StartTables` the trainer copies into the model before the first step.

>>> import numpy as np
>>> from embedkit.train.corpus import encode_corpus
>>> from embedkit.vectors.word_vectors import WordVectors
>>> enc = encode_corpus([["sea", "surf", "Sea"]] * 3, min_count=1)
>>> start = warm_start(enc, WordVectors(["sea", "boat"], np.ones((2, 4), np.float32)), dim=4, seed=1)
>>> start.found, start.input[enc.vocab.index["sea"]].tolist()
(2, [1.0, 1.0, 1.0, 1.0])
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.train.corpus import EncodedCorpus, corpus_vocabulary
from embedkit.train.update import initial_input_vectors
from embedkit.vectors.word_vectors import WordVectors

log = logging.getLogger("embedkit.train.warm")

OUTPUT_TABLE_FILE = "output_table.npy"
"""The output (negative-sampling) table a trained set keeps beside its vectors, for continued training."""
TRAINING_FILE = "training.json"


@dataclass
class StartTables:
    """Where the tables of a run start.

    Attributes:
        input: ``(V + 1, d)`` float32 input table (last row: zero padding).
        output: ``(V, d)`` float32 output table, or None (zeros).
        found: corpus words whose row came from the set; ``missing``: those that start at random.
        source: what the rows came from (saved in ``training.json`` and in the checkpoint's identity).
        counts: the word counts the result keeps (continued training: old + new), or None (the corpus's).
    """

    input: np.ndarray
    output: np.ndarray | None
    found: int
    missing: int
    source: dict[str, Any]
    counts: np.ndarray | None = None

    def describe(self) -> str:
        how = "continued from" if self.output is not None else "input vectors from"
        return (f"{how} {self.source.get('name')}: {self.found:,} words found, {self.missing:,} start at random")


def _as_word_vectors(vectors: Any) -> tuple[WordVectors, str, Path | None]:
    if isinstance(vectors, WordVectors):
        return vectors, vectors.source or "WordVectors", None
    from embedkit.vectors.vector_set import open_vectors

    vs = open_vectors(vectors)
    return vs.wv, vs.name, Path(vs.path)


def warm_start(enc: EncodedCorpus, vectors: Any, *, dim: int, seed: int) -> StartTables:
    """Input table for ``enc``'s vocabulary with the rows ``vectors`` (a set name, a path or
    :class:`WordVectors`) has; the other rows start as usual (``seed``).

    Raises:
        EmbedkitError: the set's dimension is not ``dim``, or it shares no word with the corpus.
    """
    wv, name, _ = _as_word_vectors(vectors)
    if wv.dim != dim:
        raise EmbedkitError(f"`init_vectors` must have the training's vector size ({dim}); pass --dim {wv.dim} to "
                            f"train at its size. Received: {name} with dim={wv.dim}")
    words = enc.vocab.words
    table = initial_input_vectors(len(words), dim, seed)
    index = wv.key_to_index
    rows = np.array([index.get(w, index.get(w.lower(), -1)) for w in words], dtype=np.int64)
    have = rows >= 0
    found = int(have.sum())
    if not found:
        raise EmbedkitError(f"`init_vectors` shares no word with the corpus. Received: {name} "
                            f"({len(wv):,} words, e.g. {', '.join(wv.keys[:3])})")
    table[np.flatnonzero(have)] = np.asarray(wv.vectors[rows[have]], dtype=np.float32)
    log.info("warm start from %s: %d of %d corpus words found", name, found, len(words))
    return StartTables(table, None, found, len(words) - found,
                       {"kind": "init-vectors", "name": name, "found": found, "words": len(wv)})


def continue_training(enc: EncodedCorpus, trained: str | os.PathLike[str], *, dim: int,
                      seed: int) -> tuple[EncodedCorpus, StartTables]:
    """``enc`` re-encoded over the grown vocabulary (the set's words first, then the corpus words it lacks), and
    both tables of the set ``trained`` (a name or path of a set embedkit trained) extended to it.

    Raises:
        EmbedkitError: the set was not trained by embedkit (no output table), or its dimension is not ``dim``.
    """
    wv, name, path = _as_word_vectors(trained)
    out_file = path / OUTPUT_TABLE_FILE if path is not None and path.is_dir() else None
    if out_file is None or not out_file.is_file():
        raise EmbedkitError(
            "`continue` needs a set embedkit trained (it keeps its output table beside the vectors); to start from "
            f"other vectors use --init-vectors. Received: {name} without {OUTPUT_TABLE_FILE}"
        )
    if wv.dim != dim:
        raise EmbedkitError(f"`continue` must train at the set's vector size ({wv.dim}); pass --dim {wv.dim}. "
                            f"Received: dim={dim}")
    try:
        old_out = np.load(out_file, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise EmbedkitError(f"The set's output table is unreadable ({type(e).__name__}). Received: {str(out_file)!r}") from None
    if old_out.shape != (len(wv), wv.dim) or old_out.dtype.kind != "f":
        raise EmbedkitError(f"The set's output table does not match its vectors: expected {(len(wv), wv.dim)}. "
                            f"Received: {old_out.shape} in {str(out_file)!r}")
    old_words = list(wv.keys)
    old_index = wv.key_to_index
    new_words = [w for w in enc.vocab.words if w not in old_index]
    words = old_words + new_words
    merged = {w: i for i, w in enumerate(words)}
    remap = np.array([merged[w] for w in enc.vocab.words], dtype=np.int32)
    train_counts = np.zeros(len(words), dtype=np.int64)
    train_counts[remap] = enc.vocab.counts
    old_counts = np.maximum(np.asarray(wv.counts if wv.counts is not None else np.zeros(len(wv)), np.int64), 0)
    saved = train_counts.copy()
    saved[: len(old_words)] += old_counts
    table = initial_input_vectors(len(words), dim, seed)
    table[: len(old_words)] = np.asarray(wv.vectors, dtype=np.float32)
    out = np.zeros((len(words), dim), dtype=np.float32)
    out[: len(old_words)] = old_out
    vocab = corpus_vocabulary(words, train_counts)
    grown = dataclasses.replace(enc, vocab=vocab, ids=remap[enc.ids])
    found = len(enc.vocab) - len(new_words)
    log.info("continuing %s: %d words, %d new", name, len(words), len(new_words))
    return grown, StartTables(table, out, found, len(new_words),
                              {"kind": "continue", "name": name, "path": str(path), "old_words": len(old_words),
                               "new_words": len(new_words), "previous": _previous_run(path)}, counts=saved)


def _previous_run(path: Path) -> dict[str, Any] | None:
    """The essentials of the set's ``training.json`` (corpus digest, config), if it has one."""
    try:
        stats = json.loads((path / TRAINING_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stats, dict):
        return None
    return {k: stats.get(k) for k in ("corpus_sha256", "corpus_files", "vocab_size", "continued_from")}
