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


async def _rejoin_prompt(client: TestClient, kind: str, session_id: str, owner: str) -> str:
    """What the voice socket says first to someone (re)joining the session."""
    base = "/api/collector/sessions" if kind == "collector" else "/api/interviews/sessions"
    ws = await client.ws_connect(f"{base}/{session_id}/voice?user_id={owner}")
    try:
        prompt = await ws.receive_json(timeout=30)
    finally:
        await ws.close()
    assert prompt["type"] == "assistant_prompt", prompt
    return str(prompt["assistant_text"])


async def test_rejoining_after_an_unheard_turn_says_the_answer_was_saved(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    """A turn stored but whose reply never reached the candidate (the server died right
    after the commit, as with kill -9, or the connection dropped): on rejoining, the
    candidate hears that the last answer was saved, then the next question."""
    owner = user()
    first: TestClient = await aiohttp_client(create_app(settings))
    interview_id, session_id = await start_interview(first, owner)
    questions = (
        await (await first.get(f"/api/interviews/{interview_id}", params={"user_id": owner})).json()
    )["questions"]
    fresh = await _rejoin_prompt(first, "interview", session_id, owner)
    assert "saved" not in fresh and questions[0] in fresh
    path = f"/api/interviews/sessions/{session_id}/turn"
    await post_json(first, path, {"user_id": owner, "user_message": "Stored, never heard."})
    collector = await post_json(first, "/api/collector/start", {"user_id": owner})
    collector_id = collector["collector_session_id"]
    await post_json(
        first, f"/api/collector/{collector_id}/turn", {"user_id": owner, "user_message": "yes"}
    )
    await first.close()

    second: TestClient = await aiohttp_client(create_app(settings))
    said = await _rejoin_prompt(second, "interview", session_id, owner)
    assert said.startswith("Welcome back. Your last answer was saved.") and questions[1] in said
    said = await _rejoin_prompt(second, "collector", collector_id, owner)
    assert said.startswith("Welcome back. Your last answer was saved.") and "role" in said
    await post_json(second, path, {"user_id": owner, "user_message": "skip"})
    said = await _rejoin_prompt(second, "interview", session_id, owner)
    assert "saved" not in said and questions[2] in said  # a skipped question saved no answer
