"""A call's inbound audio as 16 kHz mono PCM, decoded as it arrives.

aiortc decodes every received Opus frame in a thread of its own per call, to 48 kHz
stereo, and hands each frame to the event loop with `run_coroutine_threadsafe` (a
coroutine, a future, a wake-up of the loop and a task per frame); the call then
resampled it to the 16 kHz mono the VAD and speech-to-text want. `InboundAudio` does
instead, per frame, in the event loop:

* Opus is decoded by libopus itself, opened at 16 kHz mono (FFmpeg's Opus decoders,
  PyAV's, always output 48 kHz): no resampling, a sixth of the samples to produce.
  The library is the libopus PyAV ships (`av.libs/`), else the system's (voice/opus.py),
  called through ctypes (~20 µs for 20 ms of speech, holding the GIL: see `_load_libopus`).
* Frames that carry no sound are not decoded at all: DTX frames and digital silence
  (3 bytes or fewer; 20 ms of Opus needs far more than that for anything audible). They
  come out as `SILENCE` (one shared zero buffer per length), which the call passes to
  the VAD as silence without running webrtcvad on it.

The hook is the receiver's decoder queue: aiortc puts each encoded frame on it from the
event loop (`_handle_rtp_packet`), and its decoder thread takes them off. `_DecodeHere`
stands in for that queue; it passes only the end-of-stream marker on, so aiortc's
decoder thread sits idle and ends with the call as before. Where the hook cannot be
installed (another aiortc, another codec), the audio comes from `track.recv()` and is
resampled as before: `InboundAudio.direct` says which path a call took. Where the hook is
installed, the packets of the call's audio stream also skip most of aiortc's receive
path on their way to it (voice/rtp_receive.py: from the socket to the decoder in one
call, without the 80 ms the jitter buffer held each frame).

Calls use the hook by default (`VIVA_DECODE_ON_ARRIVAL`, `CallConfig.decode_on_arrival`):
it cut CPU per call the most of the media changes. The stalls it was once blamed for
were the server's event-loop thread waiting for its CPU on the shared benchmark machine
(benchmarks/cpu_wait.py, README Performance), and the turn overhead it seemed to add
does not reproduce. With `VIVA_DECODE_ON_ARRIVAL=false`, `InboundAudio(track)` is
aiortc's decoding and one resampler per call.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import queue
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from voice.opus import LIBOPUS_PATH
from voice.rtp_receive import AudioShortcut

log = logging.getLogger(f"viva.{__name__}")

RATE = 16000
MAX_SAMPLES = RATE * 120 // 1000  # the longest Opus packet: 120 ms
DTX_MAX_BYTES = 3  # an Opus packet this small carries no sound (DTX, digital silence)
_RECEIVER_QUEUE = "_RTCRtpReceiver__decoder_queue"  # aiortc 1.x's decoder queue


class OpusError(Exception):
    """libopus refused a packet."""


def _load_libopus() -> ctypes.PyDLL | None:
    """libopus for decoding in the event loop (voice/opus.py finds it)."""
    if LIBOPUS_PATH is None:
        return None
    # PyDLL keeps the GIL through the call: a 20 ms frame decodes in ~20 µs, and giving the
    # GIL up and taking it back 50 times a second per call would let the worker threads
    # (speech encoding) hold the event loop up for up to a switch interval (5 ms) each time.
    lib = ctypes.PyDLL(LIBOPUS_PATH)
    lib.opus_decoder_create.restype = ctypes.c_void_p
    lib.opus_decoder_create.argtypes = [
        ctypes.c_int32,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_int),
    ]
    lib.opus_decoder_destroy.restype = None
    lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
    lib.opus_decode.restype = ctypes.c_int
    lib.opus_decode.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_int32,
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_int,
    ]
    lib.opus_packet_get_nb_samples.restype = ctypes.c_int
    lib.opus_packet_get_nb_samples.argtypes = [ctypes.c_char_p, ctypes.c_int32, ctypes.c_int32]
    return lib


_LIBOPUS = _load_libopus()
_SILENCE: dict[int, bytes] = {}


def silence(size: int) -> bytes:
    """The shared zero buffer of `size` bytes (the VAD is told it is silence by identity)."""
    buffer = _SILENCE.get(size)
    if buffer is None:
        buffer = _SILENCE[size] = bytes(size)
    return buffer


SILENCE = silence(RATE * 20 // 1000 * 2)  # 20 ms


def is_silence(pcm: bytes) -> bool:
    """Whether `pcm` is one of the shared silent buffers (a frame that was not decoded)."""
    return _SILENCE.get(len(pcm)) is pcm


class OpusDecoder16k:
    """libopus decoding straight to 16 kHz mono s16."""

    def __init__(self) -> None:
        if _LIBOPUS is None:
            raise OpusError("libopus is not available")
        self._lib = _LIBOPUS
        error = ctypes.c_int()
        self._state: int | None = self._lib.opus_decoder_create(RATE, 1, ctypes.byref(error))
        if error.value != 0 or not self._state:
            raise OpusError(f"opus_decoder_create failed ({error.value})")
        self._pcm = ctypes.create_string_buffer(MAX_SAMPLES * 2)

    def decode(self, data: bytes) -> bytes:
        state = self._state
        if state is None:
            raise OpusError("decoder closed")
        samples = self._lib.opus_decode(state, data, len(data), self._pcm, MAX_SAMPLES, 0)
        if samples < 0:
            raise OpusError(f"opus_decode failed ({samples})")
        return ctypes.string_at(self._pcm, samples * 2)

    def samples(self, data: bytes) -> int:
        """How many 16 kHz samples the packet stands for, read from its header."""
        count = self._lib.opus_packet_get_nb_samples(data, len(data), RATE)
        return count if count > 0 else RATE // 50

    def close(self) -> None:
        if getattr(self, "_state", None) is not None:  # (also when __init__ failed)
            self._lib.opus_decoder_destroy(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()


class _DecodeHere(queue.Queue):  # type: ignore[type-arg]
    """Stands in for an aiortc receiver's decoder queue: Opus frames are decoded (or, when
    silent, not) as they are put, in the event loop; the end-of-stream marker and frames of
    other codecs go on to aiortc's decoder thread as before."""

    def __init__(self, audio: InboundAudio) -> None:
        super().__init__()
        self._audio = audio

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is not None:
            codec, encoded = item
            if codec.mimeType.lower() == "audio/opus":
                self._audio._arrived(encoded.data)
                return
            self._audio.passed_on += 1
        else:
            self._audio._ended()
        super().put(item, block, timeout)


