"""The REST contract of the spec table, on SQLite and Postgres: fields, statuses, owners."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient

from tests.conftest import user
from tests.rest_helpers import ANSWERS, collect_interview, post_json, start_interview

TRANSCRIPT_FIELDS = {
    "id",
    "session_type",
    "session_id",
    "user_id",
    "speaker",
    "message",
    "created_at",
    "timings",
    "kind",
    "delivery",
}


async def test_collector_start_fields(client: TestClient) -> None:
    owner = user()
    body = await post_json(
        client, "/api/collector/start", {"user_id": owner, "candidate_name": "Ada"}
    )
    assert set(body) == {
        "collector_session_id",
        "user_id",
        "assistant_message",
        "assistant_audio_base64",
        "assistant_audio_content_type",
        "status",
        "expected_field",
        "completed",
        "interview_id",
    }
    assert body["user_id"] == owner
    assert body["status"] == "active"
    assert body["expected_field"] == "readiness"
    assert "Ada" in body["assistant_message"]
    assert body["completed"] is False and body["interview_id"] is None


async def test_collector_start_without_body_is_anonymous(client: TestClient) -> None:
    response = await client.post("/api/collector/start")
    assert response.status == 200
    assert (await response.json())["user_id"].startswith("anon-")  # one per browser (cookie)
    assert "viva_anon" in response.cookies


async def test_collector_to_interview_to_transcript(client: TestClient) -> None:
    owner = user()
    done = await collect_interview(client, owner)
    assert done["expected_field"] is None
    interview_id = done["interview_id"]

    listing = await (await client.get("/api/interviews", params={"user_id": owner})).json()
    assert [item["id"] for item in listing] == [interview_id]
    assert set(listing[0]) == {
        "id",
        "user_id",
        "role",
        "interview_type",
        "level",
        "techstack",
        "amount",
        "created_at",
    }
    assert listing[0]["role"] == "backend developer"
    assert listing[0]["level"] == "senior" and listing[0]["interview_type"] == "technical"
    assert listing[0]["techstack"] == ["Python", "Django", "PostgreSQL"]
    assert listing[0]["amount"] == 3

    details = await (
        await client.get(f"/api/interviews/{interview_id}", params={"user_id": owner})
    ).json()
    assert details["interview_id"] == interview_id and len(details["questions"]) == 3

    started = await post_json(client, f"/api/interviews/{interview_id}/start", {"user_id": owner})
    assert set(started) == {
        "interview_session_id",
        "user_id",
        "assistant_message",
        "status",
        "question_index",
        "question_count",
        "interview_id",
    }
    assert started["question_index"] == 0 and started["status"] == "active"
    assert started["question_count"] == 3 and started["interview_id"] == interview_id
    assert f"First question: {details['questions'][0]}" in started["assistant_message"]
    session_id = started["interview_session_id"]

    statuses = []
    for number in range(3):
        turn = await post_json(
            client,
            f"/api/interviews/sessions/{session_id}/turn",
            {"user_id": owner, "user_message": f"My answer number {number}."},
        )
        statuses.append((turn["status"], turn["question_index"]))
    assert statuses == [("active", 1), ("active", 2), ("completed", None)]

    transcript = await (
        await client.get(f"/api/transcripts/interview/{session_id}", params={"user_id": owner})
    ).json()
    items = transcript["items"]
    assert transcript["user_id"] == owner
    assert [item["speaker"] for item in items] == ["assistant"] + ["user", "assistant"] * 3
    assert set(items[0]) == TRANSCRIPT_FIELDS
    assert [item["message"] for item in items if item["speaker"] == "user"] == [
        f"My answer number {n}." for n in range(3)
    ]
    collector_items = (
        await (
            await client.get(
                f"/api/transcripts/collector/{done['collector_session_id']}",
                params={"user_id": owner},
            )
        ).json()
    )["items"]
    assert [i["message"] for i in collector_items if i["speaker"] == "user"] == list(ANSWERS)


async def test_newest_interview_first(client: TestClient) -> None:
    owner = user()
    first = (await collect_interview(client, owner))["interview_id"]
    second = (await collect_interview(client, owner))["interview_id"]
    listing = await (await client.get("/api/interviews", params={"user_id": owner})).json()
    assert [item["id"] for item in listing] == [second, first]


async def test_repeat_skip_and_end_early_are_not_answers(client: TestClient) -> None:
    owner = user()
    _, session_id = await start_interview(client, owner)
    path = f"/api/interviews/sessions/{session_id}/turn"
    repeated = await post_json(
        client, path, {"user_id": owner, "user_message": "Could you repeat the question?"}
    )
    assert repeated["question_index"] == 0
    skipped = await post_json(
        client, path, {"user_id": owner, "user_message": "Let's skip this one."}
    )
    assert skipped["question_index"] == 1 and "Next question" in skipped["assistant_message"]
    ended = await post_json(
        client, path, {"user_id": owner, "user_message": "I'd like to end the interview now."}
    )
    assert ended["status"] == "completed" and ended["question_index"] is None
    again = await client.post(path, json={"user_id": owner, "user_message": "hello?"})
    assert again.status == 409
    assert (await again.json())["code"] == "session_completed"


async def test_feedback_after_completion(client: TestClient) -> None:
    owner = user()
    _, session_id = await start_interview(client, owner)
    path = f"/api/interviews/sessions/{session_id}/feedback"
    early = await client.get(path, params={"user_id": owner})
    assert early.status == 409
    for _ in range(3):
        await post_json(
            client,
            f"/api/interviews/sessions/{session_id}/turn",
            {
                "user_id": owner,
                "user_message": "First I would profile the Django view, then add an index in "
                "PostgreSQL because the query scans the table; for example a "
                "composite index cut latency in half.",
            },
        )
    feedback = await (await client.get(path, params={"user_id": owner})).json()
    assert 0 <= feedback["total_score"] <= 100
    assert len(feedback["category_scores"]) == 5
    assert feedback["strengths"] and feedback["final_assessment"]
    again = await (await client.get(path, params={"user_id": owner})).json()
    assert again == feedback


async def test_foreign_ids_are_404_everywhere(client: TestClient) -> None:
    owner, stranger = user(), user()
    done = await collect_interview(client, owner)
    interview_id = done["interview_id"]
    collector_id = done["collector_session_id"]
    started = await post_json(client, f"/api/interviews/{interview_id}/start", {"user_id": owner})
    session_id = started["interview_session_id"]
    for _ in range(3):
        await post_json(
            client,
            f"/api/interviews/sessions/{session_id}/turn",
            {"user_id": owner, "user_message": "An answer."},
        )
    attempts = [
        ("POST", f"/api/collector/{collector_id}/turn", {"user_message": "yes"}),
        ("GET", f"/api/interviews/{interview_id}", None),
        ("POST", f"/api/interviews/{interview_id}/start", {}),
        ("POST", f"/api/interviews/sessions/{session_id}/turn", {"user_message": "hi"}),
        ("GET", f"/api/interviews/sessions/{session_id}/feedback", None),
        ("POST", f"/api/interviews/sessions/{session_id}/feedback/regenerate", {}),
        ("GET", f"/api/transcripts/interview/{session_id}", None),
        ("GET", f"/api/transcripts/collector/{collector_id}", None),
    ]
    for who in (stranger, None):  # another user, and no user at all
        for method, path, body in attempts:
            params = {"user_id": who} if who else {}
            payload = None if body is None else {**body, **params}
            response = await client.request(method, path, json=payload, params=params)
            data = await response.json()
            assert response.status == 404, (who, path, data)
            assert set(data) == {"detail", "code"}
    assert await (await client.get("/api/interviews", params={"user_id": stranger})).json() == []
    # the owner's data is untouched by all of that
    items = (
        await (
            await client.get(f"/api/transcripts/interview/{session_id}", params={"user_id": owner})
        ).json()
    )["items"]
    assert len(items) == 7


async def test_unknown_ids_are_404(client: TestClient) -> None:
    for method, path in [
        ("POST", "/api/collector/nope/turn"),
        ("GET", "/api/interviews/nope"),
        ("POST", "/api/interviews/nope/start"),
        ("POST", "/api/interviews/sessions/nope/turn"),
        ("GET", "/api/transcripts/interview/nope"),
    ]:
        response = await client.request(method, path, json={"user_message": "x"})
        assert response.status == 404, path
        assert (await response.json())["code"].endswith("not_found")


async def test_bad_input_is_a_clear_4xx(client: TestClient) -> None:
    owner = user()
    started = await post_json(client, "/api/collector/start", {"user_id": owner})
    path = f"/api/collector/{started['collector_session_id']}/turn"
    cases = [
        (b"{not json", 400, "malformed_json"),
        (b"[1, 2]", 400, "malformed_json"),
        (b'{"user_message": 5, "user_id": "%s"}' % owner.encode(), 400, "empty_message"),
        (b'{"user_message": "   ", "user_id": "%s"}' % owner.encode(), 400, "empty_message"),
        (b'{"user_message": "yes", "user_id": 7}', 400, "invalid_user_id"),
        (b"", 400, "missing_body"),
        (b"\xff\xfe garbage", 400, "malformed_json"),
    ]
    for raw, status, code in cases:
        response = await client.post(path, data=raw, headers={"Content-Type": "application/json"})
        data = await response.json()
        assert (response.status, data["code"]) == (status, code), raw
        assert data["detail"]
    big = b'{"user_message": "' + b"a" * (25 * 1024 * 1024) + b'"}'
    response = await client.post(path, data=big, headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert (await response.json())["code"] == "body_too_large"
    bad_type = await client.get("/api/transcripts/other/abc")
    assert bad_type.status == 400
    # nothing of that reached the transcript; the session still works
    items = (
        await (
            await client.get(
                f"/api/transcripts/collector/{started['collector_session_id']}",
                params={"user_id": owner},
            )
        ).json()
    )["items"]
    assert len(items) == 1
    ok = await post_json(client, path, {"user_id": owner, "user_message": "yes"})
    assert ok["expected_field"] == "role"


async def test_concurrent_turns_advance_once(client: TestClient) -> None:
    owner = user()
    _, session_id = await start_interview(client, owner)
    path = f"/api/interviews/sessions/{session_id}/turn"
    responses = await asyncio.gather(
        *[
            client.post(path, json={"user_id": owner, "user_message": f"Answer {n}"})
            for n in range(2)
        ]
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [200, 409]
    items = (
        await (
            await client.get(f"/api/transcripts/interview/{session_id}", params={"user_id": owner})
        ).json()
    )["items"]
    assert [i["speaker"] for i in items] == ["assistant", "user", "assistant"]
    next_turn = await post_json(client, path, {"user_id": owner, "user_message": "Next answer"})
    assert next_turn["question_index"] == 2
