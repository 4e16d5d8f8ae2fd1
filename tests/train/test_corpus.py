"""encode_corpus: ids, sentence ends, counts and vocabulary order against a plain-Python encoding, on generated
corpora (empty lines, sentences that min_count empties, more than one 1M-token chunk of ids)."""

from __future__ import annotations

import collections

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from embedkit.train import corpus as corpus_mod
from embedkit.train.corpus import encode_corpus


def plain_encoding(sents, min_count):
    counts = collections.Counter(t for s in sents for t in s)
    first = {}
    for s in sents:
        for t in s:
            first.setdefault(t, len(first))
    vocab = sorted((w for w in counts if counts[w] >= min_count), key=lambda w: (-counts[w], first[w]))
    index = {w: i for i, w in enumerate(vocab)}
    ids, ends = [], []
    for s in sents:
        kept = [index[t] for t in s if t in index]
        if kept:
            ids += kept
            ends.append(len(ids))
    return vocab, [counts[w] for w in vocab], ids, ends


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefghij"), max_size=8), min_size=1, max_size=40),
       st.integers(1, 4))
def test_encoding_matches_a_plain_one(sents, min_count):
    want_vocab, want_counts, want_ids, want_ends = plain_encoding(sents, min_count)
    if not want_vocab:
        return  # no word survives: an error, tested elsewhere
    enc = encode_corpus(sents, min_count=min_count)
    assert enc.vocab.words == want_vocab
    assert enc.vocab.counts.tolist() == want_counts
    assert enc.ids.dtype == np.int32 and enc.ids.tolist() == want_ids
    assert enc.sentence_ends.dtype == np.int64 and enc.sentence_ends.tolist() == want_ends


def test_ids_over_several_chunks(monkeypatch):
    """More than one chunk of ids (the chunk is 1M ids; made small here by many short sentences)."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    sents = [list(rng.choice(words, rng.integers(0, 7))) for _ in range(400_000)]
    sents[5] = ["rare"]  # a sentence min_count empties
    vocab, counts, ids, ends = plain_encoding(sents, 2)
    enc = encode_corpus(sents, min_count=2)
    assert enc.ids.size > 1 << 20  # several chunks
    assert enc.vocab.words == vocab and enc.ids.tolist() == ids and enc.sentence_ends.tolist() == ends
    chunks = [np.array([0, 2, 1], np.int32), np.array([2, 0], np.int32)]
    got_ids, got_ends = corpus_mod._remap_chunks(chunks, np.array([1, -1, 0], np.int32), [2, 0, 1, 2])
    assert got_ids.tolist() == [1, 0, 0, 1] and got_ends.tolist() == [2, 4]
