"""The request body limit: a body over ``max_body_bytes`` is refused with a JSON 413, declared or streamed.

Starlette's own limit (``Starlette(max_body_size=...)``) answers a declared over-size body with a plain-text
413 that no exception handler can turn into this API's JSON error object, so the limit is this small ASGI
middleware: a ``Content-Length`` over the limit is answered before the body is read; a body without one
(chunked) is counted as it arrives, and the request fails with a 413 once it passes the limit.

>>> import asyncio
>>> sent = []
>>> async def app(scope, receive, send): raise AssertionError("not reached")
>>> async def send(message): sent.append(message)
>>> scope = {"type": "http", "headers": [(b"content-length", b"2000")]}
>>> asyncio.run(BodyLimit(app, max_body_bytes=1000)(scope, None, send))
>>> sent[0]["status"]
413
"""

from __future__ import annotations

import json
from typing import Any

from embedkit.serve.errors import ApiError, from_http_status

Scope = dict[str, Any]


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a streamed body passes the limit."""


def _response(err: ApiError) -> tuple[dict[str, Any], dict[str, Any]]:
    body = json.dumps(err.to_dict()).encode()
    start = {"type": "http.response.start", "status": err.status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                         (b"connection", b"close")]}
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    """ASGI middleware refusing request bodies over ``max_body_bytes`` with a JSON 413.

    Args:
        app: the ASGI app to guard.
        max_body_bytes: the largest body accepted.
    """

    def __init__(self, app: Any, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), None)
        try:
            too_big = declared is not None and int(declared) > self.max_body_bytes
        except ValueError:
            too_big = False  # the server rejects a malformed Content-Length itself
        err = from_http_status(413)
        if too_big:
            for message in _response(err):
                await send(message)
            return
        seen = 0
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def tracked_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except BodyTooLarge:
            if started:  # pragma: no cover - an endpoint answered before reading its whole body
                raise
            for message in _response(err):
                await send(message)
