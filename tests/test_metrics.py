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


async def test_websocket_turns_store_and_export_their_stages(client: TestClient) -> None:
    owner = user()
    _, session_id = await start_interview(client, owner)
    labels = 'conversation="interview",path="websocket"'
    before = sample(await (await client.get("/metrics")).text(), "viva_turns_total", labels)
    ws = await client.ws_connect(f"/api/interviews/sessions/{session_id}/voice?user_id={owner}")
    assert (await ws.receive_json())["type"] == "assistant_prompt"
    await ws.send_json({"type": "user_text", "text": "I would profile it first."})
    assert (await ws.receive_json())["type"] == "assistant_turn"
    await ws.close()
    after = await (await client.get("/metrics")).text()
    assert sample(after, "viva_turns_total", labels) == before + 1
    assert 'viva_turn_stage_seconds_count{path="websocket",stage="reply_sent"}' in after
    items = (await (await client.get(f"/api/transcripts/interview/{session_id}",
                                     params={"user_id": owner})).json())["items"]
    timings = items[-1]["timings"]
    assert items[-1]["speaker"] == "assistant"
    assert 0 <= timings["transcript"] <= timings["reply_text"] <= timings["reply_sent"]
