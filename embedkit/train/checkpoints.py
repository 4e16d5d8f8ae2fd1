"""Resumable training checkpoints: ``weights.npz`` (both tables and the step count) and ``state.json``.

A checkpoint belongs to one corpus and one configuration (its *identity*: the config, the corpus digest and
the vocabulary size); :meth:`Checkpoint.load` refuses one made with another. The model is read and written
only through :class:`embedkit.train.tables.Tables`. Both files are written atomically.

>>> import tempfile
>>> from embedkit.train.tables import CBOWTables
>>> class Arrays:
...     t = CBOWTables(np.ones((3, 2), np.float32), np.zeros((2, 2), np.float32), 7)
...     def get_tables(self): return self.t
...     def set_tables(self, input, output, step): self.t = CBOWTables(input, output, step)
>>> ckpt = Checkpoint(tempfile.mkdtemp(), {"config": {"seed": 1}, "corpus_sha256": "x", "vocab_size": 2})
>>> ckpt.save(Arrays(), {"epoch": 1})
>>> m = Arrays(); m.t = CBOWTables(m.t.input * 0, m.t.output, 0)
>>> ckpt.load(m)["epoch"], float(m.t.input.sum()), m.t.step
(1, 6.0, 7)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.files.atomic import atomic_path, atomic_write_text
from embedkit.train.tables import Tables

WEIGHTS_FILE = "weights.npz"
STATE_FILE = "state.json"
IDENTITY_KEYS = ("corpus_sha256", "vocab_size", "config")
UNCHECKED_CONFIG_KEYS = ("threads",)  # may differ between the run and its resume


class Checkpoint:
    """The checkpoint in ``directory`` of the run described by ``identity``.

    Args:
        directory: where ``weights.npz`` and ``state.json`` live (created on the first save).
        identity: ``{"config": ..., "corpus_sha256": ..., "vocab_size": ...}``, saved in the state and checked
            on load.
    """

    def __init__(self, directory: str | os.PathLike[str], identity: dict[str, Any]) -> None:
        self.directory = Path(directory)
        self.identity = identity

    def save(self, tables: Tables, state: dict[str, Any]) -> None:
        """Write the tables and ``identity | state`` (progress: epoch, next chunk, losses, ...)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        full = self.identity | state
        t = tables.get_tables()
        with atomic_path(self.directory / WEIGHTS_FILE) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, w_in=t.input, w_out=t.output, step=np.int64(t.step))
        atomic_write_text(self.directory / STATE_FILE, json.dumps(full) + "\n")

    def load(self, tables: Tables) -> dict[str, Any]:
        """Check the saved identity, restore the tables into ``tables`` and return the saved state.

        Raises:
            EmbedkitError: no checkpoint, an unreadable one, or one of another corpus or configuration.
        """
        try:
            state = json.loads((self.directory / STATE_FILE).read_text())
            data = np.load(self.directory / WEIGHTS_FILE)
        except FileNotFoundError:
            raise EmbedkitError(
                f"No checkpoint to resume from. Received: checkpoint_dir={str(self.directory)!r}"
            ) from None
        except (ValueError, OSError) as e:
            raise EmbedkitError(f"The checkpoint is unreadable ({e}). Received: {str(self.directory)!r}") from None
        for key in IDENTITY_KEYS:
            theirs, mine = state.get(key), self.identity[key]
            if key == "config" and theirs is not None:
                theirs = {k: v for k, v in theirs.items() if k not in UNCHECKED_CONFIG_KEYS}
                mine = {k: v for k, v in mine.items() if k not in UNCHECKED_CONFIG_KEYS}
            if theirs != mine:
                raise EmbedkitError(
                    f"The checkpoint was made with a different {key.replace('_', ' ')}: resume needs the same corpus "
                    f"and settings. Received: checkpoint_dir={str(self.directory)!r}"
                )
        tables.set_tables(data["w_in"], data["w_out"], int(data["step"]))
        return state
