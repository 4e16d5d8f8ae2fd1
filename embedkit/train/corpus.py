"""Corpora for training: a tokenizer shared with the gensim check, streamed reading, shards, and the encoded corpus.

A corpus is one or more text files (plain, ``.gz``, ``.bz2`` or ``.xz``), one sentence or paragraph per line,
or any iterable of token lists. It is read once, streaming, into a compact int32 array of word ids
(never a list of Python strings), from which every training epoch samples.

>>> enc = encode_corpus([["a", "b", "a"]], min_count=2)
>>> enc.vocab.words, enc.ids.tolist()
(['a'], [0, 0])
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError, check_input_file
from embedkit.text.tokenizer import Tokenizer
from embedkit.text.vocabulary import Vocabulary

MAX_SENTENCE_LEN = 10000  # as gensim: longer lines are cut into pieces of this many tokens


def iter_lines(paths: Sequence[str | os.PathLike[str]], encoding: str = "utf-8") -> Iterator[str]:
    """Lines of every file in turn, decompressing ``.gz`` / ``.bz2`` / ``.xz``; undecodable bytes replaced."""
    from embedkit.vectors.formats.common import open_maybe_compressed

    for path in paths:
        p = check_input_file(path, "corpus file")
        try:
            with open_maybe_compressed(p) as raw:
                import io

                with io.TextIOWrapper(raw, encoding=encoding, errors="replace") as fh:  # type: ignore[arg-type]
                    yield from fh
        except (OSError, EOFError) as e:
            if isinstance(e, (FileNotFoundError, IsADirectoryError)):
                raise
            raise EmbedkitError(f"Corpus file could not be read ({e}). Received: {str(p)!r}") from None


def check_training_tokenizer(tokenizer: Tokenizer) -> Tokenizer:
    """``tokenizer`` if its pattern cannot match the empty string, else a one-line error (such a pattern finds an
    empty "word" between every two characters, and the trainer would learn a vector for it).

    >>> check_training_tokenizer(Tokenizer("[a-z]*"))
    Traceback (most recent call last):
    ...
    embedkit.errors.EmbedkitError: `token_pattern` must not match the empty string (every gap between two characters would be a token). Received: '[a-z]*'
    """
    import re

    sample = "Ab c-1 d'e. F"
    if re.fullmatch(tokenizer.pattern, "") is not None or any(
            m.group(0) == "" for m in re.finditer(tokenizer.pattern, sample.lower() if tokenizer.lowercase else sample)):
        raise EmbedkitError("`token_pattern` must not match the empty string (every gap between two characters "
                            f"would be a token). Received: {tokenizer.pattern!r}")
    return tokenizer


def iter_sentences(
    source: Sequence[str | os.PathLike[str]] | Iterable[Sequence[str]], tokenizer: Tokenizer | None = None
) -> Iterator[list[str]]:
    """Token lists from files (tokenized with ``tokenizer``) or from an iterable of token lists (as given).

    Lines longer than 10,000 tokens are cut into pieces, as gensim does; empty lines are skipped.
    """
    for _, piece in iter_owned_sentences(source, tokenizer, None):
        yield piece


def is_paths(source: object) -> bool:
    """True when ``source`` is a list or tuple of file paths (not an iterable of token lists)."""
    return isinstance(source, (list, tuple)) and all(isinstance(s, (str, os.PathLike)) for s in source)


def file_sizes(paths: Sequence[str | os.PathLike[str]]) -> list[int]:
    """Size in bytes of each file, -1 for one that cannot be stat'ed (the reader reports it)."""
    sizes = []
    for p in paths:
        try:
            sizes.append(os.path.getsize(p))
        except OSError:
            sizes.append(-1)
    return sizes


