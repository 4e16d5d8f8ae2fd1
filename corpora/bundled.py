"""Turn texts bundled with gensim (or downloaded for online users) into one-sentence-per-line corpora."""

from __future__ import annotations

import bz2
import os
import zipfile
from pathlib import Path
from typing import Any

from embedkit.files.atomic import atomic_open
from embedkit.errors import EmbedkitError


def _gensim_file(name: str) -> Path:
    from gensim.test.utils import datapath

    p = Path(datapath(name))
    if not p.is_file():
        raise EmbedkitError(f"gensim's bundled test data lacks {name!r}. Received: {p} missing (reinstall gensim)")
    return p


def write_bundled_corpus(sources: list[dict[str, Any]], out: Path) -> None:
    """Write the plain-text lines of the bundled ``sources`` to ``out`` (atomically)."""
    with atomic_open(out, "w", encoding="utf-8") as fh:
        for src in sources:
            path = _gensim_file(src["file"])
            if src["format"] == "mediawiki-xml-bz2":
                from gensim.corpora.wikicorpus import extract_pages, filter_wiki

                with bz2.open(path, "rb") as raw:
                    for _title, text, _pid in extract_pages(raw, filter_namespaces=("0",)):
                        for para in filter_wiki(text).split("\n"):
                            para = para.strip()
                            if len(para.split()) >= int(src.get("min_words", 5)):
                                fh.write(para.replace("''", "") + "\n")  # type: ignore[attr-defined]
            elif src["format"] == "lines":
                with open(path, encoding="utf-8", errors="replace") as f:
                    for line in f:
                        if line.strip():
                            fh.write(line.rstrip("\n") + "\n")  # type: ignore[attr-defined]
            else:  # pragma: no cover - manifests are ours
                raise EmbedkitError(f"Unknown source format. Received: {src['format']!r}")


def download_corpus(m: dict[str, Any], out: Path) -> None:
    """Download a corpus archive named by a manifest (online users), verify it, and extract its text."""
    if os.environ.get("EMBEDKIT_ALLOW_DOWNLOAD", "") != "1":
        raise EmbedkitError(
            f"Corpus {m['name']!r} must be downloaded from {m['url']}; set EMBEDKIT_ALLOW_DOWNLOAD=1 to allow it. "
            f"Received: downloads not allowed"
        )
    from embedkit.files.download import download_file, zip_with_member

    archive = download_file(m["url"], out.parent / Path(m["url"]).name, sha256=m.get("sha256"),
                            expected_size=m.get("size"), validate=zip_with_member(m["member"], m["url"]))
    with zipfile.ZipFile(archive) as zf, zf.open(m["member"]) as src, atomic_open(out, "wb") as dst:
        while block := src.read(1 << 22):
            dst.write(block)  # type: ignore[attr-defined]
