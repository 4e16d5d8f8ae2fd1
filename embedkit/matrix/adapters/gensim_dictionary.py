"""Adapter for gensim: a ``gensim.corpora.Dictionary`` (its collection frequencies become the counts).

>>> from types import SimpleNamespace
>>> d = SimpleNamespace(token2id={"cat": 1, "the": 0}, cfs={0: 5, 1: 2}, doc2idx=None)
>>> v = GensimDictionaryAdapter().adapt(d)
>>> v.tokens, v.counts.tolist()
(['the', 'cat'], [5, 2])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedkit.matrix.adapters.base import Adapter, contiguous_tokens
from embedkit.text.tokenizer import Tokenizer
from embedkit.text.vocabulary import Vocabulary


class GensimDictionaryAdapter(Adapter):
    """A ``gensim.corpora.Dictionary``; texts are split as the legacy Keras Tokenizer does to count tokens."""

    kind = "gensim"
    supported = ("gensim corpora.Dictionary",)

    def detects(self, obj: Any) -> bool:
        return (type(obj).__module__ or "").startswith("gensim") and hasattr(obj, "token2id")

    def adapt(self, obj: Any) -> Vocabulary:
        dictionary = obj
        toks = contiguous_tokens(dict(dictionary.token2id), 0, "Dictionary")
        cfs = getattr(dictionary, "cfs", None) or {}
        counts = np.array([int(cfs.get(i, 0)) for i in range(len(toks))], dtype=np.int64) if cfs else None
        tokenize = Tokenizer.preset("keras", not any(t != t.lower() for t in toks))

        def encode(texts: list[str]) -> list[list[int]]:
            return [dictionary.doc2idx(tokenize(t)) for t in texts]

        return Vocabulary(toks, self.kind, frozenset(), frozenset(), counts=counts, encoder=encode)
