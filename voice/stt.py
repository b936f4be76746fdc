"""Speech-to-text: pocketsphinx offline, OpenAI transcription online, and a fallback pair.

Every recogniser subclasses `SpeechToText` and fills one hook, `_transcribe`, returning a
`Transcription`; the base class maps its failures to a counted `ProviderError`. The
conversation knows what answer it expects next (`SpeechHints`); offline recognition
uses it to pick a grammar of that field's answers, OpenAI gets it as a `prompt`.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import openai
from pocketsphinx import Decoder

from flows.providers.base import ProviderError, map_errors
from voice.audio import TARGET_RATE, Pcm, pcm_to_wav, resample_pcm
from voice.grammars import FIELDS, Grammar, grammar_for, pronunciations, written

log = logging.getLogger(f"viva.{__name__}")

MIN_SPEECH_SECONDS = 0.1  # shorter than any word: nothing to recognise
# Word insertion penalty for grammar search (pocketsphinx default 0.65). Lower penalises
# extra words more: background noise after a tech list no longer becomes "..., rust".
GRAMMAR_WIP = 0.05
MAX_PROMPT_CHARS = 800

_TECH_PROMPT = (
    "The candidate lists the technologies they work with, for example: Python, Django, "
    "FastAPI, Flask, PostgreSQL, MySQL, MongoDB, Redis, JavaScript, TypeScript, React, "
    "Angular, Vue, Node.js, Next.js, Java, Spring Boot, Kotlin, Go, Rust, C++, C#, .NET, "
    "Ruby on Rails, PHP, Laravel, Swift, GraphQL, REST, Docker, Kubernetes, Terraform, AWS, "
    "Azure, GCP, Kafka, Linux, Git, HTML, CSS, TensorFlow, PyTorch, pandas."
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


@dataclass(frozen=True)
class SpeechHints:
    # "readiness" | "role" | "interview_type" | "level" | "techstack" | "amount" | "answer" | None
    expected: str | None = None
    question: str | None = None  # the question just asked (prompt context for OpenAI)


@dataclass(frozen=True)
class Transcription:
    """What a recogniser heard in one utterance."""

    text: str  # the words spoken; "" when nothing was understood
    confidence: float | None  # 0..1 when the recogniser reports one
    source: str  # the recogniser that produced it (its `name`)


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


class _Recognizer:
    """One pocketsphinx decoder; a decoder is not reentrant, so its use is serialised."""

    def __init__(self, decoder: Decoder) -> None:
        self._decoder = decoder
        self._lock = threading.Lock()

    def recognize(self, data: bytes) -> str:
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(data, full_utt=True)
            self._decoder.end_utt()
            hypothesis = self._decoder.hyp()
        return hypothesis.hypstr if hypothesis is not None else ""


class OfflineSpeechToText(SpeechToText):
    """pocketsphinx: a grammar per collector field, the general language model otherwise.

    Decoders are built once, lazily (a grammar decoder with its small dictionary in ~0.1 s,
    the language-model one in ~0.35 s) and reused; recognition runs in a worker thread.
    """

    name = "pocketsphinx"

    def __init__(self) -> None:
        self._recognizers: dict[str, _Recognizer] = {}
        self._build_lock = threading.Lock()

    async def _transcribe(self, pcm: Pcm, hints: SpeechHints) -> Transcription:
        text = await asyncio.to_thread(self.recognize, pcm, hints)
        return Transcription(text, None, self.name)

    def recognize(self, pcm: Pcm, hints: SpeechHints) -> str:
        """The words in `pcm`, synchronously (call it from a worker thread)."""
        data = pcm.data
        if pcm.sample_rate != TARGET_RATE:
            data = resample_pcm(data, pcm.sample_rate, TARGET_RATE)
        if len(data) < MIN_SPEECH_SECONDS * TARGET_RATE * 2:
            return ""
        grammar = grammar_for(hints.expected) if hints.expected else None
        return written(self._recognizer(grammar).recognize(data), hints.expected)

    async def warm_up(self) -> None:
        """Build every decoder now (e.g. at startup) instead of on first use."""

        def build_all() -> None:
            self._recognizer(None)
            for field in FIELDS:
                self._recognizer(grammar_for(field))

        await asyncio.to_thread(build_all)

    def _recognizer(self, grammar: Grammar | None) -> _Recognizer:
        key = grammar.name if grammar else ""
        recognizer = self._recognizers.get(key)
        if recognizer is None:
            with self._build_lock:
                recognizer = self._recognizers.get(key)
                if recognizer is None:
                    decoder = _grammar_decoder(grammar) if grammar else _open_decoder()
                    recognizer = self._recognizers[key] = _Recognizer(decoder)
        return recognizer


def _open_decoder() -> Decoder:
    return Decoder(loglevel="FATAL")


def _grammar_decoder(grammar: Grammar) -> Decoder:
    with tempfile.TemporaryDirectory(prefix="viva-stt-") as folder:
        dictionary = Path(folder) / f"{grammar.name}.dict"
        dictionary.write_text(pronunciations(grammar.words), encoding="utf-8")
        decoder = Decoder(lm=None, dict=str(dictionary), wip=GRAMMAR_WIP, loglevel="FATAL")
    decoder.add_jsgf_string(grammar.name, grammar.jsgf)
    decoder.activate_search(grammar.name)
    return decoder


def speech_prompt(hints: SpeechHints) -> str:
    """What OpenAI transcription is told to expect (vocabulary and context)."""
    if hints.expected in _FIELD_PROMPTS:
        return _FIELD_PROMPTS[hints.expected]
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

    async def _transcribe(self, pcm: Pcm, hints: SpeechHints) -> Transcription:
        try:
            return await self.primary.transcribe(pcm, hints)
        except ProviderError as error:
            log.warning("%s speech-to-text failed, using %s: %s",
                        self.primary.name, self.fallback.name, error)
            return await self.fallback.transcribe(pcm, hints)
