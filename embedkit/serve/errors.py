"""API errors: one JSON shape for every 4xx / 5xx, never a stack trace.

Every error response is ``{"error": {"status": 404, "code": "unknown_word", "message": "...", ...}}`` whose
``message`` is the one line the CLI prints after ``Error:`` for the same input (the library's
:class:`~embedkit.errors.EmbedkitError` text). An unknown word adds its ``close_matches``.

>>> e = ApiError(400, "bad_request", "`k` must be a positive integer. Received: k=0")
>>> e.to_dict()["error"]["message"]
'`k` must be a positive integer. Received: k=0'
"""

from __future__ import annotations

import logging
from typing import Any

from embedkit.errors import EmbedkitError, UnknownWordError

log = logging.getLogger("embedkit.serve.errors")

# HTTP status -> the error code used when nothing more specific applies.
STATUS_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
                414: "uri_too_long", 415: "unsupported_media_type", 500: "internal", 503: "unavailable"}


class ApiError(Exception):
    """An error answered to the client: HTTP ``status``, a machine ``code``, a one-line ``message``.

    Args:
        status: the HTTP status (4xx for bad requests).
        code: a short snake_case name (``bad_request``, ``unknown_word``, ``unknown_set``, ...).
        message: one line that says what was expected and what was received.
        **extra: more JSON fields of the error object (``close_matches``, ``allowed``, ...).
    """

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = " ".join(message.split()) or code
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the response."""
        return {"error": {"status": self.status, "code": self.code, "message": self.message, **self.extra}}


def bad_request(message: str, **extra: Any) -> ApiError:
    """A 400 error with a one-line message.

    >>> bad_request("Expected x. Received: y").status
    400
    """
    return ApiError(400, "bad_request", message, **extra)


def from_library(exc: EmbedkitError) -> ApiError:
    """The API error for a library error: an unknown word is 404 with its close matches, the rest 400.

    >>> from embedkit.errors import UnknownWordError
    >>> err = from_library(UnknownWordError("surff", ["surf"]))
    >>> err.status, err.extra["close_matches"]
    (404, ['surf'])
    """
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, UnknownWordError):
        return ApiError(404, "unknown_word", message, word=exc.word, close_matches=list(exc.suggestions))
    return bad_request(message)


def from_http_status(status: int, detail: str | None = None) -> ApiError:
    """The API error for a status Starlette raises itself (unknown path, wrong method, body too large).

    >>> from_http_status(404).message
    'Expected one of the paths listed at /openapi.json. Received: an unknown path'
    """
    messages = {
        404: "Expected one of the paths listed at /openapi.json. Received: an unknown path",
        405: "Expected a method this path accepts (see /openapi.json). Received: another method",
        413: "Expected a request body within the server's size limit. Received: a larger body",
    }
    return ApiError(status, STATUS_CODES.get(status, "error"), messages.get(status, detail or f"HTTP {status}"))


def internal_error() -> ApiError:
    """The 500 answered for a bug: no detail leaves the server (the log has the traceback)."""
    return ApiError(500, "internal", "The server failed to answer this request; its log has the details. "
                                     "Received: a request that hit a bug")
