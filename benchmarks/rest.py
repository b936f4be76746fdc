"""Benchmark 4, REST: interview turns per second and latency at 32 concurrent clients.

One server process pinned to core 0, offline providers; the clients run in this process
on core 1. Each client walks through interviews of 30 questions, starting a new session
when one completes; then, for `--list-seconds`, every client lists its interviews
(`GET /api/interviews`) as fast as it can. Both databases by default, one after the
other: Postgres, and SQLite (a file in a temporary directory, as a new user gets it).

With --workers 1 2 (any counts), the same load runs once per count against a server
started with VIVA_WORKERS=N, and nothing is pinned (neither the server's processes nor
the clients): what N processes get out of this machine's cores, against one. Server CPU
then sums the supervisor and its workers.

With --server-tree DIR the server runs from another checkout (a git worktree of the
commit before) under the same load generator, for interleaved before/after pairs.

Besides rates and latencies it prints where the CPU went, which holds better than rates on
a busy machine: server CPU ms per turn (from the warm-up's end), the Postgres backends'
CPU ms per turn, server CPU ms per listing, this process's CPU (the load generator: if it
nears a whole core, the figure is the client's, not the server's) and, with --workers,
how the workers shared the server's CPU (SO_REUSEPORT spreads connections, not requests).

Run: python -m benchmarks.rest [--clients 32 --seconds 20 --database both --workers 1 2]
                               [--server-tree DIR --label NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import (
    PostgresDatabase,
    ServerProcess,
    cpu_seconds,
    percentile,
    pin_to_core,
    report,
    rss_mb,
)
from benchmarks.voice import result_name

SETUP = ("yes", "backend engineer", "technical", "mid", "Python and PostgreSQL", "thirty")


async def make_interview(http: aiohttp.ClientSession, base: str, user: str) -> str:
    async with http.post(f"{base}/api/collector/start", json={"user_id": user}) as response:
        session = (await response.json())["collector_session_id"]
    for answer in SETUP:
        async with http.post(
            f"{base}/api/collector/{session}/turn", json={"user_id": user, "user_message": answer}
        ) as response:
            body = await response.json()
    return str(body["interview_id"])


async def client(
    http: aiohttp.ClientSession,
    base: str,
    user: str,
    stop_at: float,
    warm_until: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    interview = await make_interview(http, base, user)
    while time.monotonic() < stop_at:
        async with http.post(
            f"{base}/api/interviews/{interview}/start", json={"user_id": user}
        ) as response:
            session = (await response.json())["interview_session_id"]
        status = "active"
        number = 0
        while status == "active" and time.monotonic() < stop_at:
            number += 1
            began = time.monotonic()
            async with http.post(
                f"{base}/api/interviews/sessions/{session}/turn",
                json={
                    "user_id": user,
                    "user_message": f"My answer {number}: I would measure first.",
                },
            ) as response:
                body = await response.json()
                if response.status != 200:
                    errors.append(response.status)
                    break
            ended = time.monotonic()
            if began >= warm_until:
                latencies.append(ended - began)
            status = body["status"]


async def lister(
    http: aiohttp.ClientSession, base: str, user: str, stop_at: float, counts: list[int]
) -> None:
    while time.monotonic() < stop_at:
        async with http.get(f"{base}/api/interviews", params={"user_id": user}) as response:
            await response.read()
            counts[0 if response.status == 200 else 1] += 1


@asynccontextmanager
async def database_url(kind: str) -> AsyncIterator[tuple[str, str | None]]:
    """The database URL, and the Postgres database name (None on SQLite)."""
    if kind == "postgres":
        async with PostgresDatabase() as database:
            yield database.url, database.name
        return
    with tempfile.TemporaryDirectory(prefix="viva-bench-") as directory:
        yield f"sqlite+aiosqlite:///{Path(directory) / 'viva.sqlite3'}", None


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and all its descendants (a supervisor and its workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += cpu_seconds(current)
        except OSError:
            continue
        todo.extend(children.get(current, []))
    return total


def tree_cpu_by_process(pid: int) -> dict[int, float]:
    """CPU seconds of each child of `pid` (a supervisor's workers), by process id."""
    found: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found[int(stat.parent.name)] = cpu_seconds(int(stat.parent.name))
        except OSError:
            continue
    return found


def postgres_backends(database: str) -> dict[int, float]:
    """CPU seconds of each Postgres backend serving `database`, by process id."""
    found: dict[int, float] = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if database.encode() in cmdline.read_bytes():
                found[int(cmdline.parent.name)] = cpu_seconds(int(cmdline.parent.name))
        except OSError:
            continue
    return found


class PostgresMeter:
    """Postgres CPU spent for one database, sampled as it goes: the pool opens and closes
    backends under load, and a backend that exits takes its CPU count with it."""

    def __init__(self, database: str | None) -> None:
        self.database = database
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def sample(self) -> None:
        if self.database is None:
            return
        for pid, seconds in postgres_backends(self.database).items():
            self.first.setdefault(pid, 0.0 if self.last else seconds)
            self.last[pid] = seconds

    def start(self) -> None:
        self.first, self.last = {}, {}
        if self.database is not None:
            self.last = postgres_backends(self.database) or {-1: 0.0}
            self.first = dict(self.last)

    @property
    def seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)

    async def run(self, every: float = 0.25) -> None:
        while True:
            await asyncio.sleep(every)
            self.sample()