@dataclass(frozen=True)
class Shard:
    """The part of a corpus one worker of ``count`` trains on: whole files when every worker can get one,
    else every ``count``-th line (line ``i`` belongs to worker ``i % count``), counted over all files.

    >>> Shard(1, 2).owns(0, 3), Shard(0, 2, files=(1,)).owns(0, 3)
    (True, False)
    """

    index: int
    count: int
    files: tuple[int, ...] | None = None  # file numbers of this worker; None: sharded by line

    def owns(self, file_no: int, line_no: int) -> bool:
        if self.files is not None:
            return file_no in self.files
        return line_no % self.count == self.index

    def describe(self) -> str:
        how = f"files {list(self.files)}" if self.files is not None else f"every {self.count}th line"
        return f"worker {self.index} of {self.count}: {how}"


def plan_shards(source: object, count: int) -> list[Shard]:
    """One :class:`Shard` per worker: by file (balanced by size, largest first) when ``source`` is at least
    ``count`` files, else by line.

    >>> [s.files for s in plan_shards([], 2)]
    [None, None]
    """
    if not is_paths(source) or len(source) < count:  # type: ignore[arg-type]
        return [Shard(i, count) for i in range(count)]
    sizes = [max(n, 0) for n in file_sizes(source)]  # type: ignore[arg-type]  # unreadable: reported when read
    load = [0] * count
    owned: list[list[int]] = [[] for _ in range(count)]
    for f in sorted(range(len(sizes)), key=lambda f: (-sizes[f], f)):
        w = min(range(count), key=lambda w: (load[w], w))
        owned[w].append(f)
        load[w] += sizes[f]
    return [Shard(i, count, tuple(sorted(owned[i]))) for i in range(count)]


def iter_owned_sentences(
    source: Sequence[str | os.PathLike[str]] | Iterable[Sequence[str]],
    tokenizer: Tokenizer | None,
    shard: Shard | None,
    *,
    all_lines: bool = False,
) -> Iterator[tuple[bool, list[str]]]:
    """``(owned, tokens)`` for the sentences of ``source``; lines ``shard`` does not own are not tokenized
    (nor yielded) unless ``all_lines``. Pieces of a long line belong to the line's owner."""
    tokenizer = tokenizer or Tokenizer()
    if is_paths(source):
        per_file: Iterable[tuple[int, Iterable[Any]]] = ((f, iter_lines([p])) for f, p in enumerate(source))  # type: ignore[arg-type]
        tokenize = True
    else:
        per_file = [(0, source)]
        tokenize = False
    line_no = 0
    for file_no, lines in per_file:
        if shard is not None and shard.files is not None and not all_lines and not shard.owns(file_no, 0):
            continue  # another worker's file: not even opened
        for item in lines:
            owned = shard is None or shard.owns(file_no, line_no)
            line_no += 1
            if not owned and not all_lines:
                continue
            toks = tokenizer(item) if tokenize else item
            if isinstance(toks, str):
                raise EmbedkitError(f"Expected token lists (e.g. [['a', 'b'], ...]). Received: a string {toks[:30]!r}")
            for s in range(0, len(toks), MAX_SENTENCE_LEN):
                piece = list(toks[s : s + MAX_SENTENCE_LEN])
                if piece:
                    yield owned, piece


@dataclass(frozen=True)
class CorpusStats:
    """Facts about the whole corpus that its vocabulary does not hold.

    >>> CorpusStats(total_raw_words=10, min_count=2, dropped_words=3).to_dict()["dropped_words"]
    3
    """

    total_raw_words: int  # all tokens in the corpus, before min_count
    min_count: int
    dropped_words: int = 0  # types below min_count / beyond max_vocab_size

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class EncodedCorpus:
    """A corpus as word ids: ``ids`` (int32, all sentences back to back) and ``sentence_ends`` (exclusive).

    ``vocab`` holds the words kept for training, most frequent first, with their corpus ``counts``
    (``vocab.words[i]`` is word ``i``); ``stats`` the corpus-level figures (raw tokens, ``min_count``, words
    dropped).
    """

    vocab: Vocabulary
    ids: np.ndarray
    sentence_ends: np.ndarray
    digest: str  # sha256 of the token stream (before min_count), identifies the corpus + tokenizer
    stats: CorpusStats

    @property
    def n_tokens(self) -> int:
        """Tokens kept (in the vocabulary)."""
        return int(self.ids.size)

    def sentence_ids(self) -> np.ndarray:
        """Sentence number of every token."""
        starts = np.zeros(self.ids.size, dtype=np.int32)
        ends = self.sentence_ends[:-1]
        starts[ends[ends < self.ids.size]] = 1
        return np.cumsum(starts, dtype=np.int32)


