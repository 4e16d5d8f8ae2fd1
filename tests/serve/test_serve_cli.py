"""`embedkit serve` as a real uvicorn process: it answers, stays light, refuses bad options in one line, and
stops cleanly on SIGTERM / SIGINT (also with requests in flight)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def raw(port: int, request: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
        while len(body) < length:
            body += s.recv(65536)
    return int(head.split(b" ")[1]), body


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "embedkit", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_serves_several_sets_without_tensorflow_and_stops_on_sigterm(set_dirs, serve) -> None:
    s = serve("--vectors", f"alpha={set_dirs['alpha']},{set_dirs['beta']}")
    try:
        assert s.get("/v1/health") == (200, {"status": "ok", "version": "0.1.0", "sets": ["alpha", "beta"]})
        status, res = s.get("/v1/neighbours?word=surf&k=3&set=beta")
        assert status == 200 and res["neighbours"][0]["word"] in ("surfing", "surfer")
        cli = run_cli("neighbours", "surf", "-k", "3", "-v", str(set_dirs["beta"]), "--json")
        assert [{"query": "surf", **n} for n in res["neighbours"]] == [json.loads(x) for x in cli.stdout.splitlines()]
        maps = Path(f"/proc/{s.proc.pid}/maps").read_text()
        assert "tensorflow" not in maps and "libtensorflow" not in maps  # `embedkit serve` never loads TensorFlow
        status, body = raw(s.port, b"GET /v1/neighbours?word=caf%E9 HTTP/1.1\r\nHost: t\r\n\r\n")  # latin-1 é
        assert status == 400 and "not UTF-8" in json.loads(body)["error"]["message"]
        status, body = raw(s.port, b"GET /v1/neighbours?word=caf\xe9 HTTP/1.1\r\nHost: t\r\n\r\n")  # not HTTP
        assert status == 400 and b"Traceback" not in body  # uvicorn's parser refuses a raw byte in a URL
        status, body = raw(s.port, b"POST /v1/neighbours/batch HTTP/1.1\r\nHost: t\r\nContent-Type: application/json"
                                   b"\r\nContent-Length: 99999999\r\n\r\n{")
        assert status == 413 and json.loads(body)["error"]["code"] == "payload_too_large"
    finally:
        rc, err = s.stop()
    assert rc == 0, err
    assert err.rstrip().endswith("Stopped (SIGTERM).") and "Traceback" not in err
    assert "Serving alpha (310 x 12, exact), beta (258 x 12, exact)" in err


def test_sigint_stops_it_too(set_dirs, serve) -> None:
    s = serve("--vectors", str(set_dirs["alpha"]), "--approx")
    assert s.get("/v1/sets/alpha")[1]["search"]["default"] == "approx"
    rc, err = s.stop(signal.SIGINT)
    assert rc == 0 and err.rstrip().endswith("Stopped (SIGINT).") and "Traceback" not in err


@pytest.mark.slow
def test_sigterm_with_requests_in_flight_finishes_them(set_dirs, serve) -> None:
    s = serve("--vectors", str(set_dirs["alpha"]))
    statuses: list[object] = []
    stop = threading.Event()

    def hammer(i: int) -> None:
        while not stop.is_set():
            try:
                statuses.append(s.get(f"/v1/analogy?a=man&b=king&c=woman&method=mul&k={1 + i % 5}")[0])
            except (urllib.error.URLError, ConnectionError, OSError) as e:  # refused once it stopped listening
                statuses.append(type(e).__name__)
                time.sleep(0.05)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    try:
        rc, err = s.stop(timeout=60)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert rc == 0 and "Traceback" not in err and err.rstrip().endswith("Stopped (SIGTERM).")
    answered = [x for x in statuses if isinstance(x, int)]
    assert len(answered) > 20 and set(answered) == {200}  # every answer it gave was a full, good one


@pytest.mark.parametrize("args, code, fragment", [
    (("--port", "70000"), 2, "must be an integer in 0..65535. Received: port=70000"),
    (("--threads", "0"), 2, "must be a positive integer. Received: threads=0"),
    (("--max-body", "0"), 2, "must be a positive integer. Received: max_body=0"),
    (("--host", "no.such.host.invalid"), 1, "Expected a host name or address to listen on."),
])
def test_bad_options_one_line(set_dirs, args, code, fragment) -> None:
    r = run_cli("serve", "--vectors", str(set_dirs["alpha"]), *args)
    assert r.returncode == code and fragment in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_bad_sets_one_line(set_dirs, tmp_path) -> None:
    for spec, fragment in [(str(tmp_path / "missing"), "missing"),
                           (f"{set_dirs['alpha']},{set_dirs['alpha']}", "Expected distinct set names"),
                           (f"bad name={set_dirs['alpha']}", "A set name must be 1-64 letters"),
                           (f"{set_dirs['alpha']},", "Expected comma-separated vector sets")]:
        r = run_cli("serve", "--vectors", spec, "--port", "0")
        assert r.returncode == 1 and fragment in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_busy_port_is_one_line(set_dirs) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = run_cli("serve", "--vectors", str(set_dirs["alpha"]), "--port", str(port))
    assert r.returncode == 1 and f"Could not listen on 127.0.0.1:{port}" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_listening_on_every_interface_says_so(set_dirs, serve) -> None:
    s = serve("--vectors", str(set_dirs["beta"]), "--host", "0.0.0.0")
    rc, err = s.stop()
    assert rc == 0 and "Note: listening on 0.0.0.0: anyone who can reach this machine" in err


def test_missing_serve_extra_is_one_line(set_dirs, tmp_path) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nclass _Block:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('starlette', 'uvicorn'):\n            raise ImportError(name=name)\n"
        "sys.meta_path.insert(0, _Block())\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(REPO)])}
    r = subprocess.run([sys.executable, "-m", "embedkit", "serve", "--vectors", str(set_dirs["alpha"])],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1 and "needs the serve extra (pip install 'embedkit[serve]')" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
