"""The outgoing audio track of a call: queued speech, paced 20 ms frames, instant barge-in.

``PlayoutTrack`` is an aiortc ``MediaStreamTrack`` that always produces 48 kHz mono s16
frames of 960 samples, paced against a monotonic clock that starts at the first ``recv()``
(frame ``n`` is due at ``start + n * 20 ms``, so lateness never accumulates into drift).
While it sends silence, audio queued for it goes out at once, not at the next 20 ms tick:
the frame being waited for is sent early and the timeline restarts from it (`_wake`).
Audio is queued per item (usually one synthesized sentence) with a caller-chosen tag; the
track reports how much of each item was actually handed to the encoder, which is what the
transcript must keep when the candidate talks over the assistant and ``clear()`` is called.
It also remembers how loud the frames it sent recently were (``recent_level``), so a call
can tell the echo of its own voice from the candidate's. ``hold()`` sends silence but
keeps the queue (speech over the assistant that may be only a backchannel or a cough);
``resume()`` goes on from the same frame, ``clear()`` drops it all.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from voice.opus import OpusFrames, silence_packet
from voice.opus import packet as opus_packet

logger = logging.getLogger(f"viva.{__name__}")

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
FRAME_BYTES = FRAME_SAMPLES * 2
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
_SILENCE = bytes(FRAME_BYTES)
_MAX_LAG_S = 0.2  # further behind than this, the timeline restarts at "now"

Sleep = Callable[[float, "asyncio.Future[bool]"], Awaitable[object]]
"""``sleep(seconds, wake)``: wait `seconds`, or less if `wake` gets a result first (True:
woken for queued audio; the real clock's timer sets False when the time is up)."""
StartedCallback = Callable[[object], None]
"""``on_started(tag)``: called when the first frame of an item is handed to the encoder."""
PlayedCallback = Callable[[object, int, bool], None]
"""``on_played(tag, ms_played, finished)``: called once per enqueued item, when its last
frame was sent (``finished=True``) or when it was dropped by ``clear()``/``stop()``
(``finished=False``, ``ms_played`` is how much of it went out before that)."""


def to_playout_pcm(pcm: bytes, sample_rate: int, channels: int = 1) -> bytes:
    """Convert interleaved s16 PCM to 48 kHz mono s16 bytes."""
    return Resampler(sample_rate, channels).convert(pcm)


class Resampler:
    """One stream of interleaved s16 PCM (a sentence as speech synthesis streams it) to
    48 kHz mono, piece by piece through one filter: no edges between the pieces, and the
    filter is set up once (setting it up cost ~8 times the resampling of a 100 ms piece).
    A piece gives whole 20 ms frames; the rest waits for the next piece, or comes out with
    the `last` one. Not thread-safe: one stream, one piece at a time."""

    def __init__(self, sample_rate: int, channels: int = 1) -> None:
        if channels not in (1, 2):
            raise ValueError("channels must be 1 or 2")
        if sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        self.sample_rate = sample_rate
        self.channels = channels
        self._layout = "mono" if channels == 1 else "stereo"
        self._filter: av.AudioResampler | None = None
        if sample_rate != SAMPLE_RATE or channels != 1:
            self._filter = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self._rest = b""

    def convert(self, pcm: bytes, last: bool = True) -> bytes:
        if len(pcm) % (2 * self.channels):
            raise ValueError("pcm length is not a whole number of s16 samples")
        resampler = self._filter
        if resampler is None:
            out = bytes(pcm)
        else:
            frames: list[av.AudioFrame] = []
            if pcm:
                samples = np.frombuffer(pcm, dtype=np.int16).reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(samples, format="s16", layout=self._layout)
                frame.sample_rate = self.sample_rate
                frames = resampler.resample(frame)
            if last:
                frames += resampler.resample(None)
                self._filter = None  # flushed: it ends the stream
            out = b"".join(f.to_ndarray().tobytes() for f in frames)
        data = self._rest + out if self._rest else out
        if last:
            self._rest = b""
            return data
        whole = len(data) - len(data) % FRAME_BYTES
        self._rest = data[whole:]
        return data[:whole]

    def close(self) -> None:
        """Drop the filter now (a stream cut off before its `last` piece): its graph runs
        native threads, and a cancelled task's frame can outlive it in a reference cycle."""
        self._filter = None
        self._rest = b""


@dataclass(eq=False)
class _Item:
    tag: object
    chunks: list[bytes]  # FRAME_BYTES each, the last one zero-padded
    samples: int  # real samples, without the padding
    levels: list[float]  # RMS of each chunk
    packets: list[bytes] | None = None  # the chunks as Opus packets, when pre-encoded
    sent: int = 0  # chunks already handed out

    @property
    def played_samples(self) -> int:
        return min(self.sent * FRAME_SAMPLES, self.samples)


def _ms(samples: int) -> int:
    return samples * 1000 // SAMPLE_RATE


def _levels(data: bytes) -> list[float]:
    """RMS of each 20 ms frame of 48 kHz s16 PCM (the last one zero-padded)."""
    samples = np.frombuffer(data, dtype="<i2").astype(np.float64)
    padded = np.zeros(-(-len(samples) // FRAME_SAMPLES) * FRAME_SAMPLES)
    padded[: len(samples)] = samples
    return [float(x) for x in np.sqrt(np.mean(padded.reshape(-1, FRAME_SAMPLES) ** 2, axis=1))]


class PlayoutTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(
        self,
        on_played: PlayedCallback | None = None,
        *,
        on_started: StartedCallback | None = None,
        opus: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep | None = None,
    ) -> None:
        super().__init__()
        self._on_played = on_played
        self._on_started = on_started
        # Pre-encoded mode: recv() returns Opus av.Packets (see voice/opus.py).
        self._opus = OpusFrames() if opus else None
        self._silence_packet = silence_packet() if opus else b""
        self._clock = clock
        self._sleep = sleep or _sleep_or_wake
        self._wake: asyncio.Future[bool] | None = None  # set while recv() waits for a tick
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: deque[_Item] = deque()
        self._history: deque[tuple[object, int]] = deque(maxlen=64)
        self._sent_levels: deque[tuple[float, float]] = deque(maxlen=100)  # (time, RMS), 2 s
        self._start: float | None = None
        self._pts = 0
        self._held = False
        self.sent_early = 0  # frames sent before their tick because audio was queued
        self.idle = asyncio.Event()  # set while nothing is queued
        self.idle.set()

    @property
    def is_playing(self) -> bool:
        return bool(self._queue)

    @property
    def held(self) -> bool:
        return self._held

    def hold(self) -> None:
        """Send silence instead of the queue, keeping it (a possible interruption)."""
        self._held = True

    def resume(self) -> None:
        """Go on from where `hold()` stopped (at once, not at the next tick)."""
        self._held = False
        if self._queue:
            self._wake_now()

    @property
    def queued_ms(self) -> int:
        """Audio still to be sent, across all queued items."""
        return _ms(sum(item.samples - item.played_samples for item in self._queue))

    def prepare(
        self,
        pcm: bytes,
        sample_rate: int,
        channels: int = 1,
        *,
        resampler: Resampler | None = None,
        last: bool = True,
    ) -> _Item:
        """Resample, frame and (in Opus mode) encode audio: CPU work, safe in a thread.

        A piece of a longer stream goes through that stream's `resampler` (`last` for its
        final piece); a whole clip needs none."""
        if resampler is None:
            data = to_playout_pcm(pcm, sample_rate, channels)
        else:
            data = resampler.convert(pcm, last)
        chunks = [data[i : i + FRAME_BYTES] for i in range(0, len(data), FRAME_BYTES)]
        item = _Item(None, chunks, len(data) // 2, [])
        if chunks:
            chunks[-1] = chunks[-1].ljust(FRAME_BYTES, b"\x00")
            item.levels = _levels(data)
            opus = self._opus  # once: stop() may drop it meanwhile (this runs in a thread)
            if opus is not None:
                packets = opus.encode(b"".join(chunks))[: len(chunks)]
                item.packets = packets + [self._silence_packet] * (len(chunks) - len(packets))
        return item

    def enqueue(self, pcm: bytes, sample_rate: int, tag: object = None, channels: int = 1) -> int:
        """Queue s16 PCM (any rate, mono or interleaved stereo); return the ms queued.

        Empty audio is reported finished at once; on a stopped track it is reported unplayed.
        """
        return self.enqueue_prepared(self.prepare(pcm, sample_rate, channels), tag)

    def enqueue_prepared(self, item: _Item, tag: object = None) -> int:
        """Queue audio made ready by `prepare` (usually in a worker thread)."""
        item.tag = tag
        if self.readyState != "live" or not item.chunks:
            self._report(item, finished=not item.chunks)
            return 0
        self._queue.append(item)
        self.idle.clear()
        if len(self._queue) == 1 and not self._held:
            self._wake_now()  # its first frame goes out now, not at the next tick
        return _ms(item.samples)

    def clear(self) -> int:
        """Drop everything queued at once (barge-in); return the number of samples dropped."""
        items = list(self._queue)
        self._queue.clear()
        self._held = False
        self.idle.set()
        for item in items:
            self._report(item, finished=False)
        return sum(item.samples - item.played_samples for item in items)

    def played_ms(self, tag: object) -> int | None:
        """How much of the item with this tag was sent so far (recent items only)."""
        for item in self._queue:
            if item.tag == tag:
                return _ms(item.played_samples)
        for done_tag, ms in reversed(self._history):
            if done_tag == tag:
                return ms
        return None

    def recent_level(self, seconds: float) -> float:
        """The loudest frame (RMS, s16 scale) sent in the last `seconds`; 0.0 if none."""
        if not self._sent_levels:
            return 0.0
        since = self._clock() - seconds
        loudest = 0.0
        for at, level in reversed(self._sent_levels):  # newest first: stop at the window
            if at < since:
                break
            if level > loudest:
                loudest = level
        return loudest

    def stop(self) -> None:
        """End the track. Its Opus encoder goes at once: it holds native threads (PyAV's
        resampler inside it), which must not wait for the peer connection to be freed."""
        self.clear()
        super().stop()
        self._opus = None
        self._wake_now()  # a recv() waiting for its tick ends now

    def detach(self) -> None:
        """Forget the callbacks: their owner is done with this track (they refer back to
        it, a cycle that only the garbage collector would otherwise break)."""
        self._on_played = None
        self._on_started = None

    @property
    def opus(self) -> bool:
        """Whether `recv()` gives pre-encoded Opus packets (and `next_packet()` works)."""
        return bool(self._silence_packet)

    async def next_packet(self) -> tuple[bytes, int]:
        """The next 20 ms Opus packet and its pts (48 kHz, the RTP clock), at its time.

        What `recv()` returns in Opus mode, without wrapping it in an `av.Packet`: the
        sender in voice/rtp_send.py takes the payload as it is."""
        await self._tick()
        _, encoded = self._next_chunk()
        return encoded or self._silence_packet, self._pts

    async def recv(self) -> av.AudioFrame | av.Packet:
        await self._tick()
        chunk, encoded = self._next_chunk()
        if self._silence_packet:
            return opus_packet(encoded or self._silence_packet, self._pts)
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(chunk)
        frame.pts = self._pts
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = TIME_BASE
        return frame

    async def _tick(self) -> None:
        """Wait until the next frame is due (`MediaStreamError` once the track ended)."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = self._clock()
        else:
            self._pts += FRAME_SAMPLES
            wait = self._start + self._pts / SAMPLE_RATE - self._clock()
            if wait > 0:
                await self._wait(wait)
            elif wait < -_MAX_LAG_S:  # after a long stall, re-anchor instead of bursting
                self._start -= wait
        if self.readyState != "live":  # stopped while waiting for the frame's time
            raise MediaStreamError

    async def _wait(self, seconds: float) -> None:
        """Wait for the next frame's tick; while silence is going out, audio queued meanwhile
        ends the wait, and the timeline restarts at the frame sent early."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        wake: asyncio.Future[bool] = self._loop.create_future()
        self._wake = wake
        try:
            await self._sleep(seconds, wake)
        finally:
            self._wake = None
        # Woken for audio, not by the timer: a timer may fire up to a millisecond early
        # (the loop's timers count whole milliseconds), which is no reason to move ahead.
        if wake.done() and not wake.cancelled() and wake.result() and self._start is not None:
            early = self._start + self._pts / SAMPLE_RATE - self._clock()
            if early > 0:
                self._start -= early
                self.sent_early += 1

    def _wake_now(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(True)

    def _next_chunk(self) -> tuple[bytes, bytes | None]:
        queue = self._queue
        if not queue or self._held:
            return _SILENCE, None
        item = queue[0]
        if item.sent == 0 and self._on_started is not None:
            self._on_started(item.tag)
        chunk = item.chunks[item.sent]
        encoded = item.packets[item.sent] if item.packets else None
        self._sent_levels.append((self._clock(), item.levels[item.sent]))
        item.sent += 1
        if item.sent == len(item.chunks):
            queue.popleft()
            if not queue:
                self.idle.set()
            self._report(item, finished=True)
        return chunk, encoded

    def _report(self, item: _Item, finished: bool) -> None:
        ms = _ms(item.played_samples)
        self._history.append((item.tag, ms))
        if self._on_played is None:
            return
        try:
            self._on_played(item.tag, ms, finished)
        except Exception:  # a caller's bug must not stop the RTP sender loop
            logger.exception("on_played callback failed for tag %r", item.tag)


def _resolve(wake: asyncio.Future[bool]) -> None:
    if not wake.done():
        wake.set_result(False)


async def _sleep_or_wake(seconds: float, wake: asyncio.Future[bool]) -> None:
    """The real clock's `Sleep`: what asyncio.sleep does (a future and a timer), with the
    future shared so that `wake` can end it early."""
    timer = wake.get_loop().call_later(seconds, _resolve, wake)
    try:
        await wake
    finally:
        timer.cancel()
