"""Smart Turn v3.2 for benchmarks/smart_turn_eval.py: does the turn so far sound finished?

Smart Turn (Daily/pipecat, BSD-2) is a small Whisper-encoder classifier: it reads the
last 8 s of 16 kHz speech as 80 Whisper log-mel bands × 800 frames and answers the
probability that the speaker has finished their turn (prosody: falling pitch, a drawn-out
"um", a cut-off phrase). The 8.7 MB ONNX file ships only inside the `pipecat-ai` wheel;
`scripts/fetch-smart-turn` takes that one file (and its licence) out of the wheel and
checks `MODEL_SHA256`. Inference runs on the onnxruntime that Piper already installs.

Input, as the model was trained: float samples in [-1, 1], the last 8 s (shorter audio is
padded with zeros *before* it), the whole window normalised to zero mean and unit variance,
then Whisper's log-mel (25 ms Hann windows every 10 ms, centred with reflection, Slaney
mel bands 0–8 kHz, log10 clipped 8 below its maximum, scaled as (x + 4) / 4).

`SmartTurn.probability` is blocking (55–75 ms of CPU here): call it from a worker thread.
The server does not use this module; the README's turn-taking section says why.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

RATE = 16000
WINDOW_S = 8
MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
MODEL_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 80


def default_model_path() -> Path:
    """Where scripts/fetch-smart-turn puts the model: inside the environment Viva runs in."""
    return Path(sys.prefix) / "share" / "viva" / "smart-turn" / MODEL_FILE


class SmartTurnError(RuntimeError):
    """The model file is missing, not the pinned one, or cannot be loaded."""


def _slaney_mel(hz: np.ndarray) -> np.ndarray:
    # linear below 1 kHz (3 mels per 200 Hz), logarithmic above
    linear = 3.0 * hz / 200.0
    return np.where(
        hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) * 27.0 / np.log(6.4), linear
    )


def _slaney_hz(mel: np.ndarray) -> np.ndarray:
    linear = 200.0 * mel / 3.0
    return np.where(mel >= 15.0, 1000.0 * np.exp((mel - 15.0) * np.log(6.4) / 27.0), linear)


def _mel_bank() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangular filters, each of unit area (Slaney norm)."""
    edges = _slaney_hz(np.linspace(0.0, float(_slaney_mel(np.array(RATE / 2))), N_MELS + 2))
    bins = np.linspace(0.0, RATE / 2, N_FFT // 2 + 1)
    low, mid, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - low) / (mid - low)
    falling = (high - bins[None, :]) / (high - mid)
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    return triangles * (2.0 / (high - low))


_MEL_BANK = _mel_bank()
_HANN = np.hanning(N_FFT + 1)[:-1]  # periodic


def window(samples: np.ndarray) -> np.ndarray:
    """The last WINDOW_S seconds of float samples, zero-padded at the front to exactly that."""
    size = RATE * WINDOW_S
    samples = np.asarray(samples, dtype=np.float32)[-size:]
    return np.concatenate([np.zeros(size - len(samples), dtype=np.float32), samples])


def log_mel(samples: np.ndarray) -> np.ndarray:
    """(N_MELS, 800) float32 features of `samples` (16 kHz floats in [-1, 1])."""
    x = window(samples)
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * _HANN, axis=-1)) ** 2  # (801, 201)
    mel = np.log10(np.maximum(_MEL_BANK @ power[:-1].T, 1e-10))  # the last frame is dropped
    mel = np.maximum(mel, mel.max() - 8.0)
    return ((mel + 4.0) / 4.0).astype(np.float32)


def pcm_to_float(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class SmartTurn:
    """One loaded model; `probability` is thread-safe (onnxruntime's run is)."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        if not path.is_file():
            raise SmartTurnError(
                f"Smart Turn model not found at {path}: run scripts/fetch-smart-turn"
            )
        found = file_sha256(path)
        if found != MODEL_SHA256:
            raise SmartTurnError(
                f"{path} is not the pinned Smart Turn v3.2 model "
                f"(SHA-256 {found}, expected {MODEL_SHA256}): run scripts/fetch-smart-turn"
            )
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own untyped errors
            raise SmartTurnError(f"cannot load the Smart Turn model {path}: {error}") from error
        self._input = self._session.get_inputs()[0].name

    def probability(self, samples: np.ndarray) -> float:
        """P(the turn is finished) for the turn's audio so far (16 kHz floats). Blocking."""
        features = log_mel(samples)[None]
        out = self._session.run(None, {self._input: features})[0]
        return float(np.asarray(out).reshape(-1)[0])
