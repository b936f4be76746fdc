"""ICE configuration for calls: servers from settings, TURN credentials, host candidates.

TURN. VIVA_ICE_SERVERS names the TURN server without a password; VIVA_TURN_SECRET is
coturn's `static-auth-secret` (`use-auth-secret`, the "TURN REST API" scheme). Each call
gets its own credentials: username `<expiry unix time>:<user>`, password
base64(HMAC-SHA1(secret, username)). The browser (in `hello`) and the server's own peer
connection use the same servers; coturn checks the HMAC and refuses after the expiry,
so no lasting password is ever in the page.

aioice gathers host candidates from every interface except loopback and has no option to
choose them. A server that must be reached on 127.0.0.1 (a loopback-only test host, a
container with one known address) sets VIVA_RTC_HOST_ADDRESSES; `restrict_host_candidates`
then makes aioice gather exactly those addresses. It is process-wide, like the setting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping, Sequence

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer, RTCIceTransportPolicy

log = logging.getLogger(f"viva.{__name__}")
_original_host_addresses = aioice.ice.get_host_addresses
_told_loopback = False


def restrict_host_candidates(addresses: Sequence[str]) -> None:
    """Gather host candidates only on these addresses (empty: aioice's own choice, or
    loopback on a machine that has no other interface)."""
    if not addresses:
        aioice.ice.get_host_addresses = _host_or_loopback
        return
    chosen = list(addresses)

    def chosen_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = chosen_addresses
    log.info("ICE host candidates restricted to %s", ", ".join(chosen))


def _host_or_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    """aioice's addresses; where it finds none (a machine or network namespace with only
    loopback), loopback itself: else the answer would carry no candidate and the call
    would hang at "connecting" without an error on either side."""
    found = _original_host_addresses(use_ipv4, use_ipv6)
    if found:
        return list(found)
    loopback = [
        a for a, v6 in (("127.0.0.1", False), ("::1", True)) if (use_ipv6 if v6 else use_ipv4)
    ]
    global _told_loopback
    if not _told_loopback:  # once: this runs for every call
        log.warning("no network interface but loopback: ICE host candidates on loopback")
        _told_loopback = True
    return loopback


def turn_credentials(
    secret: str, user: str, ttl_seconds: int, now: float | None = None
) -> tuple[str, str]:
    """coturn REST-API credentials: (`expiry:user`, base64 HMAC-SHA1 of it with the secret)."""
    expiry = int(now if now is not None else time.time()) + ttl_seconds
    username = f"{expiry}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def is_turn(server: Mapping[str, object]) -> bool:
    urls = server.get("urls")
    listed = [urls] if isinstance(urls, str) else urls if isinstance(urls, list) else []
    return any(isinstance(url, str) and url.startswith(("turn:", "turns:")) for url in listed)


def call_ice_servers(
    ice_servers: Sequence[Mapping[str, object]], secret: str, user: str, ttl_seconds: int
) -> list[dict[str, object]]:
    """The servers for one call: TURN entries get freshly minted credentials."""
    minted: list[dict[str, object]] = []
    credentials = turn_credentials(secret, user, ttl_seconds) if secret else None
    for server in ice_servers:
        entry = dict(server)
        if credentials is not None and is_turn(server):
            entry["username"], entry["credential"] = credentials
        minted.append(entry)
    return minted


def rtc_configuration(
    ice_servers: Sequence[Mapping[str, object]], relay_only: bool = False
) -> RTCConfiguration:
    """An explicit configuration (never aiortc's default public STUN server)."""
    servers = [
        RTCIceServer(
            urls=server["urls"],  # type: ignore[arg-type]
            username=server.get("username"),  # type: ignore[arg-type]
            credential=server.get("credential"),  # type: ignore[arg-type]
        )
        for server in ice_servers
    ]
    policy = RTCIceTransportPolicy.RELAY if relay_only else RTCIceTransportPolicy.ALL
    return RTCConfiguration(iceServers=servers, iceTransportPolicy=policy)
