"""Resumable training checkpoints, each one atomic unit: a directory renamed into place in one step.

``checkpoint_dir/checkpoint-<serial>/`` holds ``weights.npz`` (both tables and the step count), ``state.json``
(progress, losses, callbacks' state), ``extra.npz`` (arrays callbacks keep, e.g. the best epoch's tables) and
``manifest.json``, which names every part with its sha256 and the step it belongs to. A new checkpoint is written
as a temporary directory, renamed to a new serial in one ``rename`` and only then are older ones removed, so a
process killed at any moment leaves the previous checkpoint whole (and its temporary directory, removed by the
next save). :meth:`Checkpoint.load` takes the newest checkpoint and refuses, with one line, one whose parts
disagree with its manifest (another step, another checksum, a missing part), whose state is not what the trainer
wrote, or whose arrays are truncated or corrupt.

A checkpoint belongs to one corpus and one configuration (its *identity*: the config, the corpus digest and
the vocabulary size); :meth:`Checkpoint.load` refuses one made with another. The model is read and written
only through :class:`embedkit.train.tables.Tables`.

>>> import tempfile
>>> from embedkit.train.tables import CBOWTables
>>> class Arrays:
...     t = CBOWTables(np.ones((3, 2), np.float32), np.zeros((2, 2), np.float32), 7)
...     def get_tables(self): return self.t
...     def set_tables(self, input, output, step): self.t = CBOWTables(input, output, step)
>>> ckpt = Checkpoint(tempfile.mkdtemp(), {"config": {"seed": 1}, "corpus_sha256": "x", "vocab_size": 2})
>>> ckpt.save(Arrays(), {"epoch": 1, "next_chunk": 0, "losses": {}}, serial=3).name
'checkpoint-00000003'
>>> m = Arrays(); m.t = CBOWTables(m.t.input * 0, m.t.output, 0)
>>> ckpt.load(m)["epoch"], float(m.t.input.sum()), m.t.step
(1, 6.0, 7)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.files.atomic import atomic_path, remove_stale_temps
from embedkit.train.tables import Tables

WEIGHTS_FILE = "weights.npz"
STATE_FILE = "state.json"
EXTRA_FILE = "extra.npz"
MANIFEST_FILE = "manifest.json"
FORMAT = "embedkit-checkpoint"
FORMAT_VERSION = 2
IDENTITY_KEYS = ("corpus_sha256", "vocab_size", "config")
STATE_KEYS = ("epoch", "next_chunk", "losses")
UNCHECKED_CONFIG_KEYS = ("threads", "kernel")  # may differ between the run and its resume
_NAME = re.compile(r"^checkpoint-(\d{8})$")


class Checkpoint:
    """The checkpoints in ``directory`` of the run described by ``identity``.

    Args:
        directory: where the ``checkpoint-<serial>`` directories live (created on the first save).
        identity: ``{"config": ..., "corpus_sha256": ..., "vocab_size": ...}`` (and the trainer's ``batching``
            version), saved in the state and checked
            on load.
    """

    def __init__(self, directory: str | os.PathLike[str], identity: dict[str, Any]) -> None:
        self.directory = Path(directory)
        self.identity = identity

    # -- writing ---------------------------------------------------------------------------------------------
    def save(self, tables: Tables, state: dict[str, Any], *, serial: int,
             extra: dict[str, np.ndarray] | None = None) -> Path:
        """Write the tables, ``identity | state`` and ``extra`` arrays as checkpoint ``serial`` (one rename), then
        remove older checkpoints; return its directory."""
        if self.directory.exists() and not self.directory.is_dir():
            raise EmbedkitError(f"The checkpoint directory must be a directory. Received: file {str(self.directory)!r}")
        self.directory.mkdir(parents=True, exist_ok=True)
        t = tables.get_tables()
        full = self.identity | state | {"step": int(t.step)}
        target = self.directory / f"checkpoint-{serial:08d}"
        self._remove_stale()
        with atomic_path(target) as tmp:
            tmp.mkdir()
            with open(tmp / WEIGHTS_FILE, "wb") as fh:
                np.savez(fh, w_in=t.input, w_out=t.output, step=np.int64(t.step))
            (tmp / STATE_FILE).write_text(json.dumps(full) + "\n", encoding="utf-8")
            if extra:
                with open(tmp / EXTRA_FILE, "wb") as fh:
                    np.savez(fh, **extra)
            parts = {p.name: {"sha256": _sha256(p), "bytes": p.stat().st_size, "step": int(t.step)}
                     for p in sorted(tmp.iterdir())}
            manifest = {"format": FORMAT, "version": FORMAT_VERSION, "serial": serial, "step": int(t.step),
                        "parts": parts}
            (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
            _fsync_dir(tmp)
        for old in self._serials():
            if old[0] < serial:
                shutil.rmtree(old[1], ignore_errors=True)
        return target

    def _remove_stale(self) -> None:
        """Temporary directories of saves that a killed process left (named after their target)."""
        for entry in self.directory.iterdir():
            m = re.match(r"^\.(checkpoint-\d{8})\.", entry.name)
            if m:
                remove_stale_temps(self.directory / m.group(1))

    def _serials(self) -> list[tuple[int, Path]]:
        if not self.directory.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.directory.iterdir() if (m := _NAME.match(p.name)) and p.is_dir()]
        return sorted(found)

    # -- reading ---------------------------------------------------------------------------------------------
    def exists(self) -> bool:
        """True when there is a checkpoint to resume from."""
        return bool(self._serials())

    def verify(self) -> None:
        """Check the newest checkpoint's parts, manifest, state and steps (not yet its corpus and settings):
        what ``--resume`` checks before it reads the corpus, so a damaged checkpoint is refused at once.

        Raises:
            EmbedkitError: no checkpoint, or an inconsistent or unreadable one.
        """
        self._checked()

    def load(self, tables: Tables) -> dict[str, Any]:
        """Check the newest checkpoint, restore its tables into ``tables`` and return its state (with ``extra``:
        the saved extra arrays).

        Raises:
            EmbedkitError: no checkpoint, an inconsistent or unreadable one, or one of another corpus or
                configuration.
        """
        where = str(self.directory)
        path, manifest, state, arrays = self._checked()
        for key in IDENTITY_KEYS:
            theirs, mine = state.get(key), self.identity[key]
            if key == "config" and isinstance(theirs, dict):
                theirs = {k: v for k, v in theirs.items() if k not in UNCHECKED_CONFIG_KEYS}
                mine = {k: v for k, v in mine.items() if k not in UNCHECKED_CONFIG_KEYS}
            if theirs != mine:
                raise EmbedkitError(
                    f"The checkpoint was made with a different {key.replace('_', ' ')}: resume needs the same corpus "
                    f"and settings. Received: checkpoint_dir={where!r}"
                )
        if state.get("batching") != self.identity.get("batching"):  # a run's chunks and batches must be the same
            raise EmbedkitError(
                f"The checkpoint was made with another batch layout (batching {state.get('batching')!r}; this version "
                f"makes {self.identity.get('batching')!r}): resume needs the same batches. Received: "
                f"checkpoint_dir={where!r}"
            )
        w_in, w_out = arrays["w_in"], arrays["w_out"]
        want_in = tables.get_tables().input.shape
        if w_in.shape != want_in or w_out.shape != (want_in[0] - 1, want_in[1]):
            raise EmbedkitError(f"The checkpoint's tables have the wrong shape for this run: expected {want_in}. "
                                f"Received: {w_in.shape} in {str(path / WEIGHTS_FILE)!r}")
        tables.set_tables(w_in, w_out, int(arrays["step"]))
        state["extra"] = (_read_npz(self._part(path, manifest, EXTRA_FILE), ())
                          if EXTRA_FILE in manifest["parts"] else {})
        return state

    def _checked(self) -> tuple[Path, dict[str, Any], dict[str, Any], dict[str, np.ndarray]]:
        """The newest checkpoint's directory, manifest, state and weights, each checked (see :meth:`verify`)."""
        where = str(self.directory)
        found = self._serials()
        if not found:
            legacy = (self.directory / WEIGHTS_FILE).exists() or (self.directory / STATE_FILE).exists()
            if legacy:
                raise EmbedkitError(
                    "The checkpoint has no manifest (an older embedkit wrote it, one file at a time): it cannot be "
                    f"checked for consistency; train without --resume. Received: checkpoint_dir={where!r}"
                )
            raise EmbedkitError(f"No checkpoint to resume from. Received: checkpoint_dir={where!r}")
        path = found[-1][1]
        manifest = self._manifest(path)
        state = _read_json_object(_read_bytes(self._part(path, manifest, STATE_FILE)), path / STATE_FILE)
        missing = [k for k in (*STATE_KEYS, *IDENTITY_KEYS, "step") if k not in state]
        if missing:
            raise EmbedkitError(f"The checkpoint's state lacks {', '.join(missing)}: it was not written by this "
                                f"trainer. Received: {str(path / STATE_FILE)!r}")
        arrays = _read_npz(self._part(path, manifest, WEIGHTS_FILE), ("w_in", "w_out", "step"))
        steps = {"manifest": manifest["step"], STATE_FILE: state["step"], WEIGHTS_FILE: int(arrays["step"])}
        steps.update({f"manifest[{name}]": part.get("step") for name, part in manifest["parts"].items()})
        if len(set(steps.values())) != 1:
            raise EmbedkitError(
                "The checkpoint is inconsistent: its parts belong to different steps "
                f"({', '.join(f'{k} {v}' for k, v in steps.items())}); train without --resume. Received: {str(path)!r}"
            )
        return path, manifest, state, arrays

    def _manifest(self, path: Path) -> dict[str, Any]:
        manifest = _read_json_object(_read_bytes(path / MANIFEST_FILE), path / MANIFEST_FILE)
        parts = manifest.get("parts")
        if (manifest.get("format") != FORMAT or not isinstance(parts, dict) or WEIGHTS_FILE not in parts
                or STATE_FILE not in parts or not isinstance(manifest.get("step"), int)
                or not all(isinstance(p, dict) for p in parts.values())):
            raise EmbedkitError(f"The checkpoint's manifest is not an embedkit checkpoint manifest. "
                                f"Received: {str(path / MANIFEST_FILE)!r}")
        return manifest

    @staticmethod
    def _part(path: Path, manifest: dict[str, Any], name: str) -> Path:
        """The part ``name`` of the checkpoint at ``path``, checked against its manifest."""
        part = path / name
        try:
            digest = _sha256(part)
        except FileNotFoundError:
            raise EmbedkitError(f"The checkpoint is incomplete: {name} is missing; train without --resume. "
                                f"Received: {str(path)!r}") from None
        except OSError as e:
            raise EmbedkitError(f"The checkpoint is unreadable ({e.strerror}). Received: {str(part)!r}") from None
        if digest != manifest["parts"][name].get("sha256"):
            raise EmbedkitError(f"The checkpoint is inconsistent: {name} does not match its manifest (changed, "
                                f"truncated or from another save); train without --resume. Received: {str(path)!r}")
        return part


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise EmbedkitError(f"The checkpoint is incomplete: {path.name} is missing; train without --resume. "
                            f"Received: {str(path.parent)!r}") from None
    except OSError as e:
        raise EmbedkitError(f"The checkpoint is unreadable ({e.strerror}). Received: {str(path)!r}") from None


def _read_json_object(data: bytes, path: Path) -> dict[str, Any]:
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise EmbedkitError(f"The checkpoint's {path.name} is not valid JSON. Received: {str(path)!r}") from None
    if not isinstance(obj, dict):
        raise EmbedkitError(f"The checkpoint's {path.name} must hold a JSON object. Received: "
                            f"{type(obj).__name__} in {str(path)!r}")
    return obj


def _read_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            out = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise EmbedkitError(f"The checkpoint's {path.name} is corrupt ({type(e).__name__}). Received: {str(path)!r}") from None
    missing = [k for k in keys if k not in out]
    if missing or any(out[k].dtype.kind not in "fiu" for k in keys):
        raise EmbedkitError(f"The checkpoint's {path.name} lacks {', '.join(missing) or 'numeric arrays'}. "
                            f"Received: {str(path)!r}")
    return out


def _fsync_dir(path: Path) -> None:
    """Flush the files of a directory before it is renamed into place (a crash then leaves them whole)."""
    for p in path.iterdir():
        with open(p, "rb") as fh:
            os.fsync(fh.fileno())
