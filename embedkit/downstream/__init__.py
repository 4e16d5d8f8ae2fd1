"""Downstream evaluation: labelled datasets, Keras text classifiers, the run loop and its report.

- :mod:`~embedkit.downstream.datasets`: :func:`load_dataset`, :class:`Dataset`, splits;
- :mod:`~embedkit.downstream.preparation`: tokens, a vocabulary per split, padded id matrices;
- :mod:`~embedkit.downstream.models`: the model zoo (:data:`MODELS`, :func:`build_model`);
- :mod:`~embedkit.downstream.embeddings`: the embedding modes (:data:`EMBEDDINGS`);
- :mod:`~embedkit.downstream.config`: :class:`EvalConfig`;
- :mod:`~embedkit.downstream.runner`: :func:`evaluate` / :func:`run_evaluation`, the run loop;
- :mod:`~embedkit.downstream.report`, :mod:`~embedkit.downstream.curves`: results, report files, plots.
"""

from __future__ import annotations

from embedkit.lazy import lazy_exports

_EXPORTS = {
    "evaluate": "embedkit.downstream.runner",
    "run_evaluation": "embedkit.downstream.runner",
    "EvalConfig": "embedkit.downstream.config",
    "EvalReport": "embedkit.downstream.report",
    "MODELS": "embedkit.downstream.models.registry",
    "build_model": "embedkit.downstream.models.registry",
    "EMBEDDINGS": "embedkit.downstream.embeddings",
    "load_dataset": "embedkit.downstream.datasets",
    "Dataset": "embedkit.downstream.datasets",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)
