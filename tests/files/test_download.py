"""download_file and the glove-6b-50d download path, against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from embedkit.vectors import named
from embedkit.cli import app
from embedkit.files.download import download_file
from embedkit.errors import EmbedkitError
from embedkit.vectors.loading import read_vectors

runner = CliRunner()


class _Server:
    """Serves ``files`` (path -> bytes); honours Range unless ``ranges`` is False; logs Range headers."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.ranges = True
        self.seen: list[str | None] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                data = outer.files.get(self.path)
                rng = self.headers.get("Range")
                outer.seen.append(rng)
                if data is None:
                    self.send_error(404, "Not Found")
                    return
                start = 0
                if rng and outer.ranges:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_error(416, "Range Not Satisfiable")
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                self.wfile.write(data[start:])

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


@pytest.fixture
def glove_zip(tmp_path, glove50):
    """A small glove.6B.zip holding the first 3000 real GloVe 50d words as glove.6B.50d.txt."""
    sub = glove50.subset(glove50.keys[:3000])
    txt = tmp_path / "src" / "glove.6B.50d.txt"
    sub.save(txt, format="glove", precision=5)
    z = tmp_path / "src" / "glove.6B.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(txt, "glove.6B.50d.txt")
    return z.read_bytes(), read_vectors(txt)


def test_download_checks_sha256_and_size(server, tmp_path):
    data = bytes(range(256)) * 4000
    server.files["/f.bin"] = data
    digest = hashlib.sha256(data).hexdigest()
    out = download_file(server.url("/f.bin"), tmp_path / "d" / "f.bin", sha256=digest, expected_size=len(data),
                        progress=True)
    assert out.read_bytes() == data
    assert list(out.parent.iterdir()) == [out]
    n = len(server.seen)
    assert download_file(server.url("/f.bin"), out, sha256=digest) == out and len(server.seen) == n  # cached

    with pytest.raises(EmbedkitError) as ei:
        download_file(server.url("/f.bin"), tmp_path / "bad.bin", sha256="0" * 64, progress=False)
    msg = str(ei.value)
    assert "\n" not in msg and "sha256 " + "0" * 64 in msg and digest in msg
    assert not (tmp_path / "bad.bin").exists() and not (tmp_path / "bad.bin.part").exists()
    with pytest.raises(EmbedkitError, match=f"expected 5 bytes. Received: {len(data)} bytes"):
        download_file(server.url("/f.bin"), tmp_path / "bad2.bin", expected_size=5, progress=False)
    assert not list(tmp_path.glob("bad2*"))


def test_download_resumes_partial_file(server, tmp_path):
    data = np.random.default_rng(1).bytes(300_000)
    server.files["/r.bin"] = data
    dest = tmp_path / "r.bin"
    (tmp_path / "r.bin.part").write_bytes(data[:123_456])
    out = download_file(server.url("/r.bin"), dest, sha256=hashlib.sha256(data).hexdigest(), progress=False)
    assert out.read_bytes() == data and server.seen[-1] == "bytes=123456-"
    # A server that ignores Range: the download starts over and is still correct.
    server.ranges = False
    dest2 = tmp_path / "r2.bin"
    (tmp_path / "r2.bin.part").write_bytes(b"garbage")
    assert download_file(server.url("/r.bin"), dest2, progress=False).read_bytes() == data


def test_download_reports_progress_events(server, tmp_path):
    data = b"x" * 3_000_000
    server.files["/p.bin"] = data
    seen = []
    download_file(server.url("/p.bin"), tmp_path / "p.bin", progress=seen.append)
    assert {e.task for e in seen} == {"download"} and seen[0].stage == "start" and seen[-1].stage == "end"
    assert seen[-1].completed == len(data) and seen[-1].total == len(data) and seen[-1].unit == "bytes"
    assert "error" not in seen[-1].fields and seen[-1].description == "downloading p.bin"


def test_download_http_error_is_one_line(server, tmp_path):
    with pytest.raises(EmbedkitError) as ei:
        download_file(server.url("/missing.zip"), tmp_path / "m.zip", progress=False)
    assert "HTTP 404" in str(ei.value) and "\n" not in str(ei.value)
    assert not list(tmp_path.iterdir())


def _point_glove_at(monkeypatch, url: str, data: bytes, package: bool = False) -> None:
    spec = named.KNOWN_SETS["glove-6b-50d"]
    monkeypatch.setitem(
        named.KNOWN_SETS,
        "glove-6b-50d",
        dataclasses.replace(spec, url=url, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                            package=spec.package if package else None),
    )


def test_glove_download_on_first_use(server, glove_zip, monkeypatch, home):
    data, expected = glove_zip
    server.files["/data/glove.6B.zip"] = data
    _point_glove_at(monkeypatch, server.url("/data/glove.6B.zip"), data)
    from embedkit.vectors.loading import load_vectors

    with pytest.raises(EmbedkitError, match="is not installed.*EMBEDKIT_ALLOW_DOWNLOAD=1"):
        load_vectors("glove-6b-50d")
    monkeypatch.setenv("EMBEDKIT_ALLOW_DOWNLOAD", "1")
    wv = load_vectors("glove-6b-50d")
    assert wv.keys == expected.keys
    np.testing.assert_array_equal(np.asarray(wv.vectors), expected.vectors)
    assert (home / "downloads" / "glove.6B.zip").read_bytes() == data
    assert not [p for p in (home / "vectors").iterdir() if p.name.startswith(".")]  # no extraction leftovers


