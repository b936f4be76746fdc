"""Opus encoding ahead of time, so a call's outgoing track sends ready-made packets.

aiortc encodes every outgoing 20 ms frame itself: a thread-pool hop, a resample to
stereo and a 96 kb/s stereo encode, 50 times a second per call, silence included. A
track that returns `av.Packet`s skips all of that (the sender only packs them). Viva
encodes each synthesized sentence once, off the event loop, as 20 ms mono voice
packets, and sends one pre-encoded silent packet whenever nothing is playing.
"""

from __future__ import annotations

import fractions
import threading

import av
import numpy as np
from av.audio.codeccontext import AudioCodecContext

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
BIT_RATE = 32000  # mono speech; plenty for a voice, a third of aiortc's stereo default


class OpusFrames:
    """A libopus encoder that turns 48 kHz mono s16 PCM into one packet per 20 ms.

    One encoder per call keeps the codec state continuous from sentence to sentence;
    `encode` is thread-safe and meant to run in a worker thread.
    """

    def __init__(self, bit_rate: int = BIT_RATE) -> None:
        codec = av.CodecContext.create("libopus", "w")
        assert isinstance(codec, AudioCodecContext)
        codec.bit_rate = bit_rate
        codec.format = "s16"
        codec.layout = "mono"
        codec.sample_rate = SAMPLE_RATE
        codec.time_base = TIME_BASE
        codec.options = {"application": "voip", "frame_duration": "20"}
        self._codec = codec
        self._lock = threading.Lock()
        self._pts = 0

    def encode(self, pcm: bytes) -> list[bytes]:
        """Packets for whole 20 ms frames of `pcm` (the caller pads the last one)."""
        samples = np.frombuffer(pcm, dtype=np.int16)
        usable = len(samples) - len(samples) % FRAME_SAMPLES
        packets: list[bytes] = []
        with self._lock:
            for start in range(0, usable, FRAME_SAMPLES):
                frame = av.AudioFrame.from_ndarray(
                    samples[start : start + FRAME_SAMPLES].reshape(1, -1),
                    format="s16",
                    layout="mono",
                )
                frame.sample_rate = SAMPLE_RATE
                frame.pts = self._pts
                frame.time_base = TIME_BASE
                self._pts += FRAME_SAMPLES
                packets.extend(bytes(packet) for packet in self._codec.encode(frame))
        return packets


def silence_packet() -> bytes:
    """One 20 ms packet of digital silence, encoded once and sent as often as needed."""
    encoder = OpusFrames()
    packets: list[bytes] = []
    while not packets:  # libopus holds back its first frame (look-ahead)
        packets = encoder.encode(bytes(FRAME_SAMPLES * 2))
    return packets[-1]


def packet(data: bytes, pts: int) -> av.Packet:
    out = av.Packet(data)
    out.pts = pts
    out.time_base = TIME_BASE
    return out
