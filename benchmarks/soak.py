"""Soak: 100 calls opened and closed; what the server holds before and after.

One server process (offline providers, SQLite, loopback-only ICE) and aiortc callers in
this process. Each call connects, waits for the greeting to start playing, and ends: half
of them hang up (a `hangup` message), half just vanish (peer connection and socket
closed, no message). After a warm-up of calls (models loaded, pools grown), the server's
native threads, open files and RSS are read from /proc; then again 5 s after the last
call ended, with no forced garbage collection.
Run: python -m benchmarks.soak [--calls 100 --parallel 4 --warmup 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

import aiohttp

from benchmarks.common import ServerProcess, pin_to_core, report, rss_mb
from tests.rtc_peer import Caller

SETTLE_S = 5.0


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def reading(pid: int) -> tuple[int, int, float]:
    return threads(pid), open_files(pid), rss_mb(pid)


async def one_call(http: aiohttp.ClientSession, url: str, hang_up: bool) -> None:
    caller = Caller(http, url)
    try:
        await caller.connect()
        await caller.wait_for(lambda e: e["type"] == "assistant_text", timeout=120)
    finally:
        if hang_up:
            await caller.hang_up()
        else:
            await caller.close()


async def calls(http: aiohttp.ClientSession, url: str, count: int, parallel: int) -> None:
    for start in range(0, count, parallel):
        batch = range(start, min(count, start + parallel))
        await asyncio.gather(*(one_call(http, url, n % 2 == 0) for n in batch))


async def run(count: int, parallel: int, warmup: int) -> None:
    pin_to_core(1)
    with tempfile.TemporaryDirectory(prefix="viva-soak-") as data:
        env = {
            "VIVA_DATA_DIR": data,
            "DATABASE_URL": f"sqlite+aiosqlite:///{Path(data) / 'viva.sqlite3'}",
            "VIVA_PROVIDERS": "offline",
            "VIVA_RTC_HOST_ADDRESSES": "127.0.0.1",
            "PYTHONFAULTHANDLER": "1",  # a crash of the server under the soak says where
        }
        async with ServerProcess(env) as server, aiohttp.ClientSession() as http:
            async with http.post(
                f"{server.base}/api/collector/start", json={"user_id": "soak"}
            ) as response:
                session = (await response.json())["collector_session_id"]
            ws_base = server.base.replace("http", "ws", 1)
            url = f"{ws_base}/api/collector/sessions/{session}/call?user_id=soak"
            start = reading(server.pid)
            await calls(http, url, warmup, parallel)
            await asyncio.sleep(SETTLE_S)
            before = reading(server.pid)
            await calls(http, url, count, parallel)
            during = reading(server.pid)
            await asyncio.sleep(SETTLE_S)
            after = reading(server.pid)
    rows = [
        [name, values[0], values[1], f"{values[2]:.1f}"]
        for name, values in (
            ("server started", start),
            (f"after {warmup} warm-up calls (baseline)", before),
            (f"right after {count} more calls", during),
            (f"{SETTLE_S:.0f} s later, no forced GC", after),
        )
    ]
    report(
        "soak",
        ["moment", "native threads", "open files", "RSS MB"],
        rows,
        {
            "calls": count,
            "parallel": parallel,
            "warmup_calls": warmup,
            "start": start,
            "baseline": before,
            "right_after": during,
            "settled": after,
            "thread_growth": after[0] - before[0],
            "file_growth": after[1] - before[1],
            "rss_growth_mb": after[2] - before[2],
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.parallel, args.warmup))


if __name__ == "__main__":
    main()
