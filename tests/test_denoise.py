"""Denoising before Whisper (voice/denoise.py): only a noisy utterance is touched.

The speech is Piper's, made at test time, with white noise added 10 or 20 dB below it
(`tests.speech_samples.speak`). The step is measured and off by default (README,
"Offline speech-to-text"); these tests hold what it does when it is switched on.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.speech_samples import LEAD_SILENCE_S, plain, speak
from voice.audio import TARGET_RATE, Pcm
from voice.denoise import denoised, snr_db, when_noisy
from voice.stt import SpeechHints
from voice.whisper_stt import WhisperConfig, WhisperSpeechToText

SENTENCE = "I would put a cache in front of the database and measure the latency again."
ANSWER = SpeechHints(expected="answer", question="How would you make a slow service faster?")


def power_db(pcm: Pcm, start_s: float, end_s: float) -> float:
    samples = np.frombuffer(pcm.data, dtype="<i2").astype(np.float64)
    part = samples[int(start_s * TARGET_RATE) : int(end_s * TARGET_RATE)]
    return float(10 * np.log10(np.mean(part**2) + 1e-9))


@pytest.mark.parametrize("noise_db", [10.0, 20.0])
def test_the_snr_comes_from_the_utterance_own_silence(noise_db: float) -> None:
    estimate = snr_db(speak(SENTENCE, noise_db=noise_db, seed=3))
    assert estimate is not None
    assert abs(estimate - noise_db) < 3.0, estimate


def test_clean_speech_is_far_above_any_bound() -> None:
    estimate = snr_db(speak(SENTENCE))
    assert estimate is not None and estimate > 40.0, estimate


def test_a_noisy_utterance_loses_noise_and_keeps_its_voice() -> None:
    noisy = speak(SENTENCE, noise_db=10.0, seed=4)
    cleaned = when_noisy(noisy, below_db=15.0)
    assert cleaned is not noisy and len(cleaned.data) == len(noisy.data)
    # the lead-in is room silence plus noise: it loses part of it (the gain floor of 0.3
    # keeps the subtraction mild: ~4-5 dB less noise power here)
    lead = LEAD_SILENCE_S - 0.05
    assert power_db(cleaned, 0.0, lead) < power_db(noisy, 0.0, lead) - 3.0
    # the voice's middle keeps its level (speech is far above the noise there)
    voice = (noisy.duration_s / 2 - 0.5, noisy.duration_s / 2 + 0.5)
    kept = power_db(cleaned, *voice) - power_db(noisy, *voice)
    assert abs(kept) < 3.0, kept
    after = snr_db(cleaned)
    assert after is not None and after > 12.0, after


def test_a_clean_or_mildly_noisy_utterance_passes_through_unchanged() -> None:
    clean = speak(SENTENCE)
    assert when_noisy(clean, below_db=15.0) is clean
    twenty = speak(SENTENCE, noise_db=20.0, seed=5)
    assert when_noisy(twenty, below_db=15.0) is twenty


def test_audio_without_silence_to_measure_is_left_alone() -> None:
    """A clip that is speech (or noise taken for speech) from end to end has no noise
    estimate; it is not guessed at."""
    noise = np.random.default_rng(6).normal(0.0, 3000.0, TARGET_RATE * 2)
    loud = Pcm(np.clip(noise, -32768, 32767).astype("<i2").tobytes(), TARGET_RATE)
    assert snr_db(loud) is None
    assert when_noisy(loud, below_db=15.0) is loud
    assert denoised(Pcm(b"", TARGET_RATE)).data == b""


def test_whisper_hears_a_noisy_answer_through_the_denoiser() -> None:
    """Switched on, the step runs inside the recogniser (its worker thread in the server):
    a 10 dB answer is still heard, and a clean one is heard exactly as without it."""
    plain_ears = WhisperSpeechToText()
    denoising = WhisperSpeechToText(WhisperConfig(denoise_below_snr_db=15.0))
    noisy = speak(SENTENCE, noise_db=10.0, seed=4)
    heard = denoising.recognize(noisy, ANSWER)
    for word in ("front", "database", "latency"):
        assert word in plain(heard.text).split(), heard.text
    # what it decoded is the denoised audio (plain Whisper also hears most of a 10 dB clip)
    assert heard == plain_ears.recognize(when_noisy(noisy, below_db=15.0), ANSWER)
    clean = speak(SENTENCE)
    assert denoising.recognize(clean, ANSWER) == plain_ears.recognize(clean, ANSWER)
