"""`download_file`: fetch a URL to a file with progress events, resume support and checksum verification.

The data goes to ``<dest>.part`` first (kept across interruptions so a re-run resumes it with an HTTP
``Range`` request) and is renamed onto ``dest`` only after its size and sha256 check out; a file that fails
the check is removed. ``dest`` is therefore either absent or complete.

>>> import pathlib, tempfile
>>> src = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
>>> _ = src.write_text("hello")
>>> out = download_file(src.as_uri(), src.with_name("b.txt"), progress=False)
>>> out.read_text()
'hello'
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
import urllib.error
import urllib.request
from pathlib import Path

from embedkit.errors import EmbedkitError
from embedkit.progress import ProgressArg, Reporter

CHUNK = 1 << 20
log = logging.getLogger("embedkit.files.download")


def download_file(
    url: str,
    dest: str | os.PathLike[str],
    sha256: str | None = None,
    expected_size: int | None = None,
    progress: ProgressArg = True,
    timeout: float = 60.0,
    validate: Callable[[Path], None] | None = None,
) -> Path:
    """Download ``url`` to ``dest`` and return ``dest``.

    Args:
        url: ``http(s)://`` or ``file://`` URL.
        dest: target file; its directory is created.
        sha256: expected hex digest; a mismatch removes the download and raises :class:`EmbedkitError`.
        expected_size: expected size in bytes (checked like ``sha256``).
        progress: receives ``download`` progress events in bytes (see :mod:`embedkit.progress`; ``True`` logs
            the start and end, None / False is silent; the CLI draws a bar with ``RichProgress``).
        timeout: socket timeout in seconds.
        validate: raises :class:`EmbedkitError` when the downloaded bytes are not what was asked for (e.g.
            :func:`zip_with_member`: a server's HTML error page instead of an archive); such a download is removed,
            so the next run fetches it again instead of failing on a bad cached copy.

    An existing ``dest`` that passes the checks is returned without downloading again. Without a pinned
    ``sha256`` the download is checked by size only, and a warning says so.

    Example:
        download_file("https://example.org/glove.zip", "/tmp/glove.zip")
        PosixPath('/tmp/glove.zip')
    """
    dest = Path(dest)
    if dest.is_dir():
        raise EmbedkitError(f"Expected a file path to download to. Received: directory {str(dest)!r}")
    if dest.is_file():
        if _matches(dest, sha256, expected_size) is None and _valid(dest, validate):
            return dest
        dest.unlink()
    if sha256 is None:
        log.warning("Note: no published sha256 is pinned for %s; the download is checked by %s only.", url,
                    "size and content" if expected_size is not None else "content")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    if expected_size is not None and have > expected_size:
        part.unlink()
        have = 0

    request = urllib.request.Request(url, headers={"User-Agent": "embedkit"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # the partial file is already complete
            return _finish(part, dest, url, sha256, expected_size, validate)
        raise EmbedkitError(f"Download failed: HTTP {e.code} {e.reason}. Received: url={url!r}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise EmbedkitError(f"Download failed: {reason}. Received: url={url!r}") from None
    with resp:
        status = getattr(resp, "status", 200) or 200
        mode = "ab" if have and status == 206 else "wb"
        if mode == "wb":
            have = 0  # the server ignored the Range request: start over
        length = resp.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else expected_size
        with Reporter(progress, "download", total=total, unit="bytes", description=f"downloading {dest.name}",
                      min_interval=0.1) as rep, open(part, mode) as fh:
            rep.update(have, force=True)
            while True:
                try:
                    chunk = resp.read(CHUNK)
                except OSError as e:
                    raise EmbedkitError(
                        f"Download interrupted: {e}. Received: {have} bytes of {url!r} (run again to resume)"
                    ) from None
                if not chunk:
                    break
                fh.write(chunk)
                have += len(chunk)
                rep.update(have)
    if length and length.isdigit() and status in (200, 206) and have != total:
        raise EmbedkitError(
            f"Download incomplete: expected {total} bytes. Received: {have} bytes of {url!r} (run again to resume)"
        )
    return _finish(part, dest, url, sha256, expected_size, validate)


def _finish(part: Path, dest: Path, url: str, sha256: str | None, expected_size: int | None,
            validate: Callable[[Path], None] | None = None) -> Path:
    problem = _matches(part, sha256, expected_size)
    if problem is not None:
        part.unlink()
        raise EmbedkitError(f"Downloaded file failed its check: expected {problem[0]}. Received: {problem[1]} from {url!r}")
    if validate is not None:
        try:
            validate(part)
        except EmbedkitError:
            part.unlink()
            raise
    os.replace(part, dest)  # the .part file is this download's temp file: rename completes it atomically
    return dest


def _valid(path: Path, validate: Callable[[Path], None] | None) -> bool:
    if validate is None:
        return True
    try:
        validate(path)
    except EmbedkitError:
        return False
    return True


def zip_with_member(member: str, url: str = "") -> Callable[[Path], None]:
    """A ``validate`` check: the file is a zip archive that holds ``member``.

    >>> import io, zipfile, pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.zip"
    >>> with zipfile.ZipFile(p, "w") as zf: zf.writestr("x.txt", "hi")
    >>> zip_with_member("x.txt")(p)
    >>> zip_with_member("y.txt")(p)
    Traceback (most recent call last):
    ...
    embedkit.errors.EmbedkitError: Expected 'y.txt' inside the downloaded archive. Received: x.txt
    """

    def check(path: Path) -> None:
        import zipfile

        source = f" from {url!r}" if url else ""
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, EOFError):
            with open(path, "rb") as fh:
                head = fh.read(64).lstrip().lower()
            what = "an HTML page" if head.startswith((b"<!doctype", b"<html")) else f"{path.stat().st_size} bytes that are not a zip archive"
            raise EmbedkitError(f"Expected a zip archive{source}. Received: {what}") from None
        if member not in names:
            raise EmbedkitError(f"Expected {member!r} inside the downloaded archive{source}. "
                                f"Received: {', '.join(names[:5]) or 'an empty archive'}")

    return check


def _matches(path: Path, sha256: str | None, expected_size: int | None) -> tuple[str, str] | None:
    """None if ``path`` has the expected size and digest, else (expected, received) descriptions."""
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        return f"{expected_size} bytes", f"{size} bytes"
    if sha256 is not None:
        digest = sha256_of(path)
        if digest.lower() != sha256.lower():
            return f"sha256 {sha256}", f"sha256 {digest}"
    return None


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while b := fh.read(CHUNK * 4):
            h.update(b)
    return h.hexdigest()
