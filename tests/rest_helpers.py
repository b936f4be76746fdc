"""Driving the REST API the way a client does, for tests and benchmarks."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

ANSWERS = (
    "yes, I'm ready",
    "backend developer",
    "technical",
    "senior",
    "Python, Django and Postgres",
    "three",
)


async def post_json(
    client: TestClient,
    path: str,
    body: dict[str, Any] | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=headers)
    payload = await response.json()
    assert response.status == status, payload
    return payload


async def collect_interview(
    client: TestClient,
    user_id: str,
    answers: tuple[str, ...] = ANSWERS,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run a collector conversation to the end; returns the final turn's payload."""
    started = await post_json(client, "/api/collector/start", {"user_id": user_id}, 200, headers)
    session_id = started["collector_session_id"]
    payload = started
    for answer in answers:
        payload = await post_json(
            client,
            f"/api/collector/{session_id}/turn",
            {"user_id": user_id, "user_message": answer},
            200,
            headers,
        )
    assert payload["completed"] is True, payload
    return payload


async def start_interview(
    client: TestClient, user_id: str, headers: dict[str, str] | None = None
) -> tuple[str, str]:
    """(interview_id, interview_session_id) of a fresh three-question interview."""
    done = await collect_interview(client, user_id, headers=headers)
    started = await post_json(
        client, f"/api/interviews/{done['interview_id']}/start", {"user_id": user_id}, 200, headers
    )
    return done["interview_id"], started["interview_session_id"]
