"""Benchmark suites: a manifest lists datasets with each one's standard protocol, where a local copy lives,
and (for online users) where to download it with its checksum.

A manifest is JSON: ``{"name", "description", "datasets": [{"name", "path", "protocol", "folds", "about",
"downloads"}]}``. ``protocol`` is ``cv`` (stratified k-fold CV, ``folds``; MR, CR, SUBJ, MPQA) or ``given``
(the train / dev / test files the data comes with; SST-2, TREC). ``path`` is where the dataset's folder is:
under ``data_dir`` (your local copies, e.g. SentEval's ``data/downstream`` or ``../shared/data/classification``),
else under the manifest's own folder, else in ``$EMBEDKIT_HOME/datasets`` after a download. Each download is
``{"urls": [...], "sha256", "size", "extract": {file: archive member}}`` or ``{..., "save_as": file}``; a
pinned sha256 is verified (and the file removed if it does not match), a download without one is reported as
such. Downloads run only when asked (``download=True`` or ``EMBEDKIT_ALLOW_DOWNLOAD=1``).

Bundled suites: ``senteval`` (MR, CR, SUBJ, MPQA, SST-2, TREC).

>>> suite = load_suite("senteval")
>>> [d.name for d in suite.datasets], suite.datasets[0].protocol
(['MR', 'CR', 'SUBJ', 'MPQA', 'SST-2', 'TREC'], 'cv')
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embedkit.errors import EmbedkitError
from embedkit.progress import ProgressArg

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.downstream.datasets import Dataset

__all__ = ["Suite", "SuiteDataset", "SuiteData", "list_suites", "load_suite", "load_suite_data", "locate_datasets",
           "datasets_home"]

SUITES = Path(__file__).resolve().parent / "suites"
PROTOCOLS = ("cv", "given")
log = logging.getLogger("embedkit.downstream.suites")


@dataclass
class SuiteDataset:
    """One dataset of a suite: its name, folder name, protocol and downloads."""

    name: str
    path: str
    protocol: str = "cv"
    folds: int = 10
    about: str = ""
    downloads: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return {"name": self.name, "path": self.path, "protocol": self.protocol, "folds": self.folds,
                "about": self.about, "downloads": self.downloads}


@dataclass
class Suite:
    """A named list of datasets (from a manifest file)."""

    name: str
    description: str
    datasets: list[SuiteDataset]
    source: Path

    def select(self, names: list[str] | None) -> list[SuiteDataset]:
        """The datasets named in ``names`` (case-insensitive, in the suite's order); all for None."""
        if not names:
            return list(self.datasets)
        want = {n.strip().lower() for n in names if n.strip()}
        known = {d.name.lower() for d in self.datasets}
        unknown = sorted(want - known)
        if unknown:
            raise EmbedkitError(f"`datasets` must name datasets of suite {self.name!r} "
                                f"({', '.join(d.name for d in self.datasets)}). Received: {', '.join(unknown)}")
        return [d for d in self.datasets if d.name.lower() in want]


def list_suites() -> list[str]:
    """Names of the bundled suites."""
    return sorted(p.stem for p in SUITES.glob("*.json"))


def load_suite(spec: str | os.PathLike[str]) -> Suite:
    """A bundled suite by name, or a manifest file (checked: one-line errors for anything malformed)."""
    text = os.fspath(spec)
    path = Path(text)
    if not path.is_file():
        bundled = SUITES / f"{text}.json"
        if not bundled.is_file():
            raise EmbedkitError(f"`suite` must be a bundled suite ({', '.join(list_suites())}) or a manifest "
                                f"file. Received: {text!r}")
        path = bundled
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise EmbedkitError(f"Expected a UTF-8 JSON suite manifest. Received: undecodable bytes in {str(path)!r}") from None
    except ValueError as e:
        raise EmbedkitError(f"Expected a JSON suite manifest. Received: {str(path)!r} ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("datasets"), list) or not data["datasets"]:
        raise EmbedkitError(f"A suite manifest must be an object with a non-empty 'datasets' list. Received: {str(path)!r}")
    entries = [_entry(e, i, path) for i, e in enumerate(data["datasets"])]
    names = [e.name.lower() for e in entries]
    if len(set(names)) != len(names):
        raise EmbedkitError(f"Dataset names of a suite must be distinct. Received: {', '.join(e.name for e in entries)}")
    return Suite(str(data.get("name") or path.stem), str(data.get("description") or ""), entries, path)


def _entry(e: Any, i: int, path: Path) -> SuiteDataset:
    where = f"dataset {i + 1} of {str(path)!r}"
    if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not e["name"].strip():
        raise EmbedkitError(f"Each suite dataset must be an object with a 'name'. Received: {where}")
    name = e["name"]
    rel = e.get("path", name.lower())
    if not isinstance(rel, str) or not rel or ".." in Path(rel).parts:
        raise EmbedkitError(f"A suite dataset's 'path' must be a folder name without '..'. Received: {rel!r} in {where}")
    protocol = e.get("protocol", "cv")
    if protocol not in PROTOCOLS:
        raise EmbedkitError(f"A suite dataset's 'protocol' must be 'cv' or 'given'. Received: {protocol!r} in {where}")
    folds = e.get("folds", 10)
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise EmbedkitError(f"A suite dataset's 'folds' must be an integer >= 2. Received: {folds!r} in {where}")
    downloads = e.get("downloads", [])
    if not isinstance(downloads, list):
        raise EmbedkitError(f"A suite dataset's 'downloads' must be a list. Received: {type(downloads).__name__} in {where}")
    for d in downloads:
        _check_download(d, where)
    return SuiteDataset(name, rel, protocol, folds, str(e.get("about", "")), downloads)


def _check_download(d: Any, where: str) -> None:
    if not isinstance(d, dict):
        raise EmbedkitError(f"Each download must be an object. Received: {d!r} in {where}")
    urls = d.get("urls")
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise EmbedkitError(f"A download needs a non-empty 'urls' list. Received: {urls!r} in {where}")
    sha = d.get("sha256")
    if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-fA-F]{64}", sha)):
        raise EmbedkitError(f"A download's 'sha256' must be 64 hex digits or null. Received: {sha!r} in {where}")
    files = list((d.get("extract") or {}).keys()) + ([d["save_as"]] if d.get("save_as") else [])
    if not files or not all(isinstance(f, str) and f and "/" not in f and f not in (".", "..") for f in files):
        raise EmbedkitError(f"A download must name its file(s) ('extract' or 'save_as', plain names). "
                            f"Received: {files!r} in {where}")


def datasets_home() -> Path:
    """Where downloaded datasets are kept: ``$EMBEDKIT_HOME/datasets``."""
    from embedkit.vectors.home import home_dir

    return home_dir() / "datasets"


def locate_datasets(
    entries: list[SuiteDataset],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    manifest_dir: Path | None = None,
    download: bool = False,
    progress: ProgressArg = None,
) -> list[tuple[SuiteDataset, Path, str]]:
    """The folder of each dataset with a note on where it came from; missing ones are downloaded when allowed.

    All datasets are located before any is downloaded, so a suite fails in one line naming every missing one.
    """
    allow = download or os.environ.get("EMBEDKIT_ALLOW_DOWNLOAD", "") == "1"
    if data_dir is not None and not Path(data_dir).is_dir():
        raise EmbedkitError(f"`data_dir` must be a directory. Received: {os.fspath(data_dir)!r}")
    roots = [Path(data_dir)] if data_dir is not None else []
    if manifest_dir is not None and manifest_dir.resolve() != SUITES:
        roots.append(manifest_dir)
    found: list[tuple[SuiteDataset, Path | None, str]] = []
    for e in entries:
        where = next((r / e.path for r in roots if (r / e.path).exists()), None)
        if where is not None:
            found.append((e, where, f"{e.name}: local copy {where}"))
            continue
        cached = datasets_home() / e.path
        if cached.is_dir():
            found.append((e, cached, f"{e.name}: downloaded earlier into {cached}"))
            continue
        found.append((e, None, ""))
    missing = [e for e, p, _ in found if p is None]
    if missing and not allow:
        hint = "pass --data-dir with local copies" + (", or --download" if all(e.downloads for e in missing) else "")
        raise EmbedkitError(f"Datasets of the suite were not found ({hint}; or choose others with --datasets). "
                            f"Received: no {', '.join(e.name for e in missing)} under "
                            f"{', '.join(str(r) for r in roots) or 'no --data-dir'}")
    out = []
    for e, p, note in found:
        if p is None:
            if not e.downloads:
                raise EmbedkitError(f"Dataset {e.name!r} has no local copy and no download in its manifest. "
                                    f"Received: none under {', '.join(str(r) for r in roots) or 'no --data-dir'}")
            p, note = fetch_dataset(e, progress=progress)
        out.append((e, p, note))
    return out


def fetch_dataset(entry: SuiteDataset, *, progress: ProgressArg = None) -> tuple[Path, str]:
    """Download ``entry``'s files (checked against their pinned sha256), extract the named members, and
    create ``$EMBEDKIT_HOME/datasets/<path>`` in one atomic step; return it and a note."""
    from embedkit.files.atomic import atomic_path

    dest = datasets_home() / entry.path
    checks = []
    with atomic_path(dest) as tmp:
        tmp.mkdir(parents=True)
        for d in entry.downloads:
            archive, url = _download(d, progress)
            checks.append(f"sha256 verified for {url}" if d.get("sha256") else f"no sha256 pinned for {url}")
            if d.get("save_as"):
                _check_text_file(archive, url)
                (tmp / d["save_as"]).write_bytes(archive.read_bytes())
            for name, member in (d.get("extract") or {}).items():
                (tmp / name).write_bytes(_member(archive, member, url))
    unpinned = [c for c in checks if c.startswith("no sha256")]
    for c in unpinned:
        log.warning("%s: %s (checked only that the expected files are there)", entry.name, c)
    return dest, f"{entry.name}: downloaded into {dest} ({'; '.join(checks)})"


def _download(d: dict[str, Any], progress: ProgressArg) -> tuple[Path, str]:
    from embedkit.files.download import download_file

    last: EmbedkitError | None = None
    for url in d["urls"]:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", url.rstrip("/").rsplit("/", 1)[-1]) or "download"
        target = datasets_home() / ".downloads" / name
        try:
            return download_file(url, target, sha256=d.get("sha256"), expected_size=d.get("size"),
                                 progress=progress), url
        except EmbedkitError as e:
            last = e
            log.info("%s", e)
    assert last is not None
    raise last


def _check_text_file(path: Path, url: str) -> None:
    from embedkit.text.decoding import check_text

    try:
        check_text(path.read_bytes(), url)
    except EmbedkitError:
        path.unlink(missing_ok=True)  # never keep a bad download cached
        raise


def _member(archive: Path, member: str, url: str) -> bytes:
    """The bytes of ``member`` (or of the one member with its base name) of a tar or zip archive."""
    import tarfile
    import zipfile

    def pick(names: list[str]) -> str:
        if member in names:
            return member
        base = member.rsplit("/", 1)[-1]
        same = [n for n in names if n.rsplit("/", 1)[-1] == base]
        if len(same) == 1:
            return same[0]
        archive.unlink(missing_ok=True)
        shown = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
        raise EmbedkitError(f"Expected the member {member!r} in the archive from {url}. Received: {shown or 'no files'} "
                            "(download removed)")

    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                names = [i.filename for i in z.infolist() if not i.is_dir()]
                return z.read(pick(names))
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive) as t:
                files = {m.name: m for m in t.getmembers() if m.isfile()}
                fh = t.extractfile(files[pick(list(files))])
                assert fh is not None
                return fh.read()
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError) as e:
        archive.unlink(missing_ok=True)
        raise EmbedkitError(f"Expected a readable .tar.gz or .zip archive from {url}. Received: {e} (download removed)") from None
    archive.unlink(missing_ok=True)
    raise EmbedkitError(f"Expected a .tar.gz or .zip archive from {url}. Received: neither (download removed)")


