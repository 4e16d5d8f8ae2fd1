"""The batched analogy search behind :func:`~embedkit.evaluate.analogies.evaluate_analogies`, equal to gensim.

Question vectors are scored against blocks of the vocabulary with float32 matrix products: the most frequent
``_HEAD`` rows exactly for every question, the rest in blocks of ``_BLOCK`` rows, skipping the blocks whose
upper bound cannot beat a question's current best answer. Questions whose best answer is within rounding of
another candidate (or is a case variant of a question word) are re-solved one by one exactly as gensim does.

>>> raw = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [5, -5, 1]], np.float32)  # man woman king queen
>>> unit = raw / np.linalg.norm(raw, axis=1, keepdims=True)
>>> pred, stats = solve_analogies(unit, np.array([[0, 1, 2, 3]]), np.arange(5), "3cosadd", raw=raw)
>>> pred.tolist(), stats
([3], {'redone': 0, 'scanned': 0})
"""

from __future__ import annotations

import numpy as np

_BLOCK = 256  # vocabulary rows per pruning block
_HEAD = 8192  # the most frequent rows, scored exactly for every question to get a first threshold
_QCHUNK = 2048  # questions per matrix product


def _scores(
    unit: np.ndarray, rows: np.ndarray | slice, qa: np.ndarray, method: str, vq: np.ndarray | None = None
) -> np.ndarray:
    """Scores (len(qa) × rows) of candidate rows for questions ``qa`` (columns a, b, c)."""
    block = unit[rows]
    if method == "3cosadd":
        v = _query_vectors(unit, qa) if vq is None else vq
        return v @ block.T
    ca, cb, cc = ((1.0 + unit[qa[:, j]] @ block.T) * 0.5 for j in range(3))
    return cb * cc / (ca + 1e-6)


def _mask_question_words(s: np.ndarray, qa: np.ndarray, lo: int, hi: int) -> None:
    rows = np.arange(len(qa))
    for j in range(3):
        col = qa[:, j]
        m = (col >= lo) & (col < hi)
        s[rows[m], col[m] - lo] = -np.inf


def solve_analogies(
    unit: np.ndarray, q: np.ndarray, group: np.ndarray, method: str, *, raw: np.ndarray
) -> tuple[np.ndarray, dict[str, int]]:
    """Predicted row per question: the best row that is not a question word (gensim's answer).

    Args:
        unit: the unit vectors of the candidate rows (the restricted vocabulary).
        q: questions as rows ``(a, b, c, d)`` of ``unit``.
        group: row → row of its canonical case variant (identity when case-sensitive).
        method: ``3cosadd`` or ``3cosmul``.
        raw: the raw (unnormalised) vectors of the same rows, for the exact re-solve.

    Returns:
        the predicted rows and diagnostics: ``redone`` (questions re-solved exactly) and ``scanned``
        (question-block pairs scored beyond the head).
    """
    n, R = len(q), unit.shape[0]
    best = np.full(n, -np.inf, np.float32)
    arg = np.zeros(n, np.int64)
    head = min(R, _HEAD)
    for s in range(0, n, _QCHUNK):  # exact scores over the most frequent rows
        qa = q[s : s + _QCHUNK]
        sc = _scores(unit, slice(0, head), qa, method)
        _mask_question_words(sc, qa, 0, head)
        arg[s : s + _QCHUNK] = sc.argmax(1)
        best[s : s + _QCHUNK] = sc[np.arange(len(qa)), arg[s : s + _QCHUNK]]
    scanned = 0
    if head < R:
        bound = _block_bounds(unit, q, method, head)
        scanned += _scan_blocks(unit, q, method, head, bound, best, arg, tol=None)
    else:
        bound = None
    # Near ties: float32 rounding could order two almost equal candidates differently from gensim; such
    # questions (and those whose best is a case variant of a question word) are re-solved exactly gensim's way.
    tol = 1e-5 * np.maximum(1.0, np.abs(best))
    count = np.zeros(n, np.int64)
    for s in range(0, n, _QCHUNK):
        qa = q[s : s + _QCHUNK]
        sc = _scores(unit, slice(0, head), qa, method)
        _mask_question_words(sc, qa, 0, head)
        count[s : s + _QCHUNK] = (sc >= (best[s : s + _QCHUNK] - tol[s : s + _QCHUNK])[:, None]).sum(1)
    if bound is not None:
        scanned += _scan_blocks(unit, q, method, head, bound, best, arg, tol=tol, count=count)
    qg = group[q[:, :3]]
    redo = (count != 1) | (group[arg][:, None] == qg).any(1) | ~np.isfinite(best)
    if redo.any():
        exact = _GensimWay(raw, group, method)
        for i in np.flatnonzero(redo):
            arg[i] = exact.predict(q[i])
    return arg, {"redone": int(redo.sum()), "scanned": scanned}


