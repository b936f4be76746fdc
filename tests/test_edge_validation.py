"""Issue 11's table of bad inputs, on SQLite and Postgres: for each, the status and error
code, no row changed anywhere, and the server still serving the same session afterwards."""

from __future__ import annotations

import asyncio
import gzip
import logging
import zlib
from typing import Any

import pytest
from aiohttp import FormData, WSMsgType
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from api.appkeys import COLLECTOR
from server import create_app
from settings import Settings
from storage.models import Base, InterviewRow
from tests.conftest import MakeClient, user
from tests.rest_helpers import post_json, start_interview

NUL, SURROGATE = "\u0000", "\\ud800"  # the surrogate as a JSON escape, the way it arrives
DEEP = b"[" * 100_000
MIB = 1024 * 1024


async def rows(client: TestClient) -> dict[str, list[Any]]:
    """Every row of every table: 'nothing changed' compares two of these."""
    async with client.app[COLLECTOR].deps.sessions() as db:
        return {
            table: [tuple(row) for row in await db.execute(text(f"SELECT * FROM {table}"))]
            for table in sorted(Base.metadata.tables)
        }


async def healthy(client: TestClient, owner: str, turn_path: str) -> None:
    """The server still answers, and the session still takes a real turn."""
    listing = await client.get("/api/interviews", params={"user_id": owner})
    assert listing.status == 200
    await post_json(client, turn_path, {"user_id": owner, "user_message": "yes, I'm ready"})


async def refused(
    client: TestClient, method: str, path: str, status: int, code: str, **kwargs: Any
) -> None:
    response = await client.request(method, path, **kwargs)
    body = await response.json()
    assert (response.status, body["code"]) == (status, code), (path, body)
    assert set(body) == {"detail", "code"} and body["detail"]


async def collector_session(client: TestClient) -> tuple[str, str, str]:
    owner = user()
    started = await post_json(client, "/api/collector/start", {"user_id": owner})
    session_id = started["collector_session_id"]
    return owner, session_id, f"/api/collector/{session_id}/turn"


async def test_nul_in_any_string_is_400_and_stores_nothing(client: TestClient) -> None:
    owner, session_id, turn = await collector_session(client)
    _, interview_session = await start_interview(client, owner)
    before = await rows(client)
    json_cases: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", turn, {"user_id": owner, "user_message": f"yes{NUL}"}),
        ("POST", turn, {"user_id": f"{owner}{NUL}", "user_message": "yes"}),
        ("POST", "/api/collector/start", {"user_id": owner, "candidate_name": f"A{NUL}da"}),
        ("POST", f"/api/interviews/sessions/{interview_session}/turn",
         {"user_id": owner, "user_message": f"an index{NUL}"}),
    ]
    for method, path, body in json_cases:
        await refused(client, method, path, 400, "invalid_characters", json=body)
    for body, code in (
        ({"user_id": owner, "user_message": "a" * 8001}, "message_too_long"),
        ({"user_id": owner, "user_message": " \n "}, "empty_message"),
        ({"user_id": "u" * 129, "user_message": "yes"}, "invalid_user_id"),
    ):
        await refused(client, "POST", turn, 400, code, json=body)
    await refused(client, "POST", "/api/collector/start", 400, "invalid_candidate_name",
                  json={"candidate_name": "n" * 201})
    for path in (
        f"/api/collector/{session_id}%00/turn",
        f"/api/interviews/sessions/{interview_session}%00/turn",
        f"/api/interviews/{interview_session}%00/start",
    ):
        await refused(client, "POST", path, 400, "invalid_characters",
                      json={"user_id": owner, "user_message": "yes"})
    for path in (
        f"/api/transcripts/collector/{session_id}%00",
        f"/api/interviews/sessions/{interview_session}%00/feedback",
        "/api/interviews?user_id=a%00b",
    ):
        await refused(client, "GET", path, 400, "invalid_characters")
    for field, value in (("session_id", f"{session_id}{NUL}"), ("user_id", f"{owner}{NUL}")):
        form = FormData(default_to_multipart=True)
        form.add_field("audio_file", b"RIFF", filename="a.wav", content_type="audio/wav")
        fields = {"session_type": "collector", "session_id": session_id, "user_id": owner}
        for name, default in fields.items():
            form.add_field(name, value if name == field else default)
        await refused(client, "POST", "/api/transcripts/voice/transcribe", 400,
                      "invalid_characters", data=form)
    assert await rows(client) == before
    await healthy(client, owner, turn)


async def test_lone_surrogates_are_400(client: TestClient) -> None:
    owner, session_id, turn = await collector_session(client)
    before = await rows(client)
    for raw in (
        f'{{"user_id": "{owner}", "user_message": "yes{SURROGATE}"}}',
        f'{{"user_id": "{owner}", "user_message": "{SURROGATE}x"}}',
        f'{{"user_id": "{owner}{SURROGATE}", "user_message": "yes"}}',
    ):
        await refused(client, "POST", turn, 400, "invalid_characters", data=raw.encode(),
                      headers={"Content-Type": "application/json"})
    await refused(client, "POST", "/api/collector/start", 400, "invalid_characters",
                  data=f'{{"candidate_name": "{SURROGATE}"}}'.encode())
    assert await rows(client) == before
    await healthy(client, owner, turn)


