"""WebRTC calls with real aiortc caller peers on loopback, real speech, the real app."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import MakeClient, user
from tests.rest_helpers import post_json, start_interview
from tests.rtc_peer import Caller
from tests.speech_samples import speak
from viva.server import create_app
from viva.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:  # calls run on SQLite; storage is covered elsewhere
    return Settings(
        data_dir=tmp_path,
        providers="offline",
        tts_enabled=True,
        rtc_host_addresses=("127.0.0.1",),
    )


@pytest.fixture
async def client(aiohttp_client: MakeClient, settings: Settings) -> TestClient:
    return await aiohttp_client(create_app(settings))


async def test_interview_call_round_trip(client: TestClient) -> None:
    owner = user()
    _, session_id = await start_interview(client, owner)
    caller = Caller(client, f"/api/interviews/sessions/{session_id}/call?user_id={owner}")
    try:
        hello = await caller.connect()
        assert hello["question_index"] == 0
        greeting = await caller.wait_for(lambda e: e["type"] == "assistant_done")
        assert "First question" in greeting["text"]
        await caller.wait_for(lambda e: e["type"] == "state" and e["state"] == "listening")
        mark = len(caller.events)
        caller.mic.say(speak("I would put the slow work on a queue and retry it later."), 2.0)
        heard = await caller.wait_for(lambda e: e["type"] == "user_transcript", after=mark)
        assert heard["text"]
        turn = await caller.wait_for(lambda e: e["type"] == "turn", after=mark)
        assert turn["question_index"] == 1
        done = await caller.wait_for(lambda e: e["type"] == "assistant_done", after=mark)
        assert "Next question" in done["text"] and not done["interrupted"]
    finally:
        await caller.hang_up()
    transcript = await (await client.get(f"/api/transcripts/interview/{session_id}",
                                         params={"user_id": owner})).json()
    speakers = [item["speaker"] for item in transcript["items"]]
    assert speakers == ["assistant", "user", "assistant"]
    timings = transcript["items"][-1]["timings"]
    assert timings["transcript"] > 0
