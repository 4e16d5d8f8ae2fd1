"""``logreg``: logistic regression on the mean of the word vectors (SentEval's bag-of-words protocol).

A text is the mean of the vectors of its words that the vector set knows (unknown words, padding and
``[UNK]`` are left out; a text with no known word is the zero vector), read over the whole text (no
truncation). scikit-learn's ``LogisticRegression`` (Newton-Cholesky solver) is fitted on the training part for
each L2 strength ``C`` in SentEval's grid 2^-2 .. 2^4, and the ``C`` with the best validation accuracy is kept
(SentEval chooses it by an inner CV on the training fold; the validation split here is the one the neural
models early-stop on). Seconds per dataset; no TensorFlow.

Example:
    MODELS.get("logreg")().fit_and_score(task, reporter).extra["C"]
    4.0
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from embedkit.downstream.models.base import DownstreamModel, Fitted, Task
from embedkit.errors import EmbedkitError
from embedkit.progress import Reporter

C_GRID = tuple(2.0 ** k for k in range(-2, 5))


def mean_vectors(bag: Any, weights: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Rows of ``bag`` (texts × vocabulary counts) turned into the mean of the ``known`` rows of ``weights``.

    >>> import scipy.sparse as sp
    >>> w = np.array([[0, 0], [9, 9], [1, 0], [0, 1]], np.float32)
    >>> bag = sp.csr_matrix(np.array([[0, 1, 2, 1], [1, 3, 0, 0]]))
    >>> mean_vectors(bag, w, np.array([False, False, True, True])).astype(float).round(4).tolist()
    [[0.6667, 0.3333], [0.0, 0.0]]
    """
    mask = known.astype(np.float32)
    counts = np.asarray(bag @ mask).ravel()
    sums = np.asarray(bag @ (weights * mask[:, None]))
    return (sums / np.maximum(counts, 1.0)[:, None]).astype(np.float32)


class MeanVectorLogReg(DownstreamModel):
    """``logreg``: mean word vector → logistic regression with ``C`` chosen on the validation split."""

    name = "logreg"
    modes = ("frozen-random", "static")
    skip_reason = ("logreg trains no embedding: it reads the mean of fixed vectors (static, or frozen-random "
                   "as its control)")
    uses_keras = False

    def fit_and_score(self, task: Task, reporter: Reporter) -> Fitted:
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        if task.weights is None or task.known is None:
            raise EmbedkitError("`logreg` needs embedding rows (static or frozen-random). Received: none")
        feats = {p: mean_vectors(task.bags[p], task.weights, task.known) for p in ("train", "val", "test")}
        t0 = time.perf_counter()
        best: tuple[float, float, Any] | None = None
        with threadpool_limits(1):  # tiny dense problems: BLAS threads only contend
            for c in C_GRID:
                clf = LogisticRegression(C=c, solver="newton-cholesky", max_iter=200)
                clf.fit(feats["train"], task.y["train"])
                acc = float(np.mean(clf.predict(feats["val"]) == task.y["val"]))
                if best is None or acc > best[0]:
                    best = (acc, c, clf)
            assert best is not None
            pred = best[2].predict(feats["test"]).astype(np.int64)
        seconds = time.perf_counter() - t0
        reporter.update(1, epoch=1, logs={"val_accuracy": best[0]})
        n_out = 1 if task.num_classes == 2 else task.num_classes
        trainable = (task.dim + 1) * n_out  # the fixed vectors count in the total, as a frozen Embedding does
        return Fitted(pred=pred, history={"val_accuracy": [best[0]]}, epoch_seconds=[seconds], best_epoch=1,
                      params=task.vocab_size * task.dim + trainable, trainable_params=trainable,
                      train_seconds=seconds, extra={"C": best[1]})
