"""Intrinsic evaluation: word analogies (3CosAdd / 3CosMul) and word-pair similarity correlations.

The numbers equal gensim's ``KeyedVectors.evaluate_word_analogies`` and ``evaluate_word_pairs`` on the same
vectors and settings (same vocabulary restriction, same upper-casing, same OOV rules), but the analogy search
is batched: question vectors are scored against blocks of the vocabulary with float32 matrix products, and
vocabulary blocks that provably cannot beat a question's current best answer are skipped.

>>> import numpy as np
>>> from embedkit.vectors.word_vectors import WordVectors
>>> wv = WordVectors(["man", "woman", "king", "queen", "apple"],
...                  np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [5, -5, 1]], np.float32))
>>> import tempfile, os
>>> f = os.path.join(tempfile.mkdtemp(), "q.txt")
>>> _ = open(f, "w").write(": royal\\nman woman king queen\\n")
>>> r = evaluate_analogies(wv, f)
>>> r.correct, r.total, r.accuracy
(1, 1, 1.0)
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.vectors.word_vectors import WordVectors

NAMED_PAIRS = {"ws353": "wordsim353.tsv", "wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}
_BLOCK = 256  # vocabulary rows per pruning block
_HEAD = 8192  # the most frequent rows, scored exactly for every question to get a first threshold
_QCHUNK = 2048  # questions per matrix product
_STATS: dict[str, int] = {}  # diagnostics of the last analogy run (redone questions)


@dataclass
class SectionResult:
    """One section of an analogy file (e.g. ``capital-common-countries``)."""

    name: str
    correct: int
    total: int  # questions answered (all four words in the restricted vocabulary)
    oov: int = 0  # questions skipped because a word is outside the restricted vocabulary

    @property
    def accuracy(self) -> float:
        """Correct / answered (0.0 when nothing was answered, as gensim)."""
        return self.correct / self.total if self.total else 0.0

    @property
    def semantic(self) -> bool:
        """False for the syntactic ``gram*`` sections of questions-words.txt."""
        return not self.name.startswith("gram")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "accuracy": self.accuracy, "semantic": self.semantic}


@dataclass
class AnalogyResult:
    """Analogy accuracy overall and per section.

    ``accuracy`` is over answered questions (``correct / total``); ``oov`` questions were skipped.
    """

    accuracy: float
    correct: int
    total: int
    oov: int
    sections: list[SectionResult] = field(default_factory=list)
    method: str = "3cosadd"
    restrict_vocab: int = 300000
    path: str = ""

    @property
    def questions(self) -> int:
        """All well-formed questions in the file (answered + OOV)."""
        return self.total + self.oov

    @property
    def oov_ratio(self) -> float:
        """Percent of questions skipped for OOV words (gensim's logged figure)."""
        return 100.0 * self.oov / self.questions if self.questions else 0.0

    def _part(self, semantic: bool) -> tuple[int, int]:
        secs = [s for s in self.sections if s.semantic == semantic]
        return sum(s.correct for s in secs), sum(s.total for s in secs)

    @property
    def semantic_accuracy(self) -> float:
        """Accuracy over the semantic sections (0.0 if none answered)."""
        c, t = self._part(True)
        return c / t if t else 0.0

    @property
    def syntactic_accuracy(self) -> float:
        """Accuracy over the syntactic ``gram*`` sections (0.0 if none answered)."""
        c, t = self._part(False)
        return c / t if t else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "method": self.method, "restrict_vocab": self.restrict_vocab,
            "accuracy": self.accuracy, "correct": self.correct, "total": self.total, "oov": self.oov,
            "oov_ratio": self.oov_ratio, "semantic_accuracy": self.semantic_accuracy,
            "syntactic_accuracy": self.syntactic_accuracy, "sections": [s.to_dict() for s in self.sections],
        }


@dataclass
class PairsResult:
    """Correlation of model cosine similarities with human scores (``oov_ratio`` in percent, as gensim)."""

    spearman: float
    pearson: float
    pairs_total: int
    pairs_used: int
    oov_ratio: float
    spearman_pvalue: float = float("nan")
    pearson_pvalue: float = float("nan")
    skipped_lines: int = 0
    path: str = ""
    name: str = ""

    @property
    def oov(self) -> int:
        return self.pairs_total - self.pairs_used

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "oov": self.oov}


# -- shared helpers ------------------------------------------------------------------------------------------
def _check_restrict(restrict_vocab: object, size: int) -> int:
    if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, (int, np.integer)) or restrict_vocab <= 0:
        raise EmbedkitError(f"`restrict_vocab` must be a positive integer. Received: restrict_vocab={restrict_vocab!r}")
    return min(int(restrict_vocab), size)


def _ok_vocab(keys: list[str], restrict: int, case_insensitive: bool) -> dict[str, int]:
    """Word → row for the first ``restrict`` rows; upper-cased with the first (most frequent) variant kept."""
    ok: dict[str, int] = {}
    if case_insensitive:
        for i, k in enumerate(keys[:restrict]):
            ok.setdefault(k.upper(), i)
    else:
        ok = dict(zip(keys[:restrict], range(restrict)))
    return ok


