"""VIVA_WORKERS: several server processes on one port, kept alive by a supervisor.

The real `viva` entry point runs as a subprocess on loopback: the schema is migrated once,
connections spread over the workers (one connection each, so the kernel picks), a
collector finishes across them, a killed worker is replaced, and SIGTERM stops them all.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from benchmarks.common import free_port

SETUP = ("yes", "data engineer", "behavioral", "senior", "Python, SQL", "two")


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return {child for child in found if _is_worker(child)}


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = {
        **os.environ,
        "VIVA_DATA_DIR": str(tmp_path),
        "VIVA_PROVIDERS": "offline",
        "VIVA_TTS": "false",
        "VIVA_WORKERS": "2",
    }
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "server.log").open("wb"),
    )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # force_close: every request opens its own connection, so requests land on both workers
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def wait_ready(http: aiohttp.ClientSession, base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            async with http.get(f"{base}/api/interviews", params={"user_id": "probe"}) as reply:
                if reply.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("the workers never answered")


async def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(what)


async def test_workers_share_one_port_and_one_database(
    supervisor: tuple[subprocess.Popen[bytes], str], http: aiohttp.ClientSession
) -> None:
    process, base = supervisor
    await wait_ready(http, base)
    await wait_for(lambda: len(children(process.pid)) == 2, "two workers should run")

    async with http.post(f"{base}/api/collector/start", json={"user_id": "w"}) as reply:
        session = (await reply.json())["collector_session_id"]
    for answer in SETUP:
        async with http.post(
            f"{base}/api/collector/{session}/turn", json={"user_id": "w", "user_message": answer}
        ) as reply:
            assert reply.status == 200, await reply.text()
            body = await reply.json()
    assert body["completed"] is True
    async with http.get(f"{base}/api/interviews", params={"user_id": "w"}) as reply:
        listed = await reply.json()
    assert [item["id"] for item in listed] == [body["interview_id"]]

    victim = min(children(process.pid))
    os.kill(victim, signal.SIGKILL)
    await wait_for(
        lambda: victim not in children(process.pid) and len(children(process.pid)) == 2,
        "the supervisor should replace a killed worker",
    )
    await wait_ready(http, base)

    workers = children(process.pid)
    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 30) == 0
    assert not [pid for pid in workers if os.path.exists(f"/proc/{pid}")]  # noqa: ASYNC240
