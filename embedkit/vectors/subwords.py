"""fastText's subword vectors: the character n-grams of ``<word>`` hashed into buckets of an n-gram table.

A word's n-grams are the substrings of ``"<" + word + ">"`` of ``minn`` to ``maxn`` characters (UTF-8 aware;
the lone ``<`` and ``>`` excluded), in fastText's order (by start, then length); each is hashed with
fastText's 32-bit FNV-1a over its UTF-8 bytes (each byte sign-extended, as fastText's ``char`` is) modulo
the number of buckets. An out-of-vocabulary word's vector is the mean of its n-gram rows; an in-vocabulary
word's is the mean of its own row and its n-gram rows. Sums run row by row in float32, in n-gram order, as
gensim's ``FastTextKeyedVectors`` does, so the vectors are bit-identical to gensim's
``load_facebook_vectors`` (gensim hashes the UTF-8 form of the decoded word, also for a model whose words
were read with another ``encoding``; so does embedkit).

>>> import numpy as np
>>> sw = Subwords(np.arange(20, dtype=np.float32).reshape(10, 2), minn=3, maxn=4)
>>> [g.decode() for g in sw.char_ngrams("ab")]
['<ab', '<ab>', 'ab>']
>>> sw.buckets("ab") == [fasttext_hash(b"<ab") % 10, fasttext_hash(b"<ab>") % 10, fasttext_hash(b"ab>") % 10]
True
>>> sw.vector("ab").shape
(2,)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
KIND = "fasttext"
_WORDS_PER_STEP = 50_000  # words hashed per vectorised step (bounds the temporary arrays)


def fasttext_hash(data: bytes) -> int:
    """fastText's hash of ``data`` (FNV-1a, 32 bits, bytes sign-extended).

    >>> fasttext_hash(b"<ab>")
    674621742
    """
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ ((b - 256) & 0xFFFFFFFF if b > 127 else b)) * FNV_PRIME) & 0xFFFFFFFF
    return h


class Subwords:
    """A fastText n-gram table: ``ngrams`` (buckets × dim, may be a read-only memory map), ``minn``, ``maxn``.

    Example:
        >>> import numpy as np
        >>> sw = Subwords(np.ones((4, 3), np.float32), minn=2, maxn=3)
        >>> sw.vector("hi").tolist(), sw.to_meta()["buckets"]
        ([1.0, 1.0, 1.0], 4)
    """

    def __init__(self, ngrams: np.ndarray, minn: int, maxn: int) -> None:
        if ngrams.ndim != 2:
            raise EmbedkitError(f"The n-gram table must be 2-D. Received: shape={ngrams.shape}")
        for label, v in (("minn", minn), ("maxn", maxn)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise EmbedkitError(f"`{label}` must be a non-negative integer. Received: {label}={v!r}")
        self.ngrams = ngrams
        self.minn = int(minn)
        self.maxn = int(maxn)

    @property
    def bucket(self) -> int:
        """Number of n-gram buckets (rows of the table)."""
        return int(self.ngrams.shape[0])

    @property
    def dim(self) -> int:
        """Vector dimensionality."""
        return int(self.ngrams.shape[1])

    def __repr__(self) -> str:
        return f"Subwords(buckets={self.bucket}, dim={self.dim}, minn={self.minn}, maxn={self.maxn})"

    def to_meta(self) -> dict[str, Any]:
        """What a native set's metadata records about the table."""
        return {"kind": KIND, "minn": self.minn, "maxn": self.maxn, "buckets": self.bucket}

    # -- one word ---------------------------------------------------------------------------------------------
    def char_ngrams(self, word: str) -> list[bytes]:
        """The n-grams of ``word`` as UTF-8 bytes, in fastText's order."""
        data = f"<{word}>".encode("utf-8", "surrogatepass")
        starts = [i for i, b in enumerate(data) if (b & 0xC0) != 0x80]
        bounds = starts + [len(data)]
        out = []
        for a in range(len(starts)):
            for n in range(max(self.minn, 1), self.maxn + 1):
                if a + n > len(starts):
                    break
                if n == 1 and (a == 0 or a + n == len(starts)):
                    continue
                out.append(data[bounds[a] : bounds[a + n]])
        return out

    def buckets(self, word: str) -> list[int]:
        """The table rows of ``word``'s n-grams (repeats kept, as fastText sums them)."""
        if self.bucket == 0:
            return []
        return [fasttext_hash(g) % self.bucket for g in self.char_ngrams(word)]

    def vector(self, word: str) -> np.ndarray | None:
        """fastText's vector for an out-of-vocabulary ``word`` (float32), or None when it has no n-gram."""
        rows = self.buckets(word)
        if not rows:
            return None
        acc = np.zeros(self.dim, dtype=np.float32)
        for r in rows:  # row by row in float32, like gensim (a pairwise sum would round differently)
            acc += np.asarray(self.ngrams[r], dtype=np.float32)
        return acc / np.float32(len(rows))

    # -- many words at once -----------------------------------------------------------------------------------
    def bucket_lists(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """For many words at once: every word's n-gram rows concatenated, and the number per word."""
        flat, counts = [], []
        for s in range(0, len(words), _WORDS_PER_STEP):
            f, c = _bucket_lists(words[s : s + _WORDS_PER_STEP], self.minn, self.maxn, self.bucket)
            flat.append(f)
            counts.append(c)
        if not counts:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(flat), np.concatenate(counts)

    def compose(self, words: Sequence[str], own: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """In-vocabulary vectors: (own row + each n-gram row, summed in order in float32) / (1 + n-grams).

        ``own`` holds the words' own rows (len(words) × dim); the result goes to ``out`` (default a new
        float32 array) in steps, so a memory map of ``own`` is read once.
        """
        out = np.empty((len(words), self.dim), np.float32) if out is None else out
        for s in range(0, len(words), _WORDS_PER_STEP):
            chunk = words[s : s + _WORDS_PER_STEP]
            acc = np.array(own[s : s + len(chunk)], dtype=np.float32)
            if self.bucket and self.maxn:
                flat, counts = _bucket_lists(chunk, self.minn, self.maxn, self.bucket)
                offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
                for j in range(int(counts.max()) if counts.size else 0):
                    sel = np.flatnonzero(counts > j)
                    acc[sel] += np.asarray(self.ngrams[flat[offsets[sel] + j]], dtype=np.float32)
                acc /= (counts + 1).astype(np.float32)[:, None]
            out[s : s + len(chunk)] = acc
        return out


def _bucket_lists(words: Sequence[str], minn: int, maxn: int, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :meth:`Subwords.buckets` for ``words``: concatenated rows and the count per word."""
    nw = len(words)
    if nw == 0 or bucket == 0 or maxn == 0:
        return np.empty(0, np.int64), np.zeros(nw, np.int64)
    enc = [f"<{w}>".encode("utf-8", "surrogatepass") for w in words]
    lens = np.fromiter(map(len, enc), np.int64, nw)
    buf = np.frombuffer(b"".join(enc), np.uint8)
    word_start = np.zeros(nw, np.int64)
    np.cumsum(lens[:-1], out=word_start[1:])
    word_end = word_start + lens
    cs = np.flatnonzero((buf & 0xC0) != 0x80)  # byte offset of every character
    wid = np.searchsorted(word_start, cs, side="right") - 1
    nchars = np.bincount(wid, minlength=nw)
    first = np.zeros(nw, np.int64)
    np.cumsum(nchars[:-1], out=first[1:])
    ci = np.arange(cs.size) - first[wid]  # character index within its word
    length = nchars[wid]
    ns = np.arange(max(minn, 1), maxn + 1)
    end_char = ci[:, None] + ns[None, :]  # (chars, lengths): exclusive end character of each n-gram
    valid = end_char <= length[:, None]
    valid &= ~((ns[None, :] == 1) & ((ci[:, None] == 0) | (end_char == length[:, None])))
    k, j = np.nonzero(valid)  # row-major: by start character, then by length: fastText's order
    ec = end_char[k, j]
    inside = ec < length[k]
    ends = np.where(inside, cs[np.minimum(k + ns[j], cs.size - 1)], word_end[wid[k]])
    starts = cs[k]
    sizes = ends - starts
    signed = buf.view(np.int8)
    h = np.full(starts.size, FNV_OFFSET, dtype=np.uint32)
    last = buf.size - 1
    for t in range(int(sizes.max()) if sizes.size else 0):
        live = sizes > t
        b = signed[np.minimum(starts + t, last)].astype(np.uint32)
        h = np.where(live, (h ^ b) * np.uint32(FNV_PRIME), h)
    counts = np.bincount(wid[k], minlength=nw).astype(np.int64)
    return (h % np.uint32(bucket)).astype(np.int64), counts


def subwords_from_gensim(kv: Any) -> Subwords | None:
    """The n-gram table of a gensim ``FastTextKeyedVectors`` (None for other keyed vectors)."""
    ngrams = getattr(kv, "vectors_ngrams", None)
    if ngrams is None or not getattr(kv, "bucket", 0):
        return None
    return Subwords(np.asarray(ngrams, dtype=np.float32), int(kv.min_n), int(kv.max_n))
