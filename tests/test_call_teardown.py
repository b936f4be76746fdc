"""A call that ends leaves nothing behind: no native thread, no open file, no garbage wait.

The garbage collector is switched off while calls open and close, so only reference
counting can free what a call held. Counts are what is asserted (within 5 s of the last
call ending, for aiortc to finish its own shutdown); the soak benchmark
(benchmarks/soak.py) prints the same counts and RSS for 100 calls against a server process.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from server import create_app
from settings import Settings
from tests.conftest import MakeClient, user
from tests.rest_helpers import post_json
from tests.rtc_peer import Caller

CALLS = 6
SETTLE_S = 5.0


def native_threads() -> int:
    """Threads of this process, less the event loop's executor workers (a pool that grows
    to its own limit and stays: not something a call leaves behind)."""
    pool = sum(1 for thread in threading.enumerate() if thread.name.startswith("asyncio_"))
    return len(os.listdir("/proc/self/task")) - pool


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def no_gc() -> Iterator[None]:
    gc.collect()  # start from a clean heap; nothing is collected from here on
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _one_call(client: TestClient, path: str, hang_up: bool) -> None:
    caller = Caller(client, path)
    try:
        await caller.connect()
        await caller.wait_for(lambda e: e["type"] == "assistant_text", timeout=60)
    finally:
        if hang_up:
            await caller.hang_up()
        else:
            await caller.close()  # the caller vanishes: no hangup message


async def _settled(baseline: tuple[int, int]) -> tuple[int, int]:
    counts = (native_threads(), open_files())
    for _ in range(int(SETTLE_S / 0.1)):
        if counts[0] <= baseline[0] and counts[1] <= baseline[1]:
            break
        await asyncio.sleep(0.1)
        counts = (native_threads(), open_files())
    return counts


async def test_calls_release_threads_and_files_without_the_gc(
    aiohttp_client: MakeClient, tmp_path: Path, no_gc: None
) -> None:
    settings = Settings(data_dir=tmp_path, providers="offline", rtc_host_addresses=("127.0.0.1",))
    client = await aiohttp_client(create_app(settings))
    owner = user()
    started = await post_json(client, "/api/collector/start", {"user_id": owner})
    path = f"/api/collector/sessions/{started['collector_session_id']}/call?user_id={owner}"
    await _one_call(client, path, hang_up=True)  # warm-up: models, pools, first imports
    await asyncio.sleep(1.0)
    baseline = (native_threads(), open_files())

    for number in range(CALLS):
        await _one_call(client, path, hang_up=number % 2 == 0)
    threads, files = await _settled(baseline)

    after = f"baseline {baseline}, after {CALLS} calls {(threads, files)} (threads, files)"
    assert threads <= baseline[0] and files <= baseline[1], after
