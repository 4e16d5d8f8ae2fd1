"""Queries on a vector set: neighbours, similarity, analogies (3CosAdd / 3CosMul), doesnt-match.

The semantics follow gensim's ``KeyedVectors``: ``most_similar`` averages unit vectors (weights +1 for
positive, -1 for negative words), ranks by cosine and drops the query words; ``most_similar_cosmul`` is
Levy & Goldberg's 3CosMul with cosines shifted to [0, 1]; ``doesnt_match`` returns the word farthest from
the mean. Searches go through a :class:`~embedkit.search.vector_index.VectorIndex` when one is given (exact or
approximate), else through exact search over the set's unit vectors.

>>> import numpy as np
>>> from embedkit.vectors.word_vectors import WordVectors
>>> wv = WordVectors(["king", "queen", "man", "woman"],
...                  np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1]], np.float32))
>>> analogy(wv, "man", "king", "woman", k=1).answers[0].word
'queen'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from embedkit.errors import EmbedkitError, UnknownWordError, check_positive_int
from embedkit.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.progress import ProgressArg
    from embedkit.search.vector_index import VectorIndex
    from embedkit.vectors.vector_set import VectorSet
    from embedkit.vectors.word_vectors import WordVectors

Query = Union[str, np.ndarray]
_COSMUL_EPS = 1e-6  # gensim's denominator guard


@dataclass(frozen=True)
class Neighbour:
    """One result word with its score (cosine, or the 3CosMul score) and 1-based rank."""

    word: str
    score: float
    rank: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


@dataclass
class NeighboursResult:
    """The ``k`` nearest words to a query (a word, a vector or a positive/negative combination).

    ``subword`` is True when the query word is out of the vocabulary and its vector came from the set's
    fastText n-grams.
    """

    query: str
    neighbours: list[Neighbour] = field(default_factory=list)
    subword: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready; ``subword`` only when true)."""
        out: dict[str, Any] = {"query": self.query, "neighbours": [n.to_dict() for n in self.neighbours]}
        if self.subword:
            out["subword"] = True
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per neighbour (the NDJSON lines of the CLI)."""
        return [{"query": self.query, **n.to_dict()} for n in self.neighbours]

    @property
    def words(self) -> list[str]:
        """The neighbour words, best first."""
        return [n.word for n in self.neighbours]


@dataclass(frozen=True)
class SimilarityResult:
    """Cosine similarity of two words."""

    word1: str
    word2: str
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


@dataclass
class AnalogyResult:
    """``a`` is to ``b`` as ``c`` is to ``answers[0]`` (3CosAdd: b - a + c; 3CosMul: Levy & Goldberg)."""

    a: str
    b: str
    c: str
    method: str
    answers: list[Neighbour] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return {"a": self.a, "b": self.b, "c": self.c, "method": self.method,
                "answers": [n.to_dict() for n in self.answers]}

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per candidate answer (the NDJSON lines of the CLI)."""
        head = {"a": self.a, "b": self.b, "c": self.c, "method": self.method}
        return [{**head, **n.to_dict()} for n in self.answers]


@dataclass
class DoesntMatchResult:
    """The word that fits least: lowest cosine to the mean of the (unit) word vectors."""

    words: list[str]
    odd_one_out: str
    similarities: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


# -- lookups ---------------------------------------------------------------------------------------------
def word_ids(wv: WordVectors, words: Sequence[str]) -> list[int]:
    """Rows of ``words``; an unknown word raises :class:`UnknownWordError` with close matches.

    For a handful of words the vocabulary list is scanned instead of building the word→row dict,
    which keeps one-off CLI queries on 400k-word sets fast.

    >>> import numpy as np
    >>> from embedkit.vectors.word_vectors import WordVectors
    >>> word_ids(WordVectors(["a", "b"], np.eye(2, dtype=np.float32)), ["b"])
    [1]
    """
    k2i = getattr(wv, "_key_to_index", None)
    if k2i is None and len(words) <= 8:
        out = []
        for w in words:
            try:
                out.append(wv.keys.index(w))
            except ValueError:
                raise UnknownWordError(w, wv.suggest(w)) from None
        return out
    return [wv.index(w) for w in words]


def _subword_query(wv: WordVectors, word: str) -> np.ndarray | None:
    """fastText's vector for ``word`` when it is out of the vocabulary of a set with an n-gram table."""
    if getattr(wv, "subwords", None) is None:
        return None
    k2i = getattr(wv, "_key_to_index", None)
    known = word in k2i if k2i is not None else word in wv.keys
    return None if known else wv.subword_vector(word)


