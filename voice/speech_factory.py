"""Pick Viva's ears and voice: offline, or OpenAI falling back to offline."""

from __future__ import annotations

from dataclasses import dataclass

import openai

from voice.stt import (
    FallbackSpeechToText,
    OfflineSpeechToText,
    OpenAISpeechToText,
    SpeechToText,
)
from voice.tts import (
    FallbackTextToSpeech,
    OpenAITextToSpeech,
    OpenAIVoiceConfig,
    PiperTextToSpeech,
    TextToSpeech,
)


@dataclass(frozen=True)
class OpenAISpeechConfig:
    """The OpenAI models for listening and speaking (the client is configured apart)."""

    transcribe_model: str = "gpt-4o-mini-transcribe"
    voice: OpenAIVoiceConfig = OpenAIVoiceConfig()


def build_speech(
    openai_speech: OpenAISpeechConfig | None, client: openai.AsyncOpenAI | None
) -> tuple[SpeechToText, TextToSpeech]:
    """Offline without an OpenAI config; otherwise OpenAI with the offline pair as fallback.

    `client` is the app's one OpenAI client (its owner closes it); it is required with
    `openai_speech`.
    """
    offline_stt = OfflineSpeechToText()
    offline_tts = PiperTextToSpeech()
    if openai_speech is None:
        return offline_stt, offline_tts
    if client is None:
        raise ValueError("build_speech needs the app's OpenAI client when OpenAI is in use")
    return (
        FallbackSpeechToText(OpenAISpeechToText(client, openai_speech.transcribe_model),
                             offline_stt),
        FallbackTextToSpeech(OpenAITextToSpeech(client, openai_speech.voice), offline_tts),
    )
