"""Pick Viva's ears and voice: offline, or OpenAI falling back to offline."""

from __future__ import annotations

from dataclasses import dataclass

import openai

from voice.priority import INFERENCE_NICE
from voice.sphinx_stt import PocketsphinxSpeechToText
from voice.stt import FallbackSpeechToText, OpenAISpeechToText, SpeechToText
from voice.tts import (
    FallbackTextToSpeech,
    OpenAITextToSpeech,
    OpenAIVoiceConfig,
    PiperTextToSpeech,
    TextToSpeech,
)
from voice.whisper_stt import WhisperConfig, WhisperSpeechToText


@dataclass(frozen=True)
class OpenAISpeechConfig:
    """The OpenAI models for listening and speaking (the client is configured apart)."""

    transcribe_model: str = "gpt-4o-mini-transcribe"
    voice: OpenAIVoiceConfig = OpenAIVoiceConfig()


@dataclass(frozen=True)
class OfflineSpeechConfig:
    """The offline recogniser: "whisper" (default) or "pocketsphinx" (grammars)."""

    recognizer: str = "whisper"
    whisper: WhisperConfig = WhisperConfig()
    synthesis_nice: int = INFERENCE_NICE  # Piper's thread, this much nicer than the loop


def offline_recognizer(config: OfflineSpeechConfig) -> SpeechToText:
    if config.recognizer == "pocketsphinx":
        return PocketsphinxSpeechToText()
    return WhisperSpeechToText(config.whisper)


def build_speech(
    openai_speech: OpenAISpeechConfig | None,
    client: openai.AsyncOpenAI | None,
    offline: OfflineSpeechConfig | None = None,
) -> tuple[SpeechToText, TextToSpeech]:
    """Offline without an OpenAI config; otherwise OpenAI with the offline pair as fallback.

    `client` is the app's one OpenAI client (its owner closes it); it is required with
    `openai_speech`. The offline recogniser needs `warm_up()` before use and `aclose()`.
    """
    offline = offline or OfflineSpeechConfig()
    offline_stt = offline_recognizer(offline)
    offline_tts = PiperTextToSpeech(nice=offline.synthesis_nice)
    if openai_speech is None:
        return offline_stt, offline_tts
    if client is None:
        raise ValueError("build_speech needs the app's OpenAI client when OpenAI is in use")
    return (
        FallbackSpeechToText(OpenAISpeechToText(client, openai_speech.transcribe_model),
                             offline_stt),
        FallbackTextToSpeech(OpenAITextToSpeech(client, openai_speech.voice), offline_tts),
    )
