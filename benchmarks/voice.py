"""What the voice benchmarks share: the fake provider process, callers, interviews.

Callers are `tests.rtc_peer.Caller`s (loopback-only peers: no STUN server, host
candidates on 127.0.0.1) with a microphone that sends Opus packets encoded once, before
the run (aiortc sends an `av.Packet` from `recv()` as is), so a caller costs little CPU
and the callers' core keeps up with many of them. The microphone notes when the last
voiced frame of each answer left it: the caller's "end of speech".
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np
from aiortc.codecs.opus import OpusEncoder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from benchmarks.answers import COMPLETE, VOICED_RMS  # s16 RMS (-56 dBFS): audible speech
from benchmarks.common import (
    CLOCK_TICKS,
    RESULTS,
    ROOT,
    ServerProcess,
    cpu_seconds,
    percentile,
)
from benchmarks.fake_provider import loop_lag
from tests.rtc_peer import SILENT_RMS, Caller
from tests.speech_samples import speak
from voice.audio import resample_pcm

RATE = 48000
FRAME = 960
FRAME_S = FRAME / RATE
TIME_BASE = fractions.Fraction(1, RATE)


def code_version() -> dict[str, Any]:
    """The commit measured, and which files under viva/ differed from it (work in progress)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "changed": git("status", "--porcelain", "--", "viva").splitlines(),
    }


# -- the fake provider, in its own process on the callers' core -------------------------


@dataclass(frozen=True)
class Delays:
    """What the fake provider waits before answering (seconds; tokens per second)."""

    stt: float = 0.0
    first_token: float = 0.0
    tokens_per_second: float | None = None  # None: the whole reply right after the first token
    tts_first_byte: float = 0.0

    def argv(self) -> list[str]:
        args = [
            "--stt-delay",
            str(self.stt),
            "--first-token-delay",
            str(self.first_token),
            "--tts-first-byte",
            str(self.tts_first_byte),
        ]
        if self.tokens_per_second:
            args += ["--tokens-per-second", str(self.tokens_per_second)]
        return args


@dataclass
class ProviderProcess:
    """`python -m benchmarks.fake_provider` pinned to `core`; `base_url` once it listens."""

    delays: Delays
    extra: Sequence[str] = ()
    core: int | None = 1
    base_url: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    _process: asyncio.subprocess.Process | None = None
    _stats_path: Path = RESULTS / "fake-provider-stats.json"

    async def __aenter__(self) -> ProviderProcess:
        RESULTS.mkdir(exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "benchmarks.fake_provider",
            *self.delays.argv(),
            *self.extra,
            "--stats",
            str(self._stats_path),
        ]
        if self.core is not None and (os.cpu_count() or 1) > self.core:
            command = ["taskset", "-c", str(self.core), *command]
        self._process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), 30)
        if not line.startswith(b"listening "):
            raise RuntimeError(f"fake provider did not start: {line!r}")
        self.base_url = line.split()[1].decode()
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    async def __aexit__(self, *_exc: object) -> None:
        if self._process is None or self._process.returncode is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self._process.wait(), 10)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        with contextlib.suppress(OSError, ValueError):
            self.stats = json.loads(self._stats_path.read_text())


def voice_server(env: dict[str, str], prototype: str | None = None) -> ServerProcess:
    """The server on core 0; with `prototype`, benchmarks.prototype with those changes."""
    if prototype is None:
        return ServerProcess(env)
    return ServerProcess({**env, "VIVA_PROTOTYPE": prototype}, module="benchmarks.prototype")


def result_name(benchmark: str, *variants: str) -> str:
    """bench-results/<name>.json: one file per benchmark and variant (prototype, silent)."""
    return "-".join([benchmark, *(v for v in variants if v)])


def server_label(prototype: str | None) -> str:
    return "server" if prototype is None else f"benchmarks.prototype ({prototype})"


def server_env(provider: ProviderProcess, data_dir: Path, **settings: str) -> dict[str, str]:
    """Environment for `python -m server` against the fake provider, on loopback."""
    return {
        "OPENAI_API_KEY": "benchmark",
        "OPENAI_BASE_URL": provider.base_url,
        "VIVA_PROVIDERS": "openai",
        "VIVA_RTC_HOST_ADDRESSES": "127.0.0.1",
        "VIVA_DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        **settings,
    }


# -- speech, encoded once -------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A spoken answer as the Opus packets a caller sends, 20 ms each."""

    packets: tuple[bytes, ...]
    voiced_end: int  # packets up to and including the last voiced one

    @property
    def seconds(self) -> float:
        return len(self.packets) * FRAME_S

    @property
    def voiced_seconds(self) -> float:
        return self.voiced_end * FRAME_S


