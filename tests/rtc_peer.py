"""An aiortc caller for tests and benchmarks: a scripted microphone, a recording speaker.

`Caller` connects to a Viva call over the real signaling WebSocket and a real peer
connection on loopback, plays queued PCM as its microphone (paced 20 ms frames, silence
in between), records every audio frame it receives, and collects the server's events.

With ``echo_db`` set, the caller's microphone also picks up what it receives, ``echo_db``
decibels quieter (a negative number) and one frame late: the residual echo of a speaker
next to a microphone that a browser's echo cancellation did not remove.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable
from typing import Any

import av
import numpy as np
from aiohttp import ClientSession, ClientWebSocketResponse
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from voice.audio import Pcm, resample_pcm
from voice.ice import restrict_host_candidates

RATE = 48000
FRAME = 960
FRAME_S = FRAME / RATE
SILENT_RMS = 200.0  # s16 RMS under which a received frame counts as silence


def loopback_peer() -> RTCPeerConnection:
    """A peer connection that stays on this machine.

    No ICE servers (aiortc's default is Google's public STUN server), and host candidates
    gathered on 127.0.0.1 only (aioice's default is every interface except loopback). The
    candidate restriction is process-wide, as the server's own setting is.
    """
    restrict_host_candidates(("127.0.0.1",))
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


class ScriptedMic(MediaStreamTrack):
    """A microphone that says what it is told, when it is told, and is silent otherwise."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        self._echo: np.ndarray = np.zeros(0)  # float samples picked up from the speaker
        self.loudest_echo = 0.0  # RMS of the loudest frame of echo sent so far
        self._start: float | None = None
        self._pts = 0
        self.spoken = asyncio.Event()

    def say(self, pcm: Pcm, then_silence_s: float = 0.0) -> float:
        """Queue speech (any rate) and trailing silence; returns its duration in seconds."""
        data = resample_pcm(pcm.data, pcm.sample_rate, RATE) + bytes(int(then_silence_s * RATE) * 2)
        self._pending.extend(data)
        self.spoken.clear()
        return len(data) / 2 / RATE

    def hear(self, samples: np.ndarray) -> None:
        """Mix these 48 kHz mono samples (float, s16 scale) into what the microphone sends."""
        self._echo = np.concatenate([self._echo, samples])[-RATE:]  # at most 1 s behind

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME
            wait = self._start + self._pts / RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        chunk = bytes(self._pending[: FRAME * 2]).ljust(FRAME * 2, b"\0")
        del self._pending[: FRAME * 2]
        if not self._pending:
            self.spoken.set()
        if len(self._echo):
            echo = np.zeros(FRAME)
            echo[: min(FRAME, len(self._echo))] = self._echo[:FRAME]
            self._echo = self._echo[FRAME:]
            self.loudest_echo = max(self.loudest_echo, float(np.sqrt(np.mean(echo**2))))
            mixed = np.frombuffer(chunk, dtype="<i2") + echo
            chunk = np.clip(np.round(mixed), -32768, 32767).astype("<i2").tobytes()
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME)
        frame.planes[0].update(chunk)
        frame.pts = self._pts
        frame.sample_rate = RATE
        frame.time_base = fractions.Fraction(1, RATE)
        return frame


def heard_answers(events: list[dict[str, Any]]) -> list[str]:
    """The candidate's answers as the page's transcript ends up showing them.

    A turn taken too early is taken back when the candidate goes on (`continued`): its
    line is withdrawn and comes back whole with the next `user_transcript`.
    """
    said: list[str] = []
    for event in events:
        if event["type"] == "user_transcript":
            said.append(event["text"])
        elif event["type"] == "continued" and event.get("taken_back") and said:
            if said[-1] == event["taken_back"]:
                said.pop()
    return said


