"""Intrinsic evaluation of word vectors: analogies, word-pair similarity, 2-D maps, projector export.

- :mod:`~embedkit.evaluate.analogies`: :func:`evaluate_analogies` → :class:`AnalogyScores` (per section);
  its batched search in :mod:`~embedkit.evaluate.analogy_search`;
- :mod:`~embedkit.evaluate.word_pairs`: :func:`evaluate_word_pairs` → :class:`PairsResult`;
- :mod:`~embedkit.evaluate.inputs`: evaluation files and the restricted vocabulary both read;
- :mod:`~embedkit.evaluate.plots`, :mod:`~embedkit.evaluate.projector`: 2-D maps, TensorBoard projector files.
"""

from __future__ import annotations

from embedkit.lazy import lazy_exports

_EXPORTS = {
    "evaluate_analogies": "embedkit.evaluate.analogies",
    "AnalogyScores": "embedkit.evaluate.analogies",
    "evaluate_word_pairs": "embedkit.evaluate.word_pairs",
    "PairsResult": "embedkit.evaluate.word_pairs",
    "plot_words": "embedkit.evaluate.plots",
    "export_projector": "embedkit.evaluate.projector",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)
