"""The provider base classes map every vendor failure once, whatever the vendor forgets.

The vendors here are real (if tiny) implementations of the interfaces, as a new vendor
would write them: one hook each, raising their own errors.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import httpx2
import pytest
from prometheus_client import REGISTRY

from flows.providers.base import ProviderError
from flows.providers.chat import ChatModel, Message
from voice.audio import Pcm
from voice.stt import FallbackSpeechToText, SpeechHints, SpeechToText, Transcription
from voice.tts import FallbackTextToSpeech, TextToSpeech


def failures(capability: str, kind: str) -> float:
    value = REGISTRY.get_sample_value(
        "viva_provider_errors_total", {"capability": capability, "kind": kind}
    )
    return value or 0.0


class StalledEars(SpeechToText):
    name = "stalled"

    async def _transcribe(self, pcm: Pcm, hints: SpeechHints) -> Transcription:
        raise httpx2.ReadTimeout("no bytes for 5 s")


class Echo(SpeechToText):
    name = "echo"

    async def _transcribe(self, pcm: Pcm, hints: SpeechHints) -> Transcription:
        return Transcription(f"{len(pcm.data)} bytes", 0.5, self.name)


class BrokenVoice(TextToSpeech):
    """Says one chunk, then the connection breaks."""

    name = "broken"

    async def _stream_pcm(self, text: str) -> AsyncGenerator[tuple[bytes, int], None]:
        if text == "midway":
            yield b"\x00\x00" * 10, 16000
        raise httpx2.RemoteProtocolError("peer closed connection")


class Beep(TextToSpeech):
    name = "beep"

    async def _stream_pcm(self, text: str) -> AsyncGenerator[tuple[bytes, int], None]:
        for _ in text.split():
            yield b"\x01\x00" * 160, 16000


class GarbledModel(ChatModel):
    name = "garbled"

    async def _generate(
        self, messages: list[Message], json_object: bool
    ) -> AsyncGenerator[str, None]:
        yield "partial"
        raise KeyError("choices")


async def test_speech_to_text_failure_is_mapped_and_counted_once() -> None:
    before = failures("stt", "timeout")
    with pytest.raises(ProviderError) as caught:
        await StalledEars().transcribe(Pcm(b"\x00\x00" * 100, 16000), SpeechHints())
    assert (caught.value.capability, caught.value.kind) == ("stt", "timeout")
    pair = FallbackSpeechToText(StalledEars(), Echo())
    heard = await pair.transcribe(Pcm(b"\x00\x00" * 100, 16000), SpeechHints())
    assert heard == Transcription("200 bytes", 0.5, "echo")
    assert failures("stt", "timeout") == before + 2  # one per failed call, not per layer


async def test_text_to_speech_stream_errors_are_mapped_by_the_base_class() -> None:
    before = failures("tts", "connection")
    with pytest.raises(ProviderError) as caught:
        await BrokenVoice().synthesize("hello")
    assert caught.value.kind == "connection"
    pair = FallbackTextToSpeech(BrokenVoice(), Beep())
    assert [rate async for _data, rate in pair.stream_pcm("two words")] == [16000, 16000]
    cut = [data async for data, _rate in pair.stream_pcm("midway")]
    assert cut == [b"\x00\x00" * 10]  # cut short, not replayed in the other voice
    speech = await Beep().synthesize("one two three")
    assert speech.content_type == "audio/wav" and len(speech.audio) == 44 + 3 * 320
    assert failures("tts", "connection") == before + 3


async def test_chat_model_errors_are_mapped_for_both_calls() -> None:
    before = failures("chat", "invalid_output")
    with pytest.raises(ProviderError) as caught:
        await GarbledModel().complete_json([{"role": "user", "content": "hi"}])
    assert caught.value.kind == "invalid_output"
    pieces: list[str] = []
    with pytest.raises(ProviderError):
        async for piece in GarbledModel().stream([{"role": "user", "content": "hi"}]):
            pieces.append(piece)
    assert pieces == ["partial"]
    assert failures("chat", "invalid_output") == before + 2
