"""The embedkit home directory (``EMBEDKIT_HOME``, default ``~/.embedkit``) and its named vector sets.

Layout::

    $EMBEDKIT_HOME/vectors/<name>/   native vector sets (trained, converted or installed)
    $EMBEDKIT_HOME/default           the name of the set query commands use without --vectors

>>> import os, tempfile
>>> os.environ["EMBEDKIT_HOME"] = tempfile.mkdtemp()
>>> list_sets()
[]
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from embedkit.files.atomic import atomic_write_text
from embedkit.errors import EmbedkitError

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def home_dir() -> Path:
    """The embedkit home directory (not created)."""
    env = os.environ.get("EMBEDKIT_HOME")
    return Path(env).expanduser() if env else Path.home() / ".embedkit"


def vectors_dir() -> Path:
    """Directory holding the named native vector sets."""
    return home_dir() / "vectors"


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


def list_sets() -> list[str]:
    """Names of the native sets in the home directory, sorted."""
    d = vectors_dir()
    if not d.is_dir():
        return []
    return sorted(p.name for p in d.iterdir() if p.is_dir() and (p / "meta.json").is_file())


def get_default() -> str | None:
    """Name of the default set, or None if none is set (or it was deleted)."""
    f = home_dir() / "default"
    try:
        name = f.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if name and (vectors_dir() / name / "meta.json").is_file() else None


def set_default(name: str) -> None:
    """Make ``name`` the default set for query commands (it must exist, or be an installable named set)."""
    check_set_name(name)
    if not (vectors_dir() / name / "meta.json").is_file():
        from embedkit.vectors.named import KNOWN_SETS, ensure_named_set

        if name not in KNOWN_SETS:
            have = ", ".join(list_sets()) or "none"
            raise EmbedkitError(f"No vector set named {name!r} in {vectors_dir()}. Received: {name!r} (have: {have})")
        ensure_named_set(name)
    home_dir().mkdir(parents=True, exist_ok=True)
    atomic_write_text(home_dir() / "default", name + "\n")


def resolve_vectors_path(spec: str | os.PathLike[str] | None) -> Path:
    """Turn ``--vectors`` (a path, a set name, or None for the default) into a path on disk.

    Known named sets (e.g. ``glove-6b-50d``) are installed into the home directory on first use.
    """
    if spec is None:
        name = get_default()
        if name is None:
            raise EmbedkitError(
                "No default vector set. Train one with `embedkit train-cbow`, or run "
                "`embedkit vectors set-default glove-6b-50d`, or pass --vectors PATH. Received: no --vectors"
            )
        return vectors_dir() / name
    text = os.fspath(spec)
    p = Path(text).expanduser()
    if p.exists():
        return p
    if is_set_name(text):
        candidate = vectors_dir() / text
        if (candidate / "meta.json").is_file():
            return candidate
        from embedkit.vectors.named import KNOWN_SETS, ensure_named_set

        if text in KNOWN_SETS:
            return ensure_named_set(text)
        have = ", ".join(list_sets()) or "none"
        raise EmbedkitError(
            f"Expected a vectors path or a set name (have: {have}; installable: {', '.join(KNOWN_SETS)}). "
            f"Received: {text!r}"
        )
    raise EmbedkitError(f"Vectors path does not exist. Received: {text!r}")
