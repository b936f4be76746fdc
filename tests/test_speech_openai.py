"""OpenAI speech providers against a fake OpenAI server, through the real `openai` SDK.

Failures (persistent 5xx, 429, timeouts, a stream that stalls) must map to ProviderError
and the fallback pair must then answer with the offline providers.
"""

from __future__ import annotations

import io
import time
import wave
from collections.abc import AsyncIterator

import openai
import pytest

from flows.providers.base import ProviderError
from server import openai_speech_config
from settings import Settings
from tests.fake_openai import SPEECH, TRANSCRIPTIONS, FakeOpenAI, Reply
from tests.speech_samples import encode, plain, speak, tone
from voice.speech_factory import OfflineSpeechConfig, build_speech
from voice.stt import FallbackSpeechToText, OpenAISpeechToText, SpeechHints, Transcription
from voice.tts import (
    OPENAI_PCM_RATE,
    FallbackTextToSpeech,
    OpenAITextToSpeech,
    OpenAIVoiceConfig,
    PiperTextToSpeech,
)
from voice.whisper_stt import WhisperSpeechToText

SHORT_TIMEOUT = 0.4


@pytest.fixture(scope="module")
def offline() -> tuple[WhisperSpeechToText, PiperTextToSpeech]:
    """Shared across the module: models load once, in worker threads."""
    return WhisperSpeechToText(), PiperTextToSpeech()


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
def settings(fake: FakeOpenAI) -> Settings:
    return Settings(
        openai_api_key="test-key", openai_base_url=fake.base_url, providers="openai",
        openai_timeout_seconds=3.0, openai_max_retries=1, openai_tts_format="mp3",
    )


def voice(settings: Settings) -> OpenAIVoiceConfig:
    config = openai_speech_config(settings)
    assert config is not None
    return config.voice


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[openai.AsyncOpenAI]:
    async with _client(settings) as sdk:
        yield sdk


def _client(settings: Settings, timeout: float | None = None) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key=settings.openai_api_key, base_url=settings.openai_base_url,
        timeout=timeout or settings.openai_timeout_seconds,
        max_retries=settings.openai_max_retries,
    )


async def test_transcription_sends_wav_and_prompt(
    fake: FakeOpenAI, client: openai.AsyncOpenAI, settings: Settings
) -> None:
    fake.script(TRANSCRIPTIONS, Reply(json={"text": "  Senior, I think. "}))
    pcm = speak("Senior, I think.")
    stt = OpenAISpeechToText(client, settings.openai_transcribe_model)
    heard = await stt.transcribe(pcm, SpeechHints(expected="level"))
    assert heard == Transcription("Senior, I think.", None, "openai")
    [request] = fake.requests_to(TRANSCRIPTIONS)
    assert request.form["model"] == settings.openai_transcribe_model
    assert "seniority level" in str(request.form["prompt"])
    assert request.form["language"] == "en"
    upload = request.form["file"]
    assert isinstance(upload, bytes) and upload[:4] == b"RIFF" and upload[8:12] == b"WAVE"
    with wave.open(io.BytesIO(upload)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16000)
        assert wav.readframes(wav.getnframes()) == pcm.data


async def test_transcription_prompts(
    fake: FakeOpenAI, client: openai.AsyncOpenAI, settings: Settings
) -> None:
    stt = OpenAISpeechToText(client, settings.openai_transcribe_model)
    question = "How would you design a rate limiter for a public API?"
    await stt.transcribe(tone(), SpeechHints(expected="answer", question=question))
    await stt.transcribe(tone(), SpeechHints(expected="techstack"))
    await stt.transcribe(tone(), SpeechHints())
    answer, techstack, open_answer = fake.requests_to(TRANSCRIPTIONS)
    assert question in str(answer.form["prompt"])
    assert all(name in str(techstack.form["prompt"]) for name in ("PostgreSQL", "Kubernetes"))
    assert "prompt" not in open_answer.form


async def test_speech_file(fake: FakeOpenAI, client: openai.AsyncOpenAI,
                           settings: Settings) -> None:
    mp3 = encode(speak("Hello there."), "mp3")
    fake.script(SPEECH, Reply(body=mp3, content_type="audio/mpeg"))
    speech = await OpenAITextToSpeech(client, voice(settings)).synthesize("Hello there.")
    assert (speech.audio, speech.content_type) == (mp3, "audio/mpeg")
    [request] = fake.requests_to(SPEECH)
    assert request.json == {
        "model": settings.openai_tts_model, "voice": settings.openai_tts_voice,
        "input": "Hello there.", "response_format": "mp3",
    }
    opus = await OpenAITextToSpeech(client, voice(settings.replace(openai_tts_format="opus"))
                                    ).synthesize("Hi.")
    assert opus.content_type == "audio/ogg" and opus.audio[:4] == b"OggS"


async def test_speech_pcm_streams_chunks_as_they_arrive(
    fake: FakeOpenAI, client: openai.AsyncOpenAI, settings: Settings
) -> None:
    audio = tone(1.0, rate=OPENAI_PCM_RATE).data
    pieces = (audio[:4801], audio[4801:20000], audio[20000:33333], audio[33333:])  # odd cuts
    fake.script(SPEECH, Reply(chunks=pieces, content_type="audio/pcm", tokens_per_second=5))
    started = time.perf_counter()
    arrivals: list[float] = []
    chunks: list[bytes] = []
    async for chunk, rate in OpenAITextToSpeech(client, voice(settings)).stream_pcm("Hello."):
        assert rate == OPENAI_PCM_RATE and len(chunk) % 2 == 0
        arrivals.append(time.perf_counter() - started)
        chunks.append(chunk)
    assert b"".join(chunks) == audio
    assert len(chunks) >= 3
    assert arrivals[0] < arrivals[-1] - 0.4  # the first audio did not wait for the last
    assert fake.requests_to(SPEECH)[0].json["response_format"] == "pcm"


