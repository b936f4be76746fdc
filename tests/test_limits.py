"""Limits per user and per client address: bursts get 429 with Retry-After, other users
go on, windows reset, and with REDIS_URL several instances share one count."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from api.limits import Limiter
from api.refusals import Refusal
from server import create_app
from settings import NO_LIMITS, Limits, Settings
from tests.conftest import MakeClient, user
from tests.rest_helpers import collect_interview
from tests.speech_samples import encode, tone

REDIS_URL = "redis://127.0.0.1:6379/11"  # a database of its own; keys carry fresh user ids
SMALL = Limits(
    sessions_per_hour=2,
    turns_per_minute=8,
    transcribes_per_minute=2,
    audio_seconds_per_day=4,
    concurrent_calls=1,
    concurrent_sockets=1,
    address_factor=100,
)


@pytest.fixture
def database_url(tmp_path: Any) -> str:  # limits are not about storage: SQLite is enough
    return f"sqlite+aiosqlite:///{tmp_path / 'viva.sqlite3'}"


async def start(client: TestClient, owner: str) -> aiohttp.ClientResponse:
    return await client.post("/api/collector/start", json={"user_id": owner})


def refused(response: aiohttp.ClientResponse) -> int:
    """The Retry-After of a 429 (fails the test for anything else)."""
    assert response.status == 429, response.status
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1
    return retry_after


async def upload(client: TestClient, owner: str, seconds: float) -> aiohttp.ClientResponse:
    form = FormData(default_to_multipart=True)
    form.add_field("audio_file", encode(tone(seconds), "wav"), filename="a.wav")
    form.add_field("user_id", owner)
    return await client.post("/api/transcripts/voice/transcribe", data=form)


async def burst(send: Callable[[], Awaitable[aiohttp.ClientResponse]], limit: int) -> int:
    """Send until refused; how many went through. Windows are fixed (on the minute, hour,
    day), so a burst that straddles a boundary may pass up to twice the limit."""
    for passed in range(2 * limit + 1):
        response = await send()
        if response.status != 200:
            refused(response)
            return passed
    raise AssertionError(f"no 429 after {2 * limit + 1} requests")


async def test_bursts_get_429_and_other_users_go_on(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings.replace(limits=SMALL)))
    busy, calm, talker = user(), user(), user()
    session = (await (await start(client, busy)).json())["collector_session_id"]
    assert 1 <= await burst(lambda: start(client, busy), 2) <= 3  # sessions per hour
    assert (await start(client, calm)).status == 200

    turn = f"/api/collector/{session}/turn"
    limit = SMALL.turns_per_minute

    def yes() -> Awaitable[aiohttp.ClientResponse]:
        return client.post(turn, json={"user_id": busy, "user_message": "yes"})

    assert limit <= await burst(yes, limit) <= 2 * limit
    await collect_interview(client, calm)  # six turns of another user: unaffected

    assert 2 <= await burst(lambda: upload(client, talker, 0.5), 2) <= 4  # per minute
    assert (await upload(client, calm, 2.5)).status == 200  # 3 s of the 4 s a day
    refused(await upload(client, calm, 1.5))  # audio seconds per day

    for kind in ("voice", "call"):  # at most one open at once, per user
        path = f"/api/collector/sessions/{session}/{kind}?user_id={busy}"
        first = await client.ws_connect(path)
        with pytest.raises(aiohttp.WSServerHandshakeError) as second:
            await client.ws_connect(path)
        assert second.value.status == 429 and second.value.headers is not None
        assert int(second.value.headers["Retry-After"]) > 0
        await first.close()
        again = await reconnect(client, path)  # the limit is free again once it closes
        assert (await again.receive_json(timeout=15))["type"] in ("assistant_prompt", "hello")
        if kind == "voice":  # turns over the socket count too, and refuse with an error frame
            for _ in range(2 * limit + 1):
                await again.send_json({"type": "user_text", "text": "yes"})
                reply = await again.receive_json(timeout=15)
                if reply["type"] == "error":
                    break
            assert reply["code"] == "rate_limited" and reply["retry_after"] >= 1
        await again.close()


async def reconnect(client: TestClient, path: str) -> aiohttp.ClientWebSocketResponse:
    """Connect once the server has finished closing the previous socket (it may lag)."""
    for _ in range(50):
        try:
            return await client.ws_connect(path)
        except aiohttp.WSServerHandshakeError as error:
            assert error.status == 429
            await asyncio.sleep(0.1)
    raise AssertionError(f"{path} stayed at its limit after the other socket closed")


async def test_a_client_address_may_spend_a_few_users_worth(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    limits = Limits(sessions_per_hour=1, address_factor=2)
    client = await aiohttp_client(create_app(settings.replace(limits=limits)))
    assert (await start(client, user())).status == 200
    assert (await start(client, user())).status == 200
    refused(await start(client, user()))  # a third fresh user from the same address


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except OSError as error:
        pytest.fail(f"Redis on 127.0.0.1:6379 is needed: {error}")
    yield client
    await client.aclose()


@pytest.mark.parametrize("backend", ["process", "redis"])
async def test_windows_reset(backend: str, redis: Redis) -> None:
    now = [1_800_000_000.0]  # on a minute boundary
    limits = Limits(turns_per_minute=2, address_factor=0)
    store = redis if backend == "redis" else None
    limiter = Limiter(limits, store, f"test:{uuid.uuid4().hex}:", clock=lambda: now[0])
    owner = user()
    await limiter.spend("turns", owner, "127.0.0.1")
    await limiter.spend("turns", owner, "127.0.0.1")
    now[0] += 45
    with pytest.raises(Refusal) as over:
        await limiter.spend("turns", owner, "127.0.0.1")
    assert over.value.status == 429 and over.value.headers["Retry-After"] == "15"
    now[0] += 15  # the next minute
    await limiter.spend("turns", owner, "127.0.0.1")


async def test_instances_without_a_ticket_key_agree_on_one_through_redis(
    aiohttp_client: MakeClient, settings: Settings, redis: Redis
) -> None:
    """Behind a load balancer the ticket's POST and the socket may reach different
    instances; with REDIS_URL and no VIVA_TICKET_KEY they still share one key."""
    prefix = f"viva-test-{uuid.uuid4().hex[:10]}:"
    shared = settings.replace(redis_url=REDIS_URL, redis_prefix=prefix, ticket_key="")
    one = await aiohttp_client(create_app(shared))
    two = await aiohttp_client(create_app(shared))
    owner = user()
    started = await (await start(one, owner)).json()
    sid = started["collector_session_id"]
    body = {"user_id": owner, "session_type": "collector", "session_id": sid}
    ticket = (await (await one.post("/api/tickets", json=body)).json())["ticket"]
    ws = await two.ws_connect(f"/api/collector/sessions/{sid}/voice", params={"ticket": ticket})
    assert (await ws.receive_json(timeout=15))["type"] == "assistant_prompt"
    await ws.close()
    await redis.delete(*[key async for key in redis.scan_iter(match=f"{prefix}*")])


async def test_instances_sharing_redis_enforce_one_limit(
    aiohttp_client: MakeClient, settings: Settings, redis: Redis
) -> None:
    prefix = f"viva-test-{uuid.uuid4().hex[:10]}:"  # VIVA_REDIS_PREFIX
    shared = settings.replace(
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        ticket_key="one-key-for-all-instances",  # VIVA_TICKET_KEY
        limits=Limits(**{**vars(NO_LIMITS), "sessions_per_hour": 2}),
    )
    one = await aiohttp_client(create_app(shared))
    two = await aiohttp_client(create_app(shared))
    owner = user()
    started = await (await start(one, owner)).json()
    assert (await start(two, owner)).status == 200
    refused(await start(one, owner))
    refused(await start(two, owner))
    # a ticket issued by one instance is redeemed by the other, once
    body = {"user_id": owner, "session_type": "collector"}
    body["session_id"] = started["collector_session_id"]
    ticket = (await (await one.post("/api/tickets", json=body)).json())["ticket"]
    path = f"/api/collector/sessions/{started['collector_session_id']}/voice"
    ws = await two.ws_connect(path, params={"ticket": ticket})
    assert (await ws.receive_json(timeout=15))["type"] == "assistant_prompt"
    await ws.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as reused:
        await one.ws_connect(path, params={"ticket": ticket})
    assert reused.value.status == 401
    # every key the limits and tickets wrote is under the instances' prefix, none elsewhere
    ours = [key.decode() async for key in redis.scan_iter(match=f"{prefix}*")]
    assert {key.split(":")[1] for key in ours} == {"limit", "ticket"}, ours
    everywhere = [key.decode() async for key in redis.scan_iter(match=f"*{owner}*")]
    assert everywhere and set(everywhere) <= set(ours), everywhere
    if ours:
        await redis.delete(*ours)