def tree_rss_mb(pid: int) -> float:
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(stat.parent.name) == pid or int(fields[1]) == pid:
                total += rss_mb(int(stat.parent.name))
        except OSError:
            continue
    return total


async def run(
    kind: str,
    clients: int,
    seconds: float,
    warmup: float,
    listing: float,
    workers: int | None = None,
    tree: Path | None = None,
) -> list[Any]:
    """One load against a fresh server (this checkout's, or `tree`'s); with `workers`,
    VIVA_WORKERS=N and nothing pinned."""
    async with database_url(kind) as (url, name):
        env = {"DATABASE_URL": url, "VIVA_PROVIDERS": "offline", "VIVA_TTS": "false"}
        if workers is not None:
            env["VIVA_WORKERS"] = str(workers)
        core = None if workers is not None else 0
        async with ServerProcess(env, core=core, cwd=tree) as server:
            if workers is not None and workers > 1:
                await asyncio.sleep(2.0)  # every worker listening, not only the first one
            row = await _load(server, clients, seconds, warmup, listing, workers is not None, name)
    return [kind, *([] if workers is None else [workers]), clients, *row]


async def _load(
    server: ServerProcess,
    clients: int,
    seconds: float,
    warmup: float,
    listing: float,
    tree: bool,
    database: str | None,
) -> list[Any]:
    cpu_of = tree_cpu_seconds if tree else cpu_seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as http:
        latencies: list[float] = []
        errors: list[int] = []
        start = time.monotonic()
        warm_until = start + warmup + 2.0  # interview setup happens in the first moments
        stop_at = warm_until + seconds
        tasks = [
            client(http, server.base, f"bench-{n}", stop_at, warm_until, latencies, errors)
            for n in range(clients)
        ]
        running = asyncio.gather(*tasks)
        await asyncio.sleep(warm_until - time.monotonic())  # CPU counts from the warm-up's end
        before = _readings(server.pid, tree)
        postgres = PostgresMeter(database)
        postgres.start()
        meter = asyncio.ensure_future(postgres.run())
        await running
        meter.cancel()
        postgres.sample()
        after = _readings(server.pid, tree)
        elapsed = time.monotonic() - warm_until
        counts = [0, 0]  # listings answered 200, and otherwise
        list_before = cpu_of(server.pid)
        list_until = time.monotonic() + listing
        await asyncio.gather(
            *(lister(http, server.base, f"bench-{n}", list_until, counts) for n in range(clients))
        )
        list_cpu = cpu_of(server.pid) - list_before
    measured = [x * 1000 for x in latencies]
    rate = len(measured) / seconds
    rss = tree_rss_mb(server.pid) if tree else rss_mb(server.pid)
    turns = max(len(measured), 1)
    server_cpu = after.server - before.server
    shares = sorted(
        (seconds_ - before.workers.get(pid, 0.0) for pid, seconds_ in after.workers.items()),
        reverse=True,
    )
    total = max(sum(shares), 1e-9)
    split = "/".join(f"{100 * s / total:.0f}" for s in shares if s / total >= 0.01)
    return [
        f"{rate:.0f}",
        f"{percentile(measured, 50):.1f}",
        f"{percentile(measured, 99):.1f}",
        f"{max(measured):.1f}",
        len(errors) + counts[1],
        f"{counts[0] / listing:.0f}",
        f"{server_cpu / elapsed * 100:.0f} %",
        f"{server_cpu / turns * 1000:.2f}",
        f"{postgres.seconds / turns * 1000:.2f}" if database else "-",
        f"{list_cpu / max(counts[0], 1) * 1000:.2f}",
        f"{(after.client - before.client) / elapsed * 100:.0f} %",
        *([split or "-"] if tree else []),
        f"{rss:.0f}",
    ]


