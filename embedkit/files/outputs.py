"""Where an output may go: embedkit never deletes or replaces what it did not write.

:func:`claim_output` is called before anything is written (and before long work starts). It refuses, with one
line:

- always: a FIFO, a device or a socket where an output is meant, and a directory where a file is meant;
- unless ``overwrite=True``: an existing file or non-empty directory that is not an embedkit artefact, and a
  file where a directory is meant.

An embedkit artefact is a directory its caller recognises (a native vector set, a report folder, ...: the
``owned`` test) or a file that embedkit wrote and nobody changed since: after each such write,
:func:`record_output` notes the file's identity (device, inode, size, modification time) in
``$EMBEDKIT_HOME/outputs.log``, and :func:`written_by_embedkit` checks it.

>>> import os, tempfile, pathlib
>>> os.environ["EMBEDKIT_HOME"] = tempfile.mkdtemp()
>>> p = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
>>> _ = p.write_text("mine")
>>> claim_output(p, "file")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
embedkit.errors.EmbedkitError: An output must not replace a file embedkit did not write (pass --overwrite to replace it). Received: ...notes.txt'
>>> claim_output(p, "file", overwrite=True) == p
True
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

from embedkit.errors import EmbedkitError

LEDGER = "outputs.log"
_LEDGER_COMPACT_AT = 20000  # lines; older entries whose files changed are dropped then


def _kind_of(mode: int) -> str | None:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return None


def claim_output(
    path: str | os.PathLike[str],
    kind: str,
    *,
    overwrite: bool = False,
    owned: Callable[[Path], bool] | None = None,
) -> Path:
    """Check that ``path`` may receive an output of ``kind`` (``"file"`` or ``"dir"``); return it as a Path.

    Args:
        overwrite: the user asked to replace what is there (never a FIFO, device or a directory for a file).
        owned: recognises an existing directory as an embedkit artefact that may be replaced
            (e.g. a native vector set); files are recognised by :func:`written_by_embedkit`.
    """
    if kind not in ("file", "dir"):
        raise EmbedkitError(f"`kind` must be 'file' or 'dir'. Received: kind={kind!r}")
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        _check_parent(p)
        return p
    except OSError as e:
        raise EmbedkitError(f"The output path cannot be used ({e.strerror}). Received: {str(p)!r}") from None
    special = _kind_of(st.st_mode)
    if special is not None:
        raise EmbedkitError(f"An output must be a regular file or directory, not {special}. Received: {str(p)!r}")
    if stat.S_ISDIR(st.st_mode):
        if kind == "file":
            raise EmbedkitError(f"Expected a file path for the output. Received: directory {str(p)!r}")
        if overwrite or not any(p.iterdir()) or (owned is not None and owned(p)):
            return p
        raise EmbedkitError(
            f"An output must not replace a directory embedkit did not write (pass --overwrite to replace it). "
            f"Received: {str(p)!r} is a non-empty directory"
        )
    if kind == "dir" and not overwrite:
        raise EmbedkitError(
            f"Expected a directory path for the output (pass --overwrite to replace the file). Received: file {str(p)!r}"
        )
    if overwrite or written_by_embedkit(p):
        return p
    raise EmbedkitError(
        f"An output must not replace a file embedkit did not write (pass --overwrite to replace it). Received: {str(p)!r}"
    )


def _check_parent(p: Path) -> None:
    parent = p.parent if str(p.parent) else Path(".")
    for d in (parent, *parent.parents):
        if d.exists():
            if not d.is_dir():
                raise EmbedkitError(f"The output's folder must be a directory. Received: {str(d)!r} is a file")
            return


def _identity(p: Path) -> dict[str, int] | None:
    try:
        st = p.stat()
    except OSError:
        return None
    return {"dev": st.st_dev, "ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _ledger() -> Path:
    from embedkit.vectors.home import home_dir

    return home_dir() / LEDGER


def record_output(path: str | os.PathLike[str]) -> None:
    """Note that embedkit has just written the file ``path`` (so a later run may replace it)."""
    p = Path(path).resolve()
    ident = _identity(p)
    if ident is None:
        return
    ledger = _ledger()
    try:
        ledger.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"path": str(p), **ident}) + "\n"
        fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))  # one small O_APPEND write: whole lines even with concurrent runs
        finally:
            os.close(fd)
        if ledger.stat().st_size > _LEDGER_COMPACT_AT * 120:
            _compact(ledger)
    except OSError:  # a read-only home only costs the user an --overwrite later
        return


def written_by_embedkit(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is a file embedkit wrote (per the ledger) and that is unchanged since."""
    p = Path(path).resolve()
    ident = _identity(p)
    if ident is None:
        return False
    try:
        text = _ledger().read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    want = str(p)
    for line in reversed(text.splitlines()):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("path") == want:
            return all(entry.get(k) == v for k, v in ident.items())
    return False


def _compact(ledger: Path) -> None:
    """Keep the newest entry of each file that still matches it."""
    from embedkit.files.atomic import atomic_write_text

    latest: dict[str, dict[str, int]] = {}
    for line in ledger.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            latest[entry["path"]] = entry
        except (ValueError, KeyError, TypeError):
            continue
    keep = [e for path, e in latest.items() if _identity(Path(path)) == {k: e.get(k) for k in ("dev", "ino", "size", "mtime_ns")}]
    atomic_write_text(ledger, "".join(json.dumps(e) + "\n" for e in keep))
