"""Benchmark 1, turn overhead: the server's own time from end of turn to first audio sent.

N concurrent aiortc callers (this process, core 1) each answer several interview
questions with Piper speech; the server (core 0) talks to the fake provider (its own
process, core 1) whose delays are known. For every answered turn the transcript row's
timings give, in ms from the end of speech, end_of_turn and first_audio_sent, and

    overhead = first_audio_sent − end_of_turn − (stt + first token + speech first byte)

(the fake streams the whole acknowledgement right after its first token, so no token
time is left to subtract). Viva transcribes speculatively once the candidate pauses, so
the transcript is often ready at the end of turn: then the stt delay was spent inside the
silence window, is not subtracted, and the turns are counted in the "early stt" column.
The stages split the same interval, each minus its own delay:
  stt    transcript − end_of_turn − stt delay          (hints, WAV, request, response)
  chat   first_token − transcript − first-token delay  (turn setup, the chat request)
  tts    first_sentence_synthesized − first_token − speech delay (sentence cut, request)
  queue  first_audio_queued − first_sentence_synthesized
  send   first_audio_sent − first_audio_queued           (waiting for the next 20 ms frame)

Run: python -m benchmarks.turn_overhead [--calls 1 10 20 --turns 4]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import ServerProcess, percentile, pin_to_core, report
from benchmarks.voice import (
    Answer,
    BenchCaller,
    CpuMeter,
    Delays,
    LoopLag,
    OtherLoad,
    ProviderProcess,
    TurnResult,
    answers,
    call_url,
    code_version,
    fmt,
    greeted,
    result_name,
    server_env,
    server_label,
    server_timings,
    silence_packet,
    start_interview,
    take_turn,
    voice_server,
)
from benchmarks.voice_eval import lag_buckets, lag_summary, scrape

STAGES = {
    "stt": ("end_of_turn", "transcript"),
    "chat": ("transcript", "first_token"),
    "tts": ("first_token", "first_sentence_synthesized"),
    "queue": ("first_sentence_synthesized", "first_audio_queued"),
    "send": ("first_audio_queued", "first_audio_sent"),
}


def early_transcript(timings: dict[str, float], delays: Delays) -> bool:
    """Whether speech-to-text ran inside the silence window (Viva transcribes speculatively
    once the candidate pauses): the transcript was ready sooner after the end of turn than
    the fake takes to transcribe, so its delay was not on the turn's path."""
    return timings["transcript"] - timings["end_of_turn"] < delays.stt * 1000


def on_path_ms(timings: dict[str, float], delays: Delays, stage: str | None) -> float:
    """Provider time a stage waited for (all stages when `stage` is None)."""
    stt = 0.0 if early_transcript(timings, delays) else delays.stt * 1000
    waits = {"stt": stt, "chat": delays.first_token * 1000, "tts": delays.tts_first_byte * 1000}
    return sum(waits.values()) if stage is None else waits.get(stage, 0.0)


def overhead_ms(timings: dict[str, float], delays: Delays) -> float | None:
    needed = ("end_of_turn", "transcript", "first_audio_sent")
    if not all(name in timings for name in needed):
        return None
    return timings["first_audio_sent"] - timings["end_of_turn"] - on_path_ms(timings, delays, None)


def stage_ms(timings: dict[str, float], stage: str, delays: Delays) -> float | None:
    begin, end = STAGES[stage]
    if not all(name in timings for name in (begin, end, "end_of_turn", "transcript")):
        return None
    return timings[end] - timings[begin] - on_path_ms(timings, delays, stage)


async def one_caller(
    number: int,
    http: aiohttp.ClientSession,
    base: str,
    spoken: list[Answer],
    silence: bytes,
    start_after: float,
    patience: float,
) -> list[TurnResult]:
    user = f"bench-{number}-{random.randrange(1 << 30)}"
    session = await start_interview(http, base, user, len(spoken) + 2)
    await asyncio.sleep(start_after)
    caller = BenchCaller(http, call_url(base, session, user), silence)
    results: list[TurnResult] = []
    try:
        await greeted(caller, patience)
        for turn, piece in enumerate(spoken):
            await asyncio.sleep(random.uniform(0.2, 0.6))  # the candidate gathers thoughts
            results.append(await take_turn(caller, piece, patience, number, turn))
    finally:
        await caller.hang_up()
    for result, timings in zip(
        results, await server_timings(http, base, session, user), strict=False
    ):
        result.server = timings
    return results


async def run_calls(
    calls: int, base: str, spoken: list[Answer], silence: bytes, stagger: float, patience: float
) -> list[TurnResult]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        batches = await asyncio.gather(
            *(
                one_caller(n, http, base, spoken, silence, stagger * n / max(calls, 1), patience)
                for n in range(calls)
            )
        )
    return [result for batch in batches for result in batch]


def chosen_server(env: dict[str, str], args: argparse.Namespace) -> ServerProcess:
    """This checkout's server (or the prototype), or another checkout's (--server-tree)."""
    if args.server_tree:
        return ServerProcess(env, cwd=Path(args.server_tree))
    return voice_server(env, args.prototype)


async def server_lag(base: str) -> dict[float, float]:
    """The server's event-loop lag histogram (cumulative bucket counts) from /metrics."""
    async with aiohttp.ClientSession() as http:
        return lag_buckets(await scrape(http, base))


