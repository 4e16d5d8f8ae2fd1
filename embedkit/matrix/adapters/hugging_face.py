"""Adapters for Hugging Face: a ``tokenizers.Tokenizer`` and a ``transformers`` tokenizer.

Subword markers are read from the tokenizer's own description: WordPiece ``##``, byte-level BPE ``Ġ``,
SentencePiece ``▁`` (and BPE prefixes / suffixes), so that each piece is looked up as the word it spells.
Added special tokens are kept out of the lookup; padding and mask tokens stay zero.

>>> subword_scheme({"model": {"type": "WordPiece", "continuing_subword_prefix": "##"}})
('wordpiece', '##', '')
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from embedkit.errors import EmbedkitError
from embedkit.matrix.adapters.base import Adapter, contiguous_tokens
from embedkit.text.vocabulary import PADDING_TOKENS, SPECIAL_TOKENS, Vocabulary


class TokenizersAdapter(Adapter):
    """A Hugging Face ``tokenizers.Tokenizer`` (ids contiguous, added special tokens kept out of the lookup)."""

    kind = "tokenizers"
    supported = ("tokenizers.Tokenizer",)

    def detects(self, obj: Any) -> bool:
        return (type(obj).__module__ or "").startswith("tokenizers") and hasattr(obj, "get_vocab_size")

    def adapt(self, obj: Any) -> Vocabulary:
        return tokenizers_vocabulary(obj)


class TransformersAdapter(Adapter):
    """A Hugging Face ``transformers`` tokenizer: fast ones through their backend ``tokenizers.Tokenizer``."""

    kind = "transformers"
    supported = ("transformers tokenizer",)

    def detects(self, obj: Any) -> bool:
        return (type(obj).__module__ or "").startswith("transformers") or hasattr(obj, "backend_tokenizer")

    def adapt(self, obj: Any) -> Vocabulary:
        tok = obj
        pad = [tok.pad_token_id] if getattr(tok, "pad_token_id", None) is not None else []
        mask = getattr(tok, "mask_token_id", None)
        if mask is not None:
            pad.append(mask)
        specials = [i for i in (getattr(tok, "all_special_ids", None) or []) if i is not None]
        backend = getattr(tok, "backend_tokenizer", None)
        if backend is not None:
            v = tokenizers_vocabulary(backend, kind=self.kind, pad_ids=pad, special_ids=specials)
        else:
            toks = contiguous_tokens(dict(tok.get_vocab()), 0, "tokenizer vocabulary")
            scheme, prefix = _scheme_from_tokens(toks)
            v = Vocabulary(toks, self.kind, frozenset(pad), frozenset(set(specials) - set(pad)), scheme, prefix)

        def encode(texts: list[str]) -> list[list[int]]:
            return list(tok(texts, add_special_tokens=False)["input_ids"])

        v.encoder = encode
        return v


def _scheme_from_tokens(toks: list[str]) -> tuple[str | None, str]:
    """(scheme, prefix) guessed from the pieces of a slow tokenizer's vocabulary."""
    if any(t.startswith("##") for t in toks):
        return "wordpiece", "##"
    if any(t.startswith("\u0120") for t in toks):
        return "byte-level", ""
    if any(t.startswith("\u2581") for t in toks):
        return "sentencepiece", ""
    return None, ""


def subword_scheme(spec: dict[str, Any]) -> tuple[str | None, str, str]:
    """(scheme, prefix, suffix) from a ``tokenizers`` JSON description (``Tokenizer.to_str()``)."""
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


def tokenizers_vocabulary(tok: Any, *, kind: str = "tokenizers", pad_ids: Iterable[int] = (),
                          special_ids: Iterable[int] = ()) -> Vocabulary:
    """The vocabulary of a ``tokenizers.Tokenizer``; ``pad_ids`` / ``special_ids`` add to what it declares."""
    n = tok.get_vocab_size(with_added_tokens=True)
    toks: list[str] = []
    for i in range(n):
        t = tok.id_to_token(i)
        if t is None:
            raise EmbedkitError(f"tokenizer ids must be contiguous 0..{n - 1}. Received: no token for id {i}")
        toks.append(t)
    scheme, prefix, suffix = subword_scheme(json.loads(tok.to_str()))
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