async def test_persistent_500_falls_back_to_offline(
    fake: FakeOpenAI, client: openai.AsyncOpenAI, settings: Settings,
    offline: tuple[WhisperSpeechToText, PiperTextToSpeech],
) -> None:
    fake.set_default(TRANSCRIPTIONS, Reply.error(500))
    fake.set_default(SPEECH, Reply.error(503))
    stt = OpenAISpeechToText(client, settings.openai_transcribe_model)
    with pytest.raises(ProviderError) as failure:
        await stt.transcribe(tone(), SpeechHints())
    assert (failure.value.capability, failure.value.kind) == ("stt", "http_500")
    assert len(fake.requests_to(TRANSCRIPTIONS)) == 1 + settings.openai_max_retries

    stt_pair = FallbackSpeechToText(stt, offline[0])
    heard = await stt_pair.transcribe(speak("senior"), SpeechHints(expected="level"))
    assert (plain(heard.text), heard.source) == ("senior", "whisper"), heard
    assert heard.confidence is not None and 0 < heard.confidence <= 1

    tts_pair = FallbackTextToSpeech(OpenAITextToSpeech(client, voice(settings)), offline[1])
    speech = await tts_pair.synthesize("Welcome back.")
    assert speech.content_type == "audio/wav" and speech.audio[:4] == b"RIFF"
    rates = {rate async for _chunk, rate in tts_pair.stream_pcm("Welcome. Let us begin.")}
    assert rates == {22050}


async def test_rate_limited_then_success(
    fake: FakeOpenAI, client: openai.AsyncOpenAI, settings: Settings
) -> None:
    fake.script(TRANSCRIPTIONS, Reply.error(429), Reply(json={"text": "ten questions"}))
    fake.script(SPEECH, Reply.error(429))
    stt = OpenAISpeechToText(client, settings.openai_transcribe_model)
    heard = await stt.transcribe(tone(), SpeechHints(expected="amount"))
    assert heard.text == "ten questions"
    assert len(fake.requests_to(TRANSCRIPTIONS)) == 2
    speech = await OpenAITextToSpeech(client, voice(settings)).synthesize("Ten it is.")
    assert speech.content_type == "audio/mpeg" and len(fake.requests_to(SPEECH)) == 2


async def test_timeout_falls_back_to_offline(
    fake: FakeOpenAI, settings: Settings,
    offline: tuple[WhisperSpeechToText, PiperTextToSpeech],
) -> None:
    fake.set_default(TRANSCRIPTIONS, Reply(json={"text": "too late"}, delay=SHORT_TIMEOUT * 4))
    async with _client(settings, timeout=SHORT_TIMEOUT) as slow_client:
        stt = OpenAISpeechToText(slow_client, settings.openai_transcribe_model)
        with pytest.raises(ProviderError) as failure:
            await stt.transcribe(tone(), SpeechHints())
        assert failure.value.kind == "timeout"
        pair = FallbackSpeechToText(stt, offline[0])
        heard = await pair.transcribe(speak("technical"), SpeechHints(expected="interview_type"))
    assert (plain(heard.text), heard.source) == ("technical", "whisper"), heard


async def test_pcm_stream_that_stalls_midway_is_cut_short(
    fake: FakeOpenAI, settings: Settings,
    offline: tuple[WhisperSpeechToText, PiperTextToSpeech],
) -> None:
    audio = tone(1.0, rate=OPENAI_PCM_RATE).data
    pieces = (audio[:24000], audio[24000:])
    slow = SHORT_TIMEOUT / 4  # chunks per second: the second chunk comes after 4 timeouts
    fake.set_default(SPEECH, Reply(chunks=pieces, content_type="audio/pcm",
                                   tokens_per_second=slow))
    async with _client(settings, timeout=SHORT_TIMEOUT) as slow_client:
        openai_tts = OpenAITextToSpeech(slow_client, voice(settings))
        with pytest.raises(ProviderError) as failure:
            async for _chunk in openai_tts.stream_pcm("Hello."):
                pass
        assert failure.value.kind == "timeout"
        pair = FallbackTextToSpeech(openai_tts, offline[1])
        heard = [chunk async for chunk in pair.stream_pcm("Hello.")]
    assert heard == [(audio[:24000], OPENAI_PCM_RATE)]  # no replay in the offline voice


async def test_build_speech(client: openai.AsyncOpenAI, settings: Settings) -> None:
    stt, tts = build_speech(openai_speech_config(settings.replace(providers="offline")), None)
    assert (stt.name, tts.name) == ("whisper", "piper")
    sphinx = OfflineSpeechConfig(recognizer="pocketsphinx")
    assert build_speech(None, None, sphinx)[0].name == "pocketsphinx"
    stt, tts = build_speech(openai_speech_config(settings), client)
    assert isinstance(stt, FallbackSpeechToText) and isinstance(tts, FallbackTextToSpeech)
    assert (stt.name, tts.name) == ("openai+whisper", "openai+piper")
    with pytest.raises(ValueError):
        build_speech(openai_speech_config(settings), None)