def _read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise EmbedkitError(f"Evaluation file does not exist. Received: {str(path)!r}") from None
    except IsADirectoryError:
        raise EmbedkitError(f"Expected an evaluation file, not a directory. Received: {str(path)!r}") from None
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise EmbedkitError(f"Expected a UTF-8 text file. Received: undecodable byte at offset {e.start} in {path}") from None


def _gensim_data(name: str) -> Path:
    """A file from gensim's bundled test data (found without importing gensim, which is slow)."""
    import importlib.util

    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedkitError(f"The default evaluation files come with gensim. Received: gensim not installed (wanted {name})")
    return Path(list(spec.submodule_search_locations)[0]) / "test" / "test_data" / name


# -- analogies -----------------------------------------------------------------------------------------------
def evaluate_analogies(
    wv: WordVectors,
    path: str | os.PathLike[str] | None = None,
    *,
    restrict_vocab: int = 300000,
    method: str = "3cosadd",
    case_insensitive: bool = True,
) -> AnalogyResult:
    """Accuracy on a questions-words style analogy file (``a b c d``: a is to b as c is to d).

    Only the first ``restrict_vocab`` rows (the most frequent words in a frequency-sorted set) are candidate
    answers, and a question with any word outside them is skipped and counted in ``oov``. The three question
    words are never answers. ``3cosadd`` ranks by cos(x, b - a + c) (gensim's ``most_similar``); ``3cosmul``
    by Levy & Goldberg's (1+cos)/2 products (gensim's ``most_similar_cosmul``). ``path=None`` uses gensim's
    ``questions-words.txt``.

    Example:
        from embedkit.vectors.loading import load_vectors
        evaluate_analogies(load_vectors("glove-6b-50d")).accuracy
        0.6...
    """
    from embedkit.search.queries import analogy_method

    method = analogy_method(method)
    if not isinstance(wv, WordVectors):
        wv = WordVectors.from_gensim(wv)
    restrict = _check_restrict(restrict_vocab, len(wv))
    p = _gensim_data("questions-words.txt") if path is None else Path(os.fspath(path))
    lines = _read_lines(p)
    ok = _ok_vocab(wv.keys, restrict, case_insensitive)

    sections: list[SectionResult] = []
    quads: list[tuple[int, int, int, int]] = []
    quad_section: list[int] = []
    for line_no, line in enumerate(lines):
        if line.startswith(": "):
            sections.append(SectionResult(line.lstrip(": ").strip(), 0, 0))
            continue
        words = line.split()
        if len(words) != 4:
            continue  # gensim skips invalid lines silently
        if not sections:
            raise EmbedkitError(
                f"Expected a ': section' header before the first question. Received: line {line_no + 1} of {p}"
            )
        if case_insensitive:
            words = [w.upper() for w in words]
        idx = [ok.get(w) for w in words]
        if None in idx:
            sections[-1].oov += 1
            continue
        quads.append(tuple(idx))  # type: ignore[arg-type]
        quad_section.append(len(sections) - 1)
    if not sections and not quads:
        raise EmbedkitError(f"Expected analogy questions ('a b c d' lines under ': section' headers). Received: none in {p}")

    if quads:
        q = np.asarray(quads, dtype=np.int64)
        unit = np.asarray(wv.unit_vectors()[:restrict])
        group = _groups(wv.keys, restrict, ok, case_insensitive)
        pred = _solve(unit, q, group, method, wv=wv, restrict=restrict)
        right = group[pred] == group[q[:, 3]]
        sec_idx = np.asarray(quad_section)
        for s, sec in enumerate(sections):
            m = sec_idx == s
            sec.total = int(m.sum())
            sec.correct = int(right[m].sum())
    correct = sum(s.correct for s in sections)
    total = sum(s.total for s in sections)
    return AnalogyResult(
        accuracy=correct / total if total else 0.0, correct=correct, total=total,
        oov=sum(s.oov for s in sections), sections=sections, method=method, restrict_vocab=restrict, path=str(p),
    )


def _groups(keys: list[str], restrict: int, ok: dict[str, int], case_insensitive: bool) -> np.ndarray:
    """Row → row of its canonical (first upper-cased) variant; identity when case-sensitive."""
    if not case_insensitive:
        return np.arange(restrict, dtype=np.int64)
    return np.fromiter((ok[k.upper()] for k in keys[:restrict]), dtype=np.int64, count=restrict)


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


