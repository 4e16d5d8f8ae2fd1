"""Tokenizer adapters: turn any supported tokenizer or vocabulary into a :class:`~embedkit.text.vocabulary.Vocabulary` (id → token).

Supported (detected automatically by :func:`as_vocab`, or named with ``kind=``):

* ``list``: a plain list of tokens, row ``i`` = ``tokens[i]`` (``''`` at 0 is padding, ``[UNK]`` is special);
  this is the layout of ``TextVectorization.get_vocabulary()``.
* ``dict``: token → id, ids ``0..n-1`` (scikit-learn ``vocabulary_`` style).
* ``word_index``: a Keras-style ``word_index`` (token → id, ids ``1..n``, row 0 = padding), cut at
  ``num_words`` exactly as the legacy Keras ``Tokenizer`` does (ids ``>= num_words`` are dropped).
* ``keras``: a Keras ``TextVectorization`` / ``StringLookup`` layer (0 = padding ``''``, 1 = ``[UNK]``) or a
  legacy Keras ``Tokenizer`` (anything with ``word_index`` and ``num_words``).
* ``tokenizers``: a Hugging Face ``tokenizers.Tokenizer`` (WordPiece ``##``, byte-level BPE ``Ġ``,
  SentencePiece ``▁`` markers are decoded to the word they spell).
* ``transformers``: a Hugging Face ``transformers`` tokenizer (fast ones via their backend tokenizer).
* ``sklearn``: a fitted scikit-learn ``CountVectorizer`` / ``TfidfVectorizer`` (its ``vocabulary_``).
* ``gensim``: a ``gensim.corpora.Dictionary`` (its collection frequencies become counts).

>>> v = as_vocab(["", "[UNK]", "the", "cat"])
>>> v.kind, len(v), sorted(v.padding_ids), sorted(v.special_ids)
('list', 4, [0], [1])
>>> as_vocab({"the": 1, "cat": 2}).tokens
['', 'the', 'cat']
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.text.tokenizer import Tokenizer
from embedkit.text.vocabulary import PADDING_TOKENS, SPECIAL_TOKENS, Vocabulary, mark_specials

SUPPORTED_TYPES = (
    "list of tokens",
    "dict token->id",
    "Keras word_index (1-based)",
    "keras TextVectorization/StringLookup",
    "legacy Keras Tokenizer",
    "tokenizers.Tokenizer",
    "transformers tokenizer",
    "sklearn CountVectorizer/TfidfVectorizer",
    "gensim corpora.Dictionary",
)
KINDS = ("list", "dict", "word_index", "keras", "tokenizers", "transformers", "sklearn", "gensim")




# -- helpers ------------------------------------------------------------------------------------------------
def _contiguous(mapping: Mapping[Any, Any], start: int, what: str, limit: int | None = None) -> list[str]:
    """Tokens ordered by id, checking the ids are exactly ``start..start+n-1`` (vectorised: word_index dicts
    can hold hundreds of thousands of words). ``limit`` keeps only the first ``limit`` tokens."""
    n = len(mapping)
    if n == 0:
        raise EmbedkitError(f"The vocabulary must contain at least one token. Received: an empty {what}")
    keys = list(mapping.keys())
    vals = list(mapping.values())
    arr = _int_array(vals)
    if arr is None:
        bad = next((k, v) for k, v in zip(keys, vals)
                   if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)))
        raise EmbedkitError(f"{what} ids must be integers. Received: {bad[0]!r} -> {bad[1]!r}")
    pos = arr.astype(np.int64) - start
    lo, hi = int(pos.min()), int(pos.max())
    if lo < 0 or hi >= n or int(np.bincount(pos, minlength=n).max()) > 1:
        seen = np.zeros(n, dtype=bool)
        j = 0
        for j, p in enumerate(pos.tolist()):
            if p < 0 or p >= n or seen[p]:
                break
            seen[p] = True
        raise EmbedkitError(
            f"{what} ids must be contiguous {start}..{start + n - 1} with no repeats. "
            f"Received: {n} tokens with ids {lo + start}..{hi + start} (e.g. {keys[j]!r} -> {vals[j]})"
        )
    ordered = np.empty(n, dtype=object)
    ordered[pos] = _object_array(keys)
    out = ordered[:limit].tolist() if limit is not None else ordered.tolist()
    return [t if isinstance(t, str) else str(t) for t in out]


def _int_array(vals: list[Any]) -> np.ndarray | None:
    """``vals`` as an integer array, or None if they are not all integers."""
    if not vals or isinstance(vals[0], (bool, np.bool_)) or not isinstance(vals[0], (int, np.integer)):
        return None
    try:
        arr = np.asarray(vals)
    except (ValueError, TypeError):
        return None
    return arr if arr.dtype.kind in "iu" else None


def _object_array(items: list[Any]) -> np.ndarray:
    a = np.empty(len(items), dtype=object)
    a[:] = items
    return a


# -- adapters -------------------------------------------------------------------------------------------------
def from_list(tokens: Sequence[str], *, special_tokens: Iterable[str] = (),
              padding_tokens: Iterable[str] = ()) -> Vocabulary:
    """A plain list: id ``i`` is ``tokens[i]``; ``''`` at 0 is padding, ``[UNK]``-like tokens are special."""
    toks = [str(t) for t in tokens]
    if not toks:
        raise EmbedkitError("The vocabulary must contain at least one token. Received: an empty list")
    pad, spec = mark_specials(toks, special_tokens, padding_tokens)
    return Vocabulary(toks, "list", pad, spec)


def from_dict(mapping: Mapping[str, int], *, special_tokens: Iterable[str] = (),
              padding_tokens: Iterable[str] = ()) -> Vocabulary:
    """A token → id dict with ids ``0..n-1`` (e.g. scikit-learn's ``vocabulary_``)."""
    toks = _contiguous(mapping, 0, "dict vocabulary")
    pad, spec = mark_specials(toks, special_tokens, padding_tokens)
    return Vocabulary(toks, "dict", pad, spec)


def from_word_index(word_index: Mapping[str, int], num_words: int | None = None, *, oov_token: str | None = None,
                    word_counts: Mapping[str, int] | None = None) -> Vocabulary:
    """A Keras-style ``word_index`` (ids ``1..n``, row 0 = padding), cut at ``num_words`` like Keras does.

    The legacy ``Tokenizer`` keeps only ids below ``num_words``, so the matrix has
    ``min(num_words, len(word_index) + 1)`` rows.

    >>> from_word_index({"the": 1, "cat": 2, "sat": 3}, num_words=3).tokens
    ['', 'the', 'cat']
    """
    if num_words is not None and (isinstance(num_words, bool) or not isinstance(num_words, int) or num_words < 2):
        raise EmbedkitError(f"`num_words` must be an integer >= 2 (row 0 is padding). Received: num_words={num_words!r}")
    toks = [""] + _contiguous(word_index, 1, "word_index", None if num_words is None else num_words - 1)
    extra = [oov_token] if oov_token else []
    pad, spec = mark_specials(toks, extra)
    counts = None
    if word_counts:
        counts = np.array([int(word_counts.get(t, 0)) for t in toks], dtype=np.int64)
    return Vocabulary(toks, "word_index", pad, spec, counts=counts)


def from_keras(obj: Any) -> Vocabulary:
    """A Keras ``TextVectorization`` / ``StringLookup`` layer or a legacy Keras ``Tokenizer``."""
    if hasattr(obj, "get_vocabulary"):
        try:
            toks = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in obj.get_vocabulary()]
        except Exception as e:  # pragma: no cover - depends on the layer's state
            raise EmbedkitError(f"Could not read the layer's vocabulary (is it adapted?). Received: {e}") from None
        pad_extra = []
        mask = getattr(obj, "mask_token", None) or getattr(getattr(obj, "_lookup_layer", None), "mask_token", None)
        if mask:
            pad_extra.append(mask)
        oov = getattr(obj, "oov_token", None) or getattr(getattr(obj, "_lookup_layer", None), "oov_token", None)
        pad, spec = mark_specials(toks, [oov] if oov else [], pad_extra)
        encoder = _keras_layer_encoder(obj) if type(obj).__name__ == "TextVectorization" else None
        return Vocabulary(toks, "keras", pad, spec, encoder=encoder)
    if hasattr(obj, "word_index"):
        return from_word_index(dict(obj.word_index), getattr(obj, "num_words", None),
                               oov_token=getattr(obj, "oov_token", None),
                               word_counts=dict(getattr(obj, "word_counts", {}) or {}))
    raise EmbedkitError(f"Expected a Keras TextVectorization/StringLookup layer or Tokenizer. Received: {_typename(obj)}")