def _block_bounds(unit: np.ndarray, q: np.ndarray, method: str, start: int) -> np.ndarray:
    """Upper bound of each question's score over each block of ``_BLOCK`` rows from ``start`` on."""
    R = unit.shape[0]
    nb = (R - start + _BLOCK - 1) // _BLOCK
    words, inv = np.unique(q[:, :3], return_inverse=True)
    inv = inv.reshape(len(q), 3)
    if method == "3cosadd":
        # score(x) = u_x·(u_b - u_a) + u_x·u_c: bound by the block maxima of both terms.
        pairs, pinv = np.unique(inv[:, :2], axis=0, return_inverse=True)
        probes = np.concatenate([unit[words], unit[words[pairs[:, 1]]] - unit[words[pairs[:, 0]]]])
    else:
        probes = unit[words]
    mx = np.empty((len(probes), nb), np.float32)
    mn = np.empty((len(words), nb), np.float32) if method == "3cosmul" else None
    chunk = _BLOCK * 64
    for s in range(start, R, chunk):
        e = min(R, s + chunk)
        h = probes @ unit[s:e].T
        b0 = (s - start) // _BLOCK
        full = (e - s) // _BLOCK
        if full:
            hv = h[:, : full * _BLOCK].reshape(len(probes), full, _BLOCK)
            mx[:, b0 : b0 + full] = hv.max(2)
            if mn is not None:
                mn[:, b0 : b0 + full] = hv.min(2)
        if full * _BLOCK < e - s:
            mx[:, b0 + full] = h[:, full * _BLOCK :].max(1)
            if mn is not None:
                mn[:, b0 + full] = h[:, full * _BLOCK :].min(1)
    if method == "3cosadd":
        nw = len(words)
        return mx[nw + pinv.ravel()] + mx[inv[:, 2]]
    assert mn is not None
    hi_b, hi_c, lo_a = (1.0 + mx[inv[:, 1]]) * 0.5, (1.0 + mx[inv[:, 2]]) * 0.5, (1.0 + mn[inv[:, 0]]) * 0.5
    return hi_b * hi_c / (np.maximum(lo_a, 0.0) + 1e-6)


def _scan_blocks(
    unit: np.ndarray, q: np.ndarray, method: str, start: int, bound: np.ndarray, best: np.ndarray,
    arg: np.ndarray, *, tol: np.ndarray | None, count: np.ndarray | None = None,
) -> int:
    """Score only the (question, block) pairs whose bound can reach the best so far (or its tie band).

    Blocks are visited in vocabulary order in groups; after each group the live set is recomputed against
    the improved best scores, so the rare-word tail is mostly skipped. Returns how many pairs were scored.
    """
    R = unit.shape[0]
    nb = bound.shape[1]
    vq = _query_vectors(unit, q) if method == "3cosadd" else None
    group = 16
    scanned = 0
    for g0 in range(0, nb, group):
        margin = 1e-4 * np.maximum(1.0, np.abs(best))  # bounds are computed in float32 too
        thr = best - (tol if tol is not None else 0.0) - margin
        live = (bound[:, g0 : g0 + group] >= thr[:, None]).T  # (blocks, questions)
        for bi in np.flatnonzero(live.any(1)):
            qi = np.flatnonzero(live[bi])
            scanned += len(qi)
            lo = start + (g0 + bi) * _BLOCK
            hi = min(R, lo + _BLOCK)
            qa = q[qi]
            sc = _scores(unit, slice(lo, hi), qa, method, None if vq is None else vq[qi])
            _mask_question_words(sc, qa, lo, hi)
            if tol is None:
                a = sc.argmax(1)
                v = sc[np.arange(len(qi)), a]
                better = v > best[qi]
                best[qi[better]] = v[better]
                arg[qi[better]] = lo + a[better]
            else:
                assert count is not None
                count[qi] += (sc >= (best[qi] - tol[qi])[:, None]).sum(1)
    return scanned


def _query_vectors(unit: np.ndarray, q: np.ndarray) -> np.ndarray:
    return unit[q[:, 1]] - unit[q[:, 0]] + unit[q[:, 2]]


class _GensimWay:
    """Solve single questions exactly as gensim does (float32 dot over raw vectors / norms, top-5 walk)."""

    def __init__(self, raw: np.ndarray, group: np.ndarray, method: str) -> None:
        self.raw = np.asarray(raw, dtype=np.float32)
        self.norms = np.linalg.norm(self.raw, axis=1)
        self.group, self.method = group, method

    def _unit(self, i: int) -> np.ndarray:
        return self.raw[i] / self.norms[i]

    def predict(self, question: np.ndarray) -> int:
        a, b, c = (int(x) for x in question[:3])
        if self.method == "3cosadd":
            mean = np.zeros(self.raw.shape[1], np.float32)
            for i, w in ((b, 1.0), (c, 1.0), (a, -1.0)):
                mean += np.float32(w) * self._unit(i)
            mean = mean / np.float32(3.0)
            n = np.float32(np.linalg.norm(mean))
            if n > 0:
                mean = (mean * (np.float32(1.0) / n)).astype(np.float32)
            dists = (self.raw @ mean) / self.norms
        else:
            pos = [(1 + (self.raw @ self._unit(i)) / self.norms) / 2 for i in (b, c)]
            neg = (1 + (self.raw @ self._unit(a)) / self.norms) / 2
            dists = pos[0] * pos[1] / (neg + 0.000001)
        dists = np.where(np.isnan(dists), -np.inf, dists)
        k = min(len(dists), 8)
        top = np.argpartition(-dists, k - 1)[:k] if k < len(dists) else np.arange(len(dists))
        top = top[np.argsort(-dists[top], kind="stable")]
        cands = [int(t) for t in top if t not in (a, b, c)][:5]
        ignore = {int(self.group[a]), int(self.group[b]), int(self.group[c])}
        pred = cands[-1] if cands else a
        for t in cands:
            if int(self.group[t]) not in ignore:
                pred = t
                break
        return pred
