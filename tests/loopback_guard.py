"""A guard that keeps the test process on this machine.

Every outgoing socket operation of the test process goes through Python's `socket.socket`
(`connect`, `connect_ex`, `sendto`, which asyncio's selector transports and aioice's ICE
and STUN use) or `socket.getaddrinfo` / `gethostbyname` (which asyncio, aiohttp and aioice resolve
names with). The guard wraps those: a destination that is not loopback (127.0.0.0/8, ::1,
"localhost", or a Unix socket) is refused with `PermissionError` and recorded, and the
conftest fails the test that made the attempt, even when the library that tried swallowed
the error (aioice does). Subprocesses (Chromium, a server process) are not covered: they
are given loopback-only settings instead.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from typing import Any

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class LoopbackGuard:
    def __init__(self) -> None:
        self.violations: list[str] = []
        self._lock = threading.Lock()
        self._originals: dict[str, Any] = {}

    def install(self) -> None:
        if self._originals:
            return
        self._originals = {
            "connect": socket.socket.connect,
            "connect_ex": socket.socket.connect_ex,
            "sendto": socket.socket.sendto,
            "getaddrinfo": socket.getaddrinfo,
            "gethostbyname": socket.gethostbyname,
            "gethostbyname_ex": socket.gethostbyname_ex,
        }
        socket.socket.connect = self._checked_socket_call("connect")  # type: ignore[method-assign]
        socket.socket.connect_ex = self._checked_socket_call("connect_ex")  # type: ignore[method-assign]
        socket.socket.sendto = self._checked_sendto()  # type: ignore[method-assign]
        socket.getaddrinfo = self._checked_lookup("getaddrinfo")
        socket.gethostbyname = self._checked_lookup("gethostbyname")
        socket.gethostbyname_ex = self._checked_lookup("gethostbyname_ex")

    def uninstall(self) -> None:
        if not self._originals:
            return
        socket.socket.connect = self._originals["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = self._originals["connect_ex"]  # type: ignore[method-assign]
        socket.socket.sendto = self._originals["sendto"]  # type: ignore[method-assign]
        socket.getaddrinfo = self._originals["getaddrinfo"]
        socket.gethostbyname = self._originals["gethostbyname"]
        socket.gethostbyname_ex = self._originals["gethostbyname_ex"]
        self._originals = {}

    def take_violations(self) -> list[str]:
        with self._lock:
            found, self.violations = self.violations, []
        return found

    def _refuse(self, what: str) -> PermissionError:
        with self._lock:
            self.violations.append(what)
        return PermissionError(f"loopback guard: tests may not contact {what}")

    def _checked_socket_call(self, name: str) -> Callable[..., Any]:
        original = self._originals[name]
        guard = self

        def checked(sock: socket.socket, address: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
                raise guard._refuse(f"{name} to {address!r}")
            return original(sock, address)

        return checked

    def _checked_sendto(self) -> Callable[..., Any]:
        original = self._originals["sendto"]
        guard = self

        def sendto(sock: socket.socket, data: Any, *args: Any) -> Any:
            address = args[-1]
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
                raise guard._refuse(f"sendto {address!r}")
            return original(sock, data, *args)

        return sendto

    def _checked_lookup(self, name: str) -> Callable[..., Any]:
        original = self._originals[name]
        guard = self

        def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
            text = host.decode() if isinstance(host, bytes) else host
            if text is not None and not is_loopback(text) and not _is_unspecified(text):
                raise guard._refuse(f"{name} of {text!r}")
            return original(host, *args, **kwargs)

        return lookup


def is_loopback(host: str) -> bool:
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _is_unspecified(host: str) -> bool:
    """0.0.0.0 and :: name no remote machine: they are looked up to bind, not to send."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return host == ""
