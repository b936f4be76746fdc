"""POST /api/transcripts/voice/transcribe, on SQLite and Postgres, with generated speech.

Uploads are Piper speech encoded as browsers and phones record it. When a session is
named, the session's owner is checked, speech-to-text is told what the session expects
(collector: its field's grammar or prompt; interview: the current question), and the text
is stored as a user row of the session's transcript.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import cache
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from server import create_app
from settings import Settings
from tests.conftest import MakeClient, user
from tests.fake_openai import TRANSCRIPTIONS, FakeOpenAI, Reply
from tests.rest_helpers import collect_interview, post_json, start_interview
from tests.speech_samples import encode, plain, speak, tone
from voice.audio import Pcm

PATH = "/api/transcripts/voice/transcribe"
CONTENT_TYPES = {"webm": "audio/webm", "m4a": "audio/mp4", "mp3": "audio/mpeg", "wav": "audio/wav"}


@cache
def recording(text: str, fmt: str, length_scale: float = 1.0) -> bytes:
    return encode(speak(text, length_scale=length_scale), fmt)


def form(audio: bytes | None, fmt: str = "webm", **fields: str) -> FormData:
    data = FormData(default_to_multipart=True)
    if audio is not None:
        data.add_field(
            "audio_file", audio, filename=f"speech.{fmt}", content_type=CONTENT_TYPES[fmt]
        )
    for name, value in fields.items():
        data.add_field(name, value)
    return data


async def upload(client: TestClient, data: Any, status: int = 200) -> dict[str, Any]:
    response = await client.post(PATH, data=data)
    body = await response.json()
    assert response.status == status, body
    return body


async def transcript(client: TestClient, kind: str, session_id: str, owner: str) -> list[Any]:
    response = await client.get(f"/api/transcripts/{kind}/{session_id}", params={"user_id": owner})
    assert response.status == 200
    return [(item["speaker"], item["message"]) for item in (await response.json())["items"]]


async def collector_at_level(client: TestClient, owner: str) -> str:
    """A collector session of `owner` whose next field is the level."""
    body = await post_json(client, "/api/collector/start", {"user_id": owner})
    session_id = body["collector_session_id"]
    for answer in ("yes, I'm ready", "backend developer", "technical"):
        body = await post_json(
            client, f"/api/collector/{session_id}/turn", {"user_id": owner, "user_message": answer}
        )
    assert body["expected_field"] == "level"
    return str(session_id)


async def test_browser_and_phone_formats(client: TestClient) -> None:
    owner = user()
    for fmt, length_scale in (("webm", 0.9), ("m4a", 1.0), ("mp3", 1.1), ("wav", 1.15)):
        audio = recording("I'd say senior.", fmt, length_scale)
        body = await upload(client, form(audio, fmt, user_id=owner))
        assert (plain(body["text"]), body["user_id"]) == ("i'd say senior", owner), fmt
    anonymous = await upload(client, form(recording("I'd say senior.", "webm")))
    assert anonymous["user_id"].startswith("anon-")
    assert plain(anonymous["text"]) == "i'd say senior"


async def test_named_session_stores_a_user_row_and_hears_its_field(client: TestClient) -> None:
    owner = user()
    session_id = await collector_at_level(client, owner)
    before = await transcript(client, "collector", session_id, owner)
    # the level is expected: heard with the level's prompt (pocketsphinx: its grammar)
    audio = recording("Senior, please.", "webm")
    named = form(audio, "webm", session_type="collector", session_id=session_id, user_id=owner)
    body = await upload(client, named)
    assert (plain(body["text"]), body["user_id"]) == ("senior please", owner)
    assert await transcript(client, "collector", session_id, owner) == [
        *before, ("user", body["text"])]

    # the user id may also come as ?user_id=, like every other route
    response = await client.post(
        PATH, params={"user_id": owner},
        data=form(recording("Senior.", "wav", 1.15), "wav", session_type="collector",
                  session_id=session_id),
    )
    assert response.status == 200
    text = (await response.json())["text"]
    assert plain(text) == "senior"
    assert (await transcript(client, "collector", session_id, owner))[-1] == ("user", text)


async def test_a_pure_tone_is_heard_as_nothing_and_stores_nothing(client: TestClient) -> None:
    """Whisper heard a 2 s 440 Hz tone as "Beep Beep Beep…" and it was stored as the
    candidate's answer: a steady tone is not speech (voice.timing.voiced_beyond_tone)."""
    owner = user()
    _, session_id = await start_interview(client, owner)
    before = await transcript(client, "interview", session_id, owner)
    for hz, fmt in ((440, "wav"), (440, "webm"), (1000, "wav")):
        named = form(encode(tone(2.0, hz), fmt), fmt, session_type="interview",
                     session_id=session_id, user_id=owner)
        assert (await upload(client, named))["text"] == "", (hz, fmt)
    assert await transcript(client, "interview", session_id, owner) == before
    unnamed = form(encode(tone(2.0, 440), "wav"), "wav", user_id=owner)  # was "Beep Beep…"
    assert (await upload(client, unnamed))["text"] == ""
    answer = "I would add an index on the customer id."
    named = form(recording(answer, "webm"), "webm", session_type="interview",
                 session_id=session_id, user_id=owner)
    assert plain((await upload(client, named))["text"]) == plain(answer)


