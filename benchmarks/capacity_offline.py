"""Benchmark 3b, capacity with the offline providers in the call path.

What a user without an OpenAI key runs: the server (pinned to core 0, as in
`benchmarks.capacity`) hears with Whisper tiny.en, speaks with Piper and answers with the
offline chat (rules and the question bank). There is no fake provider. The callers (this
process, core 1; loopback-only aiortc peers, `benchmarks.voice.BenchCaller`) answer
interview questions with Piper speech of about seven seconds, wait for the whole reply,
pause 0.3-0.8 s and answer the next question, so every turn is a real one: the server
transcribes the answer, the flow takes it, Piper speaks the acknowledgement and the next
question.

For each N, a fresh server takes N calls; over a fixed window it reports
  - server CPU (all threads) and CPU per call; the event-loop thread's share;
  - turns completed in the window (`viva_turns_total` from /metrics) and CPU per turn;
  - the server's event-loop lag in the window, p99 and max, from the histogram
    `viva_event_loop_lag_seconds` (upper bucket bounds: "≤ 20" means the bucket
    10-20 ms held it);
  - whether every caller stayed real time: ≥ 49.5 frames/s and no gap over 60 ms between
    received frames (`benchmarks.capacity`'s rule);
  - voice-to-voice: from the moment the last voiced frame of an answer left the caller's
    microphone to the first non-silent reply frame it received, over every turn that
    ended after the warm-up, split into detect (caller's end of speech → server's end of
    turn), transcript (end of turn → Whisper's words), and server (end of turn → first
    reply frame sent).
"sustains" is the largest N at which every caller stayed real time; "lag target" whether
loop-lag p99 ≤ 20 ms and max ≤ 60 ms (issue 9's target at 10 calls).

Run: python -m benchmarks.capacity_offline [--calls 1 5 10 15 --seconds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import random
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.capacity import MAX_GAP_MS, MIN_FPS, print_profiles, profile, window_figures
from benchmarks.common import (
    RESULTS,
    ServerProcess,
    percentile,
    pin_to_core,
    report,
    rss_mb,
)
from benchmarks.voice import (
    ANSWER_TEXTS,
    Answer,
    BenchCaller,
    CpuMeter,
    LoopLag,
    OtherLoad,
    TurnResult,
    answer,
    call_url,
    code_version,
    fmt,
    greeted,
    result_name,
    server_timings,
    silence_packet,
    start_interview,
    take_turn,
)
from benchmarks.voice_eval import lag_buckets, lag_summary, scrape

LAG_P99_TARGET_MS = 20.0
LAG_MAX_TARGET_MS = 60.0


def offline_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """`python -m server` on the offline providers (no key), on loopback."""
    return {
        "OPENAI_API_KEY": "",
        "VIVA_PROVIDERS": "offline",
        "VIVA_RTC_HOST_ADDRESSES": "127.0.0.1",
        "VIVA_DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        # the interviews are set up over REST, whose replies would each be synthesized
        # too (minutes for 10 calls on one core); calls speak whatever this says
        "VIVA_TTS": "false",
        **settings,
    }


@dataclass
class OfflineTalker:
    """One call's caller, its interview, and the turns it finished."""

    number: int
    caller: BenchCaller | None = None
    session: str = ""
    user: str = ""
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    results: list[TurnResult] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)  # when each turn's reply was played


async def talk(
    talker: OfflineTalker,
    http: aiohttp.ClientSession,
    base: str,
    spoken: list[Answer],
    silence: bytes,
    delay: float,
    patience: float,
) -> None:
    talker.user = f"bench-capoff-{talker.number}-{random.randrange(1 << 30)}"
    talker.session = await start_interview(http, base, talker.user, 30)
    await asyncio.sleep(delay)
    talker.caller = BenchCaller(http, call_url(base, talker.session, talker.user), silence)
    try:
        await greeted(talker.caller, patience)
        talker.ready.set()
        await asyncio.sleep(random.uniform(0.0, 6.0))
        turn = 0
        while True:
            piece = spoken[(talker.number + turn) % len(spoken)]
            result = await take_turn(talker.caller, piece, patience, talker.number, turn)
            talker.results.append(result)
            talker.done_at.append(time.monotonic())
            turn += 1
            await asyncio.sleep(random.uniform(0.3, 0.8))
    finally:
        with contextlib.suppress(Exception):
            await talker.caller.hang_up()


def thread_names(pid: int) -> dict[int, str]:
    names: dict[int, str] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            names[int(task.name)] = (task / "comm").read_text().strip()
    return names


def by_name(shares: dict[int, float], names: dict[int, str]) -> dict[str, float]:
    """CPU shares added up by thread name, digits dropped (asyncio_3 → asyncio_)."""
    totals: dict[str, float] = {}
    for tid, share in shares.items():
        name = re.sub(r"\d+$", "", names.get(tid, "?"))
        totals[name] = totals.get(name, 0.0) + share
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def turns_total(metrics: str) -> float:
    found = re.findall(r'^viva_turns_total\{[^}]*path="webrtc"[^}]*\} (\S+)$', metrics, re.M)
    return sum(float(count) for count in found)


