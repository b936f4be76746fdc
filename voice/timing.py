"""Where the speech is in an answer's audio: voiced spans for `flows.delivery`, and
whether what webrtcvad calls voice is only a steady tone.

webrtcvad decides each 20 ms frame; the spans are its voiced runs, with short dips
bridged. It is C code holding the GIL for microseconds per frame (about 1 ms for a
minute of audio); callers on the event loop run it through `asyncio.to_thread` anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

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
    flags = [vad.is_speech(data[i : i + size], RATE) for i in range(0, len(data) - size + 1, size)]
    return spans_from_flags(flags, FRAME_MS / 1000)


# A steady tone (a beep, a test tone) sets webrtcvad off, but it is one sinusoid, while
# voiced speech is a harmonic series under moving formants: Whisper heard a 2 s 440 Hz
# tone as "Beep Beep Beep…". The share of a voiced 30 ms frame's energy within ±47 Hz of
# its strongest frequency, median over the voiced frames (now: over each part of a span,
# below), measured 2026-11-30: pure tones
# of 100 Hz–5 kHz 0.997–0.999; the voice evaluation's speech (its five voice families,
# held-out ones included, speeds 0.85–1.25, noise 20 and 10 dB below; 900 clips) at most
# 0.56.
TONE_SHARE = 0.9
_TONE_FRAME = 480  # 30 ms
_TONE_FFT = 1024  # 15.6 Hz bins
_TONE_BINS = 3  # either side of the strongest: ±47 Hz
# Each voiced span is judged on its own (a beep before or after the words does not hide
# them), in parts of about a second (a beep running straight into speech is one span),
# each on at most _PART_FRAMES frames spread over it, taken _BATCH_PARTS parts at a time:
# memory stays bounded however long the audio is, and the work is a fraction of the VAD's.
_PART = 33  # 30 ms frames: about 1 s
_PART_FRAMES = 8
_BATCH_PARTS = 25  # 200 frames


def _tone_shares(samples: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The share of each frame's energy within ±47 Hz of its strongest frequency (NaN for
    a silent frame)."""
    frames = samples[starts[:, None] + np.arange(_TONE_FRAME)].astype(np.float32)
    frames *= np.hanning(_TONE_FRAME).astype(np.float32)
    spectrum = np.fft.rfft(frames, _TONE_FFT, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    running = np.cumsum(power, axis=1)
    total = running[:, -1]
    peak = power.argmax(axis=1)
    rows = np.arange(len(power))
    high = running[rows, np.minimum(peak + _TONE_BINS, power.shape[1] - 1)]
    low_bin = peak - _TONE_BINS - 1
    low = np.where(low_bin >= 0, running[rows, np.maximum(low_bin, 0)], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (high - low) / total, np.nan)


def _parts(
    spans: tuple[tuple[float, float], ...], length: int
) -> Iterator[tuple[int, int, np.ndarray | None]]:
    """(first sample, end sample, frame starts) for each part of about a second of each
    span (a 20 ms span is judged on the 30 ms from its start); None when the audio ends
    before one frame."""
    for start, end in spans:
        first, stop = int(start * RATE), min(int(end * RATE), length)
        count = max((stop - first - _TONE_FRAME) // _TONE_FRAME + 1, 1)
        if first + _TONE_FRAME > length:
            yield first, stop, None
            continue
        bounds = np.linspace(0, count, -(-count // _PART) + 1).round().astype(np.intp)
        for low, high in zip(bounds[:-1], bounds[1:], strict=True):
            picked = np.unique(np.linspace(low, high - 1, min(high - low, _PART_FRAMES)).round())
            last = stop if high == count else first + high * _TONE_FRAME
            yield first + low * _TONE_FRAME, last, first + picked.astype(np.intp) * _TONE_FRAME


def _heard(pcm: Pcm, spans: tuple[tuple[float, float], ...]) -> Iterator[tuple[int, int, bool]]:
    """(first sample, end sample, heard?) for each part of the voiced `spans`: not heard
    when it is a steady tone (median frame share over TONE_SHARE) or digital silence (the
    VAD's spans run on a little), and when the audio ends before a 30 ms frame."""
    samples = np.frombuffer(pcm.data, dtype="<i2")
    parts = _parts(spans, len(samples))
    while batch := list(islice(parts, _BATCH_PARTS)):
        starts = [frames for _, _, frames in batch if frames is not None]
        shares = _tone_shares(samples, np.concatenate(starts)) if starts else np.empty(0)
        at = 0
        for first, end, frames in batch:
            if frames is None:
                yield first, end, False
                continue
            part = shares[at : at + len(frames)]
            at += len(frames)
            heard = part[~np.isnan(part)]
            yield first, end, bool(len(heard)) and bool(np.median(heard) <= TONE_SHARE)


def voiced_beyond_tone(pcm: Pcm, spans: tuple[tuple[float, float], ...], enough: float) -> bool:
    """Whether the voiced `spans` of 16 kHz `pcm` hold at least `enough` seconds that are
    not one steady frequency."""
    found = 0
    for first, end, heard in _heard(pcm, spans):
        found += end - first if heard else 0
        if found >= enough * RATE:
            return True
    return False


def without_tone(pcm: Pcm, spans: tuple[tuple[float, float], ...]) -> Pcm:
    """16 kHz `pcm` with the steady-tone parts of its voiced `spans` silenced: Whisper read
    "…the customer id I would" after a 2 s beep left before the words."""
    samples: np.ndarray | None = None
    for first, end, heard in _heard(pcm, spans):
        if not heard:
            if samples is None:
                samples = np.frombuffer(pcm.data, dtype="<i2").copy()
            samples[first:end] = 0
    return pcm if samples is None else Pcm(samples.tobytes(), pcm.sample_rate)
