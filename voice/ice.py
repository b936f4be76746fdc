"""ICE configuration for calls: servers from settings, and a host-candidate restriction.

aioice gathers host candidates from every interface except loopback and has no option to
choose them. A server that must be reached on 127.0.0.1 (a loopback-only test host, a
container with one known address) sets VIVA_RTC_HOST_ADDRESSES; `restrict_host_candidates`
then makes aioice gather exactly those addresses. It is process-wide, like the setting.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

log = logging.getLogger(f"viva.{__name__}")
_original_host_addresses = aioice.ice.get_host_addresses


def restrict_host_candidates(addresses: Sequence[str]) -> None:
    """Gather host candidates only on these addresses (empty: aioice's own choice)."""
    if not addresses:
        aioice.ice.get_host_addresses = _original_host_addresses
        return
    chosen = list(addresses)

    def chosen_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = chosen_addresses
    log.info("ICE host candidates restricted to %s", ", ".join(chosen))


def rtc_configuration(ice_servers: Sequence[Mapping[str, object]]) -> RTCConfiguration:
    servers = [
        RTCIceServer(
            urls=server["urls"],  # type: ignore[arg-type]
            username=server.get("username"),  # type: ignore[arg-type]
            credential=server.get("credential"),  # type: ignore[arg-type]
        )
        for server in ice_servers
    ]
    return RTCConfiguration(iceServers=servers)
