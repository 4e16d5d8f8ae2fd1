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


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success rename it onto ``target``.

    Works for files and for directories (the caller creates whichever it needs at the yielded path).
    An existing directory at ``target`` is replaced only after the new one is complete.
    """
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # the caller decides whether it is a file or a directory
    try:
        yield tmp
        if target.is_dir() and not target.is_symlink():
            old = parent / f".{target.name}.old-{os.getpid()}"
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
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
