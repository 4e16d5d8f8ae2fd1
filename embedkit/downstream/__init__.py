"""Downstream evaluation: labelled datasets, Keras text classifiers, the run loop and its report."""

from __future__ import annotations

from embedkit.lazy import lazy_exports

_EXPORTS = {
    "evaluate": "embedkit.downstream.runner",
    "load_dataset": "embedkit.downstream.datasets",
    "Dataset": "embedkit.downstream.datasets",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)
