"""Benchmark 3, capacity: server CPU and memory per call, and whether audio stayed real time.

The server runs pinned to core 0 (taskset -c 0); the callers (this process) and the fake
provider (its own process, realistic delays) share core 1. For each N, a fresh server
takes N calls that talk the way an interview does: the candidate answers for about seven
seconds, waits for the reply (silence window, provider delays, about four seconds of
assistant speech), pauses, and answers the next question. Callers start staggered and
wait a random moment before their first answer, so calls are out of step.

Over a fixed window the server's CPU (utime + stime from /proc/PID/stat) and RSS are
read, and every caller's received audio is checked: at least 49.5 frames/s and no gap
over 60 ms between received frames. The talk shares measured in the window are printed
with it. Each gap is also shown without the time the server's event-loop thread, or this
process's, spent runnable but waiting for a CPU (benchmarks/cpu_wait.py): on a shared
machine that is what most gaps are, and what is left is the server's own doing. With
--profile-seconds, py-spy then records the server (on core 1) for that long at the
largest N, and benchmarks.profile_summary prints where the time went.

Run: python -m benchmarks.capacity [--calls 1 5 10 15 --seconds 20 --profile-seconds 10]
     [--server-tree DIR --label NAME]  (another checkout's server, for before/after pairs)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import RESULTS, pin_to_core, report, rss_mb
from benchmarks.cpu_wait import CpuWait, gaps, own_gap, this_process
from benchmarks.profile_summary import summarize
from benchmarks.voice import (
    ANSWER_TEXTS,
    FRAME_S,
    Answer,
    BenchCaller,
    CpuMeter,
    Delays,
    LoopLag,
    OtherLoad,
    ProviderProcess,
    answer,
    call_url,
    code_version,
    fmt,
    greeted,
    result_name,
    server_env,
    server_label,
    silence_packet,
    start_interview,
    take_turn,
    voice_server,
)
from tests.rtc_peer import SILENT_RMS

REALISTIC = Delays(stt=0.3, first_token=0.35, tokens_per_second=40, tts_first_byte=0.15)
MIN_FPS = 49.5
MAX_GAP_MS = 60.0


@dataclass
class Talker:
    """One call's caller and what it did."""

    number: int
    caller: BenchCaller | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    turns: int = 0


async def talk(
    talker: Talker,
    http: aiohttp.ClientSession,
    base: str,
    spoken: list[Answer],
    silence: bytes,
    delay: float,
    patience: float,
) -> None:
    user = f"bench-cap-{talker.number}-{random.randrange(1 << 30)}"
    session = await start_interview(http, base, user, 30)
    await asyncio.sleep(delay)
    talker.caller = BenchCaller(http, call_url(base, session, user), silence)
    try:
        await greeted(talker.caller, patience)
        talker.ready.set()
        await asyncio.sleep(random.uniform(0.0, 6.0))
        if not spoken:  # a silent call: the media floor
            await asyncio.Event().wait()
        while True:
            await take_turn(talker.caller, spoken[talker.turns % len(spoken)], patience)
            talker.turns += 1
            await asyncio.sleep(random.uniform(0.3, 0.8))
    finally:
        with contextlib.suppress(Exception):
            await talker.caller.hang_up()


async def cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the callers' tasks, again until they end: Python 3.11's `wait_for` drops a
    cancellation that lands as its awaitable completes, and a caller that lost it went on
    talking to the server for as long as the benchmark waited."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=2.0)
    await asyncio.gather(*tasks, return_exceptions=True)


def window_figures(
    talker: Talker, start: float, end: float, waits: tuple[CpuWait, ...] = ()
) -> dict[str, float]:
    assert talker.caller is not None
    frames = talker.caller.received_between(start, end)
    arrivals = [at for at, _ in frames]
    spaces = [length for _, length in gaps(arrivals, start, end, 0.0)]
    # a gap the server (or this process) spent waiting for a CPU is not the server's doing
    own = [own_gap(gap, *waits) for gap in gaps(arrivals, start, end, MAX_GAP_MS / 1000)]
    spoke = sum(max(0.0, min(b, end) - max(a, start)) for a, b in talker.caller.packet_mic.speaking)
    loud = sum(1 for _, rms in frames if rms > SILENT_RMS)
    seconds = end - start
    return {
        "fps": len(frames) / seconds,
        "max_gap_ms": max(spaces) * 1000,
        "max_own_gap_ms": max(own, default=0.0) * 1000,
        "candidate_share": spoke / seconds,
        "assistant_share": loud * FRAME_S / seconds,
    }