@dataclass
class SuiteData:
    """A suite's datasets, loaded: what :func:`~embedkit.downstream.runner.run_suite` runs.

    ``notes`` says per dataset where it came from and its protocol; ``folds`` is each dataset's fold count
    (None: its given splits).
    """

    name: str
    datasets: list[Dataset]
    notes: dict[str, str]
    folds: dict[str, int | None]


def load_suite_data(
    suite: str | os.PathLike[str],
    *,
    datasets: list[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    progress: ProgressArg = None,
) -> SuiteData:
    """Load the suite's manifest and its datasets (only ``datasets`` where given), checked before any training.

    Example:
        data = load_suite_data("senteval", datasets=["MR", "CR"], data_dir="data/downstream")
        [d.name for d in data.datasets]
        ['MR', 'CR']
    """
    import dataclasses

    from embedkit.downstream.datasets import load_dataset

    s = load_suite(suite)
    entries = s.select(list(datasets) if datasets else None)
    located = locate_datasets(entries, data_dir=data_dir, manifest_dir=s.source.parent, download=download,
                              progress=progress)
    out = SuiteData(s.name, [], {}, {})
    for entry, path, note in located:
        ds = dataclasses.replace(load_dataset(path), name=entry.name)
        if entry.protocol == "given" and ds.split is None:
            raise EmbedkitError(f"Dataset {entry.name!r} of suite {s.name!r} must come with its train / test files "
                                f"(protocol 'given'). Received: {str(path)!r} without split files")
        out.datasets.append(ds)
        out.notes[entry.name] = f"{note}; protocol: {entry.protocol}" + (
            f" ({entry.folds} folds)" if entry.protocol == "cv" else "")
        out.folds[entry.name] = entry.folds if entry.protocol == "cv" else None
    return out
