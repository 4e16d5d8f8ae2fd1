"""Fixtures of the trainer's tests: gensim's per-example negative-sampling update as a numpy reference."""

from __future__ import annotations

import numpy as np
import pytest


def gensim_neg_update(w_in, w_out, contexts, target, negatives, alpha):
    """gensim's ``fast_sentence_cbow_neg`` (cbow_mean=1) for one example, in place, skipping scores at or beyond ±6.

    With one context word it is ``fast_sentence_sg_neg`` for one (context, target) pair: the context word's input
    vector predicts the target.
    """
    h = w_in[contexts].mean(axis=0)
    work = np.zeros_like(h)
    for word, label in [(target, 1.0)] + [(n, 0.0) for n in negatives]:
        f_dot = float(h @ w_out[word])
        if abs(f_dot) >= 6.0:
            continue
        g = (label - 1.0 / (1.0 + np.exp(-f_dot))) * alpha
        work += g * w_out[word]
        w_out[word] += g * h
    w_in[contexts] += work


@pytest.fixture
def gensim_update():
    """:func:`gensim_neg_update`."""
    return gensim_neg_update