def test_glove_download_command(server, glove_zip, monkeypatch, home):
    data, expected = glove_zip
    server.files["/glove.6B.zip"] = data
    _point_glove_at(monkeypatch, server.url("/glove.6B.zip"), data, package=True)
    r = runner.invoke(app, ["vectors", "download", "glove-6b-50d", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "Installed glove-6b-50d" in r.stderr
    wv = read_vectors(home / "vectors" / "glove-6b-50d")
    assert wv.keys == expected.keys and "glove.6B.zip" in wv.source
    r = runner.invoke(app, ["vectors", "download", "glove-6b-50d"])
    assert r.exit_code == 0 and "already installed" in r.stderr

    # A corrupted archive: one-line error, nothing installed, the bad download removed.
    server.files["/glove.6B.zip"] = data[:-10] + b"0123456789"
    r = runner.invoke(app, ["vectors", "download", "glove-6b-50d", "--force", "--no-progress"])
    assert r.exit_code == 1 and r.stderr.strip().count("\n") == 0 and "failed its check" in r.stderr
    assert read_vectors(home / "vectors" / "glove-6b-50d").keys == expected.keys  # the old set is intact
    assert not (home / "downloads" / "glove.6B.zip.part").exists()


def test_install_from_zip_errors(tmp_path, home):
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(EmbedkitError, match="Expected a zip archive"):
        named.install_from_zip(bad, "glove.6B.50d.txt", "glove-6b-50d")
    z = tmp_path / "y.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("other.txt", "a 1 2\n")
    with pytest.raises(EmbedkitError, match=r"Expected 'glove.6B.50d.txt' inside .* Received: other.txt"):
        named.install_from_zip(z, "glove.6B.50d.txt", "glove-6b-50d")
    assert not Path(home / "vectors" / "glove-6b-50d").exists()


def test_an_html_page_instead_of_a_zip_is_refused_and_not_cached(server, tmp_path, caplog):
    import io
    import zipfile

    from embedkit.files.download import zip_with_member

    server.files["/a.zip"] = b"<!DOCTYPE html><html><body>Service unavailable</body></html>"
    dest = tmp_path / "dl" / "a.zip"
    check = zip_with_member("a.txt", server.url("/a.zip"))
    with caplog.at_level("WARNING", logger="embedkit.files.download"):
        with pytest.raises(EmbedkitError, match="Expected a zip archive from .*Received: an HTML page"):
            download_file(server.url("/a.zip"), dest, progress=False, validate=check)
    assert "no published sha256" in caplog.text
    assert list(dest.parent.iterdir()) == []  # nothing cached: the next run downloads again
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("b.txt", "wrong member")
    server.files["/a.zip"] = buf.getvalue()
    with pytest.raises(EmbedkitError, match="Expected 'a.txt' inside the downloaded archive.*Received: b.txt"):
        download_file(server.url("/a.zip"), dest, progress=False, validate=check)
    assert list(dest.parent.iterdir()) == []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "right member")
    server.files["/a.zip"] = buf.getvalue()
    assert download_file(server.url("/a.zip"), dest, progress=False, validate=check) == dest


def test_named_set_download_refuses_an_html_page_and_caches_nothing(server, glove_zip, monkeypatch, home):
    data, expected = glove_zip
    page = b"<!DOCTYPE html><html><body>Moved</body></html>"
    server.files["/glove.6B.zip"] = page
    _point_glove_at(monkeypatch, server.url("/glove.6B.zip"), page)
    with pytest.raises(EmbedkitError, match="Expected a zip archive from .*Received: an HTML page"):
        named.download_named_set("glove-6b-50d", progress=None)
    assert not (home / "downloads" / "glove.6B.zip").exists()
    assert not named.is_installed("glove-6b-50d")


def test_corpus_download_checks_size_and_member(server, tmp_path, monkeypatch):
    import io

    from corpora.bundled import download_corpus

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("text8", " anarchism originated as a term of abuse")
    data = buf.getvalue()
    server.files["/text8.zip"] = data
    m = {"name": "text8", "url": server.url("/text8.zip"), "member": "text8", "size": len(data), "sha256": None}
    out = tmp_path / "corpora" / "text8.txt"
    out.parent.mkdir()
    with pytest.raises(EmbedkitError, match="EMBEDKIT_ALLOW_DOWNLOAD=1"):
        download_corpus(m, out)
    monkeypatch.setenv("EMBEDKIT_ALLOW_DOWNLOAD", "1")
    with pytest.raises(EmbedkitError, match=f"expected {len(data) + 1} bytes. Received: {len(data)} bytes"):
        download_corpus({**m, "size": len(data) + 1}, out)
    assert not out.exists()
    with pytest.raises(EmbedkitError, match="Expected 'text8' inside"):
        download_corpus({**m, "size": None, "url": _zip_url(server, "other")}, out)
    assert not out.exists() and not (out.parent / "other.zip").exists()
    download_corpus(m, out)
    assert out.read_text() == " anarchism originated as a term of abuse"


def _zip_url(server, member: str) -> str:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, "x")
    server.files[f"/{member}.zip"] = buf.getvalue()
    return server.url(f"/{member}.zip")
