"""The vector sets a user can name: installed in ``EMBEDKIT_HOME`` (:mod:`embedkit.vectors.home`) or known
and installable (:mod:`embedkit.vectors.named`). This module sits above both: it turns a spec into a path
(installing a known set on first use), makes a set the default, and lists what there is.

>>> import os, tempfile
>>> os.environ["EMBEDKIT_HOME"] = tempfile.mkdtemp()
>>> [(e.name, e.installed) for e in list_vector_sets()][:1]
[('glove-6b-50d', False)]
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from embedkit.errors import EmbedkitError
from embedkit.vectors import home


def resolve_vectors_path(spec: str | os.PathLike[str] | None) -> Path:
    """Turn ``--vectors`` (a path, a set name, or None for the default) into a path on disk.

    Known named sets (e.g. ``glove-6b-50d``) are installed into the home directory on first use.
    """
    if spec is None:
        name = home.get_default()
        if name is None:
            raise EmbedkitError(
                "No default vector set. Train one with `embedkit train-cbow`, or run "
                "`embedkit vectors set-default glove-6b-50d`, or pass --vectors PATH. Received: no --vectors"
            )
        return home.vectors_dir() / name
    text = os.fspath(spec)
    p = Path(text).expanduser()
    if p.exists():
        return p
    if home.is_set_name(text):
        if home.is_installed(text):
            return home.set_path(text)
        from embedkit.vectors.named import KNOWN_SETS, ensure_named_set

        if text in KNOWN_SETS:
            return ensure_named_set(text)
        have = ", ".join(home.list_sets()) or "none"
        raise EmbedkitError(
            f"Expected a vectors path or a set name (have: {have}; installable: {', '.join(KNOWN_SETS)}). "
            f"Received: {text!r}"
        )
    raise EmbedkitError(f"Vectors path does not exist. Received: {text!r}")


def make_default(name: str) -> Path:
    """Make ``name`` the default set for query commands, installing it first when it is a known set.

    Returns the set's directory.
    """
    home.check_set_name(name)
    if not home.is_installed(name):
        from embedkit.vectors.named import KNOWN_SETS, ensure_named_set

        if name in KNOWN_SETS:
            ensure_named_set(name)
    home.set_default(name)  # raises the one-line error for a set that is neither installed nor known
    return home.set_path(name)


@dataclass(frozen=True)
class VectorSetEntry:
    """One line of :func:`list_vector_sets`: an installed set, or a known one not installed yet."""

    name: str
    default: bool
    size: int | None
    dim: int | None
    source: str | None
    installed: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def list_vector_sets() -> list[VectorSetEntry]:
    """The installed sets (sorted, with size and dim from their metadata), then the known sets not installed."""
    from embedkit.vectors.formats.native import read_meta
    from embedkit.vectors.named import KNOWN_SETS

    default = home.get_default()
    out = []
    for name in home.list_sets():
        meta = read_meta(home.set_path(name))
        out.append(VectorSetEntry(name, name == default, meta["size"], meta["dim"], meta.get("source"), True))
    have = {e.name for e in out}
    out += [VectorSetEntry(name, False, None, spec.dim, spec.description, False)
            for name, spec in KNOWN_SETS.items() if name not in have]
    return out