def _keras_layer_encoder(layer: Any) -> Callable[[list[str]], list[list[int]]]:
    def encode(texts: list[str]) -> list[list[int]]:
        out = []
        for s in range(0, len(texts), 1024):
            ids = np.asarray(layer(texts[s: s + 1024]))
            if ids.ndim == 1:
                ids = ids[None, :]
            out.extend(row[row > 0].tolist() for row in ids)  # 0 is padding, not a token
        return out

    return encode


def _hf_scheme(spec: dict[str, Any]) -> tuple[str | None, str, str]:
    """(scheme, prefix, suffix) from a ``tokenizers`` JSON description."""
    types: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("type"), str):
                types.add(node["type"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for part in ("pre_tokenizer", "decoder", "normalizer"):
        walk(spec.get(part))
    model = spec.get("model") or {}
    mtype = model.get("type")
    prefix = model.get("continuing_subword_prefix") or ""
    suffix = model.get("end_of_word_suffix") or ""
    if "ByteLevel" in types:
        return "byte-level", "", ""
    if "Metaspace" in types or mtype == "Unigram":
        return "sentencepiece", "", ""
    if mtype == "WordPiece":
        return "wordpiece", prefix or "##", ""
    if mtype == "BPE" and (prefix or suffix):
        return "bpe", prefix, suffix
    return None, "", ""


def from_hf_tokenizer(tok: Any, *, kind: str = "tokenizers", pad_ids: Iterable[int] = (),
                      special_ids: Iterable[int] = ()) -> Vocabulary:
    """A Hugging Face ``tokenizers.Tokenizer`` (ids contiguous, added special tokens kept out of the lookup)."""
    n = tok.get_vocab_size(with_added_tokens=True)
    toks: list[str] = []
    for i in range(n):
        t = tok.id_to_token(i)
        if t is None:
            raise EmbedkitError(f"tokenizer ids must be contiguous 0..{n - 1}. Received: no token for id {i}")
        toks.append(t)
    scheme, prefix, suffix = _hf_scheme(json.loads(tok.to_str()))
    specials = set(special_ids)
    for i, added in tok.get_added_tokens_decoder().items():
        if getattr(added, "special", False):
            specials.add(int(i))
    pads = set(pad_ids)
    padding = getattr(tok, "padding", None)
    if padding and padding.get("pad_id") is not None:
        pads.add(int(padding["pad_id"]))
    pads |= {i for i in specials if toks[i] in PADDING_TOKENS}
    specials |= {i for i, t in enumerate(toks) if t in SPECIAL_TOKENS}
    specials -= pads

    def encode(texts: list[str]) -> list[list[int]]:
        return [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]

    return Vocabulary(toks, kind, frozenset(pads), frozenset(specials), scheme, prefix, suffix, encoder=encode)


def from_transformers(tok: Any) -> Vocabulary:
    """A Hugging Face ``transformers`` tokenizer: fast ones through their backend ``tokenizers.Tokenizer``."""
    pad = [tok.pad_token_id] if getattr(tok, "pad_token_id", None) is not None else []
    mask = getattr(tok, "mask_token_id", None)
    if mask is not None:
        pad.append(mask)
    specials = [i for i in (getattr(tok, "all_special_ids", None) or []) if i is not None]
    backend = getattr(tok, "backend_tokenizer", None)
    if backend is not None:
        v = from_hf_tokenizer(backend, kind="transformers", pad_ids=pad, special_ids=specials)
    else:
        vocab = dict(tok.get_vocab())
        toks = _contiguous(vocab, 0, "tokenizer vocabulary")
        if any(t.startswith("##") for t in toks):
            scheme, prefix = "wordpiece", "##"
        elif any(t.startswith("\u0120") for t in toks):
            scheme, prefix = "byte-level", ""
        elif any(t.startswith("\u2581") for t in toks):
            scheme, prefix = "sentencepiece", ""
        else:
            scheme, prefix = None, ""
        v = Vocabulary(toks, "transformers", frozenset(pad), frozenset(set(specials) - set(pad)), scheme, prefix)

    def encode(texts: list[str]) -> list[list[int]]:
        return list(tok(texts, add_special_tokens=False)["input_ids"])

    v.encoder = encode
    return v


def from_sklearn(vectorizer: Any) -> Vocabulary:
    """A fitted scikit-learn ``CountVectorizer`` / ``TfidfVectorizer``: row ``i`` is feature ``i``."""
    vocab = getattr(vectorizer, "vocabulary_", None)
    if vocab is None:
        raise EmbedkitError(f"The vectorizer must be fitted (no `vocabulary_`). Received: unfitted {_typename(vectorizer)}")
    toks = _contiguous(vocab, 0, "vocabulary_")
    analyzer = vectorizer.build_analyzer()

    def encode(texts: list[str]) -> list[list[int]]:
        return [[vocab.get(w, -1) for w in analyzer(t)] for t in texts]

    return Vocabulary(toks, "sklearn", frozenset(), frozenset(), encoder=encode)


def from_gensim_dictionary(dictionary: Any) -> Vocabulary:
    """A ``gensim.corpora.Dictionary``; its collection frequencies (``cfs``) become the counts."""
    toks = _contiguous(dict(dictionary.token2id), 0, "Dictionary")
    cfs = getattr(dictionary, "cfs", None) or {}
    counts = np.array([int(cfs.get(i, 0)) for i in range(len(toks))], dtype=np.int64) if cfs else None
    lower = not any(t != t.lower() for t in toks)

    tokenize = Tokenizer.preset("keras", lower)

    def encode(texts: list[str]) -> list[list[int]]:
        return [dictionary.doc2idx(tokenize(t)) for t in texts]

    return Vocabulary(toks, "gensim", frozenset(), frozenset(), counts=counts, encoder=encode)


def _typename(obj: Any) -> str:
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def detect_kind(obj: Any) -> str:
    """Which adapter handles ``obj`` (one of :data:`KINDS`); unknown types raise a one-line error."""
    if isinstance(obj, Vocabulary):
        return obj.kind
    if isinstance(obj, (list, tuple)) or (isinstance(obj, np.ndarray) and obj.ndim == 1):
        return "list"
    if isinstance(obj, Mapping):
        vals = list(obj.values())
        arr = _int_array(vals)
        if arr is not None:
            return "word_index" if int(arr.min()) == 1 else "dict"
        if not vals:
            raise EmbedkitError("The vocabulary must contain at least one token. Received: an empty dict")
    mod = type(obj).__module__ or ""
    name = type(obj).__name__
    if mod.startswith("tokenizers") and hasattr(obj, "get_vocab_size"):
        return "tokenizers"
    if mod.startswith("transformers") or hasattr(obj, "backend_tokenizer"):
        return "transformers"
    if mod.startswith("gensim") and hasattr(obj, "token2id"):
        return "gensim"
    if hasattr(obj, "build_analyzer") and (hasattr(obj, "vocabulary_") or mod.startswith("sklearn")):
        return "sklearn"
    if hasattr(obj, "get_vocabulary") or (hasattr(obj, "word_index") and hasattr(obj, "num_words")):
        return "keras"
    if name in ("str", "PosixPath", "WindowsPath") or isinstance(obj, (str, os.PathLike)):
        raise EmbedkitError(
            f"Expected a tokenizer or vocabulary object (read a vocabulary file with read_vocab_file). "
            f"Received: {obj!r}"
        )
    raise EmbedkitError(
        f"Expected one of: {', '.join(SUPPORTED_TYPES)}. Received: {_typename(obj)}"
    )


def as_vocab(obj: Any, kind: str | None = None, *, num_words: int | None = None,
             special_tokens: Iterable[str] = (), padding_tokens: Iterable[str] = ()) -> Vocabulary:
    """Adapt any supported tokenizer or vocabulary to a :class:`~embedkit.text.vocabulary.Vocabulary` (``kind`` forces an adapter).

    Example:
        >>> as_vocab({"a": 0, "b": 1}).kind
        'dict'
    """
    if isinstance(obj, Vocabulary):
        return obj
    if kind is None:
        kind = detect_kind(obj)
    if kind not in KINDS:
        raise EmbedkitError(f"`kind` must be one of {', '.join(KINDS)}. Received: kind={kind!r}")
    if num_words is not None and kind != "word_index" and not (kind == "keras" and hasattr(obj, "word_index")):
        raise EmbedkitError(f"`num_words` applies to a Keras word_index only. Received: num_words={num_words} for {kind}")
    if kind == "list":
        return from_list(list(obj), special_tokens=special_tokens, padding_tokens=padding_tokens)
    if kind == "dict":
        return from_dict(obj, special_tokens=special_tokens, padding_tokens=padding_tokens)
    if kind == "word_index":
        return from_word_index(obj, num_words)
    if kind == "keras":
        if num_words is not None and hasattr(obj, "word_index"):
            return from_word_index(dict(obj.word_index), num_words, oov_token=getattr(obj, "oov_token", None),
                                   word_counts=dict(getattr(obj, "word_counts", {}) or {}))
        return from_keras(obj)
    if kind == "tokenizers":
        return from_hf_tokenizer(obj)
    if kind == "transformers":
        return from_transformers(obj)
    if kind == "sklearn":
        return from_sklearn(obj)
    return from_gensim_dictionary(obj)


def read_vocab_file(path: str | os.PathLike[str]) -> tuple[Vocabulary, np.ndarray | None]:
    """Read a vocabulary file: one token per line (optionally ``token<TAB or space>count``), or JSON.

    A JSON file holds a list of tokens or a token → id dict (a Keras ``word_index`` when ids start at 1).
    A blank first line is the padding row. Returns the vocabulary and per-id counts (None without counts).
    """
    p = Path(path)
    if not p.is_file():
        raise EmbedkitError(f"Vocabulary file does not exist. Received: {str(p)!r}")
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise EmbedkitError(f"Expected a JSON list or dict vocabulary. Received: invalid JSON in {str(p)!r} ({e.msg})") from None
        if not isinstance(data, (list, dict)):
            raise EmbedkitError(f"Expected a JSON list or dict vocabulary. Received: {type(data).__name__} in {str(p)!r}")
        return as_vocab(data), None
    lines = text.splitlines()
    tokens: list[str] = []
    counts: list[int] = []
    has_counts = True
    for n, line in enumerate(lines):
        if not line.strip():
            if n == 0:
                tokens.append("")
                counts.append(0)
            continue
        parts = line.rstrip("\r").split("\t") if "\t" in line else line.rsplit(" ", 1)
        if len(parts) == 2 and parts[1].strip().isdigit():
            tokens.append(parts[0].strip())
            counts.append(int(parts[1]))
        else:
            tokens.append(line.strip())
            counts.append(0)
            has_counts = False
    if not tokens or tokens == [""]:
        raise EmbedkitError(f"The vocabulary must contain at least one token. Received: empty file {str(p)!r}")
    return from_list(tokens), (np.array(counts, dtype=np.int64) if has_counts else None)


def vocab_from_texts(texts: Iterable[str], *, max_tokens: int | None = None, lower: bool = True) -> tuple[Vocabulary, np.ndarray]:
    """A frequency-ordered word vocabulary of ``texts`` (``''`` padding, ``[UNK]``, then words) and its counts.

    This is the layout ``TextVectorization`` produces after ``adapt``.

    >>> v, c = vocab_from_texts(["a b a", "c a"])
    >>> v.tokens, c.tolist()
    (['', '[UNK]', 'a', 'b', 'c'], [0, 0, 3, 1, 1])
    """
    counter: Counter[str] = Counter()
    tokenize = Tokenizer.preset("keras", lower)
    for t in texts:
        counter.update(tokenize(t))
    if not counter:
        raise EmbedkitError("The texts must contain at least one word. Received: no words")
    words = [w for w, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]
    if max_tokens is not None:
        words = words[: max(0, max_tokens - 2)]
    tokens = ["", "[UNK]", *words]
    unk = sum(counter.values()) - sum(counter[w] for w in words)
    counts = np.array([0, unk, *(counter[w] for w in words)], dtype=np.int64)
    return from_list(tokens), counts
