"""Keras callbacks for the word2vec trainer: intrinsic scores each epoch, early stopping that survives a resume,
and the small protocol that lets a callback keep its state in a training checkpoint (imports Keras).

:func:`embedkit.train.trainer.train_cbow` takes ordinary Keras callbacks (``keras.callbacks.TensorBoard``,
``EarlyStopping``, ``ModelCheckpoint``, ``CSVLogger``, your own ``keras.callbacks.Callback``) and calls them as
``fit`` does: ``on_train_begin``, ``on_epoch_begin``, ``on_train_batch_begin`` / ``on_train_batch_end`` once per
*chunk* of the corpus (about a million tokens, the trainer's unit of work), ``on_epoch_end(epoch, logs)``,
``on_train_end``; ``model.stop_training = True`` ends the run after the epoch. The epoch's ``logs`` hold:

- ``loss``: the epoch's exact mean negative-sampling loss (float64 sums, reset each epoch);
- ``words_per_sec``: raw corpus words of the epoch / its seconds (gensim's measure);
- ``learning_rate``: the learning rate at the end of the epoch (it decays linearly over the whole run);
- with :class:`IntrinsicScores` (``train_cbow(..., evaluate_each_epoch=True)``): ``analogy_accuracy`` (a
  fraction, on the most frequent words), ``ws353`` and ``simlex`` (Spearman), measured on the current vectors
  with :mod:`embedkit.evaluate`.

A callback that also implements :class:`CheckpointState` (``checkpoint_state`` / ``restore_checkpoint_state``)
has its state written into every training checkpoint, so ``--resume`` continues it: :class:`EarlyStopping` keeps
its best value, patience count and the best epoch's tables that way.

Example:
    import keras
    from embedkit.train import CBOWConfig, train_cbow
    from embedkit.train.callbacks import EarlyStopping
    result = train_cbow(["corpus.txt"], CBOWConfig(epochs=20), evaluate_each_epoch=True, callbacks=[
        keras.callbacks.TensorBoard("runs/cbow"),
        EarlyStopping(monitor="analogy_accuracy", patience=2),   # keeps the best epoch's vectors
    ])
"""

from __future__ import annotations

import logging
import math
from typing import Any, Protocol, runtime_checkable

import keras
import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.train.config import EARLY_STOP_METRICS, SCORE_METRICS

log = logging.getLogger("embedkit.train.callbacks")


@runtime_checkable
class CheckpointState(Protocol):
    """A callback whose state is saved in training checkpoints and restored on resume."""

    def checkpoint_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON-able state and named arrays to save."""
        ...

    def restore_checkpoint_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Take back what :meth:`checkpoint_state` returned in an earlier process."""
        ...


class IntrinsicScores(keras.callbacks.Callback):
    """Adds ``analogy_accuracy``, ``ws353`` and ``simlex`` of the current vectors to each epoch's logs.

    Analogy accuracy (3CosAdd on gensim's questions-words.txt) is a fraction over the ``restrict_vocab`` most
    frequent words, as ``compare-gensim`` measures it; WS353 and SimLex-999 are Spearman correlations. The trainer
    puts this callback first, so later callbacks (``EarlyStopping``, ``TensorBoard``) see the scores.

    Args:
        restrict_vocab: analogy vocabulary (the most frequent words).
        analogies, word_pairs: which to measure.
    """

    def __init__(self, restrict_vocab: int = 30000, *, analogies: bool = True, word_pairs: bool = True) -> None:
        super().__init__()
        self.restrict_vocab = int(restrict_vocab)
        self.analogies, self.word_pairs = analogies, word_pairs
        self._warned: set[str] = set()

    def scores(self) -> dict[str, float]:
        """The scores of the model's current vectors; a score the vocabulary cannot answer (no pair of WS353 in
        it, say) is left out, with one warning per run."""
        from embedkit.evaluate.analogies import evaluate_analogies
        from embedkit.evaluate.word_pairs import evaluate_word_pairs

        wv = self.model.word_vectors()
        out: dict[str, float] = {}
        jobs = []
        if self.analogies:
            jobs.append(("analogy_accuracy", lambda: evaluate_analogies(
                wv, restrict_vocab=min(self.restrict_vocab, len(wv))).accuracy))
        if self.word_pairs:
            jobs += [("ws353", lambda: evaluate_word_pairs(wv, "ws353").spearman),
                     ("simlex", lambda: evaluate_word_pairs(wv, "simlex999").spearman)]
        for key, job in jobs:
            try:
                value = float(job())
            except EmbedkitError as e:
                if key not in self._warned:
                    log.warning("%s is not measured: %s", key, str(e).splitlines()[0])
                    self._warned.add(key)
                continue
            if math.isfinite(value):
                out[key] = value
        return out

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs.update(self.scores())


