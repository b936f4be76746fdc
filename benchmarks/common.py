"""What the benchmarks share: a server process pinned to a core, CPU/RSS readings, tables."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
# Benchmarks drive many turns from one address: no per-user limits; /metrics on the main
# address behind a token (the readiness probe), no separate metrics listener to collide on.
BENCH_ENV = {"VIVA_LIMITS": "off", "VIVA_METRICS_TOKEN": "bench", "VIVA_METRICS_ADDRESS": ""}
METRICS_AUTH = {"Authorization": "Bearer bench"}
RESULTS = ROOT / "bench-results"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def pin_to_core(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > core:  # type: ignore[operator]
        os.sched_setaffinity(0, {core})


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


class PostgresDatabase:
    """A throwaway database on the local Postgres, dropped afterwards."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5432, user: str = "postgres") -> None:
        self.host, self.port, self.user = host, port, user
        self.name = f"viva_bench_{uuid.uuid4().hex[:10]}"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.name}"

    async def _admin(self, sql: str) -> None:
        connection = await asyncpg.connect(
            host=self.host, port=self.port, user=self.user, database="postgres"
        )
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def __aenter__(self) -> PostgresDatabase:
        await self._admin(f'CREATE DATABASE "{self.name}"')
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@dataclass
class ServerProcess:
    """`python -m server` in its own process, optionally pinned to one core."""

    env: Mapping[str, str]
    core: int | None = 0
    module: str = "server"  # or a wrapper that takes the same arguments
    cwd: Path | None = None  # another checkout's server (an A/B run); None: this one
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = RESULTS / "server.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def __aenter__(self) -> ServerProcess:
        self.port = self.port or free_port()
        RESULTS.mkdir(exist_ok=True)
        command = [sys.executable, "-m", self.module, "--port", str(self.port)]
        if self.core is not None and os.cpu_count() and os.cpu_count() > self.core:  # type: ignore[operator]
            command = ["taskset", "-c", str(self.core), *command]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **BENCH_ENV, **self.env}
        # A session of its own: Linux's autogroup scheduling gives each session one share
        # of the machine, split across the cores by where its load is. In the benchmark's
        # session, the callers' load on the other core took the server's share of its
        # own, so the leaner the server, the longer it waited for its core (cpu_wait.py).
        self.process = subprocess.Popen(  # noqa: ASYNC220 - starts at once, never waits
            command,
            env=env,
            cwd=self.cwd,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited; see {self.log_path}")
                try:
                    ready = http.get(f"{self.base}/metrics", headers=METRICS_AUTH)
                    async with ready as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"server did not start; see {self.log_path}")

    async def __aexit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def machine() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * PAGE / 2**30),
        "python": platform.python_version(),
    }


def report(name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], data: Any) -> None:
    """Print a markdown table and write the figures as JSON under bench-results/."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "results": data}, indent=2))
    print(f"\n{machine()}  → {path.relative_to(ROOT)}")
