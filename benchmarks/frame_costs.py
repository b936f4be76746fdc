"""What each per-frame step of a call costs, measured one at a time in this process.

A call moves 50 frames a second each way, so a step that costs T µs per frame costs
T × 50 / 10 000 % of a core per call. The steps are the ones a Viva call runs today
(aiortc's sender and receiver, Viva's playout and VAD path) and the cheaper ways to do
the same work, so the capacity profile can be read against them:

    python -m benchmarks.frame_costs [--frames 3000]

CPU is process CPU time (all threads), so thread hand-offs include both sides.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import os
import threading
import time
from collections import deque
from collections.abc import Callable

import av
import numpy as np
import pylibsrtp
import uvloop
import webrtcvad
from aiortc.codecs.opus import OpusDecoder, OpusEncoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RtpPacket, compute_audio_level_dbov

from benchmarks.common import report
from benchmarks.fake_provider import voiced_buzz
from voice.inbound import OpusDecoder16k
from voice.opus import OpusFrames
from voice.playout import Resampler, to_playout_pcm
from voice.vad import VadConfig, VadSegmenter

RATE = 48000
FRAME = 960
TIME_BASE = fractions.Fraction(1, RATE)


def speech_frame(pts: int = 0, silent: bool = False) -> av.AudioFrame:
    frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME)
    frame.planes[0].update(bytes(FRAME * 2) if silent else _BUZZ[: FRAME * 2])
    frame.sample_rate = RATE
    frame.pts = pts
    frame.time_base = TIME_BASE
    return frame


_BUZZ = voiced_buzz(0.1, RATE)
_BUZZ24 = voiced_buzz(0.1, 24000)


def per_frame_us(step: Callable[[int], object], frames: int) -> float:
    step(0)  # warm up; every call gets its own index (SRTP refuses a replayed one)
    began = time.process_time()
    for index in range(1, frames + 1):
        step(index)
    return (time.process_time() - began) / frames * 1e6


def srtp_pair() -> tuple[pylibsrtp.Session, pylibsrtp.Session]:
    key = os.urandom(30)
    tx = pylibsrtp.Session(pylibsrtp.Policy(key=key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND))
    rx = pylibsrtp.Session(pylibsrtp.Policy(key=key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND))
    return tx, rx


def rtp_bytes(sequence: int, payload: bytes) -> bytes:
    packet = RtpPacket(payload_type=111, sequence_number=sequence & 0xFFFF, timestamp=sequence)
    packet.ssrc = 1234
    packet.payload = payload
    return packet.serialize()


async def executor_round_trip_us(frames: int) -> float:
    """`await loop.run_in_executor(None, f)` for a trivial f: what aiortc does per frame sent."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, int)
    began = time.process_time()
    for _ in range(frames):
        await loop.run_in_executor(None, int)
    return (time.process_time() - began) / frames * 1e6


