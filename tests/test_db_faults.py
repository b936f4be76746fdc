"""Database faults are answered honestly: a retry for reads, then 503 with Retry-After.

Only this run's own Postgres database is touched: its backends are terminated
(`pg_terminate_backend`) and, for a refusal, new connections to it are disallowed.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import make_url

from server import create_app
from settings import Settings
from tests.conftest import MakeClient, user
from tests.rest_helpers import ANSWERS, collect_interview, post_json

pytestmark = pytest.mark.postgres
LONG = (*ANSWERS[:-1], "twelve")  # an interview long enough for a run of turns
SESSIONS = 4
TURNS = 10


def _database(url: str) -> tuple[str, dict[str, object]]:
    parsed = make_url(url)
    return str(parsed.database), {"host": parsed.host, "port": parsed.port, "user": parsed.username}


async def _terminate_own_backends(url: str) -> int:
    """Terminates every other backend of this run's database; returns how many."""
    name, where = _database(url)
    connection = await asyncpg.connect(database=name, **where)  # type: ignore[arg-type]
    try:
        killed = await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await connection.close()
    return sum(1 for row in killed if row[0])


@pytest.fixture
async def pg_client(aiohttp_client: MakeClient, postgres_url: str, tmp_path: object) -> TestClient:
    settings = Settings(
        data_dir=tmp_path,  # type: ignore[arg-type]
        database_url=postgres_url,
        providers="offline",
        tts_enabled=False,
    )
    return await aiohttp_client(create_app(settings))


async def _turns(
    client: TestClient, owner: str, session_id: str, outcomes: dict[str, int], done: asyncio.Event
) -> None:
    for number in range(TURNS):
        text = f"{session_id[:8]} answer {number}: I would measure first."
        response = await client.post(
            f"/api/interviews/sessions/{session_id}/turn",
            json={"user_id": owner, "user_message": text},
        )
        body = await response.json()
        outcomes[text] = response.status
        if response.status == 503:
            assert response.headers["Retry-After"].isdigit()
            assert body["code"] == "database_unavailable", body
        await asyncio.sleep(0.01)
    done.set()


async def test_terminated_backends_give_only_successes_and_503s(
    pg_client: TestClient, postgres_url: str
) -> None:
    sessions = []
    for _ in range(SESSIONS):
        owner = user()
        interview = (await collect_interview(pg_client, owner, LONG))["interview_id"]
        started = await post_json(
            pg_client, f"/api/interviews/{interview}/start", {"user_id": owner}
        )
        sessions.append((owner, started["interview_session_id"]))

    outcomes: dict[str, int] = {}
    finished = [asyncio.Event() for _ in sessions]
    runs = [
        asyncio.ensure_future(_turns(pg_client, owner, session_id, outcomes, done))
        for (owner, session_id), done in zip(sessions, finished, strict=True)
    ]
    terminated = 0
    while not all(done.is_set() for done in finished):
        terminated += await _terminate_own_backends(postgres_url)
        await asyncio.sleep(0.05)
    await asyncio.gather(*runs)

    statuses = Counter(outcomes.values())
    assert set(statuses) <= {200, 503}, statuses
    assert terminated > 0
    for owner, session_id in sessions:  # every 200'd turn stored exactly once, and whole
        response = await pg_client.get(
            f"/api/transcripts/interview/{session_id}", params={"user_id": owner}
        )
        items = (await response.json())["items"]
        said = Counter(item["message"] for item in items if item["speaker"] == "user")
        for text, status in outcomes.items():
            if text.startswith(session_id[:8]) and status == 200:
                assert said[text] == 1, (text, said)
        assert all(count == 1 for count in said.values()), said
        replies = [item for item in items if item["speaker"] == "assistant"]
        assert len(replies) == 1 + sum(said.values())  # the opening, then one per answer
    response = await pg_client.get("/api/interviews", params={"user_id": sessions[0][0]})
    assert response.status == 200  # and the server is healthy afterwards


async def test_a_refused_connection_is_503_and_the_app_recovers(
    pg_client: TestClient, postgres_url: str
) -> None:
    owner = user()
    started = await post_json(pg_client, "/api/collector/start", {"user_id": owner})
    name, where = _database(postgres_url)
    admin = await asyncpg.connect(database="postgres", **where)  # type: ignore[arg-type]
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        listing = await pg_client.get("/api/interviews", params={"user_id": owner})
        turn = await pg_client.post(
            f"/api/collector/{started['collector_session_id']}/turn",
            json={"user_id": owner, "user_message": "yes"},
        )
        for response in (listing, turn):
            assert response.status == 503
            assert response.headers["Retry-After"].isdigit()
            assert (await response.json())["code"] == "database_unavailable"
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
    after = await post_json(
        pg_client,
        f"/api/collector/{started['collector_session_id']}/turn",
        {"user_id": owner, "user_message": "yes"},
    )
    assert after["expected_field"] == "role"  # the refused turn stored nothing