class InboundAudio:
    """The candidate's audio, 16 kHz mono s16 bytes at a time (`recv()`; None at the end)."""

    def __init__(self, track: MediaStreamTrack, receiver: Any | None = None) -> None:
        self.track = track
        self.decoded = 0  # Opus frames decoded here
        self.skipped = 0  # silent frames (DTX, digital silence) not decoded
        self.failed = 0  # frames libopus refused
        self.passed_on = 0  # frames of another codec, left to aiortc
        self._pcm: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._decoder: OpusDecoder16k | None = None
        self._resampler: av.AudioResampler | None = None
        self.shortcut: AudioShortcut | None = None  # packets straight from the socket
        self.direct = receiver is not None and self._install(receiver)

    @classmethod
    def of(cls, pc: Any, track: MediaStreamTrack) -> InboundAudio:
        """The inbound audio of `track`, decoded as it arrives where the hook fits."""
        receiver = next(
            (t.receiver for t in pc.getTransceivers() if t.receiver.track is track), None
        )
        return cls(track, receiver)

    def _install(self, receiver: Any) -> bool:
        hookable = isinstance(getattr(receiver, _RECEIVER_QUEUE, None), queue.Queue)
        if _LIBOPUS is None or not hookable:
            log.info("inbound audio: aiortc decodes (no libopus or no decoder queue to hook)")
            return False
        if getattr(receiver, "_RTCRtpReceiver__decoder_thread", None) is not None:
            return False  # too late: its thread already reads the queue it was given
        self._decoder = OpusDecoder16k()
        setattr(receiver, _RECEIVER_QUEUE, _DecodeHere(self))
        self.shortcut = AudioShortcut.install(receiver, self._arrived)
        return True

    def _arrived(self, data: bytes) -> None:
        decoder = self._decoder
        if decoder is None:
            return
        if len(data) <= DTX_MAX_BYTES:
            self.skipped += 1
            self._pcm.put_nowait(silence(decoder.samples(data) * 2))
            return
        try:
            pcm = decoder.decode(data)
        except OpusError as error:
            self.failed += 1
            if self.failed == 1:
                log.warning("inbound audio: %s", error)
            return
        self.decoded += 1
        self._pcm.put_nowait(pcm)

    def _ended(self) -> None:
        self._pcm.put_nowait(None)

    async def recv(self) -> bytes | None:
        """The next piece of 16 kHz mono audio (20 ms for a browser); None when it ended."""
        if self.direct:
            pcm = await self._pcm.get()
            if pcm is None:
                self.close()
            return pcm
        while True:  # aiortc decoded it: 48 kHz stereo frames, resampled here
            try:
                frame = await self.track.recv()
            except MediaStreamError:
                self.close()
                return None
            if not isinstance(frame, av.AudioFrame):
                continue
            if self._resampler is None:
                self._resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            pcm = b"".join(
                bytes(out.planes[0])[: out.samples * 2] for out in self._resampler.resample(frame)
            )
            if pcm:
                return pcm

    def close(self) -> None:
        """Free the decoder (native state) and the resampler (native threads) now."""
        if self.shortcut is not None:
            self.shortcut.remove()
            self.shortcut = None
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None
        self._resampler = None