class EarlyStopping(keras.callbacks.EarlyStopping):
    """``keras.callbacks.EarlyStopping`` that keeps the best epoch's vectors by default and survives a resume.

    ``mode`` defaults to ``"min"`` for ``loss`` and ``"max"`` for the scores of :class:`IntrinsicScores`;
    ``restore_best_weights`` defaults to True, so the run ends with the tables of the best epoch. Its best value,
    patience count and best tables go into every training checkpoint (:class:`CheckpointState`).
    """

    def __init__(self, monitor: str = "loss", *, patience: int = 1, min_delta: float = 0.0,
                 mode: str | None = None, restore_best_weights: bool = True, **kwargs: Any) -> None:
        mode = mode or ("max" if monitor in SCORE_METRICS else "min")
        super().__init__(monitor=monitor, patience=patience, min_delta=min_delta, mode=mode,
                         restore_best_weights=restore_best_weights, **kwargs)

    def checkpoint_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        best = None if self.best is None or not math.isfinite(float(self.best)) else float(self.best)
        state = {"best": best, "wait": int(self.wait), "best_epoch": int(self.best_epoch),
                 "stopped_epoch": int(self.stopped_epoch)}
        arrays = {f"w{i}": np.asarray(w) for i, w in enumerate(self.best_weights or [])}
        return state, arrays

    def restore_checkpoint_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        if state.get("best") is not None:
            self.best = state["best"]
        self.wait = int(state.get("wait", 0))
        self.best_epoch = int(state.get("best_epoch", 0))
        self.stopped_epoch = int(state.get("stopped_epoch", 0))
        if arrays:
            self.best_weights = [arrays[f"w{i}"] for i in range(len(arrays))]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        # Keras resets the state here; after a resume the restored state must survive the new start.
        if getattr(self, "_restored", False):
            return
        super().on_train_begin(logs)


def early_stopping(metric: str, patience: int = 1) -> EarlyStopping:
    """The callback behind ``--early-stop METRIC``: stop when ``metric`` (``loss`` or one of
    :data:`SCORE_METRICS`) has not improved for ``patience`` epochs, keep the best epoch's vectors.

    >>> early_stopping("analogy_accuracy").mode
    'max'
    """
    if metric not in EARLY_STOP_METRICS:
        raise EmbedkitError(f"`early_stop` must be one of {', '.join(EARLY_STOP_METRICS)}. Received: {metric!r}")
    return EarlyStopping(monitor=metric, patience=patience)


def save_states(callbacks: list[Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The :class:`CheckpointState` of ``callbacks`` (keyed by position and class) for a checkpoint."""
    states: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for i, cb in enumerate(callbacks):
        if isinstance(cb, CheckpointState):
            key = f"{i}:{type(cb).__name__}"
            state, arr = cb.checkpoint_state()
            states[key] = state
            arrays.update({f"{key}/{name}": a for name, a in arr.items()})
    return states, arrays


def restore_states(callbacks: list[Any], states: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Give each :class:`CheckpointState` callback back its saved state (matched by position and class)."""
    for i, cb in enumerate(callbacks):
        key = f"{i}:{type(cb).__name__}"
        if isinstance(cb, CheckpointState) and key in states:
            prefix = f"{key}/"
            cb.restore_checkpoint_state(states[key], {k[len(prefix):]: v for k, v in arrays.items()
                                                      if k.startswith(prefix)})
            cb._restored = True
