"""Pick Viva's ears and voice from settings: offline, or OpenAI falling back to offline."""

from __future__ import annotations

import openai

from settings import Settings
from voice.stt import (
    FallbackSpeechToText,
    OfflineSpeechToText,
    OpenAISpeechToText,
    SpeechToText,
)
from voice.tts import (
    FallbackTextToSpeech,
    OpenAITextToSpeech,
    PiperTextToSpeech,
    TextToSpeech,
)


def build_speech(
    settings: Settings, client: openai.AsyncOpenAI | None
) -> tuple[SpeechToText, TextToSpeech]:
    """Offline when OpenAI is not in use; otherwise OpenAI with the offline pair as fallback.

    `client` is the app's one OpenAI client (its owner closes it); it is required when
    `settings.use_openai`.
    """
    offline_stt = OfflineSpeechToText()
    offline_tts = PiperTextToSpeech()
    if not settings.use_openai:
        return offline_stt, offline_tts
    if client is None:
        raise ValueError("build_speech needs the app's OpenAI client when OpenAI is in use")
    return (
        FallbackSpeechToText(OpenAISpeechToText(client, settings), offline_stt),
        FallbackTextToSpeech(OpenAITextToSpeech(client, settings), offline_tts),
    )