async def test_words_before_or_after_a_beep_are_heard(client: TestClient) -> None:
    """The tone check judges each voiced span: a 2 s beep before or after the answer does
    not make it nothing heard (it did when the whole file was judged at once), and the beep
    is silenced before Whisper (left in, Whisper read "…the customer id I would")."""
    owner = user()
    _, session_id = await start_interview(client, owner)
    answer = "I would add an index on the customer id."
    words, beep = speak(answer).data, tone(2.0, 440).data
    for audio, fmt in ((beep + words, "webm"), (words + beep, "wav")):
        named = form(encode(Pcm(audio, 16000), fmt), fmt, session_type="interview",
                     session_id=session_id, user_id=owner)
        text = (await upload(client, named))["text"]
        assert plain(text) == plain(answer), fmt
        assert (await transcript(client, "interview", session_id, owner))[-1] == ("user", text)


async def test_foreign_or_unknown_session_is_404_and_stores_nothing(client: TestClient) -> None:
    owner = user()
    session_id = await collector_at_level(client, owner)
    _, interview_session = await start_interview(client, owner)
    collector_before = await transcript(client, "collector", session_id, owner)
    interview_before = await transcript(client, "interview", interview_session, owner)
    audio = recording("Senior, please.", "webm")
    for kind, named, who in (
        ("collector", session_id, user()),
        ("interview", interview_session, user()),
        ("collector", session_id, ""),  # anonymous is not the owner either
        ("collector", "no-such-session", owner),
        ("interview", session_id, owner),  # a collector id is no interview session
    ):
        body = await upload(
            client, form(audio, session_type=kind, session_id=named, user_id=who), status=404
        )
        assert body["code"].endswith("not_found"), body
    assert await transcript(client, "collector", session_id, owner) == collector_before
    assert await transcript(client, "interview", interview_session, owner) == interview_before


async def test_a_completed_session_takes_no_more_rows(client: TestClient) -> None:
    """After the end neither a typed collector turn nor a named upload stores anything:
    409 session_completed, as the interview's turns already answered."""
    owner = user()
    done = await collect_interview(client, owner)
    collector = done["collector_session_id"]
    _, interview_session = await start_interview(client, owner)
    path = f"/api/interviews/sessions/{interview_session}/turn"
    ended = await post_json(client, path, {"user_id": owner, "user_message": "end the interview"})
    assert ended["status"] == "completed"
    collector_before = await transcript(client, "collector", collector, owner)
    interview_before = await transcript(client, "interview", interview_session, owner)
    late = await client.post(
        f"/api/collector/{collector}/turn", json={"user_id": owner, "user_message": "hi"}
    )
    assert late.status == 409 and (await late.json())["code"] == "session_completed"
    audio = recording("Senior, please.", "webm")
    for kind, named in (("collector", collector), ("interview", interview_session)):
        body = await upload(
            client, form(audio, session_type=kind, session_id=named, user_id=owner), status=409
        )
        assert body["code"] == "session_completed", body
    assert await transcript(client, "collector", collector, owner) == collector_before
    assert await transcript(client, "interview", interview_session, owner) == interview_before
    # unnamed, the same recording is still transcribed
    assert plain((await upload(client, form(audio, user_id=owner)))["text"]) == "senior please"


