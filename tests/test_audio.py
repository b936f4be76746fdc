"""Decoding what browsers and phones record: formats, limits, broken and silent input."""

from __future__ import annotations

import io
import time
import wave
from typing import TypedDict

import numpy as np
import pytest

from tests.speech_samples import FORMATS, encode, speak
from voice.audio import (
    SILENCE_RMS,
    TARGET_RATE,
    AudioError,
    Pcm,
    decode_audio,
    decode_audio_sync,
    pcm_to_wav,
    resample_pcm,
)

SENTENCE = "The quick brown fox jumps over the lazy dog."
MAX_BYTES = 50 * 1024 * 1024
MAX_SECONDS = 120.0


class Limits(TypedDict):
    max_bytes: int
    max_seconds: float


LIMITS = Limits(max_bytes=MAX_BYTES, max_seconds=MAX_SECONDS)


def samples(pcm: Pcm) -> np.ndarray:
    return np.frombuffer(pcm.data, dtype="<i2").astype(np.float64)


def best_correlation(a: np.ndarray, b: np.ndarray, max_lag: int = 4000) -> float:
    """Peak normalised cross-correlation within ±max_lag samples (codec delays differ)."""
    size = len(a) + len(b)
    spectrum = np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size))
    correlation = np.fft.irfft(spectrum, size)
    window = np.concatenate([correlation[: max_lag + 1], correlation[-max_lag:]])
    return float(np.max(window) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


def code_of(data: bytes, max_bytes: int = MAX_BYTES, max_seconds: float = MAX_SECONDS) -> str:
    with pytest.raises(AudioError) as caught:
        decode_audio_sync(data, max_bytes=max_bytes, max_seconds=max_seconds)
    assert caught.value.message.endswith(".")  # a human sentence
    return caught.value.code


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_format_round_trips(fmt: str) -> None:
    original = speak(SENTENCE)
    decoded = decode_audio_sync(encode(original, fmt), **LIMITS)
    assert decoded.sample_rate == TARGET_RATE
    assert decoded.duration_s == pytest.approx(original.duration_s, rel=0.05)
    assert best_correlation(samples(original), samples(decoded)) > 0.95


def test_other_sample_rates_and_stereo_become_16k_mono() -> None:
    original = speak(SENTENCE)
    mono_44k = np.frombuffer(resample_pcm(original.data, TARGET_RATE, 44100), dtype="<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
        wav.writeframes(np.repeat(mono_44k, 2).tobytes())  # interleaved L R
    decoded = decode_audio_sync(buffer.getvalue(), **LIMITS)
    assert decoded.duration_s == pytest.approx(original.duration_s, rel=0.01)
    assert best_correlation(samples(original), samples(decoded)) > 0.95


async def test_decode_audio_runs_off_the_loop() -> None:
    decoded = await decode_audio(encode(speak(SENTENCE), "webm"), **LIMITS)
    assert decoded.duration_s > 2


def test_empty() -> None:
    assert code_of(b"") == "audio_empty"


def test_container_without_samples_is_empty() -> None:
    assert code_of(pcm_to_wav(Pcm(b""))) == "audio_empty"


def test_too_large_is_refused_before_decoding() -> None:
    data = encode(speak(SENTENCE), "wav")
    assert code_of(data, max_bytes=len(data) - 1) == "audio_too_large"
    decode_audio_sync(data, max_bytes=len(data), max_seconds=60)


def test_too_long() -> None:
    data = encode(speak(SENTENCE), "webm")
    assert code_of(data, max_seconds=2.0) == "audio_too_long"
    decode_audio_sync(data, max_bytes=len(data), max_seconds=4.0)


def test_too_long_stops_decoding_early() -> None:
    long_speech = Pcm(speak(SENTENCE).data * 30)  # ~100 s
    data = encode(long_speech, "webm")
    started = time.perf_counter()
    decode_audio_sync(data, **LIMITS)
    full = time.perf_counter() - started
    started = time.perf_counter()
    assert code_of(data, max_seconds=3.0) == "audio_too_long"
    assert time.perf_counter() - started < full / 4


@pytest.mark.parametrize(
    "garbage",
    [
        bytes(np.random.default_rng(7).integers(0, 256, 8192, dtype=np.uint8)),
        b"this is not audio at all, just a text file\n" * 100,
        b"\x89PNG\r\n\x1a\n" + bytes(2000),
        # demuxers that open other files are not allowed
        b"ffconcat version 1.0\nfile /etc/passwd\n",
        b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
    ],
    ids=["random", "text", "png", "concat", "playlist"],
)
def test_garbage_is_undecodable(garbage: bytes) -> None:
    assert code_of(garbage) == "audio_undecodable"


@pytest.mark.parametrize("fmt", ["webm", "ogg", "mp3", "m4a", "wav"])
def test_file_cut_after_its_header_is_undecodable(fmt: str) -> None:
    assert code_of(encode(speak(SENTENCE), fmt)[:40]) in ("audio_undecodable", "audio_empty")


@pytest.mark.parametrize("fmt", ["webm", "ogg", "mp3", "wav"])
def test_file_cut_in_the_middle_keeps_what_decodes(fmt: str) -> None:
    original = speak(SENTENCE)
    data = encode(original, fmt)
    decoded = decode_audio_sync(data[: len(data) // 2], **LIMITS)
    assert 0.25 * original.duration_s < decoded.duration_s < 0.75 * original.duration_s


def test_digital_silence() -> None:
    assert code_of(pcm_to_wav(Pcm(bytes(2 * TARGET_RATE)))) == "audio_silent"
    assert code_of(encode(Pcm(bytes(2 * TARGET_RATE)), "webm")) == "audio_silent"


def test_near_silence_and_quiet_speech() -> None:
    rng = np.random.default_rng(1)
    hiss = rng.normal(0, SILENCE_RMS / 4, 2 * TARGET_RATE).astype("<i2")  # ~ -67 dBFS
    assert code_of(pcm_to_wav(Pcm(hiss.tobytes()))) == "audio_silent"
    quiet = (samples(speak(SENTENCE)) * 0.03).astype("<i2")  # speech peaking ~ -30 dBFS
    decoded = decode_audio_sync(pcm_to_wav(Pcm(quiet.tobytes())), **LIMITS)
    assert decoded.duration_s > 2


def test_pcm_helpers() -> None:
    pcm = speak(SENTENCE)
    with wave.open(io.BytesIO(pcm_to_wav(pcm))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16000)
        assert wav.readframes(wav.getnframes()) == pcm.data
    up = resample_pcm(pcm.data, 16000, 48000)
    assert len(up) / len(pcm.data) == pytest.approx(3, rel=0.01)
    back = resample_pcm(up, 48000, 16000)
    assert best_correlation(samples(pcm), samples(Pcm(back))) > 0.98
    assert resample_pcm(pcm.data, 16000, 16000) is pcm.data
    assert pcm.duration_s == len(pcm.data) / 32000
