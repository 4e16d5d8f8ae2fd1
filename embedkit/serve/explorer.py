"""The explorer page at ``/``: an HTML page, its script and style sheet, shipped as package data.

The files live in ``embedkit/serve/static/`` and are read once when the app is made; a request names one of
them by its exact name or gets a 404 -- no request path is ever joined to a directory, so nothing outside
these files can be served. The page loads nothing from other hosts (its Content-Security-Policy forbids it).

>>> sorted(Explorer().assets)
['explorer.css', 'explorer.js', 'favicon.svg']
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

from embedkit.serve.errors import ApiError
from embedkit.serve.routes import error_response

MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
               ".svg": "image/svg+xml", ".html": "text/html; charset=utf-8"}
PAGE = "index.html"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@dataclass(frozen=True)
class Asset:
    """One static file: its bytes, media type and ETag."""

    body: bytes
    media_type: str
    etag: str


def _load(name: str) -> Asset:
    body = resources.files("embedkit.serve").joinpath("static", name).read_bytes()
    suffix = name[name.rfind("."):]
    return Asset(body, MEDIA_TYPES[suffix], '"' + hashlib.sha256(body).hexdigest()[:16] + '"')


class Explorer:
    """The page and its assets, read from the package once."""

    def __init__(self) -> None:
        files = [f.name for f in resources.files("embedkit.serve").joinpath("static").iterdir()]
        self.page_asset = _load(PAGE)
        self.assets = {n: _load(n) for n in sorted(files) if n != PAGE and n[n.rfind("."):] in MEDIA_TYPES}

    @staticmethod
    def _respond(request: Request, asset: Asset) -> Response:
        headers = {"ETag": asset.etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
                   "Content-Security-Policy": CSP, "Referrer-Policy": "no-referrer"}
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    async def page(self, request: Request) -> Response:
        """``GET /``: the explorer."""
        return self._respond(request, self.page_asset)

    async def asset(self, request: Request) -> Response:
        """``GET /static/NAME``: one of the page's files, by exact name."""
        found = self.assets.get(request.path_params.get("name", ""))
        if found is None:
            return error_response(ApiError(404, "not_found", f"Expected one of the explorer's files: "
                                                             f"{', '.join(self.assets)}. Received: another name"))
        return self._respond(request, found)
