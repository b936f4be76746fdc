"""GET /metrics serves Prometheus text with Viva's own series, and turns move them.

/metrics is on its own listener (api/metrics_site.py), or on the main address only with
the metrics bearer token: these tests use the token.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from aiohttp.test_utils import TestClient

from api.metrics_site import metrics_app
from server import create_app
from settings import Settings
from tests.conftest import MakeClient, user
from tests.rest_helpers import post_json, start_interview

TOKEN = "metrics-secret-for-tests"


@pytest.fixture
async def client(aiohttp_client: MakeClient, settings: Settings) -> TestClient:
    return await aiohttp_client(create_app(settings.replace(metrics_token=TOKEN)))


async def scrape(client: TestClient) -> str:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    return await response.text()


async def test_metrics_need_the_token_or_their_own_address(
    aiohttp_client: MakeClient, client: TestClient, settings: Settings
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = await client.get("/metrics", headers=headers)
        assert refused.status == 401 and "WWW-Authenticate" in refused.headers
        assert "viva_turns_total" not in await refused.text()
    plain = await aiohttp_client(create_app(settings))  # no token: not on the main address
    assert (await plain.get("/metrics")).status == 404
    own = await aiohttp_client(metrics_app())  # what VIVA_METRICS_ADDRESS serves
    response = await own.get("/metrics")
    assert response.status == 200 and "# TYPE viva_turns_total" in await response.text()


def sample(text: str, name: str, labels: str) -> float:
    """A sample's value by its leading labels (the viva_instance label follows them)."""
    pattern = rf"^{re.escape(name)}\{{{re.escape(labels)}(,[^}}]*)?\}} (\S+)$"
    match = re.search(pattern, text, re.M)
    return float(match.group(2)) if match else 0.0


async def test_metrics_count_rest_turns(client: TestClient, settings: Settings) -> None:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    assert response.content_type == "text/plain"
    before = await response.text()
    instance = f'viva_instance="{settings.instance_id}"'
    assert f"viva_active_calls{{{instance}}} 0.0" in before
    assert f'viva_draining{{{instance}}} 0.0' in before
    for name in ("viva_turn_stage_seconds", "viva_active_calls", "viva_provider_errors_total"):
        assert f"# TYPE {name}" in before
    owner = user()
    _, session_id = await start_interview(client, owner)
    await post_json(
        client,
        f"/api/interviews/sessions/{session_id}/turn",
        {"user_id": owner, "user_message": "An answer."},
    )
    after = await scrape(client)
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
    before = sample(await scrape(client), "viva_turns_total", labels)
    ws = await client.ws_connect(f"/api/interviews/sessions/{session_id}/voice?user_id={owner}")
    assert (await ws.receive_json())["type"] == "assistant_prompt"
    await ws.send_json({"type": "user_text", "text": "I would profile it first."})
    assert (await ws.receive_json())["type"] == "assistant_turn"
    await ws.close()
    after = await scrape(client)
    assert sample(after, "viva_turns_total", labels) == before + 1
    assert 'viva_turn_stage_seconds_count{path="websocket",stage="reply_sent",' in after
    items = (await (await client.get(f"/api/transcripts/interview/{session_id}",
                                     params={"user_id": owner})).json())["items"]
    timings = items[-1]["timings"]
    assert items[-1]["speaker"] == "assistant"
    assert 0 <= timings["transcript"] <= timings["reply_text"] <= timings["reply_sent"]


def histogram_count(text: str, name: str, le: str) -> float:
    pattern = rf'^{name}_bucket\{{[^}}]*le="{re.escape(le)}"[^}}]*\}} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, text, re.MULTILINE))


async def test_event_loop_lag_is_a_histogram(client: TestClient) -> None:
    """The app samples its loop's lag every ~100 ms; a loop held 300 ms shows above 100 ms."""
    name = "viva_event_loop_lag_seconds"
    before = await scrape(client)
    late_before = histogram_count(before, name, "+Inf") - histogram_count(before, name, "0.1")
    await asyncio.sleep(0.35)
    time.sleep(0.3)  # noqa: ASYNC251  (holds the loop on purpose, as pocketsphinx did)
    await asyncio.sleep(0.15)
    after = await scrape(client)
    assert histogram_count(after, name, "+Inf") >= histogram_count(before, name, "+Inf") + 2
    late_after = histogram_count(after, name, "+Inf") - histogram_count(after, name, "0.1")
    assert late_after >= late_before + 1
