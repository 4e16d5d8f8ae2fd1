"""Running the app: bind the socket, tune the search threads, serve with uvicorn until SIGTERM / SIGINT.

:func:`bind` opens the listening socket first, so the address printed is the real one (port 0 picks a free
port) and a bad address fails before anything is loaded. :func:`serve` runs uvicorn on that socket; on
SIGTERM or SIGINT uvicorn stops accepting connections, finishes the requests in flight and runs the app's
shutdown, and :func:`serve` returns the signal's name -- a clean stop, exit code 0 in the CLI.

>>> sock = bind("127.0.0.1", 0)
>>> sock.getsockname()[1] > 0
True
>>> sock.close()
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from typing import Any

from embedkit.errors import EmbedkitError

log = logging.getLogger("embedkit.serve.server")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
GRACEFUL_SHUTDOWN_S = 10


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (IPv4 or IPv6), or a one-line error."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise EmbedkitError(f"`port` must be an integer in 0..65535. Received: port={port!r}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise EmbedkitError(f"Expected a host name or address to listen on. Received: {host!r} ({e.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise EmbedkitError(f"Could not listen on {host}:{port}: {e.strerror}. Received: host={host!r}, port={port}") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The http URL of a listening socket (``http://127.0.0.1:8000/``)."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def tune_search() -> None:
    """Process-wide search settings for a server: every search single-threaded, and batched exact searches
    through BLAS.

    A server runs searches in parallel from its query threads; BLAS and OpenMP thread pools inside each search
    would fight them (and the event loop) for the cores, which costs far more than it gains (the query threads
    set their own OpenMP count: :func:`~embedkit.serve.app.init_query_thread`). FAISS >= 1.12
    scans one query at a time up to 128k queries per call; a server's batches are small and gain several times
    from one matrix product.
    """
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)  # numpy's and FAISS's BLAS, FAISS's OpenMP
    except ImportError:  # pragma: no cover - a dependency of the serve extra
        log.warning("Note: threadpoolctl is missing; BLAS threads are not limited (pip install threadpoolctl).")
    try:
        import faiss
    except ImportError:  # pragma: no cover - faiss-cpu is a dependency
        return
    faiss.omp_set_num_threads(1)
    faiss.cvar.distance_compute_blas_threshold = 1


def serve(app: Any, sock: socket.socket, *, access_log: bool = False, log_level: str = "warning",
          ready: Callable[[], None] | None = None) -> str | None:
    """Serve ``app`` on ``sock`` with uvicorn until a stop signal; returns the signal's name (or None).

    Args:
        app: the ASGI app (:func:`~embedkit.serve.app.create_app`).
        sock: a listening socket (:func:`bind`).
        access_log: log one line per request.
        log_level: uvicorn's log level.
        ready: called once the stop signals are handled (announce the URL there: a signal sent as soon as
            it is printed stops the server cleanly).
    """
    import uvicorn

    config = uvicorn.Config(app, lifespan="on", access_log=access_log, log_level=log_level, server_header=False,
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S, log_config=None)
    server = uvicorn.Server(config)
    received: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        # Before uvicorn serves, and again after its graceful shutdown (it raises the signal it caught once
        # more, for the handler that was there before: this one): record it and ask the server to stop.
        received.append(signum)
        server.should_exit = True

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        previous = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    try:
        if ready is not None:
            ready()
        if not server.should_exit:
            server.run(sockets=[sock])
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sock.close()
    return signal.Signals(received[0]).name if received else None
