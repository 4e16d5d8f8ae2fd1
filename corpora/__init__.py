"""The corpus registry (``embedkit.corpora``): corpora embedkit makes itself, and manifests of real ones.

Nothing here is a copy of someone else's text. A manifest (``manifests/<name>.json``) names where a corpus
comes from: texts bundled with gensim (on every machine that installs embedkit), a local path, or, for
online users, a download URL with its checksum. ``synthetic`` corpora are generated from a seed.

>>> "default" in list_corpora()
True
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from embedkit.errors import EmbedkitError

MANIFESTS = Path(__file__).resolve().parent / "manifests"


def list_corpora() -> list[str]:
    """Names of the registered corpora."""
    return sorted(p.stem for p in MANIFESTS.glob("*.json"))


def manifest(name: str) -> dict[str, Any]:
    """The manifest of corpus ``name``."""
    path = MANIFESTS / f"{name}.json"
    if not path.is_file():
        raise EmbedkitError(f"Unknown corpus. Expected one of {', '.join(list_corpora())}. Received: {name!r}")
    return json.loads(path.read_text(encoding="utf-8"))


def corpora_dir() -> Path:
    """Where materialised corpora are cached (``$EMBEDKIT_HOME/corpora``)."""
    from embedkit.vectors.home import home_dir

    return home_dir() / "corpora"


def resolve_corpus(spec: str | os.PathLike[str]) -> list[Path]:
    """Files of a corpus given as a path or a registered name (materialised on first use)."""
    p = Path(spec)
    if p.exists():
        return [p]
    name = os.fspath(spec)
    if (MANIFESTS / f"{name}.json").is_file():
        return materialise(name)
    raise EmbedkitError(
        f"Expected a corpus file or a registered corpus name ({', '.join(list_corpora())}). Received: {name!r}"
    )


def materialise(name: str) -> list[Path]:
    """Make the corpus ``name`` available as local text files and return them."""
    m = manifest(name)
    kind = m["kind"]
    if kind == "local":
        paths = [Path(os.path.expandvars(os.path.expanduser(p))) for p in m["paths"]]
        base = Path(__file__).resolve().parent.parent
        paths = [p if p.is_absolute() else base / p for p in paths]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise EmbedkitError(f"Corpus {name!r} expects local files that are missing. Received: {missing[0]}")
        return paths
    out = corpora_dir() / f"{name}.txt"
    if out.is_file():
        return [out]
    if kind == "gensim-bundled":
        from embedkit.corpora.bundled import write_bundled_corpus

        write_bundled_corpus(m["sources"], out)
    elif kind == "synthetic":
        from embedkit.corpora.synthetic import SyntheticCorpus

        SyntheticCorpus(**m.get("params", {})).write(out)
    elif kind == "download":
        from embedkit.corpora.bundled import download_corpus

        download_corpus(m, out)
    else:  # pragma: no cover - manifests are ours
        raise EmbedkitError(f"Unknown corpus kind in manifest {name!r}. Received: {kind!r}")
    return [out]


def default_corpus() -> list[Path]:
    """The embedded default corpus: text bundled with gensim (Wikipedia sample + Lee news background)."""
    return materialise("default")
