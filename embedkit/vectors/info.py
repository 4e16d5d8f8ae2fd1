"""`describe`: a summary of a vector set (size, dim, dtype, norms, sample words) for ``embedkit info``.

:func:`describe_set` summarises a native set without reading its whole vocabulary (only its metadata,
the memory-mapped matrix and the first words), so ``embedkit info`` on 400k vectors is dominated by
interpreter start-up and the norms.

>>> import numpy as np
>>> from embedkit.vectors.word_vectors import WordVectors
>>> describe(WordVectors(["a", "b"], np.array([[3, 4], [0, 1]], np.float32)))["norm_max"]
5.0
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from embedkit.vectors.vector_set import VectorSet
from embedkit.vectors.word_vectors import WordVectors


def describe(wv: WordVectors, path: str | os.PathLike[str] | None = None, sample: int = 10) -> dict[str, Any]:
    """Summary of ``wv`` as a JSON-ready dict."""
    meta = wv.meta or {}
    out = _summary(wv.vectors, len(wv), wv.source, wv.counts is not None, wv.keys[: max(sample, 0)], meta, path)
    if wv.subwords is not None:
        out["subwords"] = wv.subwords.to_meta()
    return out


def describe_set(vs: VectorSet, sample: int = 10) -> dict[str, Any]:
    """Summary of an opened set: a native set is checked as a full read would check it (so a damaged set is
    refused here as ``convert`` refuses it) but read lazily (its metadata, the memory-mapped matrix, the first
    words), a plain file fully.

    Example:
        >>> import tempfile
        >>> from embedkit.vectors.vector_set import open_vectors
        >>> d = os.path.join(tempfile.mkdtemp(), "s")
        >>> WordVectors(["x", "y"], np.ones((2, 4), np.float32)).save(d)
        >>> describe_set(open_vectors(d), sample=1)["sample_words"]
        ['x']
    """
    if not vs.native:
        return describe(vs.wv, vs.path, sample=sample)
    meta = vs.check().meta
    assert meta is not None
    out = _summary(vs.matrix, int(meta["size"]), meta.get("source"), bool(meta.get("has_counts")),
                   vs.vocab.head(sample), meta, vs.path)
    if meta.get("subwords"):
        out["subwords"] = {k: meta["subwords"][k] for k in ("kind", "minn", "maxn", "buckets") if k in meta["subwords"]}
    return out


def _summary(
    vectors: np.ndarray,
    size: int,
    source: str | None,
    has_counts: bool,
    words: list[str],
    meta: dict[str, Any],
    path: str | os.PathLike[str] | None,
) -> dict[str, Any]:
    norms = np.empty(size, dtype=np.float32)
    step = 65536
    for s in range(0, size, step):
        block = np.asarray(vectors[s : s + step], dtype=np.float32)
        norms[s : s + step] = np.sqrt(np.einsum("ij,ij->i", block, block))
    out: dict[str, Any] = {
        "path": None if path is None else str(path),
        "size": size,
        "dim": int(vectors.shape[1]),
        "dtype": str(vectors.dtype),
        "source": source,
        "has_counts": has_counts,
        "norm_min": round(float(norms.min()), 4) if size else None,
        "norm_mean": round(float(norms.mean()), 4) if size else None,
        "norm_max": round(float(norms.max()), 4) if size else None,
        "zero_vectors": int((norms == 0).sum()),
        "sample_words": words,
    }
    if meta.get("created"):
        out["created"] = meta["created"]
    return out
