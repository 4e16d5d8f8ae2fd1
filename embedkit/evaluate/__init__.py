"""Intrinsic evaluation of word vectors: analogies, word-pair similarity, 2-D maps, projector export."""

from __future__ import annotations

from embedkit.lazy import lazy_exports

_EXPORTS = {
    "evaluate_analogies": "embedkit.evaluate.intrinsic",
    "evaluate_word_pairs": "embedkit.evaluate.intrinsic",
    "plot_words": "embedkit.evaluate.plots",
    "export_projector": "embedkit.evaluate.projector",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)
