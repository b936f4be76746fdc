"""The loopback guard refuses and reports destinations off this machine."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.loopback_guard import LoopbackGuard

TEST_NET = "192.0.2.1"  # RFC 5737 documentation range: never a real host


def test_refuses_non_loopback_connect_sendto_and_lookups(loopback_only: LoopbackGuard) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        with pytest.raises(PermissionError):
            tcp.connect((TEST_NET, 80))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(PermissionError):
            udp.sendto(b"x", (TEST_NET, 3478))
    with pytest.raises(PermissionError):
        socket.getaddrinfo("stun.l.google.com", 19302)
    with pytest.raises(PermissionError):
        socket.gethostbyname("stun.l.google.com")  # how aioice resolves a STUN server
    assert len(loopback_only.take_violations()) == 4


async def test_allows_loopback(loopback_only: LoopbackGuard) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _reader, writer = await asyncio.open_connection("localhost", port)
    writer.close()
    server.close()
    await server.wait_closed()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"x", ("127.0.0.1", port))
    assert loopback_only.take_violations() == []