def _unit_matrix(wv: WordVectors, index: VectorIndex | None) -> np.ndarray:
    """Unit vectors of every row: an exact index's own (memory-mapped) copy, else the set's cached ones."""
    if index is not None and index.unit_vectors is not None and index.ntotal == len(wv):
        return index.unit_vectors
    return wv.unit_vectors()


def _unit_rows_for(wv: WordVectors, ids: Sequence[int], index: VectorIndex | None) -> np.ndarray:
    from embedkit.search.base import unit_rows

    if index is not None and index.unit_vectors is not None and index.ntotal == len(wv):
        return np.asarray(index.unit_vectors[list(ids)], dtype=np.float32).reshape(len(ids), -1)
    return unit_rows(np.asarray(wv.vectors[list(ids)], dtype=np.float32).reshape(len(ids), -1))


def _check_setup(wv: WordVectors, k: int, index: VectorIndex | None, restrict_vocab: int | None) -> int:
    """Check the arguments of a query; return ``k`` capped at the vocabulary size (no query can return more)."""
    if len(wv) == 0:
        raise EmbedkitError("Expected a vector set with at least one word. Received: an empty vocabulary")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise EmbedkitError(f"`k` must be a positive integer. Received: k={k!r}")
    if restrict_vocab is not None:
        check_positive_int("restrict_vocab", restrict_vocab)
    if index is not None and (index.dim != wv.dim or index.ntotal != len(wv)):
        raise EmbedkitError(
            f"The index must match the vectors. Received: index {index.ntotal}x{index.dim}, "
            f"vectors {len(wv)}x{wv.dim}"
        )
    return min(int(k), len(wv))


def _as_terms(wv: WordVectors, terms: Query | Iterable[Query] | None) -> list[Query]:
    if terms is None:
        return []
    if isinstance(terms, (str, np.ndarray)):
        return [terms]
    return list(terms)


def _term_vectors(
    wv: WordVectors, terms: list[Query], index: VectorIndex | None
) -> tuple[np.ndarray, list[int]]:
    """Unit vectors of word terms (raw arrays as given, like gensim) and the rows of the words; a word out of
    the vocabulary of a fastText set gets its n-gram vector (and no row)."""
    from embedkit.search.base import unit_rows

    oov = {}
    for t in terms:
        if isinstance(t, str) and t not in oov:
            v = _subword_query(wv, t)
            if v is not None:
                oov[t] = unit_rows(v[None, :])[0]
    words = [t for t in terms if isinstance(t, str) and t not in oov]
    ids = word_ids(wv, words)
    rows = iter(_unit_rows_for(wv, ids, index)) if ids else iter(())
    out = []
    for t in terms:
        if isinstance(t, str):
            out.append(oov[t] if t in oov else next(rows))
        else:
            v = np.asarray(t, dtype=np.float32).reshape(-1)
            if v.shape[0] != wv.dim:
                raise EmbedkitError(
                    f"Query vectors must have dimension {wv.dim}. Received: a vector of dimension {v.shape[0]}"
                )
            out.append(v)
    return (np.stack(out) if out else np.zeros((0, wv.dim), np.float32)), ids


