"""Keras embedding matrices for any tokenizer: rows aligned to its ids, OOV fallbacks, a coverage report.

Each vocabulary token goes through a fallback chain, every step switchable and counted:
exact → lowercase (case variants) → normalised form (accents stripped, surrounding punctuation removed)
→ subword (fastText's own n-gram vector when the vectors carry a fastText n-gram table, else the mean of
known pieces or character n-grams) → the ``oov`` initialiser
(``zeros``, ``random`` scaled to the vectors' mean/std, ``mean``, or ``fail``).
Padding and mask rows stay zero; other special tokens (``[UNK]``, ``[CLS]``...) get the initialiser.

>>> import numpy as np
>>> from embedkit.vectors.word_vectors import WordVectors
>>> wv = WordVectors(["the", "cat"], np.array([[1, 0], [0, 1]], np.float32))
>>> em = build_embedding_matrix(["", "[UNK]", "The", "cat"], wv, oov="zeros")
>>> em.matrix.tolist()
[[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
>>> em.coverage.by_fallback["lowercase"], em.coverage.types_covered
(1, 2)
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.matrix.adapters import as_vocab
from embedkit.text.vocabulary import Vocabulary

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.vectors.word_vectors import WordVectors

OOV_STRATEGIES = ("random", "zeros", "mean", "fail")
FALLBACKS = ("exact", "lowercase", "normalised", "subword")
_STAT_ROWS = 20_000  # rows sampled (evenly spaced) for the vectors' mean/std


@dataclass
class CoverageReport:
    """What the matrix builder matched.

    Attributes:
        vocab_size: rows of the matrix.
        dim: vector dimension.
        lookup_types: vocabulary types looked up (not padding/special).
        types_covered: of those, how many got a vector from the vectors (any fallback step).
        type_coverage: ``types_covered / lookup_types``.
        by_fallback: counts per step: ``exact``, ``lowercase``, ``normalised``, ``subword``, ``initialised``
            (the rest, filled by the ``oov`` strategy), plus ``padding`` and ``special`` rows.
        tokens_total / tokens_covered / token_coverage: running-text coverage, when counts or texts were
            given (None otherwise); tokens without an id (out of the vocabulary) count as not covered.
        tokens_out_of_vocab: text tokens the tokenizer had no id for (only with ``texts``).
        missing: most frequent uncovered words as ``(token, count)`` (count None without counts).
        oov: the initialiser used for the rest.
    """

    vocab_size: int
    dim: int
    lookup_types: int
    types_covered: int
    type_coverage: float
    by_fallback: dict[str, int]
    oov: str
    tokens_total: int | None = None
    tokens_covered: int | None = None
    token_coverage: float | None = None
    tokens_out_of_vocab: int | None = None
    missing: list[tuple[str, int | None]] = field(default_factory=list)
    vocab_kind: str = "list"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready).

        >>> CoverageReport(3, 2, 2, 1, 0.5, {"exact": 1}, "zeros").to_dict()["type_coverage"]
        0.5
        """
        d = asdict(self)
        d["missing"] = [{"token": t, "count": c} for t, c in self.missing]
        return d


