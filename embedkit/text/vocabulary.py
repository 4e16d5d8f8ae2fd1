"""`Vocabulary`: tokens by id, with their padding / special rows, subword scheme and counts.

The one vocabulary class of embedkit: tokenizer adapters produce it, the embedding-matrix builder reads it,
downstream evaluation builds and encodes with it, and the trainer's corpus vocabulary is one too.

>>> v = Vocabulary.build([["the", "cat"], ["the"]])
>>> v.tokens, sorted(v.padding_ids), sorted(v.special_ids), v.index["cat"]
(['', '[UNK]', 'the', 'cat'], [0], [1], 3)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.text.tokenizer import Tokenizer

PAD, UNK = "", "[UNK]"
# Padding and mask tokens: their rows stay zero.
PADDING_TOKENS = frozenset({"", "[PAD]", "<pad>", "<PAD>", "[MASK]", "<mask>"})
# Other special tokens: never looked up in the vectors, filled by the OOV initialiser.
SPECIAL_TOKENS = frozenset(
    {"[UNK]", "<unk>", "<UNK>", "[CLS]", "[SEP]", "<s>", "</s>", "<OOV>", "[OOV]", "<oov>",
     "<|endoftext|>", "<bos>", "<eos>"}
)
SCHEMES = ("wordpiece", "byte-level", "sentencepiece", "bpe")


@dataclass(eq=False)
class Vocabulary:
    """A vocabulary as rows: ``tokens[i]`` is the token with id ``i`` (embedkit's one vocabulary class).

    Tokenizer adapters (:func:`embedkit.matrix.adapters.as_vocab`) make one from any tokenizer; a corpus
    (training) or a dataset (downstream) builds one from its counts (:meth:`build`); :meth:`encode` turns
    token lists into padded id matrices.

    Attributes:
        tokens: id → token as the tokenizer spells it (markers such as ``##`` or ``Ġ`` included).
        kind: what produced it (an adapter name of :mod:`embedkit.matrix.adapters`, or ``list``).
        padding_ids: rows that must stay zero (padding and mask tokens: ``''`` at id 0, ``[PAD]``, ``[MASK]``...).
        special_ids: other special tokens (``[UNK]``, ``[CLS]``, ...): never looked up in the vectors.
        scheme: subword marker scheme: ``wordpiece``, ``byte-level``, ``sentencepiece``, ``bpe`` or None.
        prefix: continuation prefix of WordPiece-style pieces (``##``).
        suffix: end-of-word suffix of some BPE models (``</w>``).
        counts: per-id frequency when the tokenizer knows it (gensim, legacy Keras Tokenizer), else None.
        encoder: optional function mapping a list of texts to lists of ids (for token coverage).

    Example:
        >>> v = Vocabulary(["", "[UNK]", "##ing"])
        >>> v.surface(2)
        '##ing'
    """

    tokens: list[str]
    kind: str = "list"
    padding_ids: frozenset[int] = frozenset()
    special_ids: frozenset[int] = frozenset()
    scheme: str | None = None
    prefix: str = ""
    suffix: str = ""
    counts: np.ndarray | None = None
    encoder: Callable[[list[str]], list[list[int]]] | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.tokens)

    def __post_init__(self) -> None:
        if not self.tokens:
            raise EmbedkitError("The vocabulary must contain at least one token. Received: an empty vocabulary")
        self._index: dict[str, int] | None = None

    @property
    def words(self) -> list[str]:
        """The tokens (``words[i]`` is the token with id ``i``); the same list as :attr:`tokens`."""
        return self.tokens

    @property
    def index(self) -> dict[str, int]:
        """Token → id (the first id of a repeated token), built on first use."""
        if self._index is None:
            index: dict[str, int] = {}
            for i, t in enumerate(self.tokens):
                index.setdefault(t, i)
            self._index = index
        return self._index

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], max_tokens: int | None = None, min_count: int = 1) -> Vocabulary:
        """A ``TextVectorization``-style vocabulary of ``token_lists``: ``''`` (padding, id 0), ``[UNK]`` (id 1),
        then the tokens seen ``min_count`` times, most frequent first (ties: first seen); ``counts`` per id.

        >>> v = Vocabulary.build([["a", "b", "a"], ["c"]])
        >>> v.words, v.counts.tolist()
        (['', '[UNK]', 'a', 'b', 'c'], [0, 0, 2, 1, 1])
        """
        counts: Counter[str] = Counter()
        for toks in token_lists:
            counts.update(toks)
        ranked = [(w, c) for w, c in counts.most_common() if c >= min_count and w not in (PAD, UNK)]
        if max_tokens is not None:
            ranked = ranked[: max(0, max_tokens - 2)]
        kept = sum(c for _, c in ranked)
        unk = sum(counts.values()) - kept - counts.get(PAD, 0)
        return cls([PAD, UNK, *(w for w, _ in ranked)], "list", frozenset({0}), frozenset({1}),
                   counts=np.array([0, unk, *(c for _, c in ranked)], dtype=np.int64))

    def encode(self, token_lists: Sequence[Sequence[str]], maxlen: int, unknown: int = 1) -> np.ndarray:
        """Ids (int32), truncated and padded at the end to ``maxlen``; tokens not in the vocabulary get ``unknown``.

        >>> Vocabulary.build([["a", "b", "a"]]).encode([["a", "zzz"]], maxlen=3).tolist()
        [[2, 1, 0]]
        """
        out = np.zeros((len(token_lists), maxlen), dtype=np.int32)
        get = self.index.get
        for i, toks in enumerate(token_lists):
            ids = [get(t, unknown) for t in toks[:maxlen]]
            out[i, : len(ids)] = ids
        return out

    def surface(self, i: int) -> str | None:
        """The word token ``i`` spells once subword markers are removed (None: bytes that are not text)."""
        tok = self.tokens[i]
        if self.scheme is None:
            return tok
        if self.scheme == "byte-level":
            return _decode_byte_level(tok)
        if self.scheme == "sentencepiece":
            if re.fullmatch(r"<0x[0-9A-Fa-f]{2}>", tok):
                return None
            return tok.replace("\u2581", " ").strip()
        if self.prefix and tok.startswith(self.prefix) and len(tok) > len(self.prefix):
            tok = tok[len(self.prefix):]
        if self.suffix and tok.endswith(self.suffix) and len(tok) > len(self.suffix):
            tok = tok[: -len(self.suffix)]
        return tok

    def is_continuation(self, i: int) -> bool:
        """True for a piece that continues a word (``##ing``; a byte-level/SentencePiece piece with no marker)."""
        tok = self.tokens[i]
        if self.scheme in ("wordpiece", "bpe") and self.prefix:
            return tok.startswith(self.prefix)
        if self.scheme == "byte-level":
            return not tok.startswith("\u0120")
        if self.scheme == "sentencepiece":
            return not tok.startswith("\u2581")
        return False

    def lookup_ids(self) -> list[int]:
        """Ids of the rows looked up in the vectors (neither padding nor special)."""
        skip = self.padding_ids | self.special_ids
        return [i for i in range(len(self.tokens)) if i not in skip]

    def count_ids(self, texts: Iterable[str]) -> tuple[np.ndarray, int]:
        """Count how often each id occurs in ``texts``; returns (counts per id, tokens without an id)."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        counts = np.zeros(len(self.tokens), dtype=np.int64)
        encode = self.encoder or word_encoder(self.tokens)
        unknown = 0
        n = len(self.tokens)
        for ids in encode(texts):
            arr = np.asarray(ids, dtype=np.int64)
            ok = (arr >= 0) & (arr < n)
            unknown += int((~ok).sum())
            counts += np.bincount(arr[ok], minlength=n)
        return counts, unknown

    def to_dict(self) -> dict[str, Any]:
        """Summary (no tokens) for reports."""
        return {"kind": self.kind, "size": len(self.tokens), "padding_ids": sorted(self.padding_ids),
                "special_ids": sorted(self.special_ids), "scheme": self.scheme}




# -- helpers ------------------------------------------------------------------------------------------------
def word_encoder(tokens: Sequence[str]) -> Callable[[list[str]], list[list[int]]]:
    """Texts → ids of ``tokens`` (split as the legacy Keras ``Tokenizer`` does; unknown words get the OOV id)."""
    t2i: dict[str, int] = {}
    for i, t in enumerate(tokens):
        t2i.setdefault(t, i)
    lower = not any(t != t.lower() for t in tokens if t not in SPECIAL_TOKENS and t not in PADDING_TOKENS)
    unk = next((t2i[t] for t in ("[UNK]", "<OOV>", "<unk>", "<UNK>", "[OOV]", "<oov>") if t in t2i), -1)

    tokenize = Tokenizer.preset("keras", lowercase=lower)

    def encode(texts: list[str]) -> list[list[int]]:
        return [[t2i.get(w, unk) for w in tokenize(t)] for t in texts]

    return encode


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2 style byte-level alphabet: printable bytes stand for themselves, the others are shifted by 256."""
    keep = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table = {chr(b): b for b in keep}
    shift = 0
    for b in range(256):
        if b not in table.values():
            table[chr(256 + shift)] = b
            shift += 1
    return table


def _decode_byte_level(tok: str) -> str | None:
    table = _byte_decoder()
    try:
        raw = bytes(table[c] for c in tok)
        return raw.decode("utf-8").strip()
    except (KeyError, UnicodeDecodeError):
        return None


def mark_specials(tokens: Sequence[str], extra_special: Iterable[str] = (),
                  extra_padding: Iterable[str] = ()) -> tuple[frozenset[int], frozenset[int]]:
    """``(padding_ids, special_ids)`` of ``tokens``: padding / mask tokens (and ``''`` at id 0), other specials."""
    special_set = SPECIAL_TOKENS | set(extra_special)
    pad_set = set(extra_padding) | (PADDING_TOKENS - {""})
    padding = {i for i, t in enumerate(tokens) if t in pad_set}
    if tokens and tokens[0] == "":
        padding.add(0)
    special = {i for i, t in enumerate(tokens) if t in special_set and i not in padding}
    return frozenset(padding), frozenset(special)
