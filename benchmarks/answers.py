"""Spoken answers for the turn-taking benchmark, generated at run time.

Three kinds, as a candidate gives them:

* complete: one finished sentence;
* paused: an unfinished phrase ("I think the key point is"), a 1.5 s or 2.5 s thinking
  pause, then the rest;
* short: a short start, a 0.8 s pause, a short end ("Well, um … about five years.").

Voices: Piper's joe at length scales 0.9–1.2 and espeak-ng voices (robotic, but other
timbres and rhythms). One voice, `HELD_OUT`, is never used while tuning the end-of-turn
rules; the benchmark reports it on its own line. A third of the answers get white noise
25–35 dB below the voice, over the pauses too.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import wave
from dataclasses import dataclass

import numpy as np

from tests.speech_samples import speak
from voice.audio import TARGET_RATE, resample_pcm

HELD_OUT = "espeak:en-gb-x-rp"
TUNING_VOICES = ("piper:0.9", "piper:1.0", "piper:1.1", "piper:1.2", "espeak:en-us")
VOICED_RMS = 50.0  # s16 RMS of a 20 ms frame that counts as voice when trimming

COMPLETE = (
    "I would put the slow work on a queue and retry it later.",
    "First I would measure where the time goes, then fix the worst part.",
    "I would add a cache in front of it and expire entries after a minute.",
    "We ran two versions side by side and moved traffic over slowly.",
    "I write a small failing test first, then change the code until it passes.",
    "I would look at the logs and the metrics around the time it broke.",
)
PAUSED = (
    ("I think the key point is", "keeping the data consistent across services."),
    ("First I would put a queue in front and then", "add more workers when it grows."),
    ("We chose Postgres because", "it handles our joins really well."),
    ("So the cache sits in front of the database and", "we expire entries after a minute."),
    ("My approach would be to, um", "measure first and then optimise."),
    ("I would split the service into", "smaller parts that deploy on their own."),
)
SHORT = (
    ("Well, um", "about five years."),
    ("Mostly Python and", "some Go."),
    ("I'd say", "the second one."),
)


@dataclass(frozen=True)
class Spoken:
    kind: str  # complete | paused | short
    voice: str
    text: str
    pause_s: float  # the thinking pause inside the answer, 0 for complete answers
    noise_db: float | None
    pcm: bytes  # 16 kHz mono s16, 0.25 s of quiet (or noise) before and after


def _espeak(text: str, voice: str, rate_wpm: int) -> bytes:
    done = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate_wpm), "--stdout", text],
        capture_output=True,
        check=True,
    )
    with wave.open(io.BytesIO(done.stdout)) as wav:
        raw = wav.readframes(wav.getnframes())
        return resample_pcm(raw, wav.getframerate(), TARGET_RATE)


def _voiced(text: str, voice: str) -> np.ndarray:
    """`text` in `voice`, trimmed to its voiced frames (float samples, 16 kHz)."""
    engine, name = voice.split(":", 1)
    if engine == "piper":
        raw = speak(text, length_scale=float(name)).data
    else:
        raw = _espeak(text, name, 165)
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    frame = TARGET_RATE // 50
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    loud = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > VOICED_RMS)
    if not len(loud):
        return samples
    return samples[loud[0] * frame : (loud[-1] + 1) * frame]


def render(
    kind: str,
    voice: str,
    parts: tuple[str, ...],
    pause_s: float,
    noise_db: float | None,
    seed: int,
    continuous: bool = False,
) -> Spoken:
    """The answer's parts with `pause_s` of silence between them.

    By default each part is synthesized on its own, so a synthetic voice ends the
    unfinished first part as if it were a sentence. `continuous` synthesizes the whole
    answer as one sentence and opens the pause at the word boundary after the first part
    (estimated from that part's own length, snapped to the quietest 20 ms nearby): the voice
    stops mid-sentence, with the pitch of a sentence that goes on.
    """
    pieces = _continuous(voice, parts) if continuous else [_voiced(t, voice) for t in parts]
    gap = np.zeros(int(pause_s * TARGET_RATE))
    edge = np.zeros(TARGET_RATE // 4)
    body: list[np.ndarray] = [edge]
    for index, piece in enumerate(pieces):
        if index:
            body.append(gap)
        body.append(piece)
    body.append(edge)
    signal = np.concatenate(body)
    if noise_db is not None:
        speech = np.concatenate(pieces)
        level = float(np.sqrt(np.mean(speech**2))) / 10 ** (noise_db / 20)
        signal = signal + np.random.default_rng(seed).normal(0.0, level, len(signal))
    pcm = np.clip(np.round(signal), -32768, 32767).astype("<i2").tobytes()
    return Spoken(kind, voice, " … ".join(parts), pause_s, noise_db, pcm)


def _continuous(voice: str, parts: tuple[str, ...]) -> list[np.ndarray]:
    whole = _voiced(" ".join(parts), voice)
    if len(parts) == 1:
        return [whole]
    frame = TARGET_RATE // 50
    guess = len(_voiced(parts[0], voice)) // frame
    frames = whole[: len(whole) // frame * frame].reshape(-1, frame)
    level = np.sqrt((frames**2).mean(axis=1))
    low, high = max(1, guess - 8), min(len(level) - 1, guess + 8)  # ±160 ms
    cut = (low + int(np.argmin(level[low:high]))) * frame if high > low else guess * frame
    return [whole[:cut], whole[cut:]]


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def answer_set(count: int, seed: int = 7, held_out_share: float = 0.25) -> list[Spoken]:
    """`count` answers: 40 % complete, 40 % paused (1.5 s / 2.5 s), 20 % short (0.8 s).

    About `held_out_share` of them use the held-out voice; a third have noise.
    """
    rng = random.Random(seed)
    voices = [v for v in TUNING_VOICES if v.startswith("piper") or espeak_available()]
    held_out = HELD_OUT if espeak_available() else None
    kinds = ("complete", "paused", "short")
    plan = [kinds[i % 5 // 2] for i in range(count)]  # per five: 2 complete, 2 paused, 1 short
    spoken: list[Spoken] = []
    for index, kind in enumerate(plan):
        voice = held_out if held_out and rng.random() < held_out_share else rng.choice(voices)
        noise = rng.uniform(25, 35) if index % 3 == 2 else None
        if kind == "complete":
            parts: tuple[str, ...] = (COMPLETE[index % len(COMPLETE)],)
            pause = 0.0
        elif kind == "paused":
            parts = PAUSED[index % len(PAUSED)]
            pause = 1.5 if index % 2 else 2.5
        else:
            parts = SHORT[index % len(SHORT)]
            pause = 0.8
        spoken.append(render(kind, voice, parts, pause, noise, seed + index))
    return spoken
