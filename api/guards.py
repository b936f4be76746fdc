"""Which browser origins may call Viva, and what the static page may load.

A request from another origin (its `Origin` header) is answered only when that origin is
in VIVA_CORS_ORIGINS (none by default), and then with CORS headers; WebSocket handshakes
are checked the same way, since browsers send `Origin` but CORS does not cover sockets.
The page and its files carry a Content-Security-Policy that allows only the page's own
origin (and lets the allowed origins frame it, for the token hand-off).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from api.appkeys import SETTINGS
from api.middleware import Handler, error_response

ALLOWED_HEADERS = "Authorization, Content-Type"
ALLOWED_METHODS = "GET, POST, OPTIONS"
PREFLIGHT_MAX_AGE = "600"


@web.middleware
async def origins(request: web.Request, handler: Handler) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    if origin is None or _same_origin(request, origin):
        return await handler(request)
    if origin.rstrip("/") not in request.app[SETTINGS].cors_origins:
        return error_response(
            403, "origin_not_allowed", f"Requests from {origin} are not allowed here."
        )
    cors = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return web.Response(
            status=204,
            headers={
                **cors,
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            },
        )
    response = await handler(request)
    if not response.prepared:
        response.headers.update(cors)
    return response


def _same_origin(request: web.Request, origin: str) -> bool:
    return urlsplit(origin).netloc.lower() == request.host.lower()


def page_policy(cors_origins: tuple[str, ...]) -> str:
    framers = " ".join(("'self'", *cors_origins))
    return (
        "default-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {framers}"
    )


async def secure_page(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the page's headers (CSP and friends) on / and /static/."""
    if request.path == "/" or request.path.startswith("/static/"):
        response.headers["Content-Security-Policy"] = page_policy(
            request.app[SETTINGS].cors_origins
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