def encode_corpus(
    source: Sequence[str | os.PathLike[str]] | Iterable[Sequence[str]],
    *,
    tokenizer: Tokenizer | None = None,
    min_count: int = 5,
    max_vocab_size: int | None = None,
    shard: Shard | None = None,
) -> EncodedCorpus:
    """Read the corpus once, count words, and encode it as ids of the words that survive ``min_count``.

    The vocabulary is sorted by descending count (ties in first-seen order, as gensim). Sentences are kept
    apart: windows never cross a line boundary. With ``shard``, the vocabulary and digest are still those of
    the whole corpus but only the lines the shard owns are encoded (a distributed run's chief).

    Raises:
        EmbedkitError: on an empty corpus, or when no word survives ``min_count``.
    """
    tmp_index: dict[str, int] = {}
    chunks: list[np.ndarray] = []
    lengths: list[int] = []
    buf: list[int] = []
    counts = np.zeros(0, dtype=np.int64)
    h = hashlib.sha256()
    get = tmp_index.get
    n_tokens = 0
    other: list[int] = []  # ids of lines another worker owns: counted, not kept
    for owned, toks in iter_owned_sentences(source, tokenizer, shard, all_lines=True):
        out = buf if owned else other
        append = out.append
        for t in toks:
            i = get(t)
            if i is None:
                i = tmp_index[t] = len(tmp_index)
            append(i)
        if owned:
            lengths.append(len(toks))
        n_tokens += len(toks)
        h.update(" ".join(toks).encode("utf-8", "surrogatepass"))
        h.update(b"\n")
        if len(buf) >= 1 << 20:
            chunks.append(np.array(buf, dtype=np.int32))
            counts = _add_counts(counts, chunks[-1], len(tmp_index))  # counted per chunk: no int64 copy of all ids
            buf = []
        if len(other) >= 1 << 20:
            counts = _add_counts(counts, other, len(tmp_index))
            other = []
    counts = _add_counts(counts, other, len(tmp_index))
    if buf:
        chunks.append(np.array(buf, dtype=np.int32))
        counts = _add_counts(counts, chunks[-1], len(tmp_index))
    del buf, other
    if n_tokens == 0:
        raise EmbedkitError("The corpus must contain at least one token. Received: an empty corpus")
    order = np.argsort(-counts, kind="stable")
    keep = counts[order] >= min_count
    if max_vocab_size is not None:
        keep[max_vocab_size:] = False
    order_kept = order[keep]
    if order_kept.size == 0:
        raise EmbedkitError(
            f"No word occurs at least min_count={min_count} times. Received: {n_tokens} tokens, "
            f"{len(tmp_index)} distinct words, the most frequent seen {int(counts.max())} times"
        )
    tmp_words = list(tmp_index)
    del tmp_index
    remap = np.full(counts.size, -1, dtype=np.int32)
    remap[order_kept] = np.arange(order_kept.size, dtype=np.int32)
    ids, ends = _remap_chunks(chunks, remap, lengths)
    vocab = corpus_vocabulary([tmp_words[i] for i in order_kept.tolist()], counts[order_kept])
    stats = CorpusStats(total_raw_words=n_tokens, min_count=min_count,
                        dropped_words=int(counts.size - order_kept.size))
    return EncodedCorpus(vocab=vocab, ids=ids, sentence_ends=ends.astype(np.int64), digest=h.hexdigest(),
                         stats=stats)