def opus_packets(pcm48: bytes) -> list[bytes]:
    """48 kHz mono s16 → Opus payloads, one per 20 ms, the way aiortc would send them."""
    encoder = OpusEncoder()
    count = -(-len(pcm48) // (FRAME * 2))
    data = pcm48.ljust((count + 3) * FRAME * 2, b"\0")  # 3 more frames flush the lookahead
    payloads: list[bytes] = []
    for index in range(count + 3):
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME)
        frame.planes[0].update(data[index * FRAME * 2 : (index + 1) * FRAME * 2])
        frame.sample_rate = RATE
        frame.pts = index * FRAME
        frame.time_base = TIME_BASE
        payloads += encoder.encode(frame)[0]
    return payloads[:count]


def silence_packet() -> bytes:
    """One Opus packet of digital silence (a few bytes), sent whenever the caller is quiet."""
    return opus_packets(bytes(FRAME * 2 * 10))[-1]


def answer(text: str, length_scale: float = 1.0) -> Answer:
    """`text` spoken by Piper (with its quarter second of room silence at each end)."""
    pcm = resample_pcm(speak(text, length_scale=length_scale).data, 16000, RATE)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    frames = samples[: len(samples) // FRAME * FRAME].reshape(-1, FRAME)
    loud = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > VOICED_RMS)
    return Answer(tuple(opus_packets(pcm)), int(loud[-1]) + 1 if len(loud) else 0)


ANSWER_TEXTS = COMPLETE  # the turn-taking set's complete answers, one list for both


def answers(
    count: int, length_scale: float = 1.0, texts: Sequence[str] = ANSWER_TEXTS
) -> list[Answer]:
    return [answer(texts[i % len(texts)], length_scale) for i in range(count)]


# -- the caller -----------------------------------------------------------------------


class PacketMic(MediaStreamTrack):
    """A microphone that sends pre-encoded answers, and a silence packet in between."""

    kind = "audio"

    def __init__(self, silence: bytes) -> None:
        super().__init__()
        self._silence = silence
        self._queue: deque[bytes] = deque()
        self._taken = 0
        self._voiced_end_at: int | None = None
        self._start: float | None = None
        self._pts = 0
        self.speech_ends: list[float] = []  # when each answer's last voiced frame was sent
        self.speaking: list[tuple[float, float]] = []  # (first, last) voiced frame sent
        self.speech_end_ms: list[float] = []  # the same moments on the audio timeline (ms)
        self.said_ms: list[float] = []  # where each answer starts on the audio timeline (ms)
        self._said_at: float | None = None

    def say(self, spoken: Answer) -> None:
        self.said_ms.append((self._pts + FRAME * (1 + len(self._queue))) * 1000 / RATE)
        self._voiced_end_at = self._taken + len(self._queue) + spoken.voiced_end
        self._queue.extend(spoken.packets)
        self._said_at = None

    @property
    def quiet(self) -> bool:
        return not self._queue

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME
            wait = self._start + self._pts / RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        payload = self._silence
        if self._queue:
            payload = self._queue.popleft()
            self._taken += 1
            now = time.monotonic()
            if self._said_at is None:
                self._said_at = now
            if self._taken == self._voiced_end_at:
                self.speech_ends.append(now)
                self.speech_end_ms.append((self._pts + FRAME) * 1000 / RATE)
                self.speaking.append((self._said_at, now))
        packet = av.Packet(payload)
        packet.pts = self._pts
        packet.time_base = TIME_BASE
        return packet


class BenchCaller(Caller):
    """A `Caller` whose microphone is a `PacketMic` (its peer is loopback-only, like every
    `Caller`'s: no STUN server, host candidates on 127.0.0.1)."""

    def __init__(self, http: aiohttp.ClientSession, url: str, silence: bytes) -> None:
        self.packet_mic = PacketMic(silence)
        super().__init__(http, url, mic=self.packet_mic)

    def first_loud_after(self, moment: float) -> float | None:
        """Arrival time of the first non-silent frame received after `moment`."""
        return next((at for at, rms in self.frames if at >= moment and rms > SILENT_RMS), None)

    def received_between(self, start: float, end: float) -> list[tuple[float, float]]:
        return [(at, rms) for at, rms in self.frames if start <= at <= end]


