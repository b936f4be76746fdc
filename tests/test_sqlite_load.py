"""SQLite under concurrent load: writers wait their turn instead of failing.

32 clients at once, each setting up an interview, running its turns and listing its
interviews between them, on the embedded database a new user gets. Every request must
succeed (statuses, not timings: how fast this runs is benchmarks/rest.py's business).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from aiohttp.test_utils import TestClient

from server import create_app
from settings import Settings
from tests.conftest import MakeClient, user
from tests.rest_helpers import ANSWERS

CLIENTS = 32


async def _client(client: TestClient, owner: str, statuses: Counter[int]) -> None:
    async def post(path: str, body: dict[str, str]) -> dict[str, object]:
        response = await client.post(path, json={"user_id": owner, **body})
        statuses[response.status] += 1
        payload: dict[str, object] = await response.json()
        assert response.status == 200, payload
        return payload

    async def listing() -> None:
        response = await client.get("/api/interviews", params={"user_id": owner})
        statuses[response.status] += 1
        assert response.status == 200, await response.text()

    started = await post("/api/collector/start", {})
    for answer in ANSWERS:
        done = await post(
            f"/api/collector/{started['collector_session_id']}/turn", {"user_message": answer}
        )
        await listing()
    interview = await post(f"/api/interviews/{done['interview_id']}/start", {})
    session = interview["interview_session_id"]
    for number in range(3):
        await post(
            f"/api/interviews/sessions/{session}/turn",
            {"user_message": f"Answer {number}: I would measure first."},
        )
        await listing()


async def test_32_concurrent_clients_on_sqlite_get_no_errors(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'load.sqlite3'}",
        providers="offline",
        tts_enabled=False,
    )
    client = await aiohttp_client(create_app(settings))
    statuses: Counter[int] = Counter()
    await asyncio.gather(*(_client(client, user(), statuses) for _ in range(CLIENTS)))
    per_client = 1 + 2 * len(ANSWERS) + 1 + 2 * 3
    assert statuses == {200: CLIENTS * per_client}
