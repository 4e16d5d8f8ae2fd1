"""Atomic file and directory writes: write to a temporary sibling, then rename into place.

Nothing embedkit writes is ever left half-written: an error or Ctrl-C while writing removes the temporary
file and leaves any previous version of the target untouched.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_path(d / "out.txt") as tmp:
...     _ = tmp.write_text("hello")
>>> (d / "out.txt").read_text()
'hello'
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from embedkit.errors import EmbedkitError


TMP_SUFFIX = ".tmp"


def _tmp_prefix(target: Path) -> str:
    return f".{target.name}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temps(target: str | os.PathLike[str]) -> list[Path]:
    """Remove temp siblings of ``target`` (``.<name>.<pid>.*.tmp`` and ``.<name>.old-<pid>``) left by an
    embedkit process that no longer runs (killed mid-write); return what was removed."""
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    prefix = _tmp_prefix(target)
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix):]
        if rest.endswith(TMP_SUFFIX):
            pid_text = rest.split(".", 1)[0]
        elif rest.startswith("old-"):
            pid_text = rest[4:]
        else:
            continue
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
        except OSError:
            continue
    return removed


def _write_error(target: Path, e: OSError) -> EmbedkitError:
    reason = e.strerror or type(e).__name__
    return EmbedkitError(f"The output could not be written ({reason}). Received: {str(target)!r}")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success rename it onto ``target``.

    Works for files and for directories (the caller creates whichever it needs at the yielded path).
    An existing directory at ``target`` is replaced only after the new one is complete. The temp name holds
    this process's id, so temp files of a killed run are recognised and removed by the next write to the same
    target. An ``OSError`` while writing becomes one :class:`EmbedkitError` line naming ``target`` (not the
    temp file).
    """
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(target)
        fd, tmp_name = tempfile.mkstemp(prefix=f"{_tmp_prefix(target)}{os.getpid()}.", suffix=TMP_SUFFIX, dir=parent)
    except OSError as e:
        raise _write_error(target, e) from None
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # the caller decides whether it is a file or a directory
    try:
        try:
            yield tmp
            if target.is_dir() and not target.is_symlink():
                old = parent / f"{_tmp_prefix(target)}old-{os.getpid()}"
                os.replace(target, old)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except OSError as e:
            about = str(e.filename) if e.filename is not None else None
            if about is not None and not about.startswith((str(tmp), str(target))):
                raise  # an error about another file (an input read inside the block): not ours to rename
            raise _write_error(target, e) from None
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike[str], mode: str = "w", **kwargs: object) -> Iterator[object]:
    """Open a temporary file for writing; rename it onto ``target`` when the block succeeds."""
    with atomic_path(target) as tmp:
        with open(tmp, mode, **kwargs) as fh:  # type: ignore[call-overload]
            yield fh


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``target`` atomically (UTF-8)."""
    with atomic_open(target, "w", encoding="utf-8") as fh:
        fh.write(text)  # type: ignore[attr-defined]