def is_event(kind: str, **values: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == kind and all(e.get(k) == v for k, v in values.items())


@dataclass
class TurnResult:
    caller: int
    turn: int
    speech_end: float  # caller's clock: the last audible frame left the microphone
    turn_seen: float  # caller's clock: the server's "speech end" event (its end of turn) arrived
    first_loud: float | None  # caller's clock: the first non-silent reply frame arrived
    server: dict[str, float] = field(default_factory=dict)  # the transcript row's timings

    @property
    def voice_to_voice_ms(self) -> float | None:
        if self.first_loud is None or self.first_loud != self.first_loud:
            return None
        return (self.first_loud - self.speech_end) * 1000


async def greeted(caller: BenchCaller, patience: float) -> None:
    """Connect and wait until the opening question has been spoken."""
    await caller.connect()
    await caller.wait_for(is_event("assistant_done"), patience)
    await caller.wait_for(is_event("state", state="listening"), patience)


async def take_turn(
    caller: BenchCaller, spoken: Answer, patience: float, number: int = 0, turn: int = 0
) -> TurnResult:
    """Say one answer and wait until the reply has been played."""
    mark = len(caller.events)
    ends = len(caller.packet_mic.speech_ends)
    caller.packet_mic.say(spoken)
    seen = await caller.wait_for(is_event("speech", event="end"), patience, after=mark)
    await caller.wait_for(is_event("assistant_done"), patience, after=mark)
    await caller.wait_for(is_event("state", state="listening"), patience, after=mark)
    deadline = time.monotonic() + patience  # the server may answer a pause mid-answer
    while len(caller.packet_mic.speech_ends) <= ends and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(FRAME_S)  # the mic notes its end from its sender's task
    speech_end = caller.packet_mic.speech_ends[ends]
    return TurnResult(number, turn, speech_end, seen["_at"], caller.first_loud_after(speech_end))


# -- interviews over REST -------------------------------------------------------------


async def start_interview(http: aiohttp.ClientSession, base: str, user: str, questions: int) -> str:
    """A fresh interview of `questions` questions; returns its session id."""
    setup = ("yes", "backend engineer", "technical", "mid", "Python and PostgreSQL", str(questions))
    async with http.post(f"{base}/api/collector/start", json={"user_id": user}) as response:
        collector = (await response.json())["collector_session_id"]
    body: dict[str, Any] = {}
    for reply in setup:
        async with http.post(
            f"{base}/api/collector/{collector}/turn", json={"user_id": user, "user_message": reply}
        ) as response:
            body = await response.json()
    interview = body["interview_id"]
    async with http.post(
        f"{base}/api/interviews/{interview}/start", json={"user_id": user}
    ) as response:
        return str((await response.json())["interview_session_id"])


def call_url(base: str, session: str, user: str) -> str:
    return f"{base.replace('http', 'ws', 1)}/api/interviews/sessions/{session}/call?user_id={user}"


async def server_timings(
    http: aiohttp.ClientSession, base: str, session: str, user: str
) -> list[dict[str, float]]:
    """The timings of each answered turn, in order (the greeting row has none)."""
    async with http.get(
        f"{base}/api/transcripts/interview/{session}", params={"user_id": user}
    ) as response:
        items = (await response.json())["items"]
    return [
        item["timings"] for item in items if item["speaker"] == "assistant" and item.get("timings")
    ]


# -- measuring ------------------------------------------------------------------------


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds so far of each thread of `pid` (the main thread's id is `pid`)."""
    seconds: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            seconds[int(task.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return seconds


class CpuMeter:
    """CPU seconds a process used between `start()` and `stop()`, as a share of one core."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._cpu = 0.0
        self._at = 0.0
        self.share = 0.0
        self.seconds = 0.0
        self.main_thread_share = 0.0  # the event loop's thread; the rest ran in other threads
        self.kernel_share = 0.0  # system time: syscalls, loopback networking, futexes
        self._kernel = 0.0
        self._threads: dict[int, float] = {}
        self.thread_shares: dict[int, float] = {}  # threads alive at stop(), by thread id

    def _system_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[12]) / CLOCK_TICKS

    def start(self) -> None:
        self._cpu, self._at = cpu_seconds(self.pid), time.monotonic()
        self._kernel = self._system_seconds()
        self._threads = thread_cpu(self.pid)

    def stop(self) -> float:
        self.seconds = time.monotonic() - self._at
        self.share = (cpu_seconds(self.pid) - self._cpu) / self.seconds
        self.kernel_share = (self._system_seconds() - self._kernel) / self.seconds
        threads = thread_cpu(self.pid)
        self.thread_shares = {
            tid: (cpu - self._threads.get(tid, 0.0)) / self.seconds for tid, cpu in threads.items()
        }
        self.main_thread_share = self.thread_shares.get(self.pid, 0.0)
        return self.share


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


class OtherLoad:
    """CPU used by everything except the given processes while the block runs.

    Other work on the machine (another session's tests, a browser) takes cores from the
    server and the callers and shows up as gaps and lateness; this says whether it did.
    """

    def __init__(self, *pids: int) -> None:
        self.pids = (os.getpid(), *pids)
        self.share = 0.0  # of one core

    def _ours(self) -> float:
        total = 0.0
        for pid in self.pids:
            with contextlib.suppress(OSError):
                total += cpu_seconds(pid)
        return total

    def __enter__(self) -> OtherLoad:
        self._busy, self._own, self._at = busy_seconds(), self._ours(), time.monotonic()
        return self

    def __exit__(self, *_exc: object) -> None:
        elapsed = time.monotonic() - self._at
        other = (busy_seconds() - self._busy) - (self._ours() - self._own)
        self.share = max(0.0, other) / elapsed


class LoopLag:
    """Event-loop lateness in this process while the block runs (are the callers keeping up?)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(loop_lag(self.samples))
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def p95_ms(self) -> float:
        return percentile(self.samples, 95) * 1000

    def max_ms(self) -> float:
        return max(self.samples, default=0.0) * 1000


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None or value != value:  # NaN
        return "–"
    return f"{value:.{digits}f}"