async def run_n(calls: int, spoken: list[Answer], args: argparse.Namespace) -> dict[str, Any]:
    """N calls on a fresh offline server: the window's figures, then (maybe) a profile."""
    silence = silence_packet()
    with tempfile.TemporaryDirectory(prefix="viva-bench-") as folder:
        env = offline_env(Path(folder), **dict(s.split("=", 1) for s in args.env))
        tree = Path(args.server_tree) if args.server_tree else None
        async with ServerProcess(env, cwd=tree) as server:
            await asyncio.sleep(1.0)
            talkers = [OfflineTalker(n) for n in range(calls)]
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
                    before = await scrape(http, server.base)
                    meter, lag = CpuMeter(server.pid), LoopLag()
                    with OtherLoad(server.pid) as other:
                        async with lag:
                            start = time.monotonic()
                            meter.start()
                            await asyncio.sleep(args.seconds)
                            meter.stop()
                            end = time.monotonic()
                    after = await scrape(http, server.base)
                    rss = rss_mb(server.pid)
                    names = thread_names(server.pid)
                    profile_to = None
                    if args.profile_seconds and calls == max(args.calls):
                        profile_to = RESULTS / f"capacity-offline-profile-{calls}.txt"
                        if not await asyncio.to_thread(
                            profile, server.pid, args.profile_seconds, profile_to, args.native
                        ):
                            profile_to = None
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                for t in talkers:
                    if not t.session:
                        continue
                    timings = await server_timings(http, server.base, t.session, t.user)
                    for result, timing in zip(t.results, timings, strict=False):
                        result.server = timing
    figures = [window_figures(t, start, end) for t in talkers if t.caller]  # type: ignore[arg-type]
    lag_p99, lag_max = lag_summary(lag_buckets(before), lag_buckets(after))
    turns = turns_total(after) - turns_total(before)
    cpu_s = meter.share * meter.seconds
    # voice to voice over every turn that ended after the warm-up (the window's and later)
    measured = [
        r
        for t in talkers
        for r, done in zip(t.results, t.done_at, strict=True)
        if done >= start and r.voice_to_voice_ms is not None
    ]
    v2v = [r.voice_to_voice_ms for r in measured if r.voice_to_voice_ms is not None]
    parts = [split(r) for r in measured]
    return {
        "calls": calls,
        "seconds": end - start,
        "failed_callers": [t.number for t in talkers if t.caller is None],
        "server_cpu_share": meter.share,
        "server_main_thread_share": meter.main_thread_share,
        "server_kernel_share": meter.kernel_share,
        "server_thread_shares": meter.thread_shares,
        "server_shares_by_thread_name": by_name(meter.thread_shares, names),
        "rss_mb": rss,
        "turns": turns,
        "cpu_per_turn_s": cpu_s / turns if turns else None,
        "loop_lag_p99_ms_at_most": lag_p99,
        "loop_lag_max_ms_at_most": lag_max,
        "lag_target_met": lag_p99 <= LAG_P99_TARGET_MS and lag_max <= LAG_MAX_TARGET_MS,
        "min_fps": min(f["fps"] for f in figures),
        "max_gap_ms": max(f["max_gap_ms"] for f in figures),
        "real_time": all(f["fps"] >= MIN_FPS and f["max_gap_ms"] <= MAX_GAP_MS for f in figures),
        "candidate_share": sum(f["candidate_share"] for f in figures) / len(figures),
        "assistant_share": sum(f["assistant_share"] for f in figures) / len(figures),
        "voice_to_voice_ms": {
            "turns": len(v2v),
            "p50": percentile(v2v, 50),
            "p95": percentile(v2v, 95),
            "max": max(v2v, default=None),
            "all": v2v,
        },
        "split_ms": {
            name: {"p50": percentile(values, 50), "p95": percentile(values, 95)}
            for name in SPLIT
            if (values := [p[name] for p in parts if p[name] == p[name]])
        },
        "caller_loop_lag_max_ms": lag.max_ms(),
        "other_load_share": other.share,
        "per_caller": figures,
        "profile": str(profile_to) if profile_to else None,
    }


SPLIT = {
    "detect": "caller's end of speech → server's end of turn (the silence the rule waits for)",
    "transcript": "server's end of turn → Whisper's words (0 or less: heard at the pause)",
    "server": "server's end of turn → first reply frame sent",
}


def split(result: TurnResult) -> dict[str, float]:
    """Where one turn's voice-to-voice went (the caller's and server's monotonic clocks are
    one on one machine: the server's "speech end" event marks its end of turn)."""
    nan = float("nan")
    server = result.server
    end_of_turn = server.get("end_of_turn", nan)
    return {
        "detect": (result.turn_seen - result.speech_end) * 1000,
        "transcript": server.get("transcript", nan) - end_of_turn,
        "server": server.get("first_audio_sent", nan) - end_of_turn,
    }