async def run(args: argparse.Namespace) -> None:
    pin_to_core(1)
    random.seed(5)
    delays = Delays(
        stt=args.stt_delay, first_token=args.first_token_delay, tts_first_byte=args.tts_first_byte
    )
    spoken = answers(max(args.turns, args.min_turns), length_scale=0.9)
    silence = silence_packet()
    rows: list[list[Any]] = []
    stage_rows: list[list[Any]] = []
    data: dict[str, Any] = {
        "code": code_version(),
        "server": server_label(args.prototype),
        "delays": vars(delays),
        "turns_per_call": args.turns,
        "runs": [],
    }
    extra = ["--chars-per-second", str(args.chars_per_second)]
    with tempfile.TemporaryDirectory(prefix="viva-bench-") as folder:
        async with (
            ProviderProcess(delays, extra) as provider,
            # The fake recogniser answers any piece of an answer with the whole sentence,
            # so the adaptive rule would take a turn at every pause inside an answer and
            # the rest would barge in as a second turn (a run then ran out of questions
            # and waited for a reply that never came). This benchmark measures the time
            # after the turn is taken, which the end-of-turn rule does not change.
            chosen_server(server_env(provider, Path(folder), VIVA_END_OF_TURN="fixed"), args)
            as server,
        ):
            await run_calls(1, server.base, spoken[:1], silence, 0.0, args.timeout)  # warm-up
            for calls in args.calls:
                meter = CpuMeter(server.pid)
                began = time.monotonic()
                lag_before = await server_lag(server.base)
                meter.start()
                with OtherLoad(server.pid, provider.pid) as other:
                    async with LoopLag() as lag:
                        turns = max(args.turns, -(-args.min_turns // calls))
                        results = await run_calls(
                            calls, server.base, spoken[:turns], silence, args.stagger, args.timeout
                        )
                meter.stop()
                loop_p99, loop_max = lag_summary(lag_before, await server_lag(server.base))
                timings = [r.server for r in results]
                overheads = [o for t in timings if (o := overhead_ms(t, delays)) is not None]
                stages = {
                    name: [s for t in timings if (s := stage_ms(t, name, delays)) is not None]
                    for name in STAGES
                }
                early = sum(1 for t in timings if "transcript" in t and early_transcript(t, delays))
                rows.append(
                    [
                        calls,
                        len(overheads),
                        early,
                        fmt(percentile(overheads, 50), 1),
                        fmt(percentile(overheads, 95), 1),
                        fmt(max(overheads, default=None), 1),
                        f"{meter.share * 100:.0f} %",
                        f"≤ {loop_p99:g} / ≤ {loop_max:g}",
                        fmt(lag.p95_ms(), 1),
                        f"{other.share * 100:.0f} %",
                    ]
                )
                stage_rows.append(
                    [
                        calls,
                        *(
                            f"{fmt(percentile(v, 50), 1)} / {fmt(percentile(v, 95), 1)}"
                            for v in stages.values()
                        ),
                    ]
                )
                data["runs"].append(
                    {
                        "calls": calls,
                        "turns": len(overheads),
                        "early_transcripts": early,
                        "seconds": time.monotonic() - began,
                        "overhead_ms": {
                            "p50": percentile(overheads, 50),
                            "p95": percentile(overheads, 95),
                            "max": max(overheads, default=None),
                            "all": overheads,
                        },
                        "stages_ms": {
                            name: {"p50": percentile(v, 50), "p95": percentile(v, 95)}
                            for name, v in stages.items()
                        },
                        "server_cpu_share": meter.share,
                        "server_loop_lag_p99_ms_at_most": loop_p99,
                        "server_loop_lag_max_ms_at_most": loop_max,
                        "caller_loop_lag_p95_ms": lag.p95_ms(),
                        "other_load_share": other.share,
                        "turns_raw": [vars(r) for r in results],
                    }
                )
        data["provider_loop_lag_ms"] = provider.stats.get("loop_lag_ms")
    print(
        f"\nTurn overhead (ms; provider delays stt {delays.stt * 1000:.0f} + first token "
        f"{delays.first_token * 1000:.0f} + speech {delays.tts_first_byte * 1000:.0f} "
        "subtracted)\n"
    )
    print(f"server: {server_label(args.prototype)}\n")
    report(
        result_name("turn_overhead", "prototype" if args.prototype else "", args.label),
        [
            "calls",
            "turns",
            "early stt",
            "p50 ms",
            "p95 ms",
            "max ms",
            "server CPU",
            "server loop lag p99 / max ms",
            "caller lag p95 ms",
            "other load",
        ],
        rows,
        data,
    )
    print("\nWhere it goes, p50 / p95 ms per stage (each minus its provider delay)\n")
    header = ["calls", *STAGES]
    widths = [max(len(h), *(len(str(r[i])) for r in stage_rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in stage_rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    lag_ms = data.get("provider_loop_lag_ms") or {}
    print(
        f"\nfake provider loop lag p95 {fmt(lag_ms.get('p95'), 1)} ms, "
        f"max {fmt(lag_ms.get('max'), 1)} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 10, 20])
    parser.add_argument("--turns", type=int, default=4, help="answers per call")
    parser.add_argument(
        "--min-turns",
        type=int,
        default=12,
        help="fewer calls answer more, to have at least this many turns (a lone call's "
        "phase against the 20 ms playout clock shows only across many turns)",
    )
    parser.add_argument("--stt-delay", type=float, default=0.02)
    parser.add_argument("--first-token-delay", type=float, default=0.02)
    parser.add_argument("--tts-first-byte", type=float, default=0.02)
    parser.add_argument(
        "--chars-per-second",
        type=float,
        default=40.0,
        help="length of the fake's speech (replies are short, to keep it quick)",
    )
    parser.add_argument(
        "--stagger", type=float, default=4.0, help="callers start spread over this many seconds"
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
    parser.add_argument("--label", default="", help="bench-results/turn_overhead-LABEL.json")
    parser.add_argument("--timeout", type=float, default=60.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
