"""The fake OpenAI-compatible provider for the voice benchmarks, in a process of its own.

Its CPU must not count as the server's, so the benchmarks start it with `taskset -c 1`
(the callers' core) and point the server at it. Provider time is then known exactly:

* speech-to-text answers `--answer` after `--stt-delay` seconds;
* a streamed chat (the acknowledgement) sends its first word after `--first-token-delay`,
  then one word per token at `--tokens-per-second` (unpaced when omitted); a JSON chat
  (question generation while setting up) answers at once with `amount` short questions;
* speech (response_format="pcm", 24 kHz) sends its first bytes after `--tts-first-byte`,
  then streams 100 ms chunks `--speech-rate` times faster than real time. The audio is a
  voiced-sounding buzz (140 Hz with harmonics, 4 syllables a second, never silent) lasting
  len(text) / `--chars-per-second` seconds.

It prints `listening <base_url>` once ready, and on SIGTERM writes how late its own event
loop ran (the delays above are only as exact as that) to `--stats` as JSON.

    python -m benchmarks.fake_provider --stt-delay 0.3 --first-token-delay 0.35 \
        --tokens-per-second 40 --tts-first-byte 0.15
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import time
from pathlib import Path

import numpy as np
from aiohttp import web

from benchmarks.common import percentile
from tests.fake_openai import (
    CHAT,
    SPEECH,
    TRANSCRIPTIONS,
    FakeOpenAI,
    Received,
    Reply,
    _chunk,
    _words,
    default_speech,
)

PCM_RATE = 24000
CHUNK_S = 0.1
ANSWER = (
    "I would put the slow work on a queue, retry it with backoff, and watch the queue "
    "depth so that I know when to add workers."
)
ACKNOWLEDGEMENT = "Thanks, that is a clear answer."
QUESTIONS = (
    "How would you design a rate limiter?",
    "How do you find a memory leak?",
    "When would you pick a message queue?",
    "How do you make a deploy safe?",
    "How would you cache a slow query?",
    "How do you test code that uses time?",
)
_AMOUNT = re.compile(r"exactly (\d+) interview questions")


def voiced_buzz(seconds: float, rate: int = PCM_RATE) -> bytes:
    """Speech-like s16 audio: a 140 Hz buzz with harmonics, its level rising and falling
    four times a second but never under a quarter of its peak (every 20 ms frame is loud)."""
    t = np.arange(int(seconds * rate)) / rate
    buzz = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in (1, 2, 3, 4))
    envelope = 0.625 + 0.375 * np.cos(2 * np.pi * 4 * t)
    return (buzz * envelope * 6000).astype("<i2").tobytes()


class BenchmarkProvider:
    """The fake's behaviours for the three routes, from the delays it was given."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.audio = voiced_buzz(60.0)  # sliced per request: no synthesis work while serving

    def chat(self, request: Received) -> Reply:
        body = request.json or {}
        if body.get("stream"):
            return Reply.chat(
                self.args.ack,
                delay=self.args.first_token_delay,
                tokens_per_second=self.args.tokens_per_second,
            )
        prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
        match = _AMOUNT.search(prompt)
        if match is None:  # a collector reading: the setup answers never need one
            return Reply.chat('{"intent": "invalid"}', delay=0.0)
        amount = int(match.group(1))
        questions = [f"{QUESTIONS[i % len(QUESTIONS)][:-1]}, case {i + 1}?" for i in range(amount)]
        return Reply.chat(json.dumps({"questions": questions}), delay=0.0)

    def transcription(self, _request: Received) -> Reply:
        return Reply(json={"text": self.args.answer}, delay=self.args.stt_delay)

    def speech(self, request: Received) -> Reply:
        body = request.json or {}
        if body.get("response_format") != "pcm":
            return default_speech(request)
        seconds = max(0.3, len(str(body.get("input", ""))) / self.args.chars_per_second)
        size = int(seconds * PCM_RATE) * 2
        step = int(CHUNK_S * PCM_RATE) * 2
        data = self.audio[: min(size, len(self.audio))]
        chunks = tuple(data[i : i + step] for i in range(0, len(data), step))
        return Reply(
            chunks=chunks,
            content_type="audio/pcm",
            delay=self.args.tts_first_byte,
            tokens_per_second=self.args.speech_rate / CHUNK_S,
        )


