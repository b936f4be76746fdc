"""A restart between two turns (a new app on the same database) loses nothing."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from server import create_app
from settings import Settings
from tests.conftest import MakeClient, user
from tests.rest_helpers import post_json, start_interview


async def test_restart_between_interview_turns(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    owner = user()
    first: TestClient = await aiohttp_client(create_app(settings))
    _, session_id = await start_interview(first, owner)
    path = f"/api/interviews/sessions/{session_id}/turn"
    turn = await post_json(first, path, {"user_id": owner, "user_message": "Before the restart."})
    assert turn["question_index"] == 1
    await first.close()

    second: TestClient = await aiohttp_client(create_app(settings))
    turn = await post_json(second, path, {"user_id": owner, "user_message": "After the restart."})
    assert turn["question_index"] == 2
    items = (
        await (
            await second.get(f"/api/transcripts/interview/{session_id}", params={"user_id": owner})
        ).json()
    )["items"]
    assert [i["message"] for i in items if i["speaker"] == "user"] == [
        "Before the restart.",
        "After the restart.",
    ]


async def test_restart_mid_collector(aiohttp_client: MakeClient, settings: Settings) -> None:
    owner = user()
    first: TestClient = await aiohttp_client(create_app(settings))
    started = await post_json(first, "/api/collector/start", {"user_id": owner})
    path = f"/api/collector/{started['collector_session_id']}/turn"
    await post_json(first, path, {"user_id": owner, "user_message": "yes"})
    await post_json(first, path, {"user_id": owner, "user_message": "data engineer"})
    await first.close()
    second: TestClient = await aiohttp_client(create_app(settings))
    turn = await post_json(second, path, {"user_id": owner, "user_message": "behavioral"})
    assert turn["expected_field"] == "level"
