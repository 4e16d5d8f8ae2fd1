"""The ``ivf`` index kind: FAISS ``IVF<nlist>,Flat`` (or ``,PQ<m>x<bits>`` with ``pq=True``) over unit vectors.

Parameters: ``nlist`` (lists; default about 4·sqrt(n), at least 39 training points each), ``nprobe`` (lists
probed per query), ``pq`` (bool), ``pq_m``, ``pq_bits``. The index is trained on a sample of the first
vectors added; the chosen ``nlist`` / ``nprobe`` / ``pq_m`` / ``pq_bits`` are recorded in ``params``.

>>> import numpy as np
>>> idx = IVFIndex(8, nlist=4)
>>> idx.add(np.random.default_rng(0).standard_normal((400, 8)))
>>> idx.ntotal, idx.params["nprobe"]
(400, 4)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.progress import ProgressArg, Reporter
from embedkit.search.base import FaissIndex, as_rows, check_params, import_faiss, unit_rows

PARAMS = ("nlist", "nprobe", "pq", "pq_m", "pq_bits")


class IVFIndex(FaissIndex):
    """Approximate cosine search with FAISS inverted lists (see the module docstring for parameters)."""

    kind = "ivf"
    search_options = ("nprobe",)

    def complete_params(self, params: dict[str, Any]) -> dict[str, Any]:
        check_params(self.kind, params, PARAMS, flags=("pq",))
        return {**params, "pq": params.get("pq", False)}

    @property
    def faiss_index(self) -> Any:
        """The trained FAISS index (an IVF index exists once vectors were added)."""
        if self.index is None:
            raise EmbedkitError("An IVF index is created when vectors are first added. Received: an empty index")
        return self.index

    def add(self, vectors: np.ndarray, *, progress: ProgressArg = None, batch_size: int = 50_000) -> None:
        """Normalise and append rows (training the lists on the first call); ``progress`` receives ``index``
        events (with a ``status`` field while training)."""
        vectors = as_rows(vectors, self.dim)
        n = vectors.shape[0]
        if n == 0:
            return
        with Reporter(progress, "index", total=n, unit="vectors", description=f"Building {self.kind} index") as rep:
            if self.index is None:
                faiss = import_faiss()
                train = _training_sample(vectors, self.params)
                rep.update(force=True, status=f"training IVF{self.params['nlist']} on {len(train)} vectors")
                codec = f"PQ{self.params['pq_m']}x{self.params['pq_bits']}" if self.params.get("pq") else "Flat"
                self.index = faiss.index_factory(self.dim, f"IVF{self.params['nlist']},{codec}",
                                                 faiss.METRIC_INNER_PRODUCT)
                self.index.train(train)
                rep.update(force=True, status="")
            for s in range(0, n, batch_size):
                block = unit_rows(vectors[s : s + batch_size])
                self.index.add(block)
                rep.advance(len(block))

    def _search_params(self, faiss: Any, k: int, nprobe: int | None = None) -> Any:
        params = faiss.SearchParametersIVF()
        params.nprobe = int(nprobe or self.params["nprobe"])
        return params


def _ivf_shape(dim: int, n: int, params: dict[str, Any]) -> tuple[int, int, int | None]:
    # ~4 sqrt(n) lists, but at least 39 training points per list (what FAISS' k-means asks for)
    nlist = params.get("nlist") or max(1, min(4 * int(np.sqrt(n)), n // 39, 65536))
    nlist = max(1, min(nlist, n))
    nprobe = params.get("nprobe") or min(nlist, max(8, nlist // 16))
    pq_m = None
    if params.get("pq"):
        pq_m = params.get("pq_m") or next(m for m in range(min(dim, 64), 0, -1) if dim % m == 0 and dim // m >= 2)
        if dim % pq_m:
            raise EmbedkitError(f"`pq_m` must divide the dimension {dim}. Received: pq_m={pq_m}")
    return nlist, nprobe, pq_m


def _training_sample(vectors: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """The rows to train on; records the chosen list count, probes and PQ shape in ``params``."""
    n, dim = vectors.shape
    nlist, nprobe, pq_m = _ivf_shape(dim, n, params)
    params.update(nlist=nlist, nprobe=nprobe)
    if pq_m:
        params["pq_m"] = pq_m
        params.setdefault("pq_bits", 8 if n >= 256 * 39 else 4)
    take = min(n, max(64 * nlist, 10_000 if pq_m else 0, 1), 200_000)
    rows = np.sort(np.random.default_rng(0).choice(n, size=take, replace=False))
    return unit_rows(vectors[rows])
