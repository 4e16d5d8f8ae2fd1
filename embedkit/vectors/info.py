"""`describe`: a summary of a vector set (size, dim, dtype, norms, sample words) for ``embedkit info``.

:func:`describe_path` summarises a native set without reading its whole vocabulary (only ``meta.json``,
the memory-mapped ``vectors.npy`` and the first lines of ``vocab.txt``), so ``embedkit info`` on 400k
vectors is dominated by interpreter start-up.

>>> import numpy as np
>>> from embedkit.vectors.word_vectors import WordVectors
>>> describe(WordVectors(["a", "b"], np.array([[3, 4], [0, 1]], np.float32)))["norm_max"]
5.0
"""

from __future__ import annotations

import os
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.vectors.word_vectors import WordVectors


def describe(wv: WordVectors, path: str | os.PathLike[str] | None = None, sample: int = 10) -> dict[str, Any]:
    """Summary of ``wv`` as a JSON-ready dict."""
    meta = getattr(wv, "meta", {}) or {}
    return _summary(wv.vectors, len(wv), wv.source, wv.counts is not None, wv.keys[: max(sample, 0)], meta, path)


def describe_path(path: str | os.PathLike[str], sample: int = 10, **read_kwargs: Any) -> dict[str, Any]:
    """Summary of the vectors at ``path``: native sets are read lazily, other formats fully.

    Example:
        >>> import tempfile
        >>> d = os.path.join(tempfile.mkdtemp(), "s")
        >>> WordVectors(["x", "y"], np.ones((2, 4), np.float32)).save(d)
        >>> describe_path(d, sample=1)["sample_words"]
        ['x']
    """
    from embedkit.vectors.formats import detect_format, read_vectors

    p = Path(path)
    if detect_format(p) != "native":
        return describe(read_vectors(p, **read_kwargs), p, sample=sample)
    from embedkit.vectors.formats.native import read_meta
    from embedkit.errors import FormatError

    meta = read_meta(p)
    vectors = np.load(p / "vectors.npy", mmap_mode="r", allow_pickle=False)
    if vectors.shape != (meta["size"], meta["dim"]):
        raise FormatError(
            f"vectors.npy must have shape (size, dim) = ({meta['size']}, {meta['dim']}) as meta.json says. "
            f"Received: shape={vectors.shape} in {p / 'vectors.npy'}"
        )
    with open(p / "vocab.txt", encoding="utf-8") as fh:
        words = [line.rstrip("\n").rpartition("\t")[0] for line in islice(fh, max(sample, 0))]
    return _summary(vectors, int(meta["size"]), meta.get("source"), bool(meta.get("has_counts")), words, meta, p)


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
