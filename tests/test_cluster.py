"""Two Viva processes on one Postgres database and the local Redis (a unique key prefix).

Each test starts real `python -m server` processes on loopback and drives them over HTTP
and WebSockets the way a load balancer would spread a client's requests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio

from tests.conftest import user
from tests.fake_openai import CHAT, FakeOpenAI, Reply
from tests.instances import METRICS_AUTH, Instance, call, eventually, interview_on
from tests.rest_helpers import ANSWERS

pytestmark = pytest.mark.postgres
LEASE_SECONDS = 3.0
SLOW_TURN_S = 1.5  # the acknowledgement's delay: long enough for every racer to arrive


def cluster_env(postgres_url: str, redis_url: str, prefix: str) -> dict[str, str]:
    return {
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_url,
        "VIVA_REDIS_PREFIX": prefix,
        "VIVA_TURN_LEASE_SECONDS": str(LEASE_SECONDS),
        "VIVA_CALL_LEASE_SECONDS": str(LEASE_SECONDS),
    }


@pytest.fixture
async def pair(
    postgres_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[tuple[Instance, Instance]]:
    env = cluster_env(postgres_url, redis_url, redis_prefix)
    a, b = Instance("viva-a", env, tmp_path), Instance("viva-b", env, tmp_path)
    try:
        await asyncio.gather(a.start(), b.start())
        yield a, b
    finally:
        a.stop()
        b.stop()


async def transcript(
    http: aiohttp.ClientSession, base: str, kind: str, sid: str, owner: str
) -> list[tuple[str, str]]:
    _, body = await call(http, "GET", f"{base}/api/transcripts/{kind}/{sid}?user_id={owner}")
    return [(item["speaker"], item["message"]) for item in body["items"]]


async def test_two_instances_share_sessions_turn_by_turn(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    owner = user()
    async with aiohttp.ClientSession() as http:
        health = [(await call(http, "GET", f"{i.base}/healthz"))[1] for i in pair]
        assert [h["instance_id"] for h in health] == ["viva-a", "viva-b"]
        metrics = await (await http.get(f"{b.base}/metrics", headers=METRICS_AUTH)).text()
        assert 'viva_active_calls{viva_instance="viva-b"} 0.0' in metrics

        # A collector started on A finishes on B (each answer alternately on A and B).
        _, started = await call(http, "POST", f"{a.base}/api/collector/start", {"user_id": owner})
        sid = started["collector_session_id"]
        for n, answer in enumerate(ANSWERS):
            base = (a, b)[n % 2].base
            _, done = await call(
                http,
                "POST",
                f"{base}/api/collector/{sid}/turn",
                {"user_id": owner, "user_message": answer},
            )
        assert done["completed"] and done["interview_id"]
        said = [
            m for s, m in await transcript(http, a.base, "collector", sid, owner) if s == "user"
        ]
        assert said == list(ANSWERS)

        # The interview (questions cached in Redis by B's collector turn) answered alternately.
        _, session = await call(
            http,
            "POST",
            f"{a.base}/api/interviews/{done['interview_id']}/start",
            {"user_id": owner},
        )
        isid = session["interview_session_id"]
        answers = ["First answer, on B.", "Second answer, on A.", "Third answer, on B."]
        indexes = []
        for n, answer in enumerate(answers):
            base = (b, a)[n % 2].base
            _, turn = await call(
                http,
                "POST",
                f"{base}/api/interviews/sessions/{isid}/turn",
                {"user_id": owner, "user_message": answer},
            )
            indexes.append(turn["question_index"])
        assert indexes == [1, 2, None] and turn["status"] == "completed"
        rows = await transcript(http, b.base, "interview", isid, owner)
        assert [m for s, m in rows if s == "user"] == answers
        assert [s for s, _ in rows] == ["assistant"] + ["user", "assistant"] * 3


async def test_concurrent_turns_across_instances_advance_once(
    postgres_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """Four requests for one turn, two on each instance, while the first one is running.

    The acknowledgement takes a second (the fake model is slow), so the three late requests
    arrive while the winner holds the session's turn lock: exactly one may advance it.
    """
    owner = user()
    async with FakeOpenAI() as fake:
        env = {
            **cluster_env(postgres_url, redis_url, redis_prefix),
            "VIVA_PROVIDERS": "openai",
            "OPENAI_API_KEY": "test",
            "OPENAI_BASE_URL": fake.base_url,
        }
        a, b = Instance("viva-a", env, tmp_path), Instance("viva-b", env, tmp_path)
        try:
            await asyncio.gather(a.start(), b.start())
            fake.script(
                CHAT, Reply.chat('{"questions": ["Q one?", "Q two?", "Q three?", "Q four?"]}')
            )
            async with aiohttp.ClientSession() as http:
                isid = await interview_on(http, a.base, owner)
                fake.set_default(CHAT, Reply.chat("Thanks, noted.", delay=SLOW_TURN_S))
                path = f"/api/interviews/sessions/{isid}/turn"
                for round_ in range(3):
                    results = await asyncio.gather(
                        *(
                            call(
                                http,
                                "POST",
                                f"{i.base}{path}",
                                {
                                    "user_id": owner,
                                    "user_message": f"Answer {round_} from {i.name}.",
                                },
                                status=None,
                            )
                            for i in (a, b, a, b)
                        )
                    )
                    statuses = sorted(status for status, _ in results)
                    assert statuses == [200, 409, 409, 409], results
                    assert all(
                        body["code"] == "turn_in_progress" for s, body in results if s == 409
                    )
                rows = await transcript(http, b.base, "interview", isid, owner)
            user_rows = [m for s, m in rows if s == "user"]
            assert [m.split()[1] for m in user_rows] == ["0", "1", "2"]
        finally:
            a.stop()
            b.stop()


async def open_call(
    http: aiohttp.ClientSession, base: str, path: str
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    ws = await http.ws_connect(f"{base}{path}")
    first = await ws.receive_json(timeout=30)
    return ws, first


async def test_one_call_per_session_across_instances(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    owner = user()
    async with aiohttp.ClientSession() as http:
        isid = await interview_on(http, a.base, owner)
        call_path = f"/api/interviews/sessions/{isid}/call?user_id={owner}"
        voice_path = f"/api/interviews/sessions/{isid}/voice?user_id={owner}"
        on_a, hello = await open_call(http, a.base, call_path)
        assert hello["type"] == "hello"
        assert (await call(http, "GET", f"{a.base}/healthz"))[1]["calls"] == 1
        for base, path in ((b.base, call_path), (b.base, voice_path), (a.base, call_path)):
            ws, refused = await open_call(http, base, path)
            assert refused == {
                "type": "error",
                "code": "session_in_call",
                "message": refused["message"],
            }
            assert (await ws.receive()).type == aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 1013  # try again later
        # a REST turn during the call is still one turn at a time, in order
        await on_a.send_json({"type": "hangup"})
        await on_a.receive(timeout=30)

        async def no_calls_on_a() -> bool:
            return (await call(http, "GET", f"{a.base}/healthz"))[1]["calls"] == 0

        assert await eventually(no_calls_on_a, 30), a.log()
        # released at once on hang-up: the same session now calls B
        on_b, hello = await open_call(http, b.base, voice_path)
        assert hello["type"] == "assistant_prompt"
        await on_b.close()


async def test_kill_9_mid_turn_then_other_instance_serves_within_the_lease(
    postgres_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    owner = user()
    async with FakeOpenAI() as fake:
        env = cluster_env(postgres_url, redis_url, redis_prefix)
        online = {
            "VIVA_PROVIDERS": "openai",
            "OPENAI_API_KEY": "test",
            "OPENAI_BASE_URL": fake.base_url,
        }
        a = Instance("viva-a", {**env, **online}, tmp_path)
        b = Instance("viva-b", env, tmp_path)
        try:
            await asyncio.gather(a.start(), b.start())
            async with aiohttp.ClientSession() as http:
                isid = await interview_on(http, b.base, owner)
                path = f"/api/interviews/sessions/{isid}/turn"
                fake.script(CHAT, Reply.chat("Never sent.", delay=120))
                answer = {"user_id": owner, "user_message": "I would add an index."}
                on_a = asyncio.ensure_future(
                    call(http, "POST", f"{a.base}{path}", answer, status=None)
                )
                reached = await eventually(lambda: bool(fake.requests_to(CHAT)), 30)
                assert reached, "A never reached its acknowledgement"
                a.kill()  # mid-turn: lock held in Redis, nothing committed
                killed = time.monotonic()
                with pytest.raises(aiohttp.ClientError):
                    await on_a
                status, body = await call(http, "POST", f"{b.base}{path}", answer, status=None)
                assert (status, body["code"]) == (409, "turn_in_progress")  # A's lock still held
                while status != 200:
                    assert time.monotonic() - killed < LEASE_SECONDS + 2, body
                    await asyncio.sleep(0.1)
                    status, body = await call(http, "POST", f"{b.base}{path}", answer, status=None)
                waited = time.monotonic() - killed
                assert body["question_index"] == 1
                rows = await transcript(http, b.base, "interview", isid, owner)
                assert [m for s, m in rows if s == "user"] == ["I would add an index."]
                assert waited <= LEASE_SECONDS + 2
        finally:
            a.stop()
            b.stop()


async def test_question_cache_is_shared_and_invalidated(redis_url: str, redis_prefix: str) -> None:
    from storage.cache import RedisQuestionCache

    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        here = RedisQuestionCache(client, redis_prefix, 60)
        there = RedisQuestionCache(client, redis_prefix, 60)
        await here.put("interview-1", ("Q1?", "Q2?"))
        assert await there.get("interview-1") == ("Q1?", "Q2?")
        await there.invalidate("interview-1")
        assert await here.get("interview-1") is None
        await here.put("interview-2", ("Q?",))
        assert 0 < await client.pttl(f"{redis_prefix}questions:interview-2") <= 60_000
    finally:
        await client.aclose()
