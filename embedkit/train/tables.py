"""`Tables`: what a CBOW model is to the trainer and its checkpoints - two embedding tables and a step count.

The Keras model (:class:`embedkit.train.model.CBOWModel`) and the parameter-server tables
(:class:`embedkit.train.parameter_server.ShardedCBOW`) both implement it; checkpoints
(:mod:`embedkit.train.checkpoints`) and the final vectors read and write a model only through it.

>>> class Arrays:
...     def __init__(self):
...         self.t = CBOWTables(np.zeros((3, 2), np.float32), np.zeros((2, 2), np.float32), 0)
...     def get_tables(self):
...         return self.t
...     def set_tables(self, input, output, step):
...         self.t = CBOWTables(input, output, step)
>>> isinstance(Arrays(), Tables), Arrays().get_tables().input.shape
(True, (3, 2))
"""

from __future__ import annotations

from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np


class CBOWTables(NamedTuple):
    """The state of a CBOW model as arrays.

    Attributes:
        input: ``(vocab_size + 1, dim)`` float32, the word vectors plus the zero padding row (last).
        output: ``(vocab_size, dim)`` float32, the output (negative-sampling) vectors.
        step: batch steps applied so far.
    """

    input: np.ndarray
    output: np.ndarray
    step: int


@runtime_checkable
class Tables(Protocol):
    """A CBOW model's tables, read and written whole."""

    def get_tables(self) -> CBOWTables:
        """Both tables and the step count, as numpy arrays (a copy)."""
        ...

    def set_tables(self, input: np.ndarray, output: np.ndarray, step: int) -> None:
        """Overwrite both tables and the step count (shapes as :meth:`get_tables` returns them)."""
        ...
