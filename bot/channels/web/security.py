"""Headers on every web response, and a check that a form was posted from our own pages.

The Content-Security-Policy allows scripts, styles and images from this origin only: no inline
script, no framing (frame-ancestors 'none'), forms only to ourselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Add the security headers; refuse a cross-site POST to the web pages."""
    if request.method == "POST" and _web_path(request.path) and not same_origin(request):
        raise web.HTTPForbidden(text="cross-site form refused")
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _add_headers(exc, request)
        raise
    _add_headers(response, request)
    return response


def _web_path(path: str) -> bool:
    """Whether a path is one of this channel's pages (other channels' callbacks are not checked)."""
    return path.startswith(("/c/", "/console/"))


def _add_headers(response: web.StreamResponse, request: web.Request) -> None:
    """The headers, on this channel's pages and static files only."""
    if _web_path(request.path) or request.path.startswith("/static/web/") or request.path == "/":
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)


def same_origin(request: web.Request) -> bool:
    """False when the browser says the form came from another site (Origin or Referer's host)."""
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin or origin == "null":
        return origin != "null"
    return urlsplit(origin).netloc == request.host
