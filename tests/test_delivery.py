"""Delivery figures from generated speech: Piper at a known rate, with inserted pauses.

The true rate is the script's words over the speech Piper produced (each phrase trimmed
to its first and last audible sample), so it is known without the VAD under test. The
WebSocket case sends the same recording through the real app; its speech-to-text is the
OpenAI one against the fake server, scripted to return the words with their fillers, as
a recogniser that keeps fillers would.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest

from flows.delivery import LONG_PAUSE_S, VoiceTiming, combine, count_fillers, measure
from server import create_app
from settings import Settings
from tests.conftest import MakeClient, user
from tests.fake_openai import TRANSCRIPTIONS, FakeOpenAI, Reply
from tests.rest_helpers import post_json
from tests.speech_samples import encode, speak
from voice.audio import Pcm
from voice.timing import speech_spans

PHRASES = (
    "um I would start by measuring the slow endpoint with a profiler",
    "then I would add an index on the column that we filter by",
    "uh and if it is still slow I would put a cache in front of it",
    # no comma: at length scale 1.9 Piper's pause at one can pass 0.7 s, a long pause
    # the recording did not insert (CI once counted 3 instead of 2)
    "finally I would watch the latency dashboards for a week you know",
)
RATE = 16000


def recording(length_scale: float, pauses: tuple[float, ...]) -> tuple[Pcm, float]:
    """The phrases with `pauses` (seconds) between them, and the true words per minute."""
    pieces, speaking = [np.zeros(RATE // 2, dtype="<i2")], 0.0
    for i, phrase in enumerate(PHRASES):
        samples = np.frombuffer(speak(phrase, length_scale=length_scale).data, dtype="<i2")
        audible = np.nonzero(np.abs(samples.astype(np.int32)) > 200)[0]
        samples = samples[audible[0] : audible[-1] + 1]
        speaking += len(samples) / RATE
        pieces.append(samples)
        if i < len(pauses):
            pieces.append(np.zeros(int(pauses[i] * RATE), dtype="<i2"))
    pieces.append(np.zeros(RATE // 2, dtype="<i2"))
    words = len(" ".join(PHRASES).replace(",", "").split())
    return Pcm(np.concatenate(pieces).tobytes()), words / speaking * 60


@pytest.mark.parametrize(
    ("length_scale", "pauses"),
    [(1.9, (1.5, 0.0, 2.5)), (1.0, (1.0, 1.2, 0.0))],  # about 150 and 260 words a minute
)
def test_rate_and_pauses_from_generated_speech(
    length_scale: float, pauses: tuple[float, ...]
) -> None:
    pcm, true_wpm = recording(length_scale, pauses)
    figures = measure(" ".join(PHRASES), VoiceTiming(speech_spans(pcm), pcm.duration_s, 0.0))
    assert figures is not None
    assert abs(figures["words_per_minute"] - true_wpm) <= 0.10 * true_wpm, (figures, true_wpm)
    assert figures["long_pauses"] == sum(p >= LONG_PAUSE_S for p in pauses)
    if any(pauses):
        assert abs(figures["longest_pause_seconds"] - max(pauses)) < 0.15
    assert figures["fillers"] == 3  # um, uh, you know
    assert abs(figures["time_to_first_word_seconds"] - 0.5) < 0.1


def test_filler_counting() -> None:
    assert count_fillers("I like Python, and like, um, it is kind of nice, you know") == 4
    assert count_fillers("I would like to use something like a queue") == 0
    assert count_fillers("") == 0
    assert combine([None, None]) is None


@pytest.fixture
async def fake() -> Any:
    async with FakeOpenAI() as server:
        yield server


async def test_spoken_answers_store_delivery_and_typed_ones_do_not(
    aiohttp_client: MakeClient, settings: Settings, fake: FakeOpenAI
) -> None:
    client = await aiohttp_client(create_app(settings.replace(
        openai_api_key="test-key", openai_base_url=fake.base_url, providers="openai",
        openai_max_retries=0)))  # fmt: skip
    owner = user()
    started = await post_json(client, "/api/collector/start", {"user_id": owner})
    collector = started["collector_session_id"]
    for text in ("yes", "backend developer", "technical", "mid", "Python", "two"):
        done = await post_json(
            client, f"/api/collector/{collector}/turn", {"user_id": owner, "user_message": text}
        )
    interview = await post_json(
        client, f"/api/interviews/{done['interview_id']}/start", {"user_id": owner}
    )
    session = interview["interview_session_id"]
    pcm, true_wpm = recording(1.9, (1.5, 0.0, 2.5))  # cached from the test above
    fake.script(TRANSCRIPTIONS, Reply(json={"text": " ".join(PHRASES)}))
    async with client.ws_connect(
        f"/api/interviews/sessions/{session}/voice", params={"user_id": owner}
    ) as ws:
        assert (await ws.receive_json(timeout=30))["type"] == "assistant_prompt"
        audio = base64.b64encode(encode(pcm, "webm")).decode()
        await ws.send_json({"type": "user_audio", "audio_base64": audio, "filename": "a.webm"})
        assert (await ws.receive_json(timeout=30))["type"] == "assistant_turn"
        await ws.send_json({"type": "user_text", "text": "I would use a queue and retries."})
        assert (await ws.receive_json(timeout=30))["completed"] is True
    owned = {"user_id": owner}
    listed = await client.get(f"/api/transcripts/interview/{session}", params=owned)
    rows = (await listed.json())["items"]
    spoken, typed = [r for r in rows if r["speaker"] == "user"]
    assert typed["delivery"] is None
    stored = spoken["delivery"]
    assert stored["question_index"] == 0 and stored["long_pauses"] == 2
    assert abs(stored["words_per_minute"] - true_wpm) <= 0.10 * true_wpm
    report = await (
        await client.get(f"/api/interviews/sessions/{session}/feedback", params=owned)
    ).json()
    first, second = report["answers"]
    assert first["delivery"]["fillers"] == 3 and first["delivery"]["advice"]
    assert second["delivery"] is None
    assert report["delivery"]["answers"] == 1 and "lower bound" in report["delivery"]["note"]