class BenchmarkFake(FakeOpenAI):
    """FakeOpenAI paced against a clock, keeping no record of requests.

    The test fake sleeps 1/rate between pieces, so each piece's lateness adds up (about
    1 ms a token here); a benchmark subtracts the nominal time, so the n-th piece is sent
    at first + n/rate instead. Requests are not kept (a benchmark sends thousands).
    """

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await super()._handle(request)
        finally:
            self.requests.clear()

    async def _chat(
        self, request: web.Request, received: Received, reply: Reply
    ) -> web.StreamResponse:
        body = received.json or {}
        if not body.get("stream"):
            return await super()._chat(request, received, reply)
        model = body.get("model", "fake-model")
        response = web.StreamResponse(
            status=reply.status,
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                **reply.headers,
            },
        )
        await response.prepare(request)
        pieces = reply.pieces if reply.pieces is not None else _words(reply.content or "")
        await _paced(
            self._pace(reply),
            [_event(_chunk(model, {"content": piece}, None)) for piece in pieces],
            response,
        )
        await response.write(_event(_chunk(model, {}, "stop")) + b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _stream_raw(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        response = web.StreamResponse(
            status=reply.status, headers={"Content-Type": reply.content_type, **reply.headers}
        )
        await response.prepare(request)
        await _paced(self._pace(reply), list(reply.chunks or ()), response)
        await response.write_eof()
        return response


def _event(payload: dict[str, object]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


async def _paced(pause: float, pieces: list[bytes], response: web.StreamResponse) -> None:
    """Write piece n at first + n * pause (the first at once)."""
    loop = asyncio.get_running_loop()
    first = loop.time()
    for number, piece in enumerate(pieces):
        wait = first + number * pause - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        await response.write(piece)


async def loop_lag(
    samples: list[float], period: float = 0.01, stalls: list[tuple[float, float]] | None = None
) -> None:
    """How late the event loop wakes up from a short sleep, sampled continuously; lags over
    50 ms also go to `stalls` as (monotonic time it ended, seconds)."""
    while True:
        began = time.monotonic()
        await asyncio.sleep(period)
        ended = time.monotonic()
        samples.append(ended - began - period)
        if stalls is not None and samples[-1] > 0.05:
            stalls.append((ended, samples[-1]))


async def serve(args: argparse.Namespace) -> None:
    provider = BenchmarkProvider(args)
    fake = BenchmarkFake()
    fake.set_default(CHAT, provider.chat)
    fake.set_default(TRANSCRIPTIONS, provider.transcription)
    fake.set_default(SPEECH, provider.speech)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    lags: list[float] = []
    stalls: list[tuple[float, float]] = []
    async with fake:
        print(f"listening {fake.base_url}", flush=True)
        monitor = asyncio.create_task(loop_lag(lags, stalls=stalls))
        try:
            await asyncio.wait_for(stop.wait(), args.max_seconds)
        except TimeoutError:
            pass  # bounded: a benchmark that died does not leave this running
        monitor.cancel()
    if args.stats:
        write_stats(Path(args.stats), lags, stalls)


def write_stats(path: Path, lags: list[float], stalls: list[tuple[float, float]]) -> None:
    ms = [lag * 1000 for lag in lags]
    path.write_text(
        json.dumps(
            {
                "loop_lag_ms": {
                    "p50": percentile(ms, 50),
                    "p95": percentile(ms, 95),
                    "p99": percentile(ms, 99),
                    "max": max(ms, default=0.0),
                },
                "stalls": stalls,
            }
        )
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stt-delay", type=float, default=0.0)
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    parser.add_argument("--tokens-per-second", type=float, default=None)
    parser.add_argument("--tts-first-byte", type=float, default=0.0)
    parser.add_argument(
        "--speech-rate",
        type=float,
        default=4.0,
        help="speech streams this many times faster than real time",
    )
    parser.add_argument("--chars-per-second", type=float, default=15.0)
    parser.add_argument("--answer", default=ANSWER)
    parser.add_argument("--ack", default=ACKNOWLEDGEMENT)
    parser.add_argument("--stats", help="write the event-loop lag here on exit (JSON)")
    parser.add_argument("--max-seconds", type=float, default=900.0)
    return parser.parse_args(argv)


def main() -> None:
    asyncio.run(serve(parse_args()))


if __name__ == "__main__":
    main()