def _mean_query(vecs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    mean = (weights[:, None] * vecs).sum(axis=0) / np.abs(weights).sum()
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def to_neighbours(keys: Sequence[str], scores: np.ndarray, ids: np.ndarray) -> list[Neighbour]:
    """One search result row (``scores``, ``ids`` with -1 for missing) as ranked :class:`Neighbour` s.

    >>> import numpy as np
    >>> to_neighbours(["a", "b"], np.array([0.9, 0.5]), np.array([1, -1]))
    [Neighbour(word='b', score=0.9, rank=1)]
    """
    return [
        Neighbour(keys[int(i)], float(s), r + 1)
        for r, (s, i) in enumerate((s, i) for s, i in zip(scores, ids) if i >= 0)
    ]


# -- neighbours / 3CosAdd --------------------------------------------------------------------------------
def most_similar(
    wv: WordVectors,
    positive: Query | Iterable[Query] = (),
    negative: Query | Iterable[Query] = (),
    k: int = 10,
    *,
    restrict_vocab: int | None = None,
    index: VectorIndex | None = None,
) -> list[Neighbour]:
    """gensim's ``most_similar``: cosine neighbours of the mean of unit(positive) - unit(negative).

    Query words are excluded from the results; ``restrict_vocab=N`` searches the first N words only.

    Example:
        >>> import numpy as np
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> wv = WordVectors(["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1]], np.float32))
        >>> [n.word for n in most_similar(wv, "a", k=2)]
        ['b', 'c']
    """
    k = _check_setup(wv, k, index, restrict_vocab)
    pos, neg = _as_terms(wv, positive), _as_terms(wv, negative)
    if not pos and not neg:
        raise EmbedkitError("Expected at least one positive or negative word. Received: none")
    vecs, ids = _term_vectors(wv, pos + neg, index)
    weights = np.concatenate([np.ones(len(pos)), -np.ones(len(neg))]).astype(np.float32)
    query = _mean_query(vecs, weights)
    scores, found = _search(wv, query[None, :], k, index, restrict_vocab, [set(ids)])
    return to_neighbours(wv.keys, scores[0], found[0])


def _search(
    wv: WordVectors,
    queries: np.ndarray,
    k: int,
    index: VectorIndex | None,
    restrict_vocab: int | None,
    exclude: Sequence[set[int]] | None,
) -> tuple[np.ndarray, np.ndarray]:
    if index is None:
        from embedkit.search.vector_index import VectorIndex

        index = VectorIndex.from_unit_vectors(wv.unit_vectors())
    return index.search(queries, k, restrict_vocab=restrict_vocab, exclude=exclude)


def neighbours(
    wv: WordVectors,
    query: Query,
    k: int = 10,
    *,
    restrict_vocab: int | None = None,
    index: VectorIndex | None = None,
) -> NeighboursResult:
    """The ``k`` nearest words to a word (itself excluded) or to a vector.

    Example:
        >>> import numpy as np
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> wv = WordVectors(["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1]], np.float32))
        >>> neighbours(wv, "a", k=1).words
        ['b']
    """
    label = query if isinstance(query, str) else "<vector>"
    oov = isinstance(query, str) and _subword_query(wv, query) is not None
    return NeighboursResult(label, most_similar(wv, [query], k=k, restrict_vocab=restrict_vocab, index=index),
                            subword=oov)


def neighbours_of(
    vs: VectorSet,
    word: str,
    k: int = 10,
    *,
    restrict_vocab: int | None = None,
    exact: bool = False,
    approx: bool = False,
    progress: ProgressArg = None,
) -> NeighboursResult:
    """The ``k`` nearest words to ``word`` in an opened set, searched through the set's index.

    On a native set only the rows the query needs are read (the word's row through the lazy vocabulary,
    its vector from the memory map, the result words by row): no full vocabulary, no FAISS for an exact
    index. A word out of the vocabulary of a set converted from fastText is searched with fastText's n-gram
    vector (``result.subword``); another unknown word raises :class:`UnknownWordError` with close matches;
    ``exact`` / ``approx`` / ``progress`` go to :meth:`~embedkit.vectors.vector_set.VectorSet.index`.

    Example:
        >>> import numpy as np, tempfile, os
        >>> from embedkit.vectors.vector_set import open_vectors
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> d = os.path.join(tempfile.mkdtemp(), "s")
        >>> WordVectors(["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1]], np.float32)).save(d)
        >>> neighbours_of(open_vectors(d), "a", k=1).words
        ['b']
    """
    if restrict_vocab is not None:
        check_positive_int("restrict_vocab", restrict_vocab)
    if vs.native and vs.size > 0:
        vocab = vs.vocab
        row = vocab.row(word) if len(vocab) == vs.size else None
        if row is not None:
            index = vs.index(exact=exact, approx=approx, progress=progress)
            query = np.asarray(vs.matrix[row], np.float32)[None, :]
            k = min(check_positive_int("k", k), vs.size)  # no query returns more than the set holds
            scores, ids = index.search(query, k, restrict_vocab=restrict_vocab, exclude=[{row}])
            return NeighboursResult(word, to_neighbours(vocab, scores[0], ids[0]))  # type: ignore[arg-type]
        sub = vs.subwords if row is None and len(vocab) == vs.size else None
        vec = sub.vector(word) if sub is not None else None
        if vec is not None:
            index = vs.index(exact=exact, approx=approx, progress=progress)
            scores, ids = index.search(vec[None, :], k, restrict_vocab=restrict_vocab)
            return NeighboursResult(word, to_neighbours(vocab, scores[0], ids[0]), subword=True)  # type: ignore[arg-type]
    # A plain file, or a word the lazy vocabulary does not know: the full set (its error has close matches).
    wv = vs.require_words()
    if _subword_query(wv, word) is None:
        word_ids(wv, [word])  # an unknown word fails before any index work
    index = vs.index(exact=exact, approx=approx, progress=progress)
    return neighbours(wv, word, k, restrict_vocab=restrict_vocab, index=index)


def neighbours_batch(
    wv: WordVectors,
    queries: Sequence[str] | np.ndarray,
    k: int = 10,
    *,
    restrict_vocab: int | None = None,
    index: VectorIndex | None = None,
    batch_size: int = 4096,
) -> list[NeighboursResult]:
    """Neighbours of many words (each excluded from its own results) or of the rows of a matrix, batched.

    Example:
        >>> import numpy as np
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> wv = WordVectors(["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1]], np.float32))
        >>> [r.words for r in neighbours_batch(wv, ["a", "c"], k=1)]
        [['b'], ['b']]
    """
    k = _check_setup(wv, k, index, restrict_vocab)
    out: list[NeighboursResult] = []
    if isinstance(queries, np.ndarray):
        q = np.asarray(queries, dtype=np.float32).reshape(-1, wv.dim) if queries.size else queries
        for s in range(0, len(q), batch_size):
            scores, ids = _search(wv, q[s : s + batch_size], k, index, restrict_vocab, None)
            out.extend(NeighboursResult("<vector>", to_neighbours(wv.keys, sc, i)) for sc, i in zip(scores, ids))
        return out
    words = list(queries)
    rows = word_ids(wv, words)
    for s in range(0, len(rows), batch_size):
        chunk = rows[s : s + batch_size]
        q = _unit_rows_for(wv, chunk, index)
        scores, ids = _search(wv, q, k, index, restrict_vocab, [{r} for r in chunk])
        out.extend(
            NeighboursResult(w, to_neighbours(wv.keys, sc, i)) for w, sc, i in zip(words[s : s + batch_size], scores, ids)
        )
    return out


# -- 3CosMul ---------------------------------------------------------------------------------------------
def most_similar_cosmul(
    wv: WordVectors,
    positive: Query | Iterable[Query] = (),
    negative: Query | Iterable[Query] = (),
    k: int = 10,
    *,
    restrict_vocab: int | None = None,
    index: VectorIndex | None = None,
    candidates: int = 200,
) -> list[Neighbour]:
    """gensim's ``most_similar_cosmul`` (3CosMul): prod((1+cos(x,p))/2) / (prod((1+cos(x,n))/2) + 1e-6).

    Exact over all words (or the first ``restrict_vocab``) unless ``index`` is approximate; then the
    ``max(candidates, 10*k)`` best 3CosAdd candidates from the index are re-scored.

    Example:
        >>> import numpy as np
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> wv = WordVectors(["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1]], np.float32))
        >>> [n.word for n in most_similar_cosmul(wv, ["a"], k=1)]
        ['b']
    """
    k = _check_setup(wv, k, index, restrict_vocab)
    pos, neg = _as_terms(wv, positive), _as_terms(wv, negative)
    if not pos:
        raise EmbedkitError("3CosMul needs at least one positive word. Received: none")
    vecs, ids = _term_vectors(wv, pos + neg, index)
    limit = len(wv) if restrict_vocab is None else min(restrict_vocab, len(wv))
    if index is not None and index.kind != "exact":
        weights = np.concatenate([np.ones(len(pos)), -np.ones(len(neg))]).astype(np.float32)
        n_cand = min(max(candidates, 10 * k) + len(ids), limit)
        _, cand = index.search(_mean_query(vecs, weights), n_cand, restrict_vocab=restrict_vocab)
        cand_ids = cand[0][cand[0] >= 0]
        sims = _unit_rows_for(wv, cand_ids.tolist(), index) @ vecs.T
    else:
        cand_ids = None
        sims = np.asarray(_unit_matrix(wv, index)[:limit]) @ vecs.T
    scores = _cosmul(sims, len(pos))
    if cand_ids is None:
        cand_ids = np.arange(len(scores))
    return _top(wv, scores, cand_ids, k, set(ids))


def _cosmul(sims: np.ndarray, n_pos: int) -> np.ndarray:
    shifted = (1.0 + sims) / 2.0
    num = np.prod(shifted[:, :n_pos], axis=1)
    den = np.prod(shifted[:, n_pos:], axis=1) if sims.shape[1] > n_pos else np.ones(len(sims), sims.dtype)
    return num / (den + _COSMUL_EPS)


def _top(wv: WordVectors, scores: np.ndarray, ids: np.ndarray, k: int, exclude: set[int]) -> list[Neighbour]:
    take = min(k + len(exclude), len(scores))
    part = np.argpartition(-scores, take - 1)[:take] if take < len(scores) else np.arange(len(scores))
    part = part[np.argsort(-scores[part], kind="stable")]
    best = [(int(ids[j]), float(scores[j])) for j in part if int(ids[j]) not in exclude][:k]
    return [Neighbour(wv.keys[i], s, r + 1) for r, (i, s) in enumerate(best)]


# -- similarity, analogy, doesnt-match --------------------------------------------------------------------
def similarity(wv: WordVectors, word1: str, word2: str) -> SimilarityResult:
    """Cosine similarity of two words (a word out of the vocabulary of a fastText set: its n-gram vector).

    Example:
        >>> import numpy as np
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> wv = WordVectors(["a", "b"], np.array([[1, 0], [1, 1]], np.float32))
        >>> round(similarity(wv, "a", "b").similarity, 4)
        0.7071
    """
    if len(wv) == 0:
        raise EmbedkitError("Expected a vector set with at least one word. Received: an empty vocabulary")
    from embedkit.search.base import unit_rows

    subs = [_subword_query(wv, w) for w in (word1, word2)]
    ids = iter(word_ids(wv, [w for w, v in zip((word1, word2), subs) if v is None]))
    vecs = [v if v is not None else np.asarray(wv.vectors[next(ids)], dtype=np.float32) for v in subs]
    u = unit_rows(np.stack(vecs).astype(np.float32))
    return SimilarityResult(word1, word2, float(u[0] @ u[1]))


def similarities(wv: WordVectors, pairs: Iterable[tuple[str, str]], *, missing: str = "raise") -> np.ndarray:
    """Cosine similarity of many word pairs at once; ``missing="nan"`` gives NaN for unknown words.

    Example:
        >>> import numpy as np
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> wv = WordVectors(["a", "b"], np.array([[1, 0], [0, 1]], np.float32))
        >>> similarities(wv, [("a", "b"), ("a", "zz")], missing="nan").tolist()
        [0.0, nan]
    """
    from embedkit.search.base import unit_rows

    if missing not in ("raise", "nan"):
        raise EmbedkitError(f"`missing` must be 'raise' or 'nan'. Received: missing={missing!r}")
    pairs = list(pairs)
    k2i = wv.key_to_index
    out = np.full(len(pairs), np.nan, np.float32)
    ok = [n for n, (a, b) in enumerate(pairs) if a in k2i and b in k2i]
    if missing == "raise" and len(ok) != len(pairs):
        a, b = pairs[next(n for n in range(len(pairs)) if n not in set(ok))]
        bad = a if a not in k2i else b
        raise UnknownWordError(bad, wv.suggest(bad))
    if ok:
        left = unit_rows(np.asarray(wv.vectors[[k2i[pairs[n][0]] for n in ok]], dtype=np.float32))
        right = unit_rows(np.asarray(wv.vectors[[k2i[pairs[n][1]] for n in ok]], dtype=np.float32))
        out[ok] = np.einsum("ij,ij->i", left, right)
    return out


def analogy_method(method: str) -> str:
    """The canonical name (``3cosadd`` / ``3cosmul``) of an analogy method; ``add`` / ``mul`` are aliases.

    >>> analogy_method("mul"), analogy_method("3cosadd")
    ('3cosmul', '3cosadd')
    """
    return ANALOGY_METHODS.canonical(method)


def analogy(
    wv: WordVectors,
    a: str,
    b: str,
    c: str,
    k: int = 5,
    *,
    method: str = "add",
    restrict_vocab: int | None = None,
    index: VectorIndex | None = None,
) -> AnalogyResult:
    """``a`` is to ``b`` as ``c`` is to ?: positive ``[b, c]``, negative ``[a]``; a, b, c are excluded.

    ``method="add"`` is 3CosAdd (gensim ``most_similar``), ``"mul"`` is 3CosMul (``most_similar_cosmul``).

    Example:
        >>> import numpy as np
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> wv = WordVectors(["king", "queen", "man", "woman"],
        ...                  np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1]], np.float32))
        >>> analogy(wv, "man", "king", "woman", k=1, method="mul").answers[0].word
        'queen'
    """
    fn = ANALOGY_METHODS.get(method)
    answers = fn(wv, [b, c], [a], k=k, restrict_vocab=restrict_vocab, index=index)
    return AnalogyResult(a, b, c, method, answers)


def analogies(
    wv: WordVectors,
    questions: Sequence[tuple[str, str, str]],
    k: int = 1,
    *,
    method: str = "add",
    restrict_vocab: int | None = None,
    index: VectorIndex | None = None,
    batch_size: int = 1024,
) -> list[list[str]]:
    """Answer many analogy questions ``(a, b, c)`` at once (batched matrix products); top-``k`` words each.

    Meant for evaluation loops (e.g. the Google analogy set): equivalent to :func:`analogy` per question.

    Example:
        >>> import numpy as np
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> wv = WordVectors(["king", "queen", "man", "woman"],
        ...                  np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1]], np.float32))
        >>> analogies(wv, [("man", "king", "woman")])
        [['queen']]
    """
    method = analogy_method(method)
    k = _check_setup(wv, k, index, restrict_vocab)
    if not questions:
        return []
    rows = np.array(word_ids(wv, [w for q in questions for w in q]), dtype=np.int64).reshape(-1, 3)
    limit = len(wv) if restrict_vocab is None else min(restrict_vocab, len(wv))
    approx = index is not None and index.kind != "exact"
    units = None if approx else np.asarray(_unit_matrix(wv, index)[:limit])
    if method == "3cosmul" and not approx:  # keep the (limit x batch) score matrices to ~100 MB
        batch_size = max(1, min(batch_size, 8_000_000 // max(limit, 1)))
    out: list[list[str]] = []
    for s in range(0, len(rows), batch_size):
        chunk = rows[s : s + batch_size]
        va, vb, vc = (_unit_rows_for(wv, chunk[:, j].tolist(), index) for j in range(3))
        excl = [set(r.tolist()) for r in chunk]
        if method == "3cosadd" or approx:
            if method == "3cosmul":  # approximate index: re-score 3CosAdd candidates with 3CosMul
                for qi in range(len(chunk)):
                    a, b, c = (wv.keys[int(i)] for i in chunk[qi])
                    res = most_similar_cosmul(wv, [b, c], [a], k, restrict_vocab=restrict_vocab, index=index)
                    out.append([n.word for n in res])
                continue
            mean = vb - va + vc
            _, ids = _search(wv, mean, k, index, restrict_vocab, excl)
            out.extend([wv.keys[int(i)] for i in r if i >= 0] for r in ids)
            continue
        assert units is not None
        sa, sb, sc = ((1.0 + units @ v.T) / 2.0 for v in (va, vb, vc))  # (limit, batch) each
        scores = (sb * sc / (sa + _COSMUL_EPS)).T
        for qi in range(len(chunk)):
            out.append([n.word for n in _top(wv, scores[qi], np.arange(limit), k, excl[qi])])
    return out


def doesnt_match(wv: WordVectors, words: Sequence[str]) -> DoesntMatchResult:
    """The word farthest (lowest cosine) from the mean of the unit vectors of ``words`` (gensim semantics).

    Example:
        >>> import numpy as np
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> wv = WordVectors(["cat", "dog", "car"], np.array([[1, 0.1], [1, 0], [0, 1]], np.float32))
        >>> doesnt_match(wv, ["cat", "dog", "car"]).odd_one_out
        'car'
    """
    from embedkit.search.base import unit_rows

    words = list(words)
    if len(words) < 2:
        raise EmbedkitError(f"doesnt-match needs at least two words. Received: {len(words)}")
    ids = word_ids(wv, words)
    u = unit_rows(np.asarray(wv.vectors[ids], dtype=np.float32))
    mean = _mean_query(u, np.ones(len(u), np.float32))
    sims = u @ mean
    order = np.argsort(-sims, kind="stable")
    return DoesntMatchResult(words, words[int(order[-1])], {words[int(i)]: float(sims[i]) for i in order})


ANALOGY_METHODS: Registry[Any] = Registry(
    "method", {"3cosadd": most_similar, "3cosmul": most_similar_cosmul}, aliases={"add": "3cosadd", "mul": "3cosmul"}
)
"""Analogy methods by name: 3CosAdd (gensim's ``most_similar``) and 3CosMul (``most_similar_cosmul``)."""