def row(r: dict[str, Any]) -> list[str]:
    cpu = r["server_cpu_share"]
    v2v = r["voice_to_voice_ms"]
    return [
        str(r["calls"]),
        f"{cpu * 100:.1f} %",
        f"{cpu / r['calls'] * 100:.2f} %",
        f"{r['server_main_thread_share'] / max(cpu, 1e-9) * 100:.0f} %",
        f"{r['turns']:.0f}",
        fmt(r["cpu_per_turn_s"] * 1000 if r["cpu_per_turn_s"] else None, 0),
        f"≤ {r['loop_lag_p99_ms_at_most']:g}",
        f"≤ {r['loop_lag_max_ms_at_most']:g}",
        f"{r['min_fps']:.2f}",
        f"{r['max_gap_ms']:.0f}",
        "yes" if r["real_time"] and not r["failed_callers"] else "NO",
        fmt(r["caller_loop_lag_max_ms"]),
        f"{fmt(v2v['p50'])} / {fmt(v2v['p95'])} ({v2v['turns']})",
        f"{r['candidate_share'] * 100:.0f} / {r['assistant_share'] * 100:.0f} %",
        f"{r['rss_mb']:.0f}",
        f"{r['other_load_share'] * 100:.0f} %",
    ]


async def run(args: argparse.Namespace) -> None:
    pin_to_core(1)
    random.seed(9)
    texts = [
        f"{a} {b}" for a, b in zip(ANSWER_TEXTS, ANSWER_TEXTS[1:] + ANSWER_TEXTS[:1], strict=True)
    ]
    spoken = [answer(text) for text in texts]  # about seven seconds each
    # the callers' own full collections (Piper, aiortc and av loaded here too) stalled
    # every caller at once for 100-400 ms: a gap that was this process's, not the server's
    gc.collect()
    gc.freeze()
    runs: list[dict[str, Any]] = []
    for calls in args.calls:
        runs.append(await run_n(calls, spoken, args))
        if args.until_late and not runs[-1]["real_time"]:
            break
    sustained = max((r["calls"] for r in runs if r["real_time"]), default=0)
    print(
        f"\nCapacity, offline providers (Whisper tiny.en, Piper, offline chat): server on "
        f"core 0, window {args.seconds:.0f} s after {args.warmup:.0f} s of warm-up\n"
    )
    report(
        result_name("capacity-offline", args.label),
        [
            "calls",
            "server CPU",
            "CPU per call",
            "in loop thread",
            "turns",
            "CPU per turn ms",
            "loop lag p99 ms",
            "loop lag max ms",
            "min frames/s",
            "max gap ms",
            "real time",
            "caller lag max ms",
            "voice to voice p50 / p95 ms (turns)",
            "talk cand/asst",
            "RSS MB",
            "other load",
        ],
        [row(r) for r in runs],
        {
            "code": code_version(),
            "server_tree": args.server_tree,
            "env": args.env,
            "runs": runs,
            "sustained_calls": sustained,
        },
    )
    print(
        f"\none core sustained {sustained} calls in real time (largest N measured: "
        f"{max(r['calls'] for r in runs)})"
    )
    print("\nserver CPU by thread (% of a core):")
    for r in runs:
        shares = ", ".join(
            f"{name} {share * 100:.1f}"
            for name, share in r["server_shares_by_thread_name"].items()
            if share >= 0.002
        )
        print(f"  {r['calls']} calls: {shares}")
    print("\nvoice to voice, where it went (p50 / p95 ms):")
    for r in runs:
        parts = ", ".join(
            f"{name} {fmt(v['p50'])} / {fmt(v['p95'])}" for name, v in r["split_ms"].items()
        )
        print(f"  {r['calls']} calls: {parts}")
    print("\n" + "\n".join(f"{name}: {meaning}" for name, meaning in SPLIT.items()))
    print_profiles(runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 5, 10, 15])
    parser.add_argument("--seconds", type=float, default=40.0, help="measurement window")
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument(
        "--until-late",
        action="store_true",
        help="stop after the first N at which a caller fell below real time",
    )
    parser.add_argument(
        "--env",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="extra server settings (e.g. VIVA_WHISPER_CONCURRENCY=2)",
    )
    parser.add_argument(
        "--server-tree",
        metavar="DIR",
        help="run the server from this checkout (a git worktree of another commit), for "
        "before/after pairs; the callers stay this checkout's",
    )
    parser.add_argument("--label", default="", help="bench-results/capacity-offline-LABEL.json")
    parser.add_argument("--profile-seconds", type=float, default=0.0)
    parser.add_argument("--native", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--timeout", type=float, default=120.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
