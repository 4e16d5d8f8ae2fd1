"""Analogy evaluation: accuracy on a questions-words style file (3CosAdd / 3CosMul), per section.

The numbers equal gensim's ``KeyedVectors.evaluate_word_analogies`` on the same vectors and settings (same
vocabulary restriction, same upper-casing, same OOV rules); the search is batched
(:mod:`embedkit.evaluate.analogy_search`).

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

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.evaluate.inputs import check_restrict, gensim_data, read_lines, restricted_vocab
from embedkit.vectors.word_vectors import WordVectors

log = logging.getLogger("embedkit.evaluate.analogies")


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
class AnalogyScores:
    """Analogy accuracy over a question file, overall and per section.

    ``accuracy`` is over answered questions (``correct / total``); ``oov`` questions were skipped.
    (One query's answers are a :class:`embedkit.search.queries.AnalogyResult`.)
    """

    accuracy: float
    correct: int
    total: int
    oov: int
    sections: list[SectionResult] = field(default_factory=list)
    method: str = "3cosadd"
    restrict_vocab: int = 300000
    path: str = ""
    skipped_lines: int = 0  # lines that are neither a ': section' header nor four words

    @property
    def questions(self) -> int:
        """All well-formed questions in the file (answered + OOV)."""
        return self.total + self.oov

    @property
    def oov_ratio(self) -> float:
        """Fraction of questions skipped for OOV words (gensim logs it as a percent; every ratio embedkit
        returns is a fraction)."""
        return self.oov / self.questions if self.questions else 0.0

    def part(self, semantic: bool) -> SectionResult:
        """The semantic (or syntactic ``gram*``) sections summed into one, named ``semantic`` / ``syntactic``."""
        secs = [s for s in self.sections if s.semantic == semantic]
        return SectionResult("semantic" if semantic else "syntactic", sum(s.correct for s in secs),
                             sum(s.total for s in secs), sum(s.oov for s in secs))

    @property
    def semantic_accuracy(self) -> float:
        """Accuracy over the semantic sections (0.0 if none answered)."""
        return self.part(True).accuracy

    @property
    def syntactic_accuracy(self) -> float:
        """Accuracy over the syntactic ``gram*`` sections (0.0 if none answered)."""
        return self.part(False).accuracy

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "method": self.method, "restrict_vocab": self.restrict_vocab,
            "accuracy": self.accuracy, "correct": self.correct, "total": self.total, "oov": self.oov,
            "oov_ratio": self.oov_ratio, "skipped_lines": self.skipped_lines,
            "semantic_accuracy": self.semantic_accuracy,
            "syntactic_accuracy": self.syntactic_accuracy, "sections": [s.to_dict() for s in self.sections],
        }


def evaluate_analogies(
    wv: WordVectors,
    path: str | os.PathLike[str] | None = None,
    *,
    restrict_vocab: int = 300000,
    method: str = "3cosadd",
    case_insensitive: bool = True,
) -> AnalogyScores:
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
    from embedkit.evaluate.analogy_search import solve_analogies
    from embedkit.search.queries import analogy_method

    method = analogy_method(method)
    if not isinstance(wv, WordVectors):
        wv = WordVectors.from_gensim(wv)
    restrict = check_restrict(restrict_vocab, len(wv))
    p = gensim_data("questions-words.txt") if path is None else Path(os.fspath(path))
    lines = read_lines(p)
    ok = restricted_vocab(wv.keys, restrict, case_insensitive)

    sections: list[SectionResult] = []
    quads: list[tuple[int, int, int, int]] = []
    quad_section: list[int] = []
    skipped = 0
    for line_no, line in enumerate(lines):
        if line.startswith(": "):
            sections.append(SectionResult(line.lstrip(": ").strip(), 0, 0))
            continue
        words = line.split()
        if len(words) != 4:
            skipped += bool(words)  # gensim skips invalid lines silently; they are counted (and logged) here
            continue
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
    questions = len(quads) + sum(sec.oov for sec in sections)
    if questions == 0:
        raise EmbedkitError(
            f"Expected analogy questions ('a b c d' lines under ': section' headers). Received: 0 questions"
            f"{f' and {skipped} malformed lines' if skipped else ''} in {p}"
        )
    if skipped:
        log.warning("%s: %d lines are not 'a b c d' questions nor ': section' headers; skipped", p, skipped)

    if quads:
        q = np.asarray(quads, dtype=np.int64)
        unit = np.asarray(wv.unit_vectors()[:restrict])
        group = _groups(wv.keys, restrict, ok, case_insensitive)
        pred, stats = solve_analogies(unit, q, group, method, raw=wv.vectors[:restrict])
        log.debug("analogies: %d questions, %d re-solved exactly, %d question-block pairs scanned beyond the head",
                  len(q), stats["redone"], stats["scanned"])
        right = group[pred] == group[q[:, 3]]
        sec_idx = np.asarray(quad_section)
        for s, sec in enumerate(sections):
            m = sec_idx == s
            sec.total = int(m.sum())
            sec.correct = int(right[m].sum())
    correct = sum(s.correct for s in sections)
    total = sum(s.total for s in sections)
    return AnalogyScores(
        accuracy=correct / total if total else 0.0, correct=correct, total=total,
        oov=sum(s.oov for s in sections), sections=sections, method=method, restrict_vocab=restrict, path=str(p),
        skipped_lines=skipped,
    )


def _groups(keys: list[str], restrict: int, ok: dict[str, int], case_insensitive: bool) -> np.ndarray:
    """Row → row of its canonical (first upper-cased) variant; identity when case-sensitive."""
    if not case_insensitive:
        return np.arange(restrict, dtype=np.int64)
    return np.fromiter((ok[k.upper()] for k in keys[:restrict]), dtype=np.int64, count=restrict)