@dataclass
class EmbeddingMatrix:
    """A float32 matrix whose row ``i`` is the vector of token id ``i``, with its coverage report.

    Attributes:
        matrix: float32 array (vocabulary size × dim).
        coverage: the :class:`CoverageReport`.
        vocab: the adapted :class:`~embedkit.text.vocabulary.Vocabulary` (``vocab.tokens[i]`` is row ``i``).
        sources: per row, how it was filled: a step of :data:`FALLBACKS`, ``initialised``, ``padding`` or ``special``.

    Example:
        >>> import numpy as np
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> em = build_embedding_matrix(["", "a"], WordVectors(["a"], np.ones((1, 3), np.float32)))
        >>> em.matrix.shape, em.sources
        ((2, 3), ['padding', 'exact'])
    """

    matrix: np.ndarray
    coverage: CoverageReport
    vocab: Vocabulary
    sources: list[str]

    @property
    def shape(self) -> tuple[int, int]:
        """``(vocabulary size, dim)``."""
        return (int(self.matrix.shape[0]), int(self.matrix.shape[1]))

    def to_dict(self) -> dict[str, Any]:
        """Shape, vocabulary summary and coverage (not the matrix itself)."""
        return {"shape": list(self.shape), "vocab": self.vocab.to_dict(), "coverage": self.coverage.to_dict()}

    def embedding_layer(self, trainable: bool = False, mask_zero: bool = False, name: str | None = None,
                        **kwargs: Any) -> Any:
        """A built ``keras.layers.Embedding`` holding this matrix (Keras 3: weights assigned after build).

        ``mask_zero=True`` needs row 0 to be the padding row (TextVectorization, a Keras word_index).
        Extra keyword arguments go to ``keras.layers.Embedding``.

        Example:
            layer = em.embedding_layer(trainable=False, mask_zero=True)
        """
        if mask_zero and 0 not in self.vocab.padding_ids:
            raise EmbedkitError(
                f"`mask_zero=True` needs id 0 to be the padding row. Received: id 0 is {self.vocab.tokens[0]!r}"
            )
        from embedkit.runtime import import_tensorflow
        import_tensorflow()  # quiet start-up
        import keras

        layer = keras.layers.Embedding(
            input_dim=self.shape[0], output_dim=self.shape[1], trainable=trainable, mask_zero=mask_zero,
            name=name, **kwargs,
        )
        layer.build((None,))
        layer.embeddings.assign(self.matrix)
        return layer


# -- helpers ------------------------------------------------------------------------------------------------
_PUNCT_CATEGORIES = ("P", "S")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def normalise_token(word: str) -> str:
    """Accents stripped (NFKD, combining marks removed), quotes unified, surrounding punctuation removed.

    >>> normalise_token("«Café!»")
    'Cafe'
    """
    w = unicodedata.normalize("NFKC", word).translate(_QUOTES)
    w = "".join(c for c in unicodedata.normalize("NFKD", w) if not unicodedata.combining(c))
    start, end = 0, len(w)
    while start < end and unicodedata.category(w[start])[0] in _PUNCT_CATEGORIES:
        start += 1
    while end > start and unicodedata.category(w[end - 1])[0] in _PUNCT_CATEGORIES:
        end -= 1
    return w[start:end]


def _case_variants(word: str) -> list[str]:
    out = []
    for v in (word.lower(), word.capitalize(), word.upper()):
        if v != word and v not in out:
            out.append(v)
    return out


def _subword_rows(word: str, k2i: Mapping[str, int], lowercase: bool, max_pieces: int = 4,
                  ngram: tuple[int, int] = (4, 6)) -> list[int] | None:
    """Rows of known pieces of ``word``: separator parts, a greedy segmentation, else character n-grams.

    Separator parts count when at least half are known; a segmentation must spell the whole word in at most
    ``max_pieces`` pieces of 2+ characters; n-grams (4 to 6 characters) must cover at least half the word.
    """
    import re

    forms = [word, word.lower()] if lowercase and word.lower() != word else [word]
    for w in forms:
        parts = [p for p in re.split(r"[\W_]+", w) if p]
        if len(parts) > 1:
            rows = [k2i.get(p, k2i.get(p.lower(), -1) if lowercase else -1) for p in parts]
            known = [r for r in rows if r >= 0]
            if known and len(known) * 2 >= len(rows):
                return known
    for w in forms:
        # Greedy longest-prefix segmentation into pieces the vectors know (WordPiece style), pieces >= 2 chars.
        rows, pos, n = [], 0, len(w)
        while pos < n and len(rows) < max_pieces:
            for end in range(n, pos + 1, -1):
                r = k2i.get(w[pos:end])
                if r is not None:
                    rows.append(r)
                    pos = end
                    break
            else:
                break
        if pos == n and len(rows) > 1:
            return rows
    w = forms[-1]
    lo, hi = ngram
    if len(w) > lo:
        rows = []
        hit = np.zeros(len(w), dtype=bool)
        for n in range(min(hi, len(w) - 1), lo - 1, -1):
            for s in range(len(w) - n + 1):
                r = k2i.get(w[s: s + n])
                if r is not None:
                    rows.append(r)
                    hit[s: s + n] = True
        if rows and hit.sum() * 2 >= len(w):
            return rows
    return None


