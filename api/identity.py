"""Who is calling: the one place a request's user is decided.

VIVA_AUTH=jwt: the user is the `sub` of a verified `Authorization: Bearer` token (or of a
socket ticket, see api/tickets.py); a `user_id` the client also names must equal it.
VIVA_AUTH=none (development): the user is the `user_id` the client names, or else an
anonymous id kept in a cookie, one per browser.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from collections.abc import Mapping

from aiohttp import web

from api.appkeys import LIMITER, SETTINGS, TICKETS, VERIFIER
from api.middleware import Handler
from api.parsing import checked_user_id
from api.refusals import Refusal, unauthorized
from settings import Settings

log = logging.getLogger(f"viva.{__name__}")
ANON_COOKIE = "viva_anon"
ANON_COOKIE_MAX_AGE = 365 * 24 * 3600
_ANON_ID = re.compile(r"anon-[A-Za-z0-9_-]{22}")
_NEW_ANON = web.RequestKey("new_anonymous_id", str)


async def caller(
    request: web.Request, body: Mapping[str, object] | None = None, *, spend: str | None = None
) -> str:
    """The verified user of this request; `spend` counts one of that user's limits."""
    named = _named_user(request, body)
    if request.app[SETTINGS].auth == "jwt":
        user = await bearer_user(request)
        _same(named, user)
    else:
        user = named if named is not None else _anonymous(request)
    if spend is not None:
        await request.app[LIMITER].spend(spend, user, address(request))
    return user


async def socket_user(request: web.Request, session_type: str, session_id: str) -> str:
    """The user of a voice or signaling socket: `?ticket=` first, else as `caller`."""
    ticket = request.query.get("ticket")
    if not ticket:
        return await caller(request)
    user = await request.app[TICKETS].redeem(ticket, session_type, session_id)
    _same(_named_user(request, None), user)
    return user


async def bearer_user(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("token_missing", "Send Authorization: Bearer <token>.")
    return await request.app[VERIFIER].subject(token.strip())


def address(request: web.Request) -> str:
    return request.remote or "unknown"


def _named_user(request: web.Request, body: Mapping[str, object] | None) -> str | None:
    value = (body or {}).get("user_id")
    if value is None or value == "":
        value = request.query.get("user_id")
    if value is None or value == "":
        return None
    return checked_user_id(value)


def _same(named: str | None, user: str) -> None:
    if named is not None and named != user:
        raise Refusal(403, "user_mismatch", "user_id does not match the signed-in user.")


def _anonymous(request: web.Request) -> str:
    cookie = request.cookies.get(ANON_COOKIE, "")
    if _ANON_ID.fullmatch(cookie):
        return cookie
    if _NEW_ANON not in request:
        request[_NEW_ANON] = "anon-" + secrets.token_urlsafe(16)
    return request[_NEW_ANON]


@web.middleware
async def anonymous_cookie(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Hand a browser the anonymous id it was just given, so it keeps it."""
    response = await handler(request)
    new = request.get(_NEW_ANON)
    if new and not response.prepared:
        response.set_cookie(
            ANON_COOKIE, new, max_age=ANON_COOKIE_MAX_AGE, httponly=True, samesite="Lax"
        )
    return response


async def config(request: web.Request) -> web.Response:
    """GET /api/config (public): how the page learns who vouches for its users."""
    settings = request.app[SETTINGS]
    return web.json_response({"auth": settings.auth, "token_origins": list(settings.cors_origins)})


def warn_if_exposed(settings: Settings) -> None:
    """A loud warning when anyone on the network may act as any user."""
    if settings.auth != "none" or _loopback(settings.host):
        return
    log.warning(
        "!!! VIVA_AUTH=none on %s, a non-loopback address: anyone who can reach this port "
        "can read, continue and add to any user's interviews and transcripts by naming "
        "their user_id, and spend provider money. Set VIVA_AUTH=jwt (see README, Security). !!!",
        settings.host,
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
