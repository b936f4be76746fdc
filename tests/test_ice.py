"""Host candidates: what aioice is told to gather, by VIVA_RTC_HOST_ADDRESSES or by default.

The machine's interfaces are the network edge here: `ifaddr.get_adapters`, which aioice
reads, is given a loopback-only machine and one with a LAN address.
"""

from __future__ import annotations

from collections.abc import Iterator

import aioice.ice
import ifaddr
import pytest

from voice.ice import restrict_host_candidates

LOOPBACK = ifaddr.Adapter(
    "lo", "lo", [ifaddr.IP("127.0.0.1", 8, "lo"), ifaddr.IP(("::1", 0, 0), 128, "lo")]
)
LAN = ifaddr.Adapter("eth0", "eth0", [ifaddr.IP("192.0.2.7", 24, "eth0")])


@pytest.fixture(autouse=True)
def keep_host_addresses() -> Iterator[None]:
    before = aioice.ice.get_host_addresses
    yield
    aioice.ice.get_host_addresses = before  # process-wide: other tests' peers rely on it


def test_default_gathers_the_machines_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ifaddr, "get_adapters", lambda: [LOOPBACK, LAN])
    restrict_host_candidates(())
    assert aioice.ice.get_host_addresses(True, False) == ["192.0.2.7"]


def test_a_loopback_only_machine_gathers_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ifaddr, "get_adapters", lambda: [LOOPBACK])
    restrict_host_candidates(())
    assert aioice.ice.get_host_addresses(True, False) == ["127.0.0.1"]
    assert aioice.ice.get_host_addresses(True, True) == ["127.0.0.1", "::1"]


def test_chosen_addresses_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ifaddr, "get_adapters", lambda: [LOOPBACK, LAN])
    restrict_host_candidates(("127.0.0.1",))
    assert aioice.ice.get_host_addresses(True, False) == ["127.0.0.1"]
