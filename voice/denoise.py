"""Noise taken out of an utterance before Whisper hears it, only when it is noisy.

Measured, not adopted (README, "Offline speech-to-text", 2026-11-30): `WhisperConfig`'s
`denoise_below_snr_db` is off by default. On the tuning voices' interview answers at
10 dB SNR no front end (this one, noisereduce's spectral gating, RNNoise) lowered
tiny.en's word error beyond the run-to-run spread, and on clean speech the strong ones
raised it; `benchmarks/whisper_options.py --options viva denoise` measures it again.

The utterance's own silence gives the noise: webrtcvad (the aggressiveness `has_speech`
uses) marks the voiced frames, the power of the other frames is the noise, and the SNR
is voiced power over it. A clip with no unvoiced frames, or too few to measure, has no
estimate and is left alone. The denoiser is power spectral subtraction with the noise's
mean spectrum from those frames and a gain floor (`floor`, amplitude): a floor near 1
leaves the audio as it was, a low one removes more and adds "musical" artefacts that
Whisper hears as words. Numpy only, 2-4 ms of CPU per audio second (it holds the GIL for
part of that: the loop woke at most 9 ms late over a 7.7 s clip), and it runs where
Whisper runs: in the recogniser's worker thread, never on the event loop.
"""

from __future__ import annotations

import math

import numpy as np
import webrtcvad

from voice.audio import TARGET_RATE, Pcm

FRAME_MS = 20
VAD_AGGRESSIVENESS = 1  # has_speech's: what it calls voice is what is kept
MIN_FRAMES = 10  # of each kind (200 ms), or there is no estimate
N_FFT = 512  # 32 ms at 16 kHz
HOP = 160  # 10 ms


def voiced_frames(pcm: Pcm) -> np.ndarray:
    """One flag per FRAME_MS frame of 16 kHz `pcm`: webrtcvad's voiced decision."""
    vad = webrtcvad.Vad(VAD_AGGRESSIVENESS)
    size = TARGET_RATE * FRAME_MS // 1000 * 2
    data = pcm.data
    return np.array(
        [
            vad.is_speech(data[i : i + size], TARGET_RATE)
            for i in range(0, len(data) - size + 1, size)
        ],
        dtype=bool,
    )


def snr_db(pcm: Pcm) -> float | None:
    """The utterance's signal-to-noise ratio in dB (voiced frames' power over the unvoiced
    frames'), or None when it has too few frames of either kind to tell."""
    flags = voiced_frames(pcm)
    if flags.sum() < MIN_FRAMES or (~flags).sum() < MIN_FRAMES:
        return None
    size = TARGET_RATE * FRAME_MS // 1000
    samples = np.frombuffer(pcm.data, dtype="<i2")[: len(flags) * size].astype(np.float64)
    power = np.mean(samples.reshape(len(flags), size) ** 2, axis=1)
    noise = float(np.mean(power[~flags]))
    speech = float(np.mean(power[flags])) - noise
    if noise <= 0.0:
        return math.inf
    return 10 * math.log10(max(speech, 1e-9) / noise)


def denoised(pcm: Pcm, floor: float = 0.3) -> Pcm:
    """16 kHz `pcm` with the unvoiced frames' mean noise spectrum subtracted (gain at least
    `floor`); unchanged when there are too few unvoiced frames to measure the noise."""
    flags = voiced_frames(pcm)
    samples = np.frombuffer(pcm.data, dtype="<i2").astype(np.float64)
    window = np.hanning(N_FFT)
    padded = np.pad(samples, (N_FFT // 2, N_FFT))
    count = len(samples) // HOP + 1
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:count]
    spectrum = np.fft.rfft(frames * window, axis=1)
    power = np.abs(spectrum) ** 2
    # which analysis frames fall in a VAD frame judged unvoiced
    vad_index = np.minimum(
        np.arange(count) * HOP // (TARGET_RATE * FRAME_MS // 1000), len(flags) - 1
    )
    quiet = ~flags[vad_index] if len(flags) else np.zeros(count, dtype=bool)
    if quiet.sum() < MIN_FRAMES * FRAME_MS // 10:
        return pcm
    noise = power[quiet].mean(axis=0)
    gain = np.sqrt(np.maximum(1.0 - noise / np.maximum(power, 1e-9), floor * floor))
    frames_out = np.fft.irfft(spectrum * gain, n=N_FFT, axis=1) * window
    out = np.zeros(count * HOP + N_FFT)
    norm = np.zeros_like(out)
    for i, frame in enumerate(frames_out):  # overlap-add
        out[i * HOP : i * HOP + N_FFT] += frame
        norm[i * HOP : i * HOP + N_FFT] += window**2
    out = (out / np.maximum(norm, 1e-3))[N_FFT // 2 : N_FFT // 2 + len(samples)]
    return Pcm(np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes(), TARGET_RATE)


def when_noisy(pcm: Pcm, below_db: float, floor: float = 0.3) -> Pcm:
    """`pcm` denoised when its estimated SNR is under `below_db`, else the same object."""
    snr = snr_db(pcm)
    if snr is None or snr >= below_db:
        return pcm
    return denoised(pcm, floor)
