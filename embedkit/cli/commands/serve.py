"""CLI: ``serve`` -- vector sets over HTTP (a JSON API and the explorer page), read-only.

Light at import: Starlette, uvicorn and the server modules are imported inside the command, and nothing
here needs TensorFlow.
"""

from typing import Annotated, Optional

import typer

from embedkit.cli.base import command, fail
from embedkit.cli.options import ApproxOpt, usage_error
from embedkit.cli.output import RichProgress, note

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@command("serve")
def serve_cmd(
    vectors: Annotated[
        Optional[str],
        typer.Option("--vectors", "-v", help="Sets to serve, comma-separated: a set name or path each, NAME=SPEC to "
                                            "name it (default: the default set)."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0: any free port).")] = 8000,
    approx: ApproxOpt = False,
    threads: Annotated[
        Optional[int], typer.Option("--threads", help="Query threads (default: one per core).")
    ] = None,
    max_body: Annotated[int, typer.Option("--max-body", help="Largest request body, in bytes.")] = 1 << 20,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log one line per request on stderr.")] = False,
) -> None:
    """Serve vector sets over HTTP: a JSON API (/openapi.json) and the explorer page at /. Stop with Ctrl-C or
    SIGTERM."""
    if not 0 <= port <= 65535:
        raise usage_error(f"must be an integer in 0..65535. Received: port={port}", "--port")
    if threads is not None and threads <= 0:
        raise usage_error(f"must be a positive integer. Received: threads={threads}", "--threads")
    if max_body <= 0:
        raise usage_error(f"must be a positive integer. Received: max_body={max_body}", "--max-body")
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        fail(f"`embedkit serve` needs the serve extra (pip install 'embedkit[serve]'). Received: no module {e.name!r}")
    from embedkit.serve.app import create_app, default_threads
    from embedkit.serve.server import bind, serve, tune_search, url_of
    from embedkit.serve.sets import open_served_sets

    sock = bind(host, port)  # fails fast on a bad or busy address, before anything is loaded
    try:
        with RichProgress(status={"index": lambda e: e.get("status") or ""}) as progress:
            sets = open_served_sets(vectors, approx=approx, progress=progress)
        tune_search()
        app = create_app(sets, threads=threads or default_threads(), max_body_bytes=max_body)
    except BaseException:
        sock.close()
        raise
    listing = ", ".join(f"{s.name} ({s.size:,} x {s.wv.dim}, {'/'.join(s.indexes)})" for s in sets)

    def announce() -> None:
        note(f"Serving {listing}")
        note(f"Explorer and API at {url_of(sock)} (API description: {url_of(sock)}openapi.json); "
             "Ctrl-C or SIGTERM stops.")
        if host not in LOOPBACK:
            note(f"Note: listening on {host}: anyone who can reach this machine can query these sets (read-only).")

    stopped_by = serve(app, sock, access_log=access_log, log_level="info" if access_log else "warning", ready=announce)
    note(f"Stopped{f' ({stopped_by})' if stopped_by else ''}.")
