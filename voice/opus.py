"""Opus through libopus itself: encoding ahead of time for a call's outgoing track, and
the library the inbound decoder (voice/inbound.py) uses.

aiortc encodes every outgoing 20 ms frame itself: a thread-pool hop, a resample to
stereo and a 96 kb/s stereo encode, 50 times a second per call, silence included. A
track that returns `av.Packet`s skips all of that (the sender only packs them). Viva
encodes each synthesized sentence once, off the event loop, as 20 ms mono CELT packets
(libopus's "restricted low delay" application), and sends one pre-encoded silent packet
whenever nothing is playing.

libopus is the one PyAV ships (`av.libs/`, the build aiortc already uses), else the
system's, called through ctypes: through FFmpeg's wrapper, the same encoding took half as
long again (per-frame `AudioFrame`s, and its own bitrate handling). Where neither library
can be loaded, encoding goes through PyAV as before.

Why CELT only: the speech is synthesized, not a microphone's, and the "voip"
application's SILK analysis made encoding cost three times as much (208 against 67 µs
per 20 ms frame on this machine, complexity 10, 32 kb/s) for the same bytes; CELT also
follows the waveform closer (SNR 21 against 12 dB on Piper speech).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fractions
import threading
from pathlib import Path

import av
import numpy as np
from av.audio.codeccontext import AudioCodecContext

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
BIT_RATE = 32000  # mono speech; plenty for a voice, a third of aiortc's stereo default
COMPLEXITY = 10
MAX_PACKET = 1500
_APPLICATION_RESTRICTED_LOWDELAY = 2051
_SET_BITRATE = 4002
_SET_COMPLEXITY = 4010


def libopus_path() -> str | None:
    """libopus as PyAV ships it, else the system's; None when neither is there."""
    package = Path(av.__file__).resolve().parent
    bundled = sorted(package.parent.glob("av.libs/libopus*")) + sorted(
        package.glob(".dylibs/libopus*")
    )
    for candidate in [str(path) for path in bundled] + [ctypes.util.find_library("opus") or ""]:
        if not candidate:
            continue
        try:
            ctypes.CDLL(candidate)
        except OSError:
            continue
        return candidate
    return None


LIBOPUS_PATH = libopus_path()


def _encoding_lib() -> ctypes.CDLL | None:
    """libopus for encoding in worker threads. PyDLL keeps the GIL through each call
    (~65 µs for 20 ms), so the event loop waits at most that long for it; giving it up for
    every frame would mean taking it back from the loop thread 50 times per second of
    speech, each a context switch on a server pinned to one busy core. (Not settled by a
    clean measurement: see README, Performance.)"""
    if LIBOPUS_PATH is None:
        return None
    lib = ctypes.PyDLL(LIBOPUS_PATH)
    lib.opus_encoder_create.restype = ctypes.c_void_p
    lib.opus_encoder_create.argtypes = [
        ctypes.c_int32,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_int),
    ]
    lib.opus_encoder_destroy.restype = None
    lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
    lib.opus_encode.restype = ctypes.c_int32
    lib.opus_encode.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_int32,
    ]
    lib.opus_encoder_ctl.restype = ctypes.c_int
    return lib


_ENCODING = _encoding_lib()


class OpusFrames:
    """A libopus encoder that turns 48 kHz mono s16 PCM into one packet per 20 ms.

    One encoder per call keeps the codec state continuous from sentence to sentence;
    `encode` is thread-safe and meant to run in a worker thread.
    """

    def __init__(self, bit_rate: int = BIT_RATE) -> None:
        self._lock = threading.Lock()
        self._state: int | None = None
        self._codec: AudioCodecContext | None = None
        self._pts = 0
        if _ENCODING is not None:
            self._lib = _ENCODING
            error = ctypes.c_int()
            self._state = self._lib.opus_encoder_create(
                SAMPLE_RATE, 1, _APPLICATION_RESTRICTED_LOWDELAY, ctypes.byref(error)
            )
            if error.value != 0 or not self._state:
                raise RuntimeError(f"opus_encoder_create failed ({error.value})")
            self._lib.opus_encoder_ctl(ctypes.c_void_p(self._state), _SET_BITRATE,
                                       ctypes.c_int(bit_rate))  # fmt: skip
            self._lib.opus_encoder_ctl(ctypes.c_void_p(self._state), _SET_COMPLEXITY,
                                       ctypes.c_int(COMPLEXITY))  # fmt: skip
            self._out = ctypes.create_string_buffer(MAX_PACKET)
            return
        codec = av.CodecContext.create("libopus", "w")
        assert isinstance(codec, AudioCodecContext)
        codec.bit_rate = bit_rate
        codec.format = "s16"
        codec.layout = "mono"
        codec.sample_rate = SAMPLE_RATE
        codec.time_base = TIME_BASE
        codec.options = {"application": "lowdelay", "frame_duration": "20"}
        self._codec = codec

    def encode(self, pcm: bytes) -> list[bytes]:
        """Packets for whole 20 ms frames of `pcm` (the caller pads the last one)."""
        size = FRAME_SAMPLES * 2
        usable = len(pcm) - len(pcm) % size
        with self._lock:
            if self._state is not None:
                out, encode, state = self._out, self._lib.opus_encode, self._state
                packets = []
                for start in range(0, usable, size):
                    length = encode(state, pcm[start : start + size], FRAME_SAMPLES, out,
                                    MAX_PACKET)  # fmt: skip
                    if length < 0:
                        raise RuntimeError(f"opus_encode failed ({length})")
                    packets.append(ctypes.string_at(out, length))
                return packets
            return self._encode_with_pyav(pcm, usable)

    def _encode_with_pyav(self, pcm: bytes, usable: int) -> list[bytes]:
        assert self._codec is not None
        samples = np.frombuffer(pcm, dtype=np.int16)
        packets: list[bytes] = []
        for start in range(0, usable // 2, FRAME_SAMPLES):
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

    def close(self) -> None:
        with self._lock:
            if self._state is not None:
                self._lib.opus_encoder_destroy(self._state)
                self._state = None
            self._codec = None

    def __del__(self) -> None:
        if getattr(self, "_state", None) is not None:
            self._lib.opus_encoder_destroy(self._state)
            self._state = None


def silence_packet() -> bytes:
    """One 20 ms packet of digital silence, encoded once and sent as often as needed."""
    encoder = OpusFrames()
    packets: list[bytes] = []
    while not packets:  # FFmpeg's wrapper holds back its first frame (look-ahead)
        packets = encoder.encode(bytes(FRAME_SAMPLES * 2))
    return packets[-1]


def packet(data: bytes, pts: int) -> av.Packet:
    out = av.Packet(data)
    out.pts = pts
    out.time_base = TIME_BASE
    return out