async def test_bad_requests(client: TestClient) -> None:
    owner = user()
    session_id = await collector_at_level(client, owner)
    before = await transcript(client, "collector", session_id, owner)
    noise = bytes(range(256)) * 20
    silent = encode(Pcm(bytes(16000)), "wav")
    session = {"session_type": "collector", "session_id": session_id, "user_id": owner}
    cases: list[tuple[str, Any, int, str]] = [
        ("no audio_file", form(None, **session), 400, "audio_file_missing"),
        ("json body", None, 400, "multipart_required"),
        ("undecodable", form(noise, "webm", **session), 422, "audio_undecodable"),
        ("silent", form(silent, "wav", **session), 422, "audio_silent"),
        ("empty", form(b"", "wav", **session), 422, "audio_empty"),
        ("bad session_type", form(recording("Senior.", "webm"), "webm",
                                  **{**session, "session_type": "call"}), 400,
         "invalid_session_type"),
    ]
    for case, data, status, code in cases:
        if data is None:
            response = await client.post(PATH, json={"audio_file": "aGVsbG8=", **session})
        else:
            response = await client.post(PATH, data=data)
        body = await response.json()
        assert (response.status, body["code"]) == (status, code), (case, body)
        assert body["detail"], case
    headers = {"Content-Type": "multipart/form-data; boundary=xyz"}
    response = await client.post(PATH, data=b"--abc\r\nnot a form", headers=headers)
    assert response.status == 400 and (await response.json())["code"] == "invalid_multipart"
    assert await transcript(client, "collector", session_id, owner) == before


async def test_too_large_upload_is_413(aiohttp_client: MakeClient, settings: Settings) -> None:
    client = await aiohttp_client(create_app(settings.replace(max_audio_bytes=16 * 1024)))
    owner = user()
    session_id = await collector_at_level(client, owner)
    before = await transcript(client, "collector", session_id, owner)
    audio = recording("Senior, please.", "wav")
    assert len(audio) > 16 * 1024
    body = await upload(
        client, form(audio, "wav", session_type="collector", session_id=session_id,
                      user_id=owner), status=413)
    assert body["code"] == "audio_too_large"
    assert await transcript(client, "collector", session_id, owner) == before


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


async def test_openai_transcription_gets_the_sessions_hints(
    aiohttp_client: MakeClient, client: TestClient, settings: Settings, fake: FakeOpenAI
) -> None:
    """Sessions set up offline; the same database served by an app using OpenAI for speech."""
    owner = user()
    collector_id = await collector_at_level(client, owner)
    interview_id, interview_session = await start_interview(client, owner)
    questions = (
        await (await client.get(f"/api/interviews/{interview_id}", params={"user_id": owner}))
        .json()
    )["questions"]
    await post_json(
        client, f"/api/interviews/sessions/{interview_session}/turn",
        {"user_id": owner, "user_message": "I would measure first and then add a cache."},
    )
    online = await aiohttp_client(create_app(settings.replace(
        providers="openai", openai_api_key="test-key", openai_base_url=fake.base_url)))
    fake.script(
        TRANSCRIPTIONS,
        Reply(json={"text": "Senior."}),
        Reply(json={"text": "I would shard by customer."}),
        Reply(json={"text": "Hello."}),
    )
    audio = recording("Senior, please.", "webm")
    at_level = await upload(online, form(audio, session_type="collector",
                                         session_id=collector_id, user_id=owner))
    answer = await upload(online, form(audio, session_type="interview",
                                       session_id=interview_session, user_id=owner))
    unnamed = await upload(online, form(audio, user_id=owner))
    assert [at_level["text"], answer["text"], unnamed["text"]] == [
        "Senior.", "I would shard by customer.", "Hello."]

    level, current, plain = fake.requests_to(TRANSCRIPTIONS)
    assert "seniority level" in str(level.form["prompt"])
    assert questions[1] in str(current.form["prompt"])  # the current question, not the first
    assert questions[0] not in str(current.form["prompt"])
    assert "prompt" not in plain.form
    assert (await transcript(client, "interview", interview_session, owner))[-1] == (
        "user", "I would shard by customer.")
