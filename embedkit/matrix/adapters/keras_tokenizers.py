"""Adapter for Keras: ``TextVectorization`` / ``StringLookup`` layers and the legacy ``Tokenizer``.

Layers give their vocabulary as a list (0 = padding ``''``, 1 = ``[UNK]``); a legacy Tokenizer (anything with
``word_index`` and ``num_words``) gives a ``word_index`` cut at ``num_words``, as Keras does.

>>> from types import SimpleNamespace
>>> KerasAdapter().adapt(SimpleNamespace(word_index={"the": 1, "cat": 2}, num_words=None)).tokens
['', 'the', 'cat']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.matrix.adapters.base import Adapter, num_words_error, typename
from embedkit.matrix.adapters.containers import word_index_vocabulary
from embedkit.text.vocabulary import Vocabulary, mark_specials


class KerasAdapter(Adapter):
    """A Keras ``TextVectorization`` / ``StringLookup`` layer or a legacy Keras ``Tokenizer``.

    ``num_words`` re-cuts a legacy Tokenizer's ``word_index`` (layers have none: it raises for them).
    """

    kind = "keras"
    supported = ("keras TextVectorization/StringLookup", "legacy Keras Tokenizer")
    options = ("num_words",)

    def detects(self, obj: Any) -> bool:
        return hasattr(obj, "get_vocabulary") or (hasattr(obj, "word_index") and hasattr(obj, "num_words"))

    def adapt(self, obj: Any, *, num_words: int | None = None) -> Vocabulary:
        if num_words is not None:
            if not hasattr(obj, "word_index"):
                raise num_words_error(num_words, self.kind)
            return _legacy(obj, num_words)
        if hasattr(obj, "get_vocabulary"):
            return _layer(obj)
        if hasattr(obj, "word_index"):
            return _legacy(obj, getattr(obj, "num_words", None))
        raise EmbedkitError(
            f"Expected a Keras TextVectorization/StringLookup layer or Tokenizer. Received: {typename(obj)}"
        )


def _legacy(tokenizer: Any, num_words: int | None) -> Vocabulary:
    return word_index_vocabulary(dict(tokenizer.word_index), num_words, oov_token=getattr(tokenizer, "oov_token", None),
                                 word_counts=dict(getattr(tokenizer, "word_counts", {}) or {}))


def _layer(layer: Any) -> Vocabulary:
    try:
        toks = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in layer.get_vocabulary()]
    except Exception as e:  # pragma: no cover - depends on the layer's state
        raise EmbedkitError(f"Could not read the layer's vocabulary (is it adapted?). Received: {e}") from None
    lookup = getattr(layer, "_lookup_layer", None)  # TextVectorization keeps its StringLookup here
    pad_extra = []
    mask = getattr(layer, "mask_token", None) or getattr(lookup, "mask_token", None)
    if mask:
        pad_extra.append(mask)
    oov = getattr(layer, "oov_token", None) or getattr(lookup, "oov_token", None)
    pad, spec = mark_specials(toks, [oov] if oov else [], pad_extra)
    encoder = _layer_encoder(layer) if type(layer).__name__ == "TextVectorization" else None
    return Vocabulary(toks, "keras", pad, spec, encoder=encoder)


def _layer_encoder(layer: Any) -> Callable[[list[str]], list[list[int]]]:
    def encode(texts: list[str]) -> list[list[int]]:
        out = []
        for s in range(0, len(texts), 1024):
            ids = np.asarray(layer(texts[s: s + 1024]))
            if ids.ndim == 1:
                ids = ids[None, :]
            out.extend(row[row > 0].tolist() for row in ids)  # 0 is padding, not a token
        return out

    return encode
