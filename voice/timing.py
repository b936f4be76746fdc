"""Where the speech is in an answer's audio: voiced spans for `flows.delivery`, and
whether what webrtcvad calls voice is only a steady tone.

webrtcvad decides each 20 ms frame; the spans are its voiced runs, with short dips
bridged. It is C code holding the GIL for microseconds per frame (about 1 ms for a
minute of audio); callers on the event loop run it through `asyncio.to_thread` anyway.
"""

from __future__ import annotations

import numpy as np
import webrtcvad

from flows.delivery import spans_from_flags
from voice.audio import Pcm

FRAME_MS = 20
RATE = 16000


def speech_spans(pcm: Pcm, aggressiveness: int = 2) -> tuple[tuple[float, float], ...]:
    """Voiced spans of 16 kHz mono audio, in seconds from its start."""
    if pcm.sample_rate != RATE:
        raise ValueError(f"speech_spans needs {RATE} Hz audio, got {pcm.sample_rate}")
    vad = webrtcvad.Vad(aggressiveness)
    size = RATE * FRAME_MS // 1000 * 2
    data = pcm.data
    flags = [
        vad.is_speech(data[i : i + size], RATE) for i in range(0, len(data) - size + 1, size)
    ]
    return spans_from_flags(flags, FRAME_MS / 1000)


# A steady tone (a beep, a test tone) sets webrtcvad off, but it is one sinusoid, while
# voiced speech is a harmonic series under moving formants: Whisper heard a 2 s 440 Hz
# tone as "Beep Beep Beep…". The share of a voiced 30 ms frame's energy within ±47 Hz of
# its strongest frequency, median over the voiced frames, measured 2026-11-30: pure tones
# of 100 Hz–5 kHz 0.997–0.999; the voice evaluation's speech (its five voice families,
# held-out ones included, speeds 0.85–1.25, noise 20 and 10 dB below; 900 clips) at most
# 0.56.
TONE_SHARE = 0.9
_TONE_FRAME = 480  # 30 ms
_TONE_FFT = 1024  # 15.6 Hz bins
_TONE_BINS = 3  # either side of the strongest: ±47 Hz


def steady_tone(pcm: Pcm, spans: tuple[tuple[float, float], ...]) -> bool:
    """Whether the voiced `spans` of 16 kHz `pcm` hold a single steady frequency."""
    samples = np.frombuffer(pcm.data, dtype="<i2").astype(np.float32)
    starts = [
        i
        for start, end in spans
        for i in range(int(start * RATE), int(end * RATE) - _TONE_FRAME + 1, _TONE_FRAME)
    ]
    if not starts:
        return False
    frames = samples[np.array(starts)[:, None] + np.arange(_TONE_FRAME)] * np.hanning(_TONE_FRAME)
    power = np.abs(np.fft.rfft(frames, _TONE_FFT, axis=1)) ** 2
    total = power.sum(axis=1)
    heard = total > 0
    if not heard.any():
        return False
    power, total = power[heard], total[heard]
    running = np.concatenate([np.zeros((len(power), 1)), np.cumsum(power, axis=1)], axis=1)
    peak = power.argmax(axis=1)
    rows = np.arange(len(power))
    low = np.maximum(peak - _TONE_BINS, 0)
    high = np.minimum(peak + _TONE_BINS + 1, power.shape[1])
    near = running[rows, high] - running[rows, low]
    return bool(np.median(near / total) > TONE_SHARE)
