"""Benchmark 2, voice-to-voice against the ideal, with streaming on and off.

One aiortc caller (this process, core 1) answers interview questions; the server (core 0)
uses the fake provider (own process, core 1) with realistic delays: speech-to-text
300 ms, first token 350 ms then 40 tokens/s (the fake sends one word per token), speech
first byte 150 ms. The caller measures from the moment the last voiced frame of its
answer left its microphone to the arrival of the first non-silent frame of the reply.

The ideal is what the providers and the turn-taking rule alone cost:

    ideal = silence window + stt + first token + (words of the first sentence − 1) / rate
            + speech first byte

Viva now transcribes speculatively once the candidate has paused (VIVA_EARLY_TRANSCRIPT_MS,
400 ms): when that transcript stands, speech-to-text ran inside the silence window and
the server can beat this ideal. The table also gives the ratio to the ideal without stt,
the bound for a server that overlaps the two, and how many turns used an early transcript.

"The first sentence" is the first sentence of the *acknowledgement* the model streams:
speech can start once it is complete. The server appends "Next question: …" itself, with
no provider time, so it never counts; and a sentence is only known to be complete when
the text after it starts (the next token, or, for the last one, the end of the stream
followed at once by the appended question), which costs nothing extra here.

Each acknowledgement is run with streaming on (sentences spoken as they complete) and
off (VIVA_STREAMING=false: the whole reply, then speech). With the one-sentence
acknowledgement the prompt asks for, the first sentence *is* the whole stream, so
streaming can only win the turn's bookkeeping; with two sentences it wins the second's
tokens.

Run: python -m benchmarks.voice_to_voice [--turns 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import percentile, pin_to_core, report
from benchmarks.voice import (
    Answer,
    BenchCaller,
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
from voice.sentences import SentenceSplitter

ACKS = {
    "one sentence": "Thanks, putting the slow work on a queue with retries is a sensible way to "
    "keep requests fast.",
    "two sentences": "That makes sense. Putting the slow work on a queue with retries keeps "
    "requests fast and failures visible.",
}
REALISTIC = Delays(stt=0.3, first_token=0.35, tokens_per_second=40, tts_first_byte=0.15)


def first_sentence_words(ack: str) -> int:
    splitter = SentenceSplitter()
    sentences = splitter.push(ack + " Next question: ")
    return len((sentences[0] if sentences else ack).split(" "))


def early_transcript(timings: dict[str, float]) -> bool:
    """Viva transcribed during the silence window (speculatively, once the candidate paused):
    the transcript was ready sooner after the end of turn than the fake takes."""
    if "transcript" not in timings or "end_of_turn" not in timings:
        return False
    return timings["transcript"] - timings["end_of_turn"] < REALISTIC.stt * 1000


def ideal_ms(silence_ms: int, delays: Delays, ack: str) -> float:
    rate = delays.tokens_per_second
    stream = (first_sentence_words(ack) - 1) / rate if rate else 0.0
    return silence_ms + (delays.stt + delays.first_token + stream + delays.tts_first_byte) * 1000


SPLIT = {
    "detect": "caller's end of speech → server's end of turn, minus the silence window "
    "(inbound jitter buffer, VAD hangover)",
    "server": "server's end of turn → first audio frame sent (provider time + overhead)",
    "deliver": "first frame sent → first loud frame at the caller (encode, outbound "
    "jitter buffer, decode)",
}


def split(result: TurnResult, silence_ms: int) -> dict[str, float]:
    """Where one turn's voice-to-voice time went; the caller's and server's clocks are one
    (CLOCK_MONOTONIC on one machine): the server's "speech end" event marks its end of turn.
    """
    total = result.voice_to_voice_ms or 0.0
    detect = (result.turn_seen - result.speech_end) * 1000
    server = result.server.get("first_audio_sent", float("nan")) - result.server.get(
        "end_of_turn", float("nan")
    )
    return {"detect": detect - silence_ms, "server": server, "deliver": total - detect - server}


async def one_call(base: str, spoken: list[Answer], patience: float) -> list[TurnResult]:
    silence = silence_packet()
    async with aiohttp.ClientSession() as http:
        user = f"bench-v2v-{random.randrange(1 << 30)}"
        session = await start_interview(http, base, user, len(spoken) + 2)
        caller = BenchCaller(http, call_url(base, session, user), silence)
        results: list[TurnResult] = []
        try:
            await greeted(caller, patience)
            for turn, piece in enumerate(spoken):
                await asyncio.sleep(random.uniform(0.3, 0.8))
                results.append(await take_turn(caller, piece, patience, 0, turn))
        finally:
            await caller.hang_up()
        for result, timings in zip(
            results, await server_timings(http, base, session, user), strict=False
        ):
            result.server = timings
    return results


async def run(args: argparse.Namespace) -> None:
    pin_to_core(1)
    random.seed(2)
    spoken = answers(args.turns)
    rows: list[list[Any]] = []
    data: dict[str, Any] = {
        "code": code_version(),
        "server": server_label(args.prototype),
        "delays": vars(REALISTIC),
        "silence_ms": args.silence_ms,
        "runs": [],
    }
    for name in args.acks:
        ack = ACKS[name]
        ideal = ideal_ms(args.silence_ms, REALISTIC, ack)
        extra = ["--ack", ack, "--chars-per-second", "40"]  # replies short: quicker runs
        async with ProviderProcess(REALISTIC, extra) as provider:
            for streaming in (True, False):
                with tempfile.TemporaryDirectory(prefix="viva-bench-") as folder:
                    env = server_env(
                        provider,
                        Path(folder),
                        VIVA_STREAMING="true" if streaming else "false",
                        VIVA_VAD_SILENCE_MS_INTERVIEW=str(args.silence_ms),
                    )
                    async with voice_server(env, args.prototype) as server, LoopLag() as lag:
                        with OtherLoad(server.pid, provider.pid) as other:
                            results = await one_call(server.base, spoken, args.timeout)
                measured = [v for r in results if (v := r.voice_to_voice_ms) is not None]
                parts = [split(r, args.silence_ms) for r in results if r.voice_to_voice_ms]
                p50, p95 = percentile(measured, 50), percentile(measured, 95)
                early = sum(1 for r in results if early_transcript(r.server))
                hidden = ideal - REALISTIC.stt * 1000  # the ideal when stt runs in the silence
                rows.append(
                    [
                        name,
                        "on" if streaming else "off",
                        len(measured),
                        f"{ideal:.0f}",
                        fmt(p50),
                        fmt(p95),
                        f"{p50 / ideal:.3f}",
                        f"{p95 / ideal:.3f}",
                        f"{early}/{len(results)}",
                        f"{p50 / hidden:.3f}",
                        *(fmt(percentile([p[k] for p in parts], 50)) for k in SPLIT),
                        f"{ideal - args.silence_ms:.0f}",
                        f"{other.share * 100:.0f} %",
                    ]
                )
                data["runs"].append(
                    {
                        "ack": ack,
                        "streaming": streaming,
                        "ideal_ms": ideal,
                        "first_sentence_words": first_sentence_words(ack),
                        "voice_to_voice_ms": {
                            "p50": p50,
                            "p95": p95,
                            "max": max(measured, default=None),
                            "all": measured,
                        },
                        "ratio_p50": p50 / ideal,
                        "ratio_p95": p95 / ideal,
                        "early_transcripts": early,
                        "ideal_stt_hidden_ms": hidden,
                        "ratio_p50_stt_hidden": p50 / hidden,
                        "split_ms_p50": {k: percentile([p[k] for p in parts], 50) for k in SPLIT},
                        "caller_loop_lag_p95_ms": lag.p95_ms(),
                        "other_load_share": other.share,
                        "turns_raw": [vars(r) for r in results],
                    }
                )
        data["runs"][-1]["provider_loop_lag_ms"] = provider.stats.get("loop_lag_ms")
    print(
        f"\nVoice-to-voice (caller's end of speech → first reply audio), ideal = silence "
        f"{args.silence_ms} + stt 300 + first token 350 + first sentence's remaining "
        "tokens at 40/s + speech 150 ms\n"
    )
    print(f"server: {server_label(args.prototype)}\n")
    report(
        result_name("voice_to_voice", "prototype" if args.prototype else ""),
        [
            "acknowledgement",
            "streaming",
            "turns",
            "ideal ms",
            "p50 ms",
            "p95 ms",
            "p50 / ideal",
            "p95 / ideal",
            "early stt",
            "p50 / ideal, stt hidden",
            "detect p50",
            "server p50",
            "deliver p50",
            "ideal server",
            "other load",
        ],
        rows,
        data,
    )
    print("\n" + "\n".join(f"{name}: {meaning}" for name, meaning in SPLIT.items()))
    print(
        "ideal server: the ideal without the silence window (what 'server' would be with "
        "no overhead)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument(
        "--silence-ms",
        type=int,
        default=1200,
        help="VIVA_VAD_SILENCE_MS_INTERVIEW (the product's default)",
    )
    parser.add_argument("--acks", nargs="+", choices=list(ACKS), default=list(ACKS))
    parser.add_argument(
        "--prototype",
        metavar="CHANGES",
        help="run benchmarks.prototype with these changes (send,receive,prefetch) instead of "
        "server: what the proposed media changes would buy",
    )
    parser.add_argument("--timeout", type=float, default=60.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
