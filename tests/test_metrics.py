"""GET /metrics serves Prometheus text with Viva's own series, and turns move them."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from tests.conftest import user
from tests.rest_helpers import post_json, start_interview


def sample(text: str, name: str, labels: str) -> float:
    match = re.search(rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_metrics_count_rest_turns(client: TestClient) -> None:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    before = await response.text()
    for name in ("viva_turn_stage_seconds", "viva_active_calls", "viva_provider_errors_total"):
        assert f"# TYPE {name}" in before
    owner = user()
    _, session_id = await start_interview(client, owner)
    await post_json(
        client,
        f"/api/interviews/sessions/{session_id}/turn",
        {"user_id": owner, "user_message": "An answer."},
    )
    after = await (await client.get("/metrics")).text()
    labels = 'conversation="interview",path="rest"'
    assert (
        sample(after, "viva_turns_total", labels) == sample(before, "viva_turns_total", labels) + 1
    )
    collector = 'conversation="collector",path="rest"'
    assert (
        sample(after, "viva_turns_total", collector)
        >= sample(before, "viva_turns_total", collector) + 6
    )