def _solve(
    unit: np.ndarray, q: np.ndarray, group: np.ndarray, method: str, *, wv: WordVectors, restrict: int
) -> np.ndarray:
    """Predicted row per question: the best row that is not a question word (gensim's answer)."""
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
    if head < R:
        bound = _block_bounds(unit, q, method, head)
        _scan_blocks(unit, q, method, head, bound, best, arg, tol=None)
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
        _scan_blocks(unit, q, method, head, bound, best, arg, tol=tol, count=count)
    qg = group[q[:, :3]]
    redo = (count != 1) | (group[arg][:, None] == qg).any(1) | ~np.isfinite(best)
    _STATS["redo"] = int(redo.sum())
    if redo.any():
        exact = _GensimWay(wv, restrict, group, method)
        for i in np.flatnonzero(redo):
            arg[i] = exact.predict(q[i])
    return arg


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
) -> None:
    """Score only the (question, block) pairs whose bound can reach the best so far (or its tie band).

    Blocks are visited in vocabulary order in groups; after each group the live set is recomputed against
    the improved best scores, so the rare-word tail is mostly skipped.
    """
    R = unit.shape[0]
    nb = bound.shape[1]
    vq = _query_vectors(unit, q) if method == "3cosadd" else None
    group = 16
    for g0 in range(0, nb, group):
        margin = 1e-4 * np.maximum(1.0, np.abs(best))  # bounds are computed in float32 too
        thr = best - (tol if tol is not None else 0.0) - margin
        live = (bound[:, g0 : g0 + group] >= thr[:, None]).T  # (blocks, questions)
        for bi in np.flatnonzero(live.any(1)):
            qi = np.flatnonzero(live[bi])
            _STATS["live"] = _STATS.get("live", 0) + len(qi)
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


def _query_vectors(unit: np.ndarray, q: np.ndarray) -> np.ndarray:
    return unit[q[:, 1]] - unit[q[:, 0]] + unit[q[:, 2]]


class _GensimWay:
    """Solve single questions exactly as gensim does (float32 dot over raw vectors / norms, top-5 walk)."""

    def __init__(self, wv: WordVectors, restrict: int, group: np.ndarray, method: str) -> None:
        self.raw = np.asarray(wv.vectors[:restrict], dtype=np.float32)
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


# -- word pairs ----------------------------------------------------------------------------------------------
def evaluate_word_pairs(
    wv: WordVectors,
    path: str | os.PathLike[str] | None = None,
    *,
    restrict_vocab: int = 300000,
    case_insensitive: bool = True,
    delimiter: str | None = None,
) -> PairsResult:
    """Spearman and Pearson correlation between cosine similarities and human scores of word pairs.

    ``path`` is a file of ``word1 word2 score`` lines (``#`` comments allowed), or ``"ws353"`` /
    ``"simlex999"`` for the copies gensim ships (``None`` = WS353). ``delimiter=None`` splits on tabs when a
    line has one, else on whitespace. Pairs with a word outside the first ``restrict_vocab`` rows are skipped
    and reported in ``oov_ratio`` (percent).

    Example:
        from embedkit.vectors.loading import load_vectors
        round(evaluate_word_pairs(load_vectors("glove-6b-50d"), "ws353").spearman, 3)
        0.5...
    """
    from scipy import stats

    if not isinstance(wv, WordVectors):
        wv = WordVectors.from_gensim(wv)
    restrict = _check_restrict(restrict_vocab, len(wv))
    spec = "ws353" if path is None else os.fspath(path)
    name = Path(spec).stem
    if spec in NAMED_PAIRS and not Path(spec).exists():
        name = spec
        p = _gensim_data(NAMED_PAIRS[spec])
    else:
        p = Path(spec)
    lines = _read_lines(p)
    ok = _ok_vocab(wv.keys, restrict, case_insensitive)
    gold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    oov = skipped = 0
    for line in lines:
        if not line or line.startswith("#"):
            continue
        sep = delimiter if delimiter is not None else ("\t" if "\t" in line else None)
        parts = line.split(sep)
        try:
            if len(parts) != 3:
                raise ValueError
            w1, w2, score = parts
            sim = float(score)
        except ValueError:
            skipped += 1
            continue
        if case_insensitive:
            w1, w2 = w1.upper(), w2.upper()
        i, j = ok.get(w1), ok.get(w2)
        if i is None or j is None:
            oov += 1
            continue
        gold.append(sim)
        left.append(i)
        right.append(j)
    if not gold:
        what = f"{oov} pairs, all out of vocabulary" if oov else f"{skipped} unparsable lines"
        raise EmbedkitError(
            f"Expected lines 'word1 word2 score' with words in the vocabulary. Received: {what} in {p}"
        )
    v = np.asarray(wv.vectors[: restrict], dtype=np.float32)
    a, b = v[left], v[right]
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    model = np.einsum("ij,ij->i", a, b)
    g = np.asarray(gold)
    if len(g) < 2 or np.ptp(g) == 0 or np.ptp(model) == 0:
        raise EmbedkitError(
            f"Expected at least two in-vocabulary pairs with varying scores to correlate. Received: {len(g)} pairs in {p}"
        )
    sp = stats.spearmanr(g, model)
    pe = stats.pearsonr(g, model)
    return PairsResult(
        spearman=float(sp[0]), pearson=float(pe[0]), pairs_total=len(gold) + oov, pairs_used=len(gold),
        oov_ratio=100.0 * oov / (len(gold) + oov), spearman_pvalue=float(sp[1]), pearson_pvalue=float(pe[1]),
        skipped_lines=skipped, path=str(p), name=name,
    )
