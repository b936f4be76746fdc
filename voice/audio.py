"""Audio decoding: whatever a browser or a phone recorded, as 16 kHz mono 16-bit PCM.

Every container/codec pair PyAV (FFmpeg) opens is accepted: webm/opus from Chrome's
MediaRecorder, ogg/opus from Firefox, m4a/aac from Safari and phones, wav, mp3, flac…
Only audio demuxers are allowed (`format_whitelist`), so a crafted upload cannot make
FFmpeg open playlists or other files. Limits are enforced cheaply: the size before
decoding starts, the duration while decoding (it stops as soon as the limit is passed).

Decoding is CPU work: `decode_audio` runs it in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import threading
import wave
from dataclasses import dataclass

import av
import numpy as np

log = logging.getLogger(f"viva.{__name__}")

TARGET_RATE = 16000

# A recording whose loudest 20 ms window has an RMS level below this is "silent": digital
# silence, a muted microphone or bare background hiss. -55 dBFS is an RMS of ~58 on the
# int16 scale; quiet but real speech sits around -40 dBFS or louder in its loudest window.
SILENCE_DBFS = -55.0
SILENCE_RMS = 32768.0 * 10 ** (SILENCE_DBFS / 20)
_WINDOW_SAMPLES = TARGET_RATE // 50

_AUDIO_DEMUXERS = "matroska,webm,ogg,wav,mp3,mov,mp4,m4a,3gp,3g2,mj2,aac,flac,caf,amr,aiff,w64"


class AudioError(Exception):
    """The audio cannot be used; `code` is machine-readable, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Pcm:
    """16-bit little-endian mono samples."""

    data: bytes
    sample_rate: int = TARGET_RATE

    @property
    def duration_s(self) -> float:
        return len(self.data) / 2 / self.sample_rate


def decode_audio_sync(
    data: bytes, *, max_bytes: int, max_seconds: float, stop: threading.Event | None = None
) -> Pcm:
    """Decode any audio file PyAV opens to 16 kHz mono s16, or raise AudioError."""
    if not data:
        raise AudioError("audio_empty", "The recording is empty.")
    if len(data) > max_bytes:
        raise AudioError(
            "audio_too_large",
            f"The recording is too large ({len(data)} bytes; the limit is {max_bytes} bytes).",
        )
    samples = _decode(data, max_seconds, stop or threading.Event())
    if not samples:
        raise AudioError("audio_empty", "The recording contains no audio.")
    pcm = Pcm(b"".join(samples))
    if _loudest_window_rms(pcm.data) < SILENCE_RMS:
        raise AudioError("audio_silent", "The recording is silent; check the microphone.")
    return pcm


async def decode_audio(data: bytes, *, max_bytes: int, max_seconds: float) -> Pcm:
    """`decode_audio_sync` in a worker thread; cancelling the caller stops the decoding
    at the next frame (a thread cannot be cancelled, so it is asked to stop)."""
    stop = threading.Event()
    try:
        return await asyncio.to_thread(
            decode_audio_sync, data, max_bytes=max_bytes, max_seconds=max_seconds, stop=stop
        )
    except asyncio.CancelledError:
        stop.set()
        raise


def _decode(data: bytes, max_seconds: float, stop: threading.Event) -> list[bytes]:
    max_samples = math.ceil(max_seconds * TARGET_RATE)
    chunks: list[bytes] = []
    total = 0
    try:
        container = av.open(
            io.BytesIO(data), mode="r", options={"format_whitelist": _AUDIO_DEMUXERS}
        )
    except av.FFmpegError as error:
        raise _undecodable(error) from error
    with container:
        if not container.streams.audio:
            raise AudioError("audio_undecodable", "The file has no audio track.")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=TARGET_RATE)
        try:
            for frame in container.decode(audio=0):
                if stop.is_set():
                    raise AudioError("audio_abandoned", "Decoding stopped: nobody waits for it.")
                for out in resampler.resample(frame):
                    chunks.append(_frame_bytes(out))
                    total += out.samples
                if total > max_samples:
                    raise _too_long(max_seconds)
            for out in resampler.resample(None):
                chunks.append(_frame_bytes(out))
                total += out.samples
        except av.FFmpegError as error:
            if not chunks:
                raise _undecodable(error) from error
            # A cut-off recording (network drop, stopped recorder): keep what decoded.
            log.info(
                "audio ends with undecodable data after %.2f s: %s", total / TARGET_RATE, error
            )
    if total > max_samples:
        raise _too_long(max_seconds)
    return chunks


def _frame_bytes(frame: av.AudioFrame) -> bytes:
    return bytes(frame.planes[0])[: frame.samples * 2]


def _undecodable(error: Exception) -> AudioError:
    log.info("undecodable audio: %s", error)
    return AudioError(
        "audio_undecodable",
        "The audio could not be decoded; send webm/opus, ogg, wav, mp3, m4a or flac.",
    )


def _too_long(max_seconds: float) -> AudioError:
    return AudioError(
        "audio_too_long", f"The recording is longer than the limit of {max_seconds:g} seconds."
    )


def _loudest_window_rms(data: bytes) -> float:
    samples = np.frombuffer(data, dtype="<i2").astype(np.float64)
    usable = len(samples) - len(samples) % _WINDOW_SAMPLES
    if usable == 0:
        return float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0
    windows = samples[:usable].reshape(-1, _WINDOW_SAMPLES)
    return float(np.sqrt(np.max(np.mean(windows**2, axis=1))))


def pcm_to_wav(pcm: Pcm) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(pcm.sample_rate)
        wav.writeframes(pcm.data)
    return buffer.getvalue()


def resample_pcm(data: bytes, from_rate: int, to_rate: int) -> bytes:
    """Resample s16 mono PCM (a whole utterance; the resampler is flushed at the end)."""
    if from_rate == to_rate or not data:
        return data
    samples = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2")
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = from_rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=to_rate)
    frames = resampler.resample(frame) + resampler.resample(None)
    return b"".join(_frame_bytes(out) for out in frames)
