"""The embedkit home directory (``EMBEDKIT_HOME``, default ``~/.embedkit``): where named sets live, what a
set name may be, and which set is the default.

Turning a user's spec into a path (which may install a known set) is :mod:`embedkit.vectors.catalog`, above
this module and :mod:`embedkit.vectors.named`.

Layout::

    $EMBEDKIT_HOME/vectors/<name>/   native vector sets (trained, converted or installed)
    $EMBEDKIT_HOME/default           the name of the set query commands use without --vectors
    $EMBEDKIT_HOME/downloads/        downloaded archives of known sets

>>> import os, tempfile
>>> os.environ["EMBEDKIT_HOME"] = tempfile.mkdtemp()
>>> list_sets()
[]
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from embedkit.errors import EmbedkitError
from embedkit.files.atomic import atomic_write_text
from embedkit.vectors.formats.native import is_native_set

DEFAULT_FILE = "default"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def home_dir() -> Path:
    """The embedkit home directory (not created)."""
    env = os.environ.get("EMBEDKIT_HOME")
    return Path(env).expanduser() if env else Path.home() / ".embedkit"


def vectors_dir() -> Path:
    """Directory holding the named native vector sets."""
    return home_dir() / "vectors"


def downloads_dir() -> Path:
    """Directory keeping downloaded archives (so an interrupted download resumes)."""
    return home_dir() / "downloads"


def is_set_name(text: str) -> bool:
    """True if ``text`` looks like a set name rather than a path."""
    return bool(_NAME_RE.match(text)) and os.sep not in text and not text.startswith(".")


def check_set_name(name: str) -> str:
    """Validate a set name (letters, digits, ``.``, ``_``, ``-``)."""
    if not is_set_name(name):
        raise EmbedkitError(
            f"A vector set name must be letters, digits, '.', '_' or '-' (at most 100). Received: {name!r}"
        )
    return name


def set_path(name: str) -> Path:
    """Path of the named set ``name`` in the home directory."""
    return vectors_dir() / check_set_name(name)


def is_installed(name: str) -> bool:
    """True if the home directory holds a native set called ``name``."""
    return is_set_name(name) and is_native_set(vectors_dir() / name)


def list_sets() -> list[str]:
    """Names of the native sets in the home directory, sorted."""
    d = vectors_dir()
    if not d.is_dir():
        return []
    return sorted(p.name for p in d.iterdir() if p.is_dir() and is_native_set(p))


def get_default() -> str | None:
    """Name of the default set, or None if none is set (or it was deleted)."""
    f = home_dir() / DEFAULT_FILE
    try:
        name = f.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if name and is_native_set(vectors_dir() / name) else None


def set_default(name: str) -> None:
    """Make the installed set ``name`` the default set for query commands.

    To install a known set first, use :func:`embedkit.vectors.catalog.make_default`.
    """
    check_set_name(name)
    if not is_installed(name):
        have = ", ".join(list_sets()) or "none"
        raise EmbedkitError(f"No vector set named {name!r} in {vectors_dir()}. Received: {name!r} (have: {have})")
    home_dir().mkdir(parents=True, exist_ok=True)
    atomic_write_text(home_dir() / DEFAULT_FILE, name + "\n")