def as_word_vectors(vectors: Any) -> WordVectors:
    """Accept a :class:`WordVectors`, a gensim ``KeyedVectors``/model, a word → vector dict, or a path/name."""
    from embedkit.vectors.word_vectors import WordVectors

    if isinstance(vectors, WordVectors):
        return vectors
    if isinstance(vectors, (str, os.PathLike)):
        from embedkit.vectors.loading import load_vectors

        return load_vectors(vectors)
    if hasattr(vectors, "index_to_key") or hasattr(getattr(vectors, "wv", None), "index_to_key"):
        return WordVectors.from_gensim(vectors)
    if isinstance(vectors, Mapping):
        if not vectors:
            raise EmbedkitError("`vectors` must contain at least one vector. Received: an empty dict")
        keys = list(vectors)
        dims = {np.shape(v) for v in vectors.values()}
        if len(dims) != 1 or len(next(iter(dims))) != 1:
            raise EmbedkitError(f"`vectors` values must be 1-D vectors of one dimension. Received: shapes {sorted(dims)[:3]}")
        return WordVectors(keys, np.stack([np.asarray(vectors[k], dtype=np.float32) for k in keys]))
    raise EmbedkitError(
        "`vectors` must be a WordVectors, gensim KeyedVectors, dict word->vector or a path/set name. "
        f"Received: {type(vectors).__module__}.{type(vectors).__qualname__}"
    )