def profile(pid: int, seconds: float, output: Path, native: bool) -> bool:
    """py-spy on the server, itself on core 1; False when py-spy is missing or refused.

    --native (C frames: libopus, libsrtp, uvloop) has to pause the server for each sample;
    without it py-spy reads the server's memory while it runs (--nonblocking).
    """
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [
        "taskset",
        "-c",
        "1",
        spy,
        "record",
        "-p",
        str(pid),
        "-d",
        str(int(seconds)),
        "-f",
        "raw",
        "-o",
        str(output),
        "--threads",
        "--native" if native else "--nonblocking",
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=seconds + 30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and output.exists()


@dataclass
class Window:
    """What one measurement window saw on the server."""

    meter: CpuMeter
    other: OtherLoad
    lag: LoopLag
    server_wait: CpuWait
    caller_wait: CpuWait
    start: float = 0.0
    end: float = 0.0
    rss: float = 0.0


async def measure(server_pid: int, provider_pid: int, seconds: float) -> Window:
    window = Window(
        CpuMeter(server_pid),
        OtherLoad(server_pid, provider_pid),
        LoopLag(),
        CpuWait(server_pid),
        this_process(),
    )
    with window.other, window.server_wait, window.caller_wait:
        async with window.lag:
            window.start = time.monotonic()
            window.meter.start()
            await asyncio.sleep(seconds)
            window.meter.stop()
            window.end = time.monotonic()
    window.rss = rss_mb(server_pid)
    return window


async def run_n(
    calls: int, provider: ProviderProcess, spoken: list[Answer], args: Any, profile_to: Path | None
) -> dict[str, Any]:
    """N calls on a fresh server: idle figures, then the window, then (maybe) a profile."""
    silence = silence_packet()
    with tempfile.TemporaryDirectory(prefix="viva-bench-") as folder:
        server_process = voice_server(server_env(provider, Path(folder)), args.prototype)
        if args.server_tree:
            server_process.cwd = Path(args.server_tree)
        async with server_process as server:
            await asyncio.sleep(1.0)
            idle = CpuMeter(server.pid)
            idle.start()
            await asyncio.sleep(2.0)
            idle.stop()
            rss_idle = rss_mb(server.pid)
            talkers = [Talker(n) for n in range(calls)]
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                tasks = [
                    asyncio.create_task(
                        talk(t, http, server.base, spoken, silence, 0.15 * t.number, args.timeout)
                    )
                    for t in talkers
                ]
                try:
                    ready = asyncio.gather(*(t.ready.wait() for t in talkers))
                    await asyncio.wait_for(ready, args.timeout)
                    await asyncio.sleep(args.warmup)
                    window = await measure(server.pid, provider.pid, args.seconds)
                    profiled = profile_to is not None and await asyncio.to_thread(
                        profile, server.pid, args.profile_seconds, profile_to, args.native
                    )
                finally:
                    await cancel_all(tasks)
    waits = (window.server_wait, window.caller_wait)
    figures = [window_figures(t, window.start, window.end, waits) for t in talkers if t.caller]
    meter = window.meter
    return {
        "calls": calls,
        "seconds": window.end - window.start,
        "failed_callers": [t.number for t in talkers if t.caller is None],
        "server_cpu_share": meter.share,
        "server_idle_cpu_share": idle.share,
        "server_main_thread_share": meter.main_thread_share,
        "server_kernel_share": meter.kernel_share,
        "server_thread_shares": meter.thread_shares,
        "rss_mb": window.rss,
        "rss_idle_mb": rss_idle,
        "turns_started": sum(t.turns for t in talkers),
        "min_fps": min(f["fps"] for f in figures),
        "max_gap_ms": max(f["max_gap_ms"] for f in figures),
        "real_time": all(f["fps"] >= MIN_FPS and f["max_gap_ms"] <= MAX_GAP_MS for f in figures),
        "max_own_gap_ms": max(f["max_own_gap_ms"] for f in figures),
        "server_cpu_wait_share": window.server_wait.share(),
        "candidate_share": sum(f["candidate_share"] for f in figures) / len(figures),
        "assistant_share": sum(f["assistant_share"] for f in figures) / len(figures),
        "caller_loop_lag_p95_ms": window.lag.p95_ms(),
        "caller_loop_lag_max_ms": window.lag.max_ms(),
        "other_load_share": window.other.share,
        "per_caller": figures,
        "profile": str(profile_to) if profiled else None,
    }


def tree_note(tree: str | None) -> str:
    return f" from {tree}" if tree else ""


def print_profiles(runs: list[dict[str, Any]]) -> None:
    """Each run's py-spy profile (--profile-seconds), summarised by pipeline part."""
    for r in runs:
        if r["profile"]:
            print(f"\nProfile of the server at {r['calls']} calls ({r['profile']}):\n")
            summarize(
                Path(r["profile"]), r["server_cpu_share"], r["calls"], r["server_thread_shares"]
            )


def row(r: dict[str, Any]) -> list[str]:
    cpu = r["server_cpu_share"]
    return [
        str(r["calls"]),
        f"{cpu * 100:.1f} %",
        f"{cpu / r['calls'] * 100:.2f} %",
        f"{r['server_main_thread_share'] / max(cpu, 1e-9) * 100:.0f} %",
        f"{r['server_kernel_share'] / max(cpu, 1e-9) * 100:.0f} %",
        f"{r['rss_mb']:.0f}",
        f"{(r['rss_mb'] - r['rss_idle_mb']) / r['calls']:.1f}",
        f"{r['min_fps']:.2f}",
        f"{r['max_gap_ms']:.0f}",
        f"{r['max_own_gap_ms']:.0f}",
        f"{r['server_cpu_wait_share'] * 100:.0f} %",
        "yes" if r["real_time"] and not r["failed_callers"] else "NO",
        f"{r['candidate_share'] * 100:.0f} / {r['assistant_share'] * 100:.0f} %",
        fmt(r["caller_loop_lag_max_ms"], 0),
        f"{r['other_load_share'] * 100:.0f} %",
    ]


async def run(args: argparse.Namespace) -> None:
    pin_to_core(1)
    random.seed(3)
    texts = [
        f"{a} {b}" for a, b in zip(ANSWER_TEXTS, ANSWER_TEXTS[1:] + ANSWER_TEXTS[:1], strict=True)
    ]
    spoken = [answer(text) for text in texts]  # about seven seconds each
    runs: list[dict[str, Any]] = []
    name = result_name(
        "capacity",
        "prototype" if args.prototype else "",
        "silent" if args.silent else "",
        args.label,
    )
    extra = ["--chars-per-second", str(args.chars_per_second)]
    async with ProviderProcess(REALISTIC, extra) as provider:
        for calls in args.calls:
            profile_to = None
            if args.profile_seconds and calls == max(args.calls):
                profile_to = RESULTS / f"{name.replace('capacity', 'capacity-profile')}-{calls}.txt"
            runs.append(
                await run_n(calls, provider, [] if args.silent else spoken, args, profile_to)
            )
    rows = [row(r) for r in runs]
    if len(runs) > 1:
        first, last = runs[0], runs[-1]
        marginal = (
            (last["server_cpu_share"] - first["server_cpu_share"])
            / (last["calls"] - first["calls"])
            * 100
        )
        print(
            f"\nmarginal server CPU per added call ({first['calls']}→{last['calls']}): "
            f"{marginal:.2f} % of a core"
        )
    print(
        f"\nCapacity: server on core 0, window {args.seconds:.0f} s; idle server "
        f"{runs[0]['server_idle_cpu_share'] * 100:.1f} % CPU, {runs[0]['rss_idle_mb']:.0f} MB\n"
    )
    print(f"server: {server_label(args.prototype)}{tree_note(args.server_tree)}\n")
    report(
        name,
        [
            "calls",
            "server CPU",
            "CPU per call",
            "in loop thread",
            "in kernel",
            "RSS MB",
            "RSS per call MB",
            "min frames/s",
            "max gap ms",
            "without CPU waits ms",
            "server waited for CPU",
            "real time",
            "talk cand/asst",
            "caller lag max ms",
            "other load",
        ],
        rows,
        {
            "code": code_version(),
            "server": server_label(args.prototype),
            "server_tree": args.server_tree,
            "talk": "silent" if args.silent else "interview",
            "delays": vars(REALISTIC),
            "runs": runs,
            "provider_loop_lag_ms": provider.stats.get("loop_lag_ms"),
        },
    )
    print_profiles(runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 5, 10, 15])
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="measurement window (about two turns)"
    )
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--profile-seconds",
        type=float,
        default=0.0,
        help="then py-spy the server this long at the largest N (0: off)",
    )
    parser.add_argument(
        "--native",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="py-spy --native: C frames too, and Python frames attributed reliably; it pauses "
        "the server for each sample, which is why profiling follows the measured window. "
        "--no-native samples without pausing (--nonblocking), but then often finds no "
        "Python frame under uvloop",
    )
    parser.add_argument(
        "--chars-per-second",
        type=float,
        default=20.0,
        help="length of the fake's speech: ~4 s replies",
    )
    parser.add_argument(
        "--silent",
        action="store_true",
        help="callers never speak: what connected calls cost with no turns (the media floor)",
    )
    parser.add_argument(
        "--prototype",
        metavar="CHANGES",
        help="run benchmarks.prototype with these changes (send,receive,prefetch) instead of "
        "server: what the proposed media changes would buy",
    )
    parser.add_argument(
        "--server-tree",
        metavar="DIR",
        help="run the server from this checkout (a git worktree of another commit), for "
        "before/after pairs; the callers and the fake stay this checkout's",
    )
    parser.add_argument("--label", default="", help="bench-results/capacity-LABEL.json")
    parser.add_argument("--timeout", type=float, default=90.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