async def test_deep_nesting_is_400(client: TestClient) -> None:
    owner, _session_id, turn = await collector_session(client)
    before = await rows(client)
    await refused(client, "POST", turn, 400, "json_too_deep", data=DEEP)
    await refused(client, "POST", "/api/collector/start", 400, "json_too_deep",
                  data=b'{"user_id": ' + DEEP)
    assert await rows(client) == before
    await healthy(client, owner, turn)


async def test_corrupt_content_encoding_is_400(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    owner, _session_id, turn = await collector_session(client)
    before = await rows(client)
    good = f'{{"user_id": "{owner}", "user_message": "yes"}}'.encode()
    for encoding, corrupt in (
        ("gzip", b"\x1f\x8b\x08\x00garbage, not deflate data"),
        ("gzip", gzip.compress(good)[:-12] + b"\x00" * 12),  # a broken trailer
        ("deflate", b"this is not a zlib stream"),
    ):
        headers = {"Content-Encoding": encoding, "Content-Type": "application/json"}
        await refused(client, "POST", turn, 400, "bad_content_encoding", data=corrupt,
                      headers=headers)
    assert await rows(client) == before
    upload = b"--b\r\nContent-Disposition: form-data; name=audio_file\r\n\r\nRIFF\r\n--b--\r\n"
    await refused(client, "POST", "/api/transcripts/voice/transcribe", 400, "invalid_multipart",
                  data=upload[:20] + b"\x00" * 30, headers={
                      "Content-Encoding": "gzip",
                      "Content-Type": "multipart/form-data; boundary=b"})
    # answered, not left for aiohttp to drain after the reply (it logged that as unhandled)
    await asyncio.sleep(0.1)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # a correct encoding is read as usual
    headers = {"Content-Encoding": "deflate", "Content-Type": "application/json"}
    response = await client.post(turn, data=zlib.compress(good), headers=headers)
    assert response.status == 200, await response.text()


async def test_json_bodies_over_one_mib_are_413(client: TestClient) -> None:
    owner, _session_id, turn = await collector_session(client)
    before = await rows(client)
    for size in (2 * MIB, 19 * MIB):
        raw = b'{"user_id": "%s", "user_message": "%s"}' % (owner.encode(), b"a" * size)
        await refused(client, "POST", turn, 413, "body_too_large", data=raw)
    # the limit holds for a body that only grows once decompressed
    bomb = gzip.compress(b'{"user_message": "' + b"a" * (2 * MIB) + b'"}')
    await refused(client, "POST", turn, 413, "body_too_large", data=bomb,
                  headers={"Content-Encoding": "gzip"})
    assert await rows(client) == before
    await healthy(client, owner, turn)


async def test_string_bounds_are_counted_in_characters(client: TestClient) -> None:
    """A string's bounds are told in characters, the unit of a string, never "items"."""
    owner, session_id, turn = await collector_session(client)
    before = await rows(client)
    cases: list[tuple[str, dict[str, Any], str, str]] = [
        (turn, {"user_id": owner, "user_message": "a" * 8001}, "message_too_long",
         "at most 8000 characters"),
        (turn, {"user_id": "u" * 129, "user_message": "yes"}, "invalid_user_id",
         "at most 128 characters"),
        ("/api/collector/start", {"candidate_name": "n" * 201}, "invalid_candidate_name",
         "at most 200 characters"),
        ("/api/tickets", {"session_type": "collector", "session_id": ""}, "invalid_session_id",
         "at least 1 character"),
    ]
    for path, body, code, bound in cases:
        response = await client.post(path, json=body)
        error = await response.json()
        assert (response.status, error["code"]) == (400, code), (path, error)
        assert bound in error["detail"] and "item" not in error["detail"], error
    ws = await client.ws_connect(f"/api/collector/sessions/{session_id}/voice?user_id={owner}")
    assert (await ws.receive_json())["type"] == "assistant_prompt"
    await ws.send_json({"type": "user_text", "text": "a" * 8001})
    error = await ws.receive_json(timeout=10)
    assert (error["type"], error["code"]) == ("error", "message_too_long"), error
    assert "at most 8000 characters" in error["message"], error
    await ws.close()
    assert await rows(client) == before


async def test_a_role_over_200_characters_asks_for_a_shorter_one(client: TestClient) -> None:
    owner, _session_id, turn = await collector_session(client)
    assert InterviewRow.__table__.c.role.type.length == 200  # type: ignore[attr-defined]
    await post_json(client, turn, {"user_id": owner, "user_message": "yes, I'm ready"})
    long_role = "I'd like to train for " + "supercalifragilistic" * 12 + " developer"
    asked = await post_json(client, turn, {"user_id": owner, "user_message": long_role})
    assert asked["expected_field"] == "role", asked
    assert "200 characters" in asked["assistant_message"], asked
    answers = ("backend developer", "technical", "senior", "Python", "two")
    for answer in answers:
        last = await post_json(client, turn, {"user_id": owner, "user_message": answer})
    assert last["completed"] is True and last["interview_id"]
    listing = await (await client.get("/api/interviews", params={"user_id": owner})).json()
    assert [item["role"] for item in listing] == ["backend developer"]


async def test_socket_messages_are_validated(client: TestClient) -> None:
    owner, session_id, turn = await collector_session(client)
    before = await rows(client)
    ws = await client.ws_connect(f"/api/collector/sessions/{session_id}/voice?user_id={owner}")
    assert (await ws.receive_json())["type"] == "assistant_prompt"
    for raw, code in (
        ('{"type": "user_text", "text": "yes\\u0000"}', "invalid_characters"),
        (f'{{"type": "user_text", "text": "yes{SURROGATE}"}}', "invalid_characters"),
        (DEEP.decode(), "json_too_deep"),
        ('{"type": "user_audio", "audio_base64": "AAAA\\u0000"}', "invalid_characters"),
    ):
        await ws.send_str(raw)
        error = await ws.receive_json(timeout=10)
        assert (error["type"], error["code"]) == ("error", code), (raw[:40], error)
        await ws.send_json({"type": "ping"})
        assert await ws.receive_json(timeout=10) == {"type": "pong"}
    await ws.close()
    assert await rows(client) == before
    await healthy(client, owner, turn)


@pytest.mark.parametrize("kind", ["voice", "call"])
async def test_a_frame_over_a_sockets_limit_gets_an_error_then_1009(
    aiohttp_client: MakeClient, settings: Settings, kind: str
) -> None:
    """aiohttp refuses the frame unread; the client hears why before the close. (With a
    32 KiB audio limit the voice socket's frame limit is its minimum, 1 MiB; signaling
    frames are limited to 256 KiB.)"""
    client = await aiohttp_client(create_app(settings.replace(max_audio_bytes=32 * 1024)))
    owner, session_id, turn = await collector_session(client)
    before = await rows(client)
    ws = await client.ws_connect(f"/api/collector/sessions/{session_id}/{kind}?user_id={owner}")
    assert (await ws.receive_json(timeout=10))["type"] in ("assistant_prompt", "hello")
    await ws.send_json({"type": "user_text", "text": "yes " * (1024 * 1024)})  # 4 MiB
    error = await ws.receive_json(timeout=10)
    assert (error["type"], error["code"]) == ("error", "frame_too_large"), error
    assert error["limit_bytes"] > 0 and str(error["limit_bytes"]) in error["message"]
    closed = await ws.receive(timeout=10)
    assert closed.type == WSMsgType.CLOSE and ws.close_code == 1009, closed
    assert closed.extra == "frame_too_large"
    assert await rows(client) == before
    await healthy(client, owner, turn)


async def test_sockets_with_a_nul_in_an_id_close_with_1008(client: TestClient) -> None:
    owner, session_id, turn = await collector_session(client)
    for kind in ("voice", "call"):
        for path in (
            f"/api/collector/sessions/{session_id}%00/{kind}?user_id={owner}",
            f"/api/collector/sessions/{session_id}/{kind}?user_id={owner}%00",
            f"/api/interviews/sessions/x%00y/{kind}",
        ):
            ws = await client.ws_connect(path)
            message = await ws.receive(timeout=10)
            assert message.type == WSMsgType.CLOSE and ws.close_code == 1008, (path, message)
    await healthy(client, owner, turn)


OFFER_WITHOUT_FINGERPRINT = "\r\n".join(
    [
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 127.0.0.1",
        "a=mid:0",
        "a=sendrecv",
        "a=rtcp-mux",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=setup:actpass",
        "a=rtpmap:111 opus/48000/2",
        "",
    ]
)


async def test_an_offer_without_a_fingerprint_gets_an_error(client: TestClient) -> None:
    owner, session_id, turn = await collector_session(client)
    ws = await client.ws_connect(f"/api/collector/sessions/{session_id}/call?user_id={owner}")
    assert (await ws.receive_json(timeout=10))["type"] == "hello"
    await ws.send_json({"type": "offer", "sdp": OFFER_WITHOUT_FINGERPRINT})
    error = await ws.receive_json(timeout=10)
    assert (error["type"], error["code"]) == ("error", "bad_signal"), error
    assert "fingerprint" in error["message"]
    await ws.send_json({"type": "ping"})
    assert await ws.receive_json(timeout=10) == {"type": "pong"}
    await ws.send_json({"type": "hangup"})
    await ws.close()
    await healthy(client, owner, turn)
