"""Adapter for scikit-learn: a fitted ``CountVectorizer`` / ``TfidfVectorizer`` (row ``i`` is feature ``i``).

>>> from types import SimpleNamespace
>>> vec = SimpleNamespace(vocabulary_={"cat": 1, "the": 0}, build_analyzer=lambda: str.split)
>>> SklearnAdapter().adapt(vec).tokens
['the', 'cat']
"""

from __future__ import annotations

from typing import Any

from embedkit.errors import EmbedkitError
from embedkit.matrix.adapters.base import Adapter, contiguous_tokens, typename
from embedkit.text.vocabulary import Vocabulary


class SklearnAdapter(Adapter):
    """A fitted scikit-learn vectorizer: its ``vocabulary_``; its analyzer counts tokens of texts."""

    kind = "sklearn"
    supported = ("sklearn CountVectorizer/TfidfVectorizer",)

    def detects(self, obj: Any) -> bool:
        module = type(obj).__module__ or ""
        return hasattr(obj, "build_analyzer") and (hasattr(obj, "vocabulary_") or module.startswith("sklearn"))

    def adapt(self, obj: Any) -> Vocabulary:
        vocab = getattr(obj, "vocabulary_", None)
        if vocab is None:
            raise EmbedkitError(f"The vectorizer must be fitted (no `vocabulary_`). Received: unfitted {typename(obj)}")
        toks = contiguous_tokens(vocab, 0, "vocabulary_")
        analyzer = obj.build_analyzer()

        def encode(texts: list[str]) -> list[list[int]]:
            return [[vocab.get(w, -1) for w in analyzer(t)] for t in texts]

        return Vocabulary(toks, self.kind, frozenset(), frozenset(), encoder=encode)
