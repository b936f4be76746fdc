"""Speech-to-text: the shared interface, OpenAI transcription, and a fallback pair.

Every recogniser subclasses `SpeechToText` and fills one hook, `_transcribe`, returning a
`Transcription`; the base class maps its failures to a counted `ProviderError`. The
conversation knows what answer it expects next (`SpeechHints`): OpenAI gets it as a
`prompt`, Whisper (`voice/whisper_stt.py`) as its previous-text prompt, pocketsphinx
(`voice/sphinx_stt.py`) as the field's grammar.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import openai

from flows.providers.base import ProviderError, map_errors
from voice.audio import TARGET_RATE, Pcm, pcm_to_wav
from voice.timing import speech_spans, voiced_beyond_tone, without_tone

log = logging.getLogger(f"viva.{__name__}")

MIN_SPEECH_SECONDS = 0.1  # voiced audio shorter than any word: nothing to recognise
MAX_PROMPT_CHARS = 800

# technologies candidates name; both recognisers' prompts for the stack field list them
TECH_NAMES = (
    "Python, Django, FastAPI, Flask, PostgreSQL, MySQL, MongoDB, Redis, JavaScript, "
    "TypeScript, React, Angular, Vue, Node.js, Next.js, Java, Spring Boot, Kotlin, Go, Rust, "
    "C++, C#, .NET, Ruby on Rails, PHP, Laravel, Swift, GraphQL, REST, Docker, Kubernetes, "
    "Terraform, AWS, Azure, GCP, Kafka, Linux, Git, HTML, CSS, TensorFlow, PyTorch, pandas."
)
_TECH_PROMPT = (
    f"The candidate lists the technologies they work with, for example: {TECH_NAMES}"
)
_FIELD_PROMPTS = {
    "readiness": "The candidate says whether they are ready to start: yes, I'm ready, or not yet.",
    "role": (
        "The candidate names the job role they want to practise for, such as backend "
        "developer, frontend engineer, data scientist, DevOps engineer or product manager."
    ),
    "interview_type": "The candidate chooses the interview type: technical, behavioral or mixed.",
    "level": "The candidate names a seniority level: intern, junior, mid-level or senior.",
    "techstack": _TECH_PROMPT,
    "amount": "The candidate says how many interview questions they want, from 1 to 30.",
}


# Speech over the assistant's reply: a backchannel ("mm-hm"), a noise or an interruption.
# Heard with the interview's prompt, tiny.en writes a hum as words ("And then make a
# chance."); told what to expect, it writes "MMMHM" and still hears a question as one.
REACTION = "reaction"
REACTION_PROMPT = (
    "While the interviewer speaks, the candidate says something: mm-hmm, uh-huh, okay, "
    "right, yeah, or a question."
)


class OpenPlace(Protocol):
    """A reading with its value's place open (`flows.value_choices.Choices`): the words
    before it, the values that may go there, and the whole sentence with one of them."""

    @property
    def before(self) -> str: ...

    @property
    def options(self) -> tuple[str, ...]: ...

    @property
    def closed(self) -> bool: ...  # the options are every value the field has

    def sentence(self, option: str) -> str: ...


@dataclass(frozen=True)
class SpeechHints:
    # "readiness" | "role" | "interview_type" | "level" | "techstack" | "amount" | "answer"
    # | REACTION (speech over the reply) | None
    expected: str | None = None
    question: str | None = None  # the question just asked (prompt context)
    vocabulary: tuple[str, ...] = ()  # words to expect (the candidate's stack in an interview)
    # which words would answer what was asked (the collector's reader for a closed field);
    # a recogniser with several readings may prefer one it accepts (Whisper's beam)
    accepts: Callable[[str], bool] | None = None
    # the value those words would give (the collector's reading), or None: when another
    # reading of the same utterance, nearly as likely, gives a different value, the
    # recogniser reports a low confidence, so the value is asked back before it is stored
    value_of: Callable[[str], object] | None = None
    confirming: str | None = None  # "I heard X. Is that…?" was asked: X, said back
    # for a reading (text, confidence) that would not be stored as it is, the same words
    # with the value's place open to the field's values; a recogniser may score them on
    # the audio (Whisper: "game up engineer" → "DevOps engineer"), None: no need
    choices: Callable[[str, float], OpenPlace | None] | None = None


@dataclass(frozen=True)
class Transcription:
    """What a recogniser heard in one utterance."""

    text: str  # the words spoken; "" when nothing was understood
    confidence: float | None  # 0..1 when the recogniser reports one
    source: str  # the recogniser that produced it (its `name`)
    # how likely the recogniser finds its own last word, 0..1 (Whisper, read again without
    # the prompt); None when it cannot tell. A low value marks a guess at a cut-off word.
    last_word_p: float | None = None
    # the recogniser's other readings of the end of the utterance, best first, each with
    # how likely it is beside the chosen one (its confidence over the chosen one's); ()
    # when it has none (Whisper: the beam's other hypotheses for an interview answer)
    rivals: tuple[tuple[str, float], ...] = ()


class SpeechToText(ABC):
    """A recogniser; `_transcribe` is the only thing a vendor writes."""

    name: str

    async def transcribe(self, pcm: Pcm, hints: SpeechHints) -> Transcription:
        """The words spoken in `pcm`; failures raise a counted ProviderError."""
        with map_errors("stt"):
            return await self._transcribe(pcm, hints)

    @abstractmethod
    async def _transcribe(self, pcm: Pcm, hints: SpeechHints) -> Transcription:
        """Recognise `pcm`; raise the vendor's own errors, the base class maps them."""

    async def warm_up(self) -> None:
        """Load what recognition needs (the app's startup calls it; models fail here)."""
        return None

    async def aclose(self) -> None:
        """Release worker threads or processes (the app's cleanup calls it)."""
        return None