async def threadsafe_hand_off_us(frames: int) -> float:
    """A thread hands each frame to the loop with run_coroutine_threadsafe(queue.put(...)):
    what aiortc's decoder thread does per frame received."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[int] = asyncio.Queue()

    def producer() -> None:
        for index in range(frames):
            asyncio.run_coroutine_threadsafe(queue.put(index), loop)
            time.sleep(0.0002)  # frames arrive spread out, not in one burst

    thread = threading.Thread(target=producer)
    began = time.process_time()
    thread.start()
    for _ in range(frames):
        await queue.get()
    thread.join()
    return (time.process_time() - began) / frames * 1e6


def measure(frames: int) -> list[tuple[str, str, float]]:
    encoder = OpusEncoder()
    rows: list[tuple[str, str, float]] = []

    def add(group: str, name: str, step: Callable[[int], object]) -> None:
        rows.append((group, name, per_frame_us(step, frames)))

    speech = [speech_frame(i * FRAME) for i in range(4)]
    silence = speech_frame(silent=True)
    add(
        "send",
        "Opus encode, speech (aiortc: stereo, 96 kbit/s)",
        lambda i: encoder.encode(speech[i % 4]),
    )
    add("send", "Opus encode, silence (aiortc)", lambda i: encoder.encode(silence))
    mono = av.CodecContext.create("libopus", "w")
    mono.bit_rate, mono.format, mono.layout = 32000, "s16", "mono"
    mono.sample_rate, mono.time_base = RATE, TIME_BASE
    mono.options = {"application": "voip"}
    add(
        "send",
        "Opus encode, speech (mono, 32 kbit/s, own context)",
        lambda i: mono.encode(speech_frame(i * FRAME)),
    )
    celt = OpusFrames()
    speech48 = b"".join(bytes(f.planes[0]) for f in speech)
    add(
        "send",
        "Opus encode, speech (Viva: libopus via ctypes, mono CELT, 32 kbit/s)",
        lambda i: celt.encode(speech48[(i % 4) * FRAME * 2 : ((i % 4) + 1) * FRAME * 2]),
    )
    piece = _BUZZ24[: 2400 * 2]  # 100 ms at 24 kHz, as speech synthesis streams it

    def fresh_filter(i: int) -> bytes:
        return to_playout_pcm(piece, 24000)

    stream = Resampler(24000)
    add(
        "send",
        "resample 24 → 48 kHz, a new filter per 100 ms piece (before), per frame",
        lambda i: fresh_filter(i) if i % 5 == 0 else b"",
    )
    add(
        "send",
        "resample 24 → 48 kHz, one filter per sentence (Resampler), per frame",
        lambda i: stream.convert(piece, last=False) if i % 5 == 0 else b"",
    )
    payload = bytes(encoder.encode(speech[0])[0][0])
    packet = av.Packet(payload)
    packet.pts, packet.time_base = 0, TIME_BASE
    add("send", "pre-encoded packet (OpusEncoder.pack)", lambda i: encoder.pack(packet))
    add(
        "send",
        "audio level of a Frame (aiortc compute_audio_level_dbov)",
        lambda i: compute_audio_level_dbov(speech[0]),
    )
    add(
        "send",
        "build a 960-sample AudioFrame (PlayoutTrack.recv)",
        lambda i: speech_frame(i * FRAME),
    )
    tx, rx = srtp_pair()
    add("send", "RTP serialize", lambda i: rtp_bytes(i, payload))
    add("send", "SRTP protect", lambda i: tx.protect(rtp_bytes(i, payload)))
    protected = [tx.protect(rtp_bytes(50_000 + i, payload)) for i in range(frames + 1)]
    add("receive", "SRTP unprotect", lambda i: rx.unprotect(protected[i]))
    add("receive", "RTP parse", lambda i: RtpPacket.parse(rtp_bytes(i, payload)))
    decoder = OpusDecoder()
    add(
        "receive",
        "Opus decode (aiortc: to stereo)",
        lambda i: decoder.decode(JitterFrame(payload, i * FRAME)),
    )
    mono16 = av.CodecContext.create("libopus", "r")
    mono16.format, mono16.layout, mono16.sample_rate = "s16", "mono", 16000

    def decode_16k(i: int) -> object:
        packet = av.Packet(payload)
        packet.pts, packet.time_base = i * FRAME, TIME_BASE
        return mono16.decode(packet)

    add("receive", "PyAV Opus decode asked for 16 kHz mono (FFmpeg gives 48 kHz)", decode_16k)
    direct = OpusDecoder16k()
    add("receive", "Opus decode to 16 kHz mono by libopus (Viva, voice/inbound.py)",
        lambda i: direct.decode(payload))  # fmt: skip
    stereo = decoder.decode(JitterFrame(payload, 0))[0]
    assert isinstance(stereo, av.AudioFrame)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)

    def to_16k(i: int) -> bytes:
        stereo.pts = i * FRAME
        out = resampler.resample(stereo)
        return bytes(out[0].planes[0])[: out[0].samples * 2] if out else b""

    add("receive", "resample 48 kHz stereo → 16 kHz mono (Call._receive)", to_16k)
    vad = webrtcvad.Vad(2)
    pcm16 = to_16k(0) or bytes(640)
    add("receive", "webrtcvad on 20 ms", lambda i: vad.is_speech(pcm16[:640], 16000))
    segmenter = VadSegmenter(VadConfig(silence_ms=1200))
    add("receive", "VadSegmenter.feed (20 ms)", lambda i: segmenter.feed(pcm16[:640]))
    levels: deque[tuple[float, float]] = deque(((float(i), 1.0) for i in range(100)), maxlen=100)
    add(
        "receive",
        "echo gate: max level of the last 0.5 s over 100 sent frames (as today)",
        lambda i: max((level for at, level in levels if at >= 50.0), default=0.0),
    )
    samples = np.frombuffer(pcm16, dtype="<i2")
    add("receive", "RMS of 20 ms with numpy", lambda i: float(np.sqrt(np.mean(samples**2.0))))
    return rows


async def hand_offs(frames: int) -> list[tuple[str, str, float]]:
    return [
        (
            "threads",
            "run_in_executor round trip (aiortc encodes each frame so)",
            await executor_round_trip_us(frames),
        ),
        (
            "threads",
            "run_coroutine_threadsafe hand-off (aiortc's decoder thread)",
            await threadsafe_hand_off_us(frames),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=3000)
    args = parser.parse_args()
    rows = measure(args.frames) + uvloop.run(hand_offs(args.frames))
    report(
        "frame_costs",
        ["path", "step", "µs per frame", "% of a core per call (50/s)"],
        [[g, n, f"{us:.1f}", f"{us * 50 / 10_000:.3f}"] for g, n, us in rows],
        [{"path": g, "step": n, "us_per_frame": us} for g, n, us in rows],
    )


if __name__ == "__main__":
    main()