class Caller:
    def __init__(
        self,
        http: ClientSession | Any,
        path: str,
        *,
        echo_db: float | None = None,
        mic: MediaStreamTrack | None = None,
        relay_only: bool = False,
    ) -> None:
        self.http = http
        self.path = path
        self.mic = ScriptedMic()
        self.echo_gain = None if echo_db is None else 10 ** (echo_db / 20)
        # relay_only: the servers of `hello` (TURN with minted credentials), relayed
        # candidates only (the browser's iceTransportPolicy "relay")
        self.relay_only = relay_only
        self.pc = loopback_peer()
        self._sent_track = mic or self.mic
        self.pc.addTrack(self._sent_track)
        self.events: list[dict[str, Any]] = []
        self.frames: list[tuple[float, float]] = []  # (arrival time, rms) per received frame
        self.ws: ClientWebSocketResponse | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._new_event = asyncio.Condition()
        self.pc.on("track", self._on_track)

    async def connect(self) -> dict[str, Any]:
        self.ws = await self.http.ws_connect(self.path)
        self._tasks.append(asyncio.ensure_future(self._read_events()))
        hello = await self.wait_for(lambda e: e["type"] == "hello")
        if self.relay_only:
            await self.pc.close()
            self.pc = RTCPeerConnection(
                RTCConfiguration(
                    iceServers=[RTCIceServer(**server) for server in hello["ice_servers"]],
                    iceTransportPolicy=RTCIceTransportPolicy.RELAY,
                )
            )
            self.pc.addTrack(self._sent_track)
            self.pc.on("track", self._on_track)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.ws.send_json({"type": "offer", "sdp": self.pc.localDescription.sdp})
        answer = await self.wait_for(lambda e: e["type"] == "answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        return hello

    async def wait_for(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 30.0,  # noqa: ASYNC109 (part of the helper's API)
        after: int = 0,
    ) -> dict[str, Any]:
        """The first event (from index `after`) matching predicate, waiting if needed."""

        def found() -> dict[str, Any] | None:
            return next((e for e in self.events[after:] if predicate(e)), None)

        async with self._new_event:
            try:
                await asyncio.wait_for(
                    self._new_event.wait_for(lambda: found() is not None), timeout
                )
            except TimeoutError:
                raise TimeoutError(
                    f"no such event in {timeout} s; events: {self._story()}"
                ) from None
        event = found()
        assert event is not None
        return event

    def _story(self) -> str:
        """The events so far, one short line each, for a failure message."""
        start = self.events[0]["_at"] if self.events else 0.0
        lines = []
        for event in self.events:
            fields = {k: v for k, v in event.items() if k not in ("type", "_at")}
            lines.append(f"{event['_at'] - start:7.2f} {event['type']} {fields}"[:200])
        return "\n" + "\n".join(lines)

    def of_type(self, kind: str, after: int = 0) -> list[dict[str, Any]]:
        """Every event of this type received so far (from index `after`)."""
        return [e for e in self.events[after:] if e["type"] == kind]

    def answers(self, after: int = 0) -> list[str]:
        """The candidate's answers heard so far (from index `after`), taken-back lines out."""
        return heard_answers(self.events[after:])

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_json(message)

    async def hang_up(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.send_json({"type": "hangup"})
            await self.ws.close()
        await self.close()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pc.close()
        if self.ws is not None:
            await self.ws.close()

    def audio_between(self, start: float, end: float) -> list[float]:
        return [rms for moment, rms in self.frames if start <= moment <= end]

    def speech_seconds(self, start: float, end: float) -> float:
        """Span from the first to the last non-silent frame received in [start, end]."""
        loud = [at for at, rms in self.frames if start <= at <= end and rms > SILENT_RMS]
        return (loud[-1] - loud[0] + FRAME_S) if loud else 0.0

    def speech_frames(self, start: float, end: float, pause_cap_s: float | None = None) -> float:
        """Like `speech_seconds`, counted in received frames instead of arrival times.

        Frames are 20 ms of audio each, so this is the span as the audio timeline has it,
        free of the jitter in when frames happened to arrive. With `pause_cap_s`, a silence
        inside the span counts for at most that long: a reply's playback that ran dry
        between two sentences (the next one's speech late, on a busy machine) is a gap in
        what the candidate heard, not more of the reply.
        """
        window = [rms for moment, rms in self.frames if start <= moment <= end]
        loud = [i for i, rms in enumerate(window) if rms > SILENT_RMS]
        if not loud:
            return 0.0
        frames = loud[-1] - loud[0] + 1
        if pause_cap_s is not None:
            cap = round(pause_cap_s / FRAME_S)
            frames -= sum(max(0, b - a - 1 - cap) for a, b in zip(loud, loud[1:], strict=False))
        return frames * FRAME_S

    async def _read_events(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            event = message.json()
            event["_at"] = time.monotonic()
            async with self._new_event:
                self.events.append(event)
                self._new_event.notify_all()

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.ensure_future(self._record(track)))

    async def _record(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.AudioFrame):
                continue
            samples = frame.to_ndarray().astype(np.float64)
            self.frames.append((time.monotonic(), float(np.sqrt(np.mean(samples**2)))))
            if self.echo_gain is not None:
                mono = samples.reshape(-1, len(frame.layout.channels)).mean(axis=1)
                if frame.sample_rate == RATE:
                    self.mic.hear(mono * self.echo_gain)
