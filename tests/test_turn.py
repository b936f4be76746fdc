"""TURN: a call whose only usable candidates are relayed through coturn on loopback.

coturn (Debian's package, installed by scripts/install-turn) is started here on
127.0.0.1 with a shared secret (`use-auth-secret`). Viva mints per-call credentials from
that secret; the caller (iceTransportPolicy "relay") and the server
(VIVA_ICE_TRANSPORT_POLICY=relay) both use only relayed candidates, and audio flows both
ways through the relay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from api.appkeys import CALLS
from server import create_app
from settings import Settings
from tests.conftest import IN_CI, MakeClient, user
from tests.instances import free_port
from tests.rest_helpers import post_json
from tests.rtc_peer import Caller
from tests.speech_samples import speak

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"
SECRET = "viva-test-" + os.urandom(8).hex()


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[str]:
    """A turnserver on 127.0.0.1 with a shared secret; its turn: URL."""
    if not os.access(TURNSERVER, os.X_OK):
        message = "coturn is not installed (scripts/install-turn installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    port, relay = free_port(), free_port()
    log = tmp_path / "turnserver.log"
    process = subprocess.Popen(
        [
            TURNSERVER,
            "-n",  # no configuration file
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={port}",
            f"--min-port={relay}",
            f"--max-port={relay + 40}",
            "--use-auth-secret",
            f"--static-auth-secret={SECRET}",
            "--realm=viva.test",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--allow-loopback-peers",
            "--fingerprint",
            f"--log-file={log}",
            "--simple-log",
            "--no-stdout-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while "Total General servers" not in (log.read_text() if log.exists() else ""):
            assert process.poll() is None, "turnserver exited"
            assert time.monotonic() < deadline, "turnserver did not start"
            time.sleep(0.05)
        yield f"turn:127.0.0.1:{port}?transport=udp"
    finally:
        process.terminate()
        process.wait(timeout=10)


def nominated_type(pc: object) -> str:
    """The local candidate type ("relay", "host", …) of a peer connection's chosen pair."""
    transceiver = pc.getTransceivers()[0]  # type: ignore[attr-defined]
    connection = transceiver.receiver.transport.transport._connection  # aioice Connection
    (pair,) = connection._nominated.values()
    return str(pair.local_candidate.type)


async def test_call_connects_through_turn_only(
    aiohttp_client: MakeClient, coturn: str, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        providers="offline",
        ice_servers=({"urls": coturn},),
        turn_secret=SECRET,
        ice_transport_policy="relay",
        rtc_host_addresses=("127.0.0.1",),
    )
    client: TestClient = await aiohttp_client(create_app(settings))
    owner = user()
    started = await post_json(client, "/api/collector/start", {"user_id": owner})
    path = f"/api/collector/sessions/{started['collector_session_id']}/call?user_id={owner}"
    caller = Caller(client, path, relay_only=True)
    try:
        hello = await caller.connect()
        # per-call credentials in the coturn REST-API scheme; no static password anywhere
        (server,) = hello["ice_servers"]
        expiry, name = server["username"].split(":", 1)
        assert (
            name == owner and 0 < int(expiry) - time.time() <= settings.turn_credential_ttl_seconds
        )
        digest = hmac.new(SECRET.encode(), server["username"].encode(), hashlib.sha1).digest()
        assert server["credential"] == base64.b64encode(digest).decode()

        # audio out: the spoken greeting arrives through the relay
        await caller.wait_for(lambda e: e["type"] == "assistant_done", timeout=60)
        assert caller.speech_seconds(0, time.monotonic()) > 0.5
        # audio in: the server hears the caller's speech through the relay
        caller.mic.say(speak("Yes, I am ready."), then_silence_s=1.5)
        await caller.wait_for(lambda e: e["type"] == "speech" and e["event"] == "end", timeout=60)
        (call,) = client.app[CALLS]
        assert nominated_type(caller.pc) == "relay"
        assert nominated_type(call.pc) == "relay"
    finally:
        await caller.hang_up()
