"""Viva server processes for multi-instance tests: started, polled, signalled, killed."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.rest_helpers import ANSWERS

ROOT = Path(__file__).resolve().parent.parent
METRICS_TOKEN = "instances-metrics-token"
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Instance:
    """`python -m server` on 127.0.0.1 with the given environment; logs to a file."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "VIVA_INSTANCE_ID": name,
            "VIVA_PROVIDERS": "offline",
            "VIVA_TTS": "false",
            "VIVA_LIMITS": "off",  # per-user limits are not what these tests are about
            "VIVA_METRICS_ADDRESS": "",  # several instances: /metrics on the main address
            "VIVA_METRICS_TOKEN": METRICS_TOKEN,
            **env,
        }
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, limit_s: float = 240.0) -> Instance:
        self.process = subprocess.Popen(  # noqa: ASYNC220 - starts at once, never waits
            [sys.executable, "-m", "server"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + limit_s
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited:\n{self.log()}")
                try:
                    async with http.get(f"{self.base}/readyz") as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=10)

    async def wait_exit(self, limit_s: float = 60.0) -> int:
        process = self.process
        assert process is not None
        await eventually(lambda: process.poll() is not None, limit_s)
        code = process.poll()
        assert code is not None, f"{self.name} still running after {limit_s} s"
        return code

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


async def eventually(check: Callable[[], bool | Awaitable[bool]], limit_s: float) -> bool:
    """Poll `check` every 20 ms until it holds or `limit_s` passes; its last answer."""
    deadline = time.monotonic() + limit_s
    for _ in range(int(limit_s / 0.02) + 1):
        result = check()
        done = await result if inspect.isawaitable(result) else result
        if done or time.monotonic() > deadline:
            return bool(done)
        await asyncio.sleep(0.02)
    return False


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    status: int | None = 200,
) -> tuple[int, dict[str, Any]]:
    async with http.request(method, url, json=body) as response:
        payload = await response.json()
        if status is not None:
            assert response.status == status, (response.status, payload)
        return response.status, payload


async def interview_on(http: aiohttp.ClientSession, base: str, owner: str) -> str:
    """A three-question interview collected and started on one instance; its session id."""
    _, started = await call(http, "POST", f"{base}/api/collector/start", {"user_id": owner})
    sid = started["collector_session_id"]
    for answer in ANSWERS:
        _, done = await call(
            http,
            "POST",
            f"{base}/api/collector/{sid}/turn",
            {"user_id": owner, "user_message": answer},
        )
    _, session = await call(
        http, "POST", f"{base}/api/interviews/{done['interview_id']}/start", {"user_id": owner}
    )
    return str(session["interview_session_id"])
