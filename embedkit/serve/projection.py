"""The 2-D map of a neighbourhood: PCA of the unit vectors of a word and its neighbours.

Computed with one SVD in numpy (no scikit-learn import). The signs of the axes are fixed (the largest
coordinate of each axis is positive), so the same query draws the same map every time.

>>> import numpy as np
>>> m = pca_map(["a", "b", "c"], np.array([[1.0, 0, 0], [0.9, 0.1, 0], [0, 0, 1]]))
>>> [p.word for p in m.points], len(m.explained)
(['a', 'b', 'c'], 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError


@dataclass(frozen=True)
class MapPoint:
    """One word on the map."""

    word: str
    x: float
    y: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


@dataclass
class NeighbourhoodMap:
    """Points of a 2-D PCA projection and the share of variance each axis explains."""

    points: list[MapPoint] = field(default_factory=list)
    explained: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return {"points": [p.to_dict() for p in self.points], "explained_variance": self.explained}


def pca_map(words: Sequence[str], vectors: np.ndarray) -> NeighbourhoodMap:
    """Project the unit vectors of ``words`` onto their first two principal axes.

    Args:
        words: the words, one per row of ``vectors``.
        vectors: an (n, d) array; rows are normalised first (cosine geometry).
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(words):
        raise EmbedkitError(f"Expected one vector per word. Received: {len(words)} words, array {x.shape}")
    if len(x) == 0:
        return NeighbourhoodMap([], [0.0, 0.0])
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(norms == 0, 1.0, norms)
    centred = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    coords = np.zeros((len(x), 2))
    width = min(2, u.shape[1])
    coords[:, :width] = u[:, :width] * s[:width]
    for j in range(width):  # deterministic signs: the largest coordinate of each axis is positive
        if coords[np.argmax(np.abs(coords[:, j])), j] < 0:
            coords[:, j] = -coords[:, j]
    total = float((s**2).sum())
    explained = [float(s[j] ** 2 / total) if total > 0 and j < len(s) else 0.0 for j in range(2)]
    return NeighbourhoodMap([MapPoint(w, float(a), float(b)) for w, (a, b) in zip(words, coords)], explained)
