"""`describe`: a summary of a vector set (size, dim, dtype, norms, sample words) for ``embedkit info``.

>>> import numpy as np
>>> from embedkit.vectors import WordVectors
>>> describe(WordVectors(["a", "b"], np.array([[3, 4], [0, 1]], np.float32)))["norm_max"]
5.0
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from embedkit.vectors import WordVectors


def describe(wv: WordVectors, path: str | os.PathLike[str] | None = None, sample: int = 10) -> dict[str, Any]:
    """Summary of ``wv`` as a JSON-ready dict."""
    norms = wv.norms()
    meta = getattr(wv, "meta", {}) or {}
    out: dict[str, Any] = {
        "path": None if path is None else str(path),
        "size": len(wv),
        "dim": wv.dim,
        "dtype": str(wv.vectors.dtype),
        "source": wv.source,
        "has_counts": wv.counts is not None,
        "norm_min": round(float(norms.min()), 4),
        "norm_mean": round(float(norms.mean()), 4),
        "norm_max": round(float(norms.max()), 4),
        "zero_vectors": int((norms == 0).sum()),
        "sample_words": wv.keys[: max(sample, 0)],
    }
    if meta.get("created"):
        out["created"] = meta["created"]
    return out
