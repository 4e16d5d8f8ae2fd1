"""Word-pair evaluation: Spearman and Pearson correlation of cosine similarities with human scores.

The numbers equal gensim's ``KeyedVectors.evaluate_word_pairs`` (same vocabulary restriction, upper-casing
and OOV rules). ``ws353`` and ``simlex999`` name the copies gensim ships.

>>> import numpy as np, tempfile, os
>>> from embedkit.vectors.word_vectors import WordVectors
>>> wv = WordVectors(["car", "truck", "apple"], np.array([[1, 0.1], [1, 0.2], [0, 1]], np.float32))
>>> f = os.path.join(tempfile.mkdtemp(), "p.txt")
>>> _ = open(f, "w").write("car truck 9\\ncar apple 1\\ntruck apple 2\\n")
>>> r = evaluate_word_pairs(wv, f)
>>> round(r.spearman, 3), r.pairs_used
(1.0, 3)
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.evaluate.inputs import check_restrict, gensim_data, read_lines, restricted_vocab
from embedkit.vectors.word_vectors import WordVectors

NAMED_PAIRS = {"ws353": "wordsim353.tsv", "wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}


@dataclass
class PairsResult:
    """Correlation of model cosine similarities with human scores (``oov_ratio``: the fraction of pairs skipped
    for an out-of-vocabulary word; gensim logs it in percent)."""

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
    and reported in ``oov_ratio`` (a fraction).

    Example:
        from embedkit.vectors.loading import load_vectors
        round(evaluate_word_pairs(load_vectors("glove-6b-50d"), "ws353").spearman, 3)
        0.5...
    """
    from scipy import stats

    if not isinstance(wv, WordVectors):
        wv = WordVectors.from_gensim(wv)
    restrict = check_restrict(restrict_vocab, len(wv))
    spec = "ws353" if path is None else os.fspath(path)
    name = Path(spec).stem
    if spec in NAMED_PAIRS and not Path(spec).exists():
        name = spec
        p = gensim_data(NAMED_PAIRS[spec])
    else:
        p = Path(spec)
    lines = read_lines(p)
    ok = restricted_vocab(wv.keys, restrict, case_insensitive)
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
        oov_ratio=oov / (len(gold) + oov), spearman_pvalue=float(sp[1]), pearson_pvalue=float(pe[1]),
        skipped_lines=skipped, path=str(p), name=name,
    )