def vector_stats(wv: WordVectors) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std of the vectors (over at most 20k evenly spaced rows, so it is cheap).

    >>> from embedkit.vectors.word_vectors import WordVectors
    >>> [a.tolist() for a in vector_stats(WordVectors(["a", "b"], np.array([[0, 2], [2, 2]], np.float32)))]
    [[1.0, 2.0], [1.0, 0.0]]
    """
    step = max(1, len(wv) // _STAT_ROWS)
    sample = np.array(wv.vectors[::step], dtype=np.float32)  # one contiguous copy: faster reductions
    return sample.mean(axis=0), sample.std(axis=0)


def _counts_per_id(vocab: Vocabulary, counts: Any) -> np.ndarray:
    n = len(vocab)
    if isinstance(counts, Mapping):
        return np.array([int(counts.get(t, 0)) for t in vocab.tokens], dtype=np.int64)
    arr = np.asarray(counts)
    if arr.ndim != 1 or arr.shape[0] != n or not np.issubdtype(arr.dtype, np.number):
        raise EmbedkitError(
            f"`counts` must be a token->count dict or one number per id ({n}). Received: shape {arr.shape}"
        )
    return arr.astype(np.int64)


# -- main entry point ---------------------------------------------------------------------------------------
def build_embedding_matrix(
    tokenizer_or_vocab: Any,
    vectors: Any,
    *,
    oov: str = "random",
    lowercase_fallback: bool = True,
    normalise_fallback: bool = True,
    subword_fallback: bool = True,
    seed: int | None = None,
    counts: Mapping[str, int] | Sequence[int] | np.ndarray | None = None,
    texts: Iterable[str] | None = None,
    kind: str | None = None,
    num_words: int | None = None,
    dim: int | None = None,
    top_missing: int = 20,
) -> EmbeddingMatrix:
    """Build the embedding matrix for a tokenizer's ids from pretrained vectors.

    Args:
        tokenizer_or_vocab: any type :func:`embedkit.matrix.adapters.as_vocab` supports (list, dict, Keras
            word_index or TextVectorization, Hugging Face tokenizers/transformers, scikit-learn vectorizer,
            gensim Dictionary).
        vectors: a :class:`~embedkit.vectors.word_vectors.WordVectors`, gensim KeyedVectors, word → vector dict, or a
            path / set name.
        oov: how rows that no fallback covers are filled: ``random`` (normal with the vectors' per-dimension
            mean and std), ``zeros``, ``mean`` (mean vector) or ``fail`` (raise, listing missing words).
        lowercase_fallback / normalise_fallback / subword_fallback: switch each fallback step (the subword step
            uses fastText's own n-gram vectors when ``vectors`` carry a fastText n-gram table).
        seed: seed of the ``random`` initialiser.
        counts: token frequencies (token → count dict, or one per id) for token coverage and missing words.
        texts: a text sample to count tokens with the tokenizer itself (token coverage).
        kind: force an adapter (see :data:`embedkit.matrix.adapters.KINDS`).
        num_words: Keras word_index cut-off (ids ``>= num_words`` are dropped, as the legacy Tokenizer does).
        dim: expected vector dimension (e.g. your model's embedding size); a mismatch raises.
        top_missing: how many missing words the report lists.

    Returns:
        an :class:`EmbeddingMatrix` (``.matrix``, ``.coverage``, ``.vocab``, ``.embedding_layer()``).

    Example:
        >>> import numpy as np
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> wv = WordVectors(["cafe", "dog"], np.eye(2, dtype=np.float32))
        >>> em = build_embedding_matrix({"Café": 1, "dog-house": 2, "zzz": 3}, wv, oov="zeros")
        >>> em.sources
        ['padding', 'normalised', 'subword', 'initialised']
    """
    if oov not in OOV_STRATEGIES:
        raise EmbedkitError(f"`oov` must be one of {', '.join(OOV_STRATEGIES)}. Received: oov={oov!r}")
    if isinstance(top_missing, bool) or not isinstance(top_missing, int) or top_missing < 0:
        raise EmbedkitError(f"`top_missing` must be a non-negative integer. Received: top_missing={top_missing!r}")
    vocab = as_vocab(tokenizer_or_vocab, kind, num_words=num_words)
    wv = as_word_vectors(vectors)
    d = wv.dim
    if dim is not None and dim != d:
        raise EmbedkitError(f"The vectors must have dimension {dim} to fill the matrix. Received: vectors of dim {d}")
    n = len(vocab)
    lookup = vocab.lookup_ids()
    if not lookup:
        raise EmbedkitError(
            f"The vocabulary must contain at least one word besides padding/special tokens (adapt the tokenizer "
            f"first?). Received: {n} tokens, all special: {vocab.tokens[:5]!r}"
        )

    k2i = wv.key_to_index
    sources = ["padding" if i in vocab.padding_ids else "special" for i in range(n)]
    surfaces = vocab.tokens if vocab.scheme is None else [vocab.surface(i) for i in range(n)]
    exact = [k2i.get(surfaces[i]) if surfaces[i] else None for i in lookup]  # the common case, one pass
    rows: list[int] = []  # matrix rows filled with one vector
    src_idx: list[int] = []  # ... from these vector rows
    composed: list[tuple[int, list[int]]] = []  # rows filled with a mean of several vectors
    ngram_rows: list[tuple[int, np.ndarray]] = []  # rows filled with fastText's n-gram vector
    fasttext = getattr(wv, "subwords", None) if subword_fallback else None
    rest: list[int] = []
    for i, j in zip(lookup, exact):
        if j is not None:
            sources[i] = "exact"
            rows.append(i)
            src_idx.append(j)
            continue
        w = surfaces[i]
        if not w:
            sources[i] = "initialised"
            rest.append(i)
            continue
        step = "exact"
        if lowercase_fallback:
            step = "lowercase"
            for v in _case_variants(w):
                j = k2i.get(v)
                if j is not None:
                    break
        if j is None and normalise_fallback:
            step = "normalised"
            nw = normalise_token(w)
            if nw and nw != w:
                j = k2i.get(nw)
                if j is None and lowercase_fallback:
                    for v in _case_variants(nw):
                        j = k2i.get(v)
                        if j is not None:
                            break
        if j is not None:
            sources[i] = step
            rows.append(i)
            src_idx.append(j)
            continue
        if fasttext is not None:
            vec = fasttext.vector(w)
            if vec is not None:
                sources[i] = "subword"
                ngram_rows.append((i, vec))
                continue
        if subword_fallback:
            base = normalise_token(w) if normalise_fallback else w
            pieces = _subword_rows(base or w, k2i, lowercase_fallback)
            if pieces:
                sources[i] = "subword"
                composed.append((i, pieces))
                continue
        sources[i] = "initialised"
        rest.append(i)

    if rest and oov == "fail":
        sample = ", ".join(repr(vocab.tokens[i]) for i in rest[:5])
        raise EmbedkitError(
            f"Every vocabulary word must have a vector with oov='fail'. Received: {len(rest)} of {len(lookup)} "
            f"words without one (e.g. {sample})"
        )

    matrix = np.zeros((n, d), dtype=np.float32)
    if rows:
        order = np.argsort(src_idx, kind="stable")  # sorted reads are kinder to a memory map
        r = np.asarray(rows, dtype=np.int64)[order]
        s = np.asarray(src_idx, dtype=np.int64)[order]
        matrix[r] = np.asarray(wv.vectors[s], dtype=np.float32)
    if composed:  # one gather for all pieces, then a mean per row
        lengths = np.array([len(p) for _, p in composed], dtype=np.int64)
        flat = np.fromiter((j for _, p in composed for j in p), dtype=np.int64, count=int(lengths.sum()))
        uniq, inv = np.unique(flat, return_inverse=True)
        gathered = np.asarray(wv.vectors[uniq], dtype=np.float32)[inv]
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        means = np.add.reduceat(gathered, starts, axis=0) / lengths[:, None].astype(np.float32)
        matrix[[i for i, _ in composed]] = means
    for i, vec in ngram_rows:
        matrix[i] = vec
    specials = sorted(vocab.special_ids)
    fill = rest + specials if oov != "fail" else rest
    if fill and oov in ("random", "mean"):
        mean, std = vector_stats(wv)
        if oov == "mean":
            matrix[fill] = mean
        else:
            rng = np.random.default_rng(seed)
            matrix[fill] = (rng.standard_normal((len(fill), d)) * std + mean).astype(np.float32)
    # padding rows are never written: they stay zero.

    coverage = _report(vocab, sources, lookup, rest, oov, d, counts, texts, top_missing)
    return EmbeddingMatrix(matrix, coverage, vocab, sources)


def _report(vocab: Vocabulary, sources: list[str], lookup: list[int], rest: list[int], oov: str, dim: int,
            counts: Any, texts: Iterable[str] | None, top_missing: int) -> CoverageReport:
    from collections import Counter

    tally = Counter(sources)
    by = {k: tally.get(k, 0) for k in (*FALLBACKS, "initialised", "padding", "special")}
    covered = len(lookup) - len(rest)
    per_id: np.ndarray | None = None
    oov_tokens: int | None = None
    if counts is not None:
        per_id = _counts_per_id(vocab, counts)
    if texts is not None:
        text_counts, oov_tokens = vocab.count_ids(texts)
        per_id = text_counts if per_id is None else per_id + text_counts
    elif per_id is None and vocab.counts is not None:
        per_id = vocab.counts
    tokens_total = tokens_covered = None
    token_cov = None
    if per_id is not None:
        is_cov = np.array([s in FALLBACKS for s in sources])
        tokens_covered = int(per_id[is_cov].sum())
        tokens_total = int(per_id.sum()) + int(oov_tokens or 0) - int(per_id[sorted(vocab.padding_ids)].sum())
        token_cov = tokens_covered / tokens_total if tokens_total else None
    if per_id is not None:
        order = sorted(rest, key=lambda i: (-int(per_id[i]), i))
        missing = [(vocab.tokens[i], int(per_id[i])) for i in order[:top_missing]]
    else:
        missing = [(vocab.tokens[i], None) for i in rest[:top_missing]]
    return CoverageReport(
        vocab_size=len(vocab), dim=dim, lookup_types=len(lookup), types_covered=covered,
        type_coverage=covered / len(lookup), by_fallback=by, oov=oov, tokens_total=tokens_total,
        tokens_covered=tokens_covered, token_coverage=token_cov, tokens_out_of_vocab=oov_tokens,
        missing=missing, vocab_kind=vocab.kind,
    )