@dataclass(frozen=True)
class Readings:
    """CPU seconds so far: the server (all its processes), each worker, and this process
    (the load generator)."""

    server: float
    workers: dict[int, float]
    client: float


def _readings(pid: int, tree: bool) -> Readings:
    return Readings(
        tree_cpu_seconds(pid) if tree else cpu_seconds(pid),
        tree_cpu_by_process(pid) if tree else {},
        time.process_time(),
    )


HEADERS = [
    "database",
    "clients",
    "turns/s",
    "p50 ms",
    "p99 ms",
    "max ms",
    "errors",
    "lists/s",
    "server CPU",
    "server ms/turn",
    "Postgres ms/turn",
    "server ms/list",
    "client CPU",
    "RSS MB",
]


async def run_all(
    kinds: list[str],
    clients: int,
    seconds: float,
    warmup: float,
    listing: float,
    workers: list[int] | None,
    tree: Path | None = None,
    label: str = "",
) -> None:
    if workers is None:
        pin_to_core(1)
        rows = [await run(kind, clients, seconds, warmup, listing, None, tree) for kind in kinds]
        headers = HEADERS
    else:  # N processes against one: nothing pinned, the counts interleaved per database
        rows = [
            await run(kind, clients, seconds, warmup, listing, count, tree)
            for kind in kinds
            for count in workers
        ]
        headers = [HEADERS[0], "workers", *HEADERS[1:-1], "worker CPU split %", HEADERS[-1]]
    if tree is not None:
        print(f"server: {tree}")
    report(
        result_name("rest-workers" if workers else "rest", label),
        headers,
        rows,
        {
            "clients": clients,
            "seconds": seconds,
            "server_tree": None if tree is None else str(tree),
            "rows": [dict(zip(headers, row, strict=True)) for row in rows],
        },
    )
    if workers and len(workers) > 1:
        for kind in kinds:
            rates = {int(r[1]): float(r[3]) for r in rows if r[0] == kind}
            first = rates[workers[0]]
            for count in workers[1:]:
                ratio = rates[count] / first
                print(f"{kind}: {count} workers / {workers[0]}: {ratio:.2f} × the turns/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--list-seconds", type=float, default=5.0)
    parser.add_argument("--database", choices=["both", "postgres", "sqlite"], default="both")
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        help="server process counts to compare (VIVA_WORKERS), nothing pinned",
    )
    parser.add_argument(
        "--server-tree",
        type=Path,
        metavar="DIR",
        help="run the server from this checkout (a git worktree of another commit), for "
        "before/after pairs; the load generator stays this checkout's",
    )
    parser.add_argument("--label", default="", help="bench-results/rest-LABEL.json")
    args = parser.parse_args()
    kinds = ["postgres", "sqlite"] if args.database == "both" else [args.database]
    asyncio.run(
        run_all(
            kinds,
            args.clients,
            args.seconds,
            args.warmup,
            args.list_seconds,
            args.workers,
            args.server_tree,
            args.label,
        )
    )


if __name__ == "__main__":
    main()