def has_speech(pcm: Pcm) -> bool:
    """Whether 16 kHz `pcm` has voiced frames (webrtcvad) that are not one steady tone:
    silence and a beep are nothing heard. A beep next to the words does not hide them:
    each voiced span is judged in parts of about a second (`voice.timing`)."""
    return _heard_spans(pcm) is not None


def speech_to_hear(pcm: Pcm) -> Pcm | None:
    """16 kHz `pcm` with any steady tone silenced (`has_speech`), or None when nothing
    is heard."""
    spans = _heard_spans(pcm)
    return None if spans is None else without_tone(pcm, spans)


def _heard_spans(pcm: Pcm) -> tuple[tuple[float, float], ...] | None:
    if pcm.sample_rate != TARGET_RATE or pcm.duration_s < MIN_SPEECH_SECONDS:
        return None
    spans = speech_spans(pcm, 1)
    voiced = sum(end - start for start, end in spans)
    if voiced < MIN_SPEECH_SECONDS or not voiced_beyond_tone(pcm, spans, MIN_SPEECH_SECONDS):
        return None
    return spans


def speech_prompt(hints: SpeechHints) -> str:
    """What OpenAI transcription is told to expect (vocabulary and context)."""
    if hints.expected in _FIELD_PROMPTS:
        return _FIELD_PROMPTS[hints.expected]
    if hints.expected == REACTION:
        return REACTION_PROMPT
    if hints.question:
        question = hints.question.strip()[-MAX_PROMPT_CHARS:]
        return f"Interview question: {question} The candidate's answer:"
    return ""


class OpenAISpeechToText(SpeechToText):
    name = "openai"

    def __init__(self, client: openai.AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model

    async def _transcribe(self, pcm: Pcm, hints: SpeechHints) -> Transcription:
        if not pcm.data:
            return Transcription("", None, self.name)
        prompt = speech_prompt(hints)
        result = await self._client.audio.transcriptions.create(
            model=self._model,
            file=("speech.wav", pcm_to_wav(pcm), "audio/wav"),
            language="en",  # Viva's conversations are English; short answers mis-detect
            prompt=prompt or openai.omit,
        )
        return Transcription(str(result.text).strip(), None, self.name)


class FallbackSpeechToText(SpeechToText):
    """The primary provider; the fallback for this utterance when the primary fails."""

    def __init__(self, primary: SpeechToText, fallback: SpeechToText) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}+{fallback.name}"

    async def warm_up(self) -> None:
        await self.primary.warm_up()
        await self.fallback.warm_up()

    async def aclose(self) -> None:
        await self.primary.aclose()
        await self.fallback.aclose()

    async def _transcribe(self, pcm: Pcm, hints: SpeechHints) -> Transcription:
        try:
            return await self.primary.transcribe(pcm, hints)
        except ProviderError as error:
            log.warning(
                "%s speech-to-text failed, using %s: %s",
                self.primary.name,
                self.fallback.name,
                error,
            )
            return await self.fallback.transcribe(pcm, hints)
