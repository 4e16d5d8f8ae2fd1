"""CBOW's shuffle window: batches are built one chunk at a time (the memory) but their target segments are
shuffled over several chunks (the quality); a window is the same whichever chunk asks first (resume)."""

from __future__ import annotations

import numpy as np

from embedkit.train.batches import BatchMaker
from embedkit.train.config import CBOWConfig
from embedkit.train.corpus import encode_corpus


def _corpus():
    rng = np.random.default_rng(4)
    words = [f"w{i}" for i in range(60)]
    sents = [list(rng.choice(words, rng.integers(3, 12))) for _ in range(900)]
    return encode_corpus(sents, min_count=1)


def _real_targets(batches):
    span, window, tgt, neg, alpha = batches
    return tgt.reshape(-1)[window.reshape(-1, window.shape[-1]).any(axis=1)]


def test_chunks_of_a_window_share_its_shuffled_targets():
    enc = _corpus()  # sentences of 3+ words: every real target has context, padding targets have none
    cfg = CBOWConfig(chunk_tokens=500, shuffle_tokens=2000, batch_size=64, sample=0.0)
    maker = BatchMaker(enc, cfg)
    assert maker.shuffle_chunks == 4 and maker.n_chunks >= 8
    total, moved = 0, 0
    for first in range(0, maker.n_chunks, 4):
        chunks = range(first, min(first + 4, maker.n_chunks))
        lo, hi = maker.bounds[chunks[0]], maker.bounds[chunks[-1] + 1]
        targets = []
        for c in chunks:
            batches, n_real = maker.make_chunk(0, c)
            assert batches[2].shape[0] == batches[4].shape[0] >= 1  # whole batches, one learning rate each
            real = _real_targets(batches)
            assert real.size == n_real
            own = np.sort(enc.ids[maker.bounds[c] : maker.bounds[c + 1]])
            moved += int(real.size != own.size or not np.array_equal(np.sort(real), own))
            targets.append(real)
            total += n_real
        # every word of the window is a target exactly once over its chunks (sample=0 keeps every word)
        assert np.array_equal(np.sort(np.concatenate(targets)), np.sort(enc.ids[lo:hi]))
    assert total == enc.n_tokens
    assert moved  # chunks step targets from elsewhere in their window, not only their own tokens


def test_a_window_is_the_same_whichever_chunk_asks_first():
    enc = _corpus()
    cfg = CBOWConfig(chunk_tokens=500, shuffle_tokens=2000, batch_size=64)
    in_order = BatchMaker(enc, cfg)
    seen = [in_order.make_chunk(1, c) for c in range(4)]
    resumed = BatchMaker(enc, cfg)  # a resumed run starts inside the window
    for c in (2, 3):
        (a, na), (b, nb) = seen[c], resumed.make_chunk(1, c)
        assert na == nb and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_one_chunk_windows_build_what_they_shuffle():
    enc = _corpus()
    assert BatchMaker(enc, CBOWConfig(chunk_tokens=500, shuffle_tokens=500)).shuffle_chunks == 1
    sg = BatchMaker(enc, CBOWConfig(chunk_tokens=3000, shuffle_tokens=2000, sg=True))
    # skip-gram builds chunk_tokens / (window + 1) tokens at a time
    assert sg.shuffle_chunks == 4 and sg.n_chunks == BatchMaker(enc, CBOWConfig(chunk_tokens=500)).n_chunks


def _window_pairs(win):
    """The window's pairs, enumerated plainly: each target's context words left to right (gensim's order)."""
    out = []
    for t in range(win.kid.size):
        n = int(win.cum[t + 1] - win.cum[t])
        left = int(win.left[t])
        for o in list(range(-left, 0)) + list(range(1, n - left + 1)):
            out.append((int(win.kid[t + o]), int(win.kid[t])))
    return out


def test_a_windows_pairs_are_its_targets_context_words():
    enc = _corpus()
    maker = BatchMaker(enc, CBOWConfig(chunk_tokens=3000, shuffle_tokens=2000, batch_size=64, sg=True))
    win = maker._pair_window(0, 0)
    want = _window_pairs(win)
    ctx, tgt = win.pairs(np.arange(int(win.cum[-1])))
    assert list(zip(ctx.tolist(), tgt.tolist())) == want and len(want) > 1000


def test_skip_gram_chunks_share_their_windows_pairs():
    """Skip-gram builds one chunk at a time too: the window's pairs are shuffled together and each chunk steps its
    share, so over a window's chunks every pair of the window is stepped exactly once."""
    from collections import Counter

    enc = _corpus()
    cfg = CBOWConfig(chunk_tokens=3000, shuffle_tokens=2000, batch_size=64, sample=0.0, sg=True)
    maker = BatchMaker(enc, cfg)
    assert maker.shuffle_chunks == 4 and maker.n_chunks >= 8
    moved = 0
    for first in range(0, maker.n_chunks, 4):
        chunks = range(first, min(first + 4, maker.n_chunks))
        stepped: Counter = Counter()
        shares: list = []
        kept = 0
        for c in chunks:
            (context, target, _, live, alpha), n = maker.make_chunk(0, c)
            assert context.shape[0] == alpha.shape[0] >= 1
            mine = Counter(zip(context[live].tolist(), target[live].tolist()))
            stepped.update(mine)
            shares.append((mine, int(live.sum())))
            kept += n
        win = maker._pair_window(0, first)
        pairs = _window_pairs(win)
        start = 0
        for mine, k in shares:  # unshuffled, a chunk would step the next k pairs of the window's list
            moved += int(mine != Counter(pairs[start : start + k]))
            start += k
        assert stepped == Counter(pairs)
        lo, hi = maker.bounds[chunks[0]], maker.bounds[chunks[-1] + 1]
        assert kept == hi - lo  # sample=0 keeps every word
        assert {t for _, t in pairs} <= set(enc.ids[lo:hi].tolist())
    assert moved  # a chunk steps pairs from all over its window, not a run of the window's list


def test_skip_gram_window_is_the_same_whichever_chunk_asks_first():
    enc = _corpus()
    cfg = CBOWConfig(chunk_tokens=3000, shuffle_tokens=2000, batch_size=64, sg=True)
    in_order = BatchMaker(enc, cfg)
    seen = [in_order.make_chunk(1, c) for c in range(4)]
    resumed = BatchMaker(enc, cfg)
    for c in (3, 1):
        (a, na), (b, nb) = seen[c], resumed.make_chunk(1, c)
        assert na == nb and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert sum(int(b[0][3].sum()) for b in seen) == in_order._pair_window(1, 0).cum[-1]  # each pair once
