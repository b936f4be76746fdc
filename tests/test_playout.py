"""PlayoutTrack: frames, pacing arithmetic, queued audio, barge-in, resampling."""

from __future__ import annotations

import asyncio
import fractions
import time

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from voice.playout import (
    FRAME_BYTES,
    FRAME_SAMPLES,
    SAMPLE_RATE,
    PlayoutTrack,
    Resampler,
    to_playout_pcm,
)


class FakeClock:
    """A clock that only moves when the track sleeps or the test says so.

    With `block` set, a sleep does not pass: it lasts until the track wakes it (audio
    queued while silence goes out), and the clock stays where it was.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.block = False

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float, wake: asyncio.Future[bool]) -> None:
        self.sleeps.append(seconds)
        if self.block:
            await wake
            return
        self.now += seconds


class Played:
    def __init__(self) -> None:
        self.calls: list[tuple[object, int, bool]] = []

    def __call__(self, tag: object, ms: int, finished: bool) -> None:
        self.calls.append((tag, ms, finished))


def tone(freq: float, seconds: float, rate: int = SAMPLE_RATE, amp: int = 12000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16).tobytes()


def paced_track(on_played: Played | None = None) -> tuple[PlayoutTrack, FakeClock]:
    clock = FakeClock()
    return PlayoutTrack(on_played, clock=clock, sleep=clock.sleep), clock


async def pcm_frame(track: PlayoutTrack) -> av.AudioFrame:
    """The next frame in PCM mode (recv() hands out Opus packets only in Opus mode)."""
    return as_pcm(await track.recv())


def as_pcm(frame: av.AudioFrame | av.Packet) -> av.AudioFrame:
    assert isinstance(frame, av.AudioFrame)
    return frame


async def frame_bytes(track: PlayoutTrack, count: int) -> bytes:
    return b"".join([bytes((await pcm_frame(track)).planes[0]) for _ in range(count)])


async def test_frames_pts_and_pacing_of_silence() -> None:
    track, clock = paced_track()
    start = clock.now
    for i in range(250):
        frame = await pcm_frame(track)
        assert frame.pts == i * FRAME_SAMPLES
        assert frame.samples == FRAME_SAMPLES and frame.sample_rate == SAMPLE_RATE
        assert frame.time_base == fractions.Fraction(1, SAMPLE_RATE)
        assert frame.format.name == "s16" and frame.layout.name == "mono"
        assert bytes(frame.planes[0]) == bytes(FRAME_BYTES)
        # Frame i goes out at its due time, start + i * 20 ms.
        assert clock.now == pytest.approx(start + i * 0.020, abs=1e-9)
    assert len(clock.sleeps) == 249
    assert track.kind == "audio" and not track.is_playing and track.idle.is_set()


async def test_pacing_sleeps_only_the_difference_and_never_drifts() -> None:
    track, clock = paced_track()
    start = clock.now
    await track.recv()
    clock.now += 0.005  # the consumer spends 5 ms per frame
    await track.recv()
    assert clock.sleeps[-1] == pytest.approx(0.015)
    clock.now += 0.100  # a 100 ms stall: the next frames are late and are not slept for
    slept = len(clock.sleeps)
    for _ in range(4):
        await track.recv()
    assert len(clock.sleeps) == slept
    await track.recv()  # frame 6 is due at start + 120 ms, 15 ms from now
    assert clock.sleeps[-1] == pytest.approx(0.015)
    assert clock.now == pytest.approx(start + 6 * 0.020)


async def test_a_timer_that_fires_early_does_not_move_the_timeline() -> None:
    """The event loop's timers count whole milliseconds and fire up to one early; only a
    wake for queued audio may send a frame ahead of its tick (the timeline used to move
    by each early firing, and the track ran ~0.4 % fast)."""
    clock = FakeClock()

    async def early_timer(seconds: float, wake: asyncio.Future[bool]) -> None:
        clock.sleeps.append(seconds)
        clock.now += seconds - 0.0004
        wake.set_result(False)  # what the real clock's timer does

    track = PlayoutTrack(clock=clock, sleep=early_timer)
    for _ in range(101):
        await track.recv()
    assert clock.now == pytest.approx(1000.0 + 100 * 0.020 - 0.0004)
    assert track.sent_early == 0


async def test_queued_tone_is_played_sample_exact_then_silence() -> None:
    played = Played()
    track, _ = paced_track(played)
    pcm = tone(440, 0.6)[: 24100 * 2]  # 24100 samples: not a whole number of frames
    assert track.enqueue(pcm, SAMPLE_RATE, tag="s1") == 502
    assert track.is_playing and not track.idle.is_set() and track.queued_ms == 502
    frames = -(-24100 // FRAME_SAMPLES)
    out = await frame_bytes(track, frames - 1)
    assert played.calls == [] and track.played_ms("s1") == (frames - 1) * 20
    out += await frame_bytes(track, 1)
    assert played.calls == [("s1", 502, True)]
    assert track.idle.is_set() and not track.is_playing and track.played_ms("s1") == 502
    assert out[: len(pcm)] == pcm
    assert out[len(pcm) :] == bytes(frames * FRAME_BYTES - len(pcm))
    assert await frame_bytes(track, 3) == bytes(3 * FRAME_BYTES)


async def test_items_play_in_order_with_their_tags() -> None:
    played = Played()
    track, _ = paced_track(played)
    first, second = tone(300, 0.1), tone(600, 0.06)
    track.enqueue(first, SAMPLE_RATE, tag=1)
    track.enqueue(second, SAMPLE_RATE, tag=2)
    assert track.played_ms(2) == 0 and track.played_ms(3) is None
    assert await frame_bytes(track, 8) == first + second
    assert played.calls == [(1, 100, True), (2, 60, True)]


async def test_clear_stops_at_once_and_reports_what_was_played() -> None:
    played = Played()
    track, _ = paced_track(played)
    track.enqueue(tone(440, 1.0), SAMPLE_RATE, tag="a")
    track.enqueue(tone(880, 1.0), SAMPLE_RATE, tag="b")
    await frame_bytes(track, 10)
    assert track.clear() == 2 * SAMPLE_RATE - 10 * FRAME_SAMPLES
    assert played.calls == [("a", 200, False), ("b", 0, False)]
    assert track.idle.is_set() and not track.is_playing and track.queued_ms == 0
    assert await frame_bytes(track, 1) == bytes(FRAME_BYTES)
    assert track.played_ms("a") == 200 and track.clear() == 0


async def test_resampling_22050_keeps_duration_and_pitch() -> None:
    played = Played()
    track, _ = paced_track(played)
    ms = track.enqueue(tone(440, 2.0, rate=22050), 22050, tag="tts")
    assert abs(ms - 2000) <= 20
    out = await frame_bytes(track, 110)
    assert abs(played.calls[0][1] - 2000) <= 20 and played.calls[0][2]
    samples = np.frombuffer(out, dtype=np.int16).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples[: SAMPLE_RATE * 2]))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / (SAMPLE_RATE * 2)
    assert abs(peak_hz - 440) <= 4.4
    assert np.max(np.abs(samples)) > 10000  # not attenuated to nothing


async def test_stereo_input_is_downmixed() -> None:
    track, _ = paced_track()
    mono = np.frombuffer(tone(500, 0.2), dtype=np.int16)
    stereo = np.column_stack([mono, mono]).reshape(-1).tobytes()
    assert track.enqueue(stereo, SAMPLE_RATE, channels=2) == 200
    out = np.frombuffer(await frame_bytes(track, 10), dtype=np.int16)
    assert np.corrcoef(out.astype(float), mono.astype(float))[0, 1] > 0.99


async def test_bad_input_and_empty_audio() -> None:
    played = Played()
    track, _ = paced_track(played)
    with pytest.raises(ValueError):
        track.enqueue(b"\x00\x01\x02", SAMPLE_RATE)
    with pytest.raises(ValueError):
        track.enqueue(b"\x00\x00", 0)
    assert track.enqueue(b"", 22050, tag="empty") == 0
    assert played.calls == [("empty", 0, True)] and track.idle.is_set()


async def test_stop_reports_unplayed_and_ends_track() -> None:
    played = Played()
    track, _ = paced_track(played)
    track.enqueue(tone(440, 0.2), SAMPLE_RATE, tag="x")
    track.stop()
    assert played.calls == [("x", 0, False)] and track.readyState == "ended"
    with pytest.raises(MediaStreamError):
        await track.recv()
    assert track.enqueue(tone(440, 0.2), SAMPLE_RATE, tag="y") == 0
    assert played.calls[-1] == ("y", 0, False)


async def test_failing_callback_does_not_break_playout() -> None:
    def broken(tag: object, ms: int, finished: bool) -> None:
        raise RuntimeError("caller bug")

    clock = FakeClock()
    track = PlayoutTrack(broken, clock=clock, sleep=clock.sleep)
    track.enqueue(tone(440, 0.04), SAMPLE_RATE)
    assert len(await frame_bytes(track, 3)) == 3 * FRAME_BYTES
    assert track.idle.is_set()


async def test_real_clock_pacing() -> None:
    """Runs on the real clock; asserts the frame timeline, only prints the measured rate."""
    track = PlayoutTrack()
    track.enqueue(tone(440, 1.0), SAMPLE_RATE)
    first = await track.recv()
    began = time.monotonic()
    last = first
    for _ in range(99):
        last = await track.recv()
    elapsed = time.monotonic() - began
    assert first.pts == 0 and last.pts == 99 * FRAME_SAMPLES
    print(f"\nreal clock: 99 frame intervals in {elapsed:.3f} s = {99 / elapsed:.2f} frames/s")


async def test_opus_mode_sends_pre_encoded_packets() -> None:
    """In Opus mode recv() hands aiortc ready packets: speech as queued, then silence."""
    track = PlayoutTrack(opus=True)
    seconds = 0.5
    t = np.arange(int(48000 * seconds)) / 48000
    tone = (np.sin(2 * np.pi * 440 * t) * 12000).astype("<i2").tobytes()
    assert track.enqueue(tone, 48000, tag="tone") == 500
    decoder = av.CodecContext.create("opus", "r")
    levels: list[float] = []
    pts: list[int] = []
    for _ in range(40):
        packet = await track.recv()
        assert isinstance(packet, av.Packet)
        pts.append(int(packet.pts or 0))
        for frame in decoder.decode(packet):
            samples = frame.to_ndarray().astype(np.float64)
            levels.append(float(np.sqrt(np.mean(samples**2))))
    track.stop()
    assert pts == [n * 960 for n in range(40)]
    loud = [n for n, level in enumerate(levels) if level > 0.05]
    assert 24 <= len(loud) <= 26  # 25 frames of tone (codec delay may shift one)
    assert max(levels[30:]) < 0.001  # then the pre-encoded silence


async def test_hold_sends_silence_and_resume_goes_on_where_it_stopped() -> None:
    played = Played()
    track, _clock = paced_track(played)
    audio = tone(440, 0.2)  # 10 frames
    track.enqueue(audio, SAMPLE_RATE, tag="s")
    first = await frame_bytes(track, 3)
    track.hold()
    assert track.held and track.is_playing  # the rest is kept
    assert await frame_bytes(track, 5) == bytes(5 * FRAME_BYTES)
    assert track.played_ms("s") == 60
    track.resume()
    rest = await frame_bytes(track, 7)
    assert first + rest == audio  # nothing skipped, nothing repeated
    assert played.calls == [("s", 200, True)]
    track.enqueue(audio, SAMPLE_RATE, tag="t")
    track.hold()
    track.clear()  # an interruption after all: clearing also ends the hold
    assert not track.held and not track.is_playing


async def test_audio_queued_during_silence_goes_out_at_once() -> None:
    """The first frame of a reply does not wait for the next 20 ms tick; the timeline
    restarts from it, so the rest of the reply is paced 20 ms apart from there."""
    track, clock = paced_track()
    start = clock.now
    assert bytes((await pcm_frame(track)).planes[0]) == bytes(FRAME_BYTES)  # frame 0: silence
    clock.now += 0.005  # 5 ms into the wait for frame 1
    clock.block = True
    waiting = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    assert not waiting.done() and clock.sleeps == [pytest.approx(0.015)]
    audio = tone(440, 0.1)  # 5 frames
    track.enqueue(audio, SAMPLE_RATE, tag="reply")
    frame = as_pcm(await asyncio.wait_for(waiting, 1.0))
    assert bytes(frame.planes[0]) == audio[:FRAME_BYTES] and frame.pts == FRAME_SAMPLES
    assert clock.now == start + 0.005  # sent when queued, not at start + 20 ms
    assert track.sent_early == 1
    clock.block = False
    rest = await frame_bytes(track, 4)
    assert audio[:FRAME_BYTES] + rest == audio  # the rest in order, nothing repeated
    assert clock.sleeps[1:] == [pytest.approx(0.020)] * 4  # paced from the early frame
    assert clock.now == pytest.approx(start + 0.005 + 4 * 0.020)


async def test_audio_queued_while_speaking_keeps_the_pace() -> None:
    """Only silence gives way: a second item queued behind playing audio waits its tick,
    and stop() ends a wait at once."""
    track, clock = paced_track()
    track.enqueue(tone(440, 0.1), SAMPLE_RATE, tag="first")
    await frame_bytes(track, 2)
    clock.block = True
    waiting = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    track.enqueue(tone(660, 0.1), SAMPLE_RATE, tag="second")
    await asyncio.sleep(0)
    assert not waiting.done() and track.sent_early == 0
    track.stop()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(waiting, 1.0)


async def test_resume_sends_the_held_audio_at_once() -> None:
    track, clock = paced_track()
    audio = tone(440, 0.1)
    track.enqueue(audio, SAMPLE_RATE, tag="s")
    first = await frame_bytes(track, 2)
    track.hold()
    assert await frame_bytes(track, 1) == bytes(FRAME_BYTES)
    clock.block = True
    waiting = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    track.resume()
    frame = as_pcm(await asyncio.wait_for(waiting, 1.0))
    assert first + bytes(frame.planes[0]) == audio[: 3 * FRAME_BYTES]
    assert track.sent_early == 1


def test_a_stream_resampled_piece_by_piece_is_the_whole_resampled() -> None:
    """Speech arrives in pieces: one filter across them gives the same audio as the whole
    clip at once, in whole 20 ms frames until the last piece brings the rest."""
    rate = 22050
    audio = tone(300, 1.0, rate=rate)
    whole = to_playout_pcm(audio, rate)
    resampler = Resampler(rate)
    piece = rate // 10 * 2  # 100 ms
    parts = [
        resampler.convert(audio[i : i + piece], last=False) for i in range(0, len(audio), piece)
    ]
    parts.append(resampler.convert(b"", last=True))
    assert all(len(part) % FRAME_BYTES == 0 for part in parts[:-1])
    joined = b"".join(parts)
    assert abs(len(joined) - len(whole)) <= 4
    n = min(len(joined), len(whole)) // 2
    a = np.frombuffer(joined, "<i2")[:n].astype(np.float64)
    b = np.frombuffer(whole, "<i2")[:n].astype(np.float64)
    assert np.max(np.abs(a - b)) <= 2  # the same samples, no edges at the piece boundaries
