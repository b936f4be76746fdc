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
PAUSED = (  # the first six are the ones the end-of-turn rules were written on
    ("I think the key point is", "keeping the data consistent across services."),
    ("First I would put a queue in front and then", "add more workers when it grows."),
    ("We chose Postgres because", "it handles our joins really well."),
    ("So the cache sits in front of the database and", "we expire entries after a minute."),
    ("My approach would be to, um", "measure first and then optimise."),
    ("I would split the service into", "smaller parts that deploy on their own."),
    ("The main problem was that the", "reports took hours to build."),
    ("I would start by looking at", "the slowest queries in the logs."),
    ("We kept the old API running while", "clients moved to the new one."),
    ("For that I'd probably use a", "message broker such as Kafka."),
    ("It depends on how many users and", "how often they write."),
    ("The tricky part is, uh", "handling retries without duplicates."),
    ("I'd add an index on the", "user id and the created date."),
    ("We solved it with", "a nightly job that cleans up."),
)
# Never used while writing or tuning the rules: only in the held-out run.
PAUSED_HELD_OUT = (
    ("What I learned from that project is", "to ship smaller changes."),
    ("The first thing I'd check is whether", "the disk is full."),
    ("Our team usually reviews every change before", "it is merged."),
    ("I'd rather keep it simple with", "one database for now."),
    ("In my last role I was responsible for", "the billing service."),
    ("To be honest I haven't used it much, but", "I know the basics."),
    ("The service would read from the queue, then", "write the results back."),
    ("We measured the latency at", "the ninety ninth percentile."),
    ("When the load grows we", "add replicas behind the balancer."),
    ("I would talk to the team and, um", "agree on a plan together."),
)
SHORT = (
    ("Well, um", "about five years."),
    ("Mostly Python and", "some Go."),
    ("I'd say", "the second one."),
)
# What a collector field expects, said as a value ("Senior.", "Ten.", "Yes, I'm ready."),
# in the order the collector asks.
COLLECTOR_VALUES = (
    ("readiness", "Yes, I'm ready."),
    ("role", "Backend developer."),
    ("interview_type", "Technical."),
    ("level", "Senior."),
    ("techstack", "Python and Postgres."),
    ("amount", "Ten."),
    ("confirmation", "Yes."),  # when the collector asks "I heard …, right?"
)
# one word or three
VALUE_FIELDS = frozenset({"readiness", "interview_type", "level", "amount", "confirmation"})
BACKCHANNELS = ("Mm-hm.", "Okay.", "Right.", "Yeah.")
INTERRUPTIONS = ("Sorry, could you repeat that?", "Sorry, can you say that again?")


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


def planned_set(
    complete: int, paused: int, short: int, seed: int = 7, held_out: bool = False
) -> list[Spoken]:
    """Answers by kind, for the turn-taking benchmark.

    Complete answers come in pairs, the same words in the same voice once quiet and once
    with noise 25-35 dB below the voice, so that the noise's effect on the end of turn is
    a paired difference. Paused answers alternate 1.5 s and 2.5 s pauses, a third with
    noise. `held_out`: the held-out voice and the held-out phrasings only.
    """
    rng = random.Random(seed)
    voices = [v for v in TUNING_VOICES if v.startswith("piper") or espeak_available()]
    if held_out:
        voices = [HELD_OUT] if espeak_available() else voices
    phrasings = PAUSED_HELD_OUT if held_out else PAUSED
    spoken: list[Spoken] = []
    for index in range(complete // 2):
        voice, text = rng.choice(voices), (COMPLETE[index % len(COMPLETE)],)
        spoken.append(render("complete", voice, text, 0.0, None, seed + index))
        noise_db = rng.uniform(25, 35)
        spoken.append(render("complete", voice, text, 0.0, noise_db, seed + index))
    offset = rng.randrange(len(phrasings))
    for index in range(paused):
        parts = phrasings[(offset + index) % len(phrasings)]
        noise = rng.uniform(25, 35) if index % 3 == 2 else None
        pause = 1.5 if index % 2 else 2.5
        spoken.append(render("paused", rng.choice(voices), parts, pause, noise, seed + 100 + index))
    for index in range(short):
        parts = SHORT[index % len(SHORT)]
        spoken.append(render("short", rng.choice(voices), parts, 0.8, None, seed + 200 + index))
    rng.shuffle(spoken)
    return spoken


def spoken_value(kind: str, text: str, voice: str, seed: int = 0) -> Spoken:
    """A collector value, a backchannel or an interruption: one piece, no noise."""
    return render(kind, voice, (text,), 0.0, None, seed)