def _remap_chunks(chunks: list[np.ndarray], remap: np.ndarray, lengths: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The kept tokens' new ids, back to back, and the (exclusive) ends of the sentences that keep a token.

    Chunk by chunk (each freed once mapped), so the peak is about one copy of the ids, not four.

    >>> ids, ends = _remap_chunks([np.array([0, 1, 2, 1], np.int32)], np.array([-1, 0, 1], np.int32), [2, 0, 2])
    >>> ids.tolist(), ends.tolist()
    ([0, 1, 0], [1, 3])
    """
    total = sum(c.size for c in chunks)
    ids = np.empty(total, dtype=np.int32)
    kept_before = np.empty(total + 1, dtype=np.int64 if total >= 2**31 else np.int32)  # kept among the first k
    kept_before[0] = 0
    n = pos = 0
    while chunks:
        mapped = remap[chunks.pop(0)]
        mask = mapped >= 0
        np.cumsum(mask, out=kept_before[pos + 1 : pos + 1 + mask.size])
        kept_before[pos + 1 : pos + 1 + mask.size] += n
        k = int(np.count_nonzero(mask))
        ids[n : n + k] = mapped[mask]
        n += k
        pos += mask.size
    ends = kept_before[np.cumsum(np.asarray(lengths, dtype=np.int64))] if lengths else np.zeros(0, np.int64)
    del kept_before
    ends = ends[np.diff(ends, prepend=0) > 0]  # sentences left empty by min_count are dropped
    return ids[:n].copy() if n < total else ids, ends.astype(np.int64)


def corpus_vocabulary(words: list[str], counts: np.ndarray) -> Vocabulary:
    """The :class:`~embedkit.text.vocabulary.Vocabulary` of a training corpus: ``words`` (most frequent first)
    with their int64 ``counts``; no padding or special rows.

    >>> corpus_vocabulary(["a", "b"], np.array([3, 1])).index["b"]
    1
    """
    return Vocabulary(list(words), kind="corpus", counts=np.asarray(counts, dtype=np.int64))


def _add_counts(counts: np.ndarray, ids: Any, n_types: int) -> np.ndarray:
    add = np.bincount(np.asarray(ids, dtype=np.int64), minlength=n_types)
    if counts.size < add.size:
        counts = np.concatenate([counts, np.zeros(add.size - counts.size, dtype=np.int64)])
    counts[: add.size] += add
    return counts


def encode_with_vocabulary(
    source: Sequence[str | os.PathLike[str]] | Iterable[Sequence[str]],
    vocab: Vocabulary,
    *,
    digest: str,
    stats: CorpusStats | None = None,
    tokenizer: Tokenizer | None = None,
    shard: Shard | None = None,
) -> EncodedCorpus:
    """Encode the lines ``shard`` owns with a vocabulary built elsewhere (a distributed run's chief).

    Only owned lines are tokenized; words outside ``vocab`` are dropped, as in :func:`encode_corpus`.
    ``stats`` are the whole corpus's figures as the chief counted them; without them, what the vocabulary
    alone tells (its counts' total, its rarest count, no dropped words).

    >>> v = encode_corpus([["a", "b", "a"], ["b", "c"]], min_count=1).vocab
    >>> encode_with_vocabulary([["c", "a"], ["a", "x"]], v, digest="", shard=Shard(1, 2)).ids.tolist()
    [0]
    """
    index = vocab.index
    ids: list[int] = []
    ends: list[int] = []
    for _, toks in iter_owned_sentences(source, tokenizer, shard):
        before = len(ids)
        ids.extend(i for i in map(index.get, toks) if i is not None)
        if len(ids) > before:
            ends.append(len(ids))
    if stats is None:
        counts = np.asarray(vocab.counts)
        stats = CorpusStats(total_raw_words=int(counts.sum()), min_count=int(counts.min()))
    return EncodedCorpus(vocab=vocab, ids=np.asarray(ids, dtype=np.int32),
                         sentence_ends=np.asarray(ends, dtype=np.int64), digest=digest, stats=stats)
