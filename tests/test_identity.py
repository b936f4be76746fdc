"""Who is calling, with VIVA_AUTH=jwt: the access matrix over every REST route and socket.

Tokens are real: HS256 with the shared secret, and ES256 with a key published as a JWKS
by a server on 127.0.0.1. Every refusal must have its documented status, name none of
the owner's data, and change no row (the whole database is fingerprinted around it).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import FormData, WSMsgType
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from api.identity import warn_if_exposed
from api.tokens import JwksKeys, TokenVerifier
from server import create_app
from settings import NO_LIMITS, Settings, SettingsError
from storage.models import Base
from tests.auth_helpers import (
    AUDIENCE,
    ISSUER,
    JWKS_KEYS,
    SECRET,
    Signer,
    bearer,
    es256,
    hs256,
    jwks_app,
    unsigned,
)
from tests.conftest import MakeClient, user
from tests.rest_helpers import post_json, start_interview
from tests.speech_samples import encode, tone

pytestmark = pytest.mark.postgres
TICKET_TTL = 3.0
SIGNER = Signer("key-1")
INTRUDER = Signer("key-1")  # claims the published kid, signs with another key


@pytest.fixture
def database_url(postgres_url: str) -> str:  # the production database, one backend is enough
    return postgres_url


@pytest.fixture
async def jwks_url(aiohttp_server: Any) -> str:
    server: TestServer = await aiohttp_server(jwks_app(SIGNER))
    return str(server.make_url("/jwks.json"))


def jwt_settings(settings: Settings, jwks_url: str) -> Settings:
    return settings.replace(
        auth="jwt",
        jwt_secret=SECRET,
        jwks_url=jwks_url,
        jwt_audience=AUDIENCE,
        jwt_issuer=ISSUER,
        ticket_ttl_seconds=TICKET_TTL,
        limits=NO_LIMITS,
    )


@pytest.fixture
async def client(aiohttp_client: MakeClient, settings: Settings, jwks_url: str) -> TestClient:
    return await aiohttp_client(create_app(jwt_settings(settings, jwks_url)))


@dataclass
class World:
    owner: str
    stranger: str
    interview_id: str
    interview_session: str
    collector_session: str

    def secrets(self) -> tuple[str, ...]:
        """What a refusal must never show."""
        return (self.owner, self.interview_id, self.interview_session, self.collector_session)


async def world(client: TestClient) -> World:
    owner = user()
    headers = bearer(hs256(owner))
    interview_id, session = await start_interview(client, owner, headers)
    collector = await post_json(client, "/api/collector/start", {}, 200, headers)
    return World(owner, user(), interview_id, session, collector["collector_session_id"])


def rest_routes(w: World) -> dict[str, tuple[str, str, dict[str, str] | None]]:
    """name -> (method, path, body); FORM is the multipart transcribe upload."""
    interview, session, collector = w.interview_id, w.interview_session, w.collector_session
    return {
        "GET interviews": ("GET", "/api/interviews", None),
        "GET interview": ("GET", f"/api/interviews/{interview}", None),
        "POST interview start": ("POST", f"/api/interviews/{interview}/start", {}),
        "POST interview turn": (
            "POST",
            f"/api/interviews/sessions/{session}/turn",
            {"user_message": "I would add an index."},
        ),
        "GET feedback": ("GET", f"/api/interviews/sessions/{session}/feedback", None),
        "POST feedback regenerate": (
            "POST",
            f"/api/interviews/sessions/{session}/feedback/regenerate",
            {},
        ),
        "GET progress": ("GET", f"/api/users/{w.owner}/progress", None),
        "GET my progress": ("GET", "/api/users/me/progress", None),  # the page's, with auth
        "POST collector start": ("POST", "/api/collector/start", {}),
        "POST collector turn": (
            "POST",
            f"/api/collector/{collector}/turn",
            {"user_message": "yes"},
        ),
        "GET transcript": ("GET", f"/api/transcripts/interview/{session}", None),
        "POST transcribe": (
            "FORM",
            "/api/transcripts/voice/transcribe",
            {"session_type": "collector", "session_id": collector},
        ),
        "POST tickets": (
            "POST",
            "/api/tickets",
            {"session_type": "interview", "session_id": session},
        ),
    }


async def call_route(
    client: TestClient,
    route: tuple[str, str, dict[str, str] | None],
    headers: dict[str, str],
    user_id: str | None = None,
) -> tuple[int, str, aiohttp.ClientResponse]:
    method, path, body = route
    params = {"user_id": user_id} if user_id else {}
    if method == "FORM":
        form = FormData(default_to_multipart=True)
        form.add_field(
            "audio_file", encode(tone(0.3), "wav"), filename="a.wav", content_type="audio/wav"
        )
        for name, value in {**(body or {}), **params}.items():
            form.add_field(name, value)
        response = await client.post(path, data=form, headers=headers)
    elif method == "POST":
        payload = {**(body or {}), **params}
        response = await client.post(path, json=payload, params=params, headers=headers)
    else:
        response = await client.get(path, params=params, headers=headers)
    return response.status, await response.text(), response


async def fingerprint(url: str) -> str:
    engine = create_async_engine(url)
    digest = hashlib.sha256()
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = (await connection.execute(select(table))).all()
            digest.update(repr(sorted(map(repr, rows))).encode())
    await engine.dispose()
    return digest.hexdigest()


def bad_tokens(w: World) -> dict[str, dict[str, str]]:
    """Credentials that identify nobody: every one is a 401."""
    return {
        "no token": {},
        "expired": bearer(hs256(w.owner, exp=1_000_000)),
        "wrong audience": bearer(hs256(w.owner, aud="another-app")),
        "wrong issuer": bearer(es256(w.owner, SIGNER, iss="https://evil.example")),
        "bad signature HS256": bearer(hs256(w.owner, secret="a-guessed-secret-of-32-bytes-long!")),
        "bad signature ES256": bearer(es256(w.owner, INTRUDER)),
        "unknown kid": bearer(es256(w.owner, INTRUDER, kid="key-404")),
        "alg none": bearer(unsigned(w.owner)),
        "not a JWT": {"Authorization": "Bearer not-a-token"},
    }


# What each case gets on each REST route (the README's access matrix).
REFUSED = {name: 404 for name in rest_routes(World("", "", "", "", ""))}
REFUSED.update({"GET interviews": 200, "POST collector start": 200, "GET my progress": 200})
OWNER = {name: 200 for name in REFUSED}
OWNER.update({"GET feedback": 409, "POST feedback regenerate": 409})  # not completed yet


async def test_rest_access_matrix(client: TestClient, database_url: str) -> None:
    w = await world(client)
    routes = rest_routes(w)
    before = await fingerprint(database_url)
    for case, headers in bad_tokens(w).items():
        for name, route in routes.items():
            status, text, response = await call_route(client, route, headers)
            assert status == 401, (case, name, text)
            assert response.headers["WWW-Authenticate"].startswith("Bearer realm="), (case, name)
            assert not any(secret in text for secret in w.secrets()), (case, name, text)
    for name, route in routes.items():  # the owner's token, a user_id that contradicts it
        status, text, _ = await call_route(client, route, bearer(hs256(w.owner)), w.stranger)
        assert status == 403 and '"user_mismatch"' in text, (name, text)
    assert await fingerprint(database_url) == before, "a refused request changed a row"

    stranger = bearer(es256(w.stranger, SIGNER))  # a real user, not the owner
    for name, route in routes.items():
        if REFUSED[name] == 200:
            continue  # these create or list the stranger's own data: checked below
        status, text, _ = await call_route(client, route, stranger)
        assert status == 404, (name, text)
        assert not any(secret in text for secret in w.secrets()), (name, text)
    assert await fingerprint(database_url) == before, "a foreign request changed a row"
    status, text, _ = await call_route(client, routes["GET interviews"], stranger)
    assert (status, text) == (200, "[]")

    for token in (hs256(w.owner), es256(w.owner, SIGNER)):  # both ways of signing work
        for name, route in routes.items():
            status, text, _ = await call_route(client, route, bearer(token))
            assert status == OWNER[name], (name, text)


SOCKETS = {
    "interview voice": ("interview", "/api/interviews/sessions/{}/voice"),
    "collector voice": ("collector", "/api/collector/sessions/{}/voice"),
    "interview call": ("interview", "/api/interviews/sessions/{}/call"),
    "collector call": ("collector", "/api/collector/sessions/{}/call"),
}


async def connect(
    client: TestClient, path: str, headers: dict[str, str] | None = None, **query: str
) -> str:
    """'open' (the first server message arrived), a close code, or an HTTP status."""
    try:
        ws = await client.ws_connect(path, headers=headers, params=query)
    except aiohttp.WSServerHandshakeError as error:
        return str(error.status)
    message = await ws.receive(timeout=15)
    outcome = "open" if message.type == WSMsgType.TEXT else f"closed {ws.close_code}"
    await ws.close()
    return outcome


async def ticket(client: TestClient, w: World, kind: str) -> str:
    session = w.collector_session if kind == "collector" else w.interview_session
    body = {"session_type": kind, "session_id": session}
    return str(
        (await post_json(client, "/api/tickets", body, 200, bearer(hs256(w.owner))))["ticket"]
    )


async def test_socket_access_matrix(client: TestClient, database_url: str) -> None:
    w = await world(client)
    sessions = {"interview": w.interview_session, "collector": w.collector_session}
    paths = {name: (kind, path.format(sessions[kind])) for name, (kind, path) in SOCKETS.items()}
    before = await fingerprint(database_url)
    for name, (kind, path) in paths.items():
        for case, headers in bad_tokens(w).items():
            assert await connect(client, path, headers) == "401", (name, case)
        owner = bearer(es256(w.owner, SIGNER))
        assert await connect(client, path, owner, user_id=w.stranger) == "403", name
        mine = await ticket(client, w, kind)
        assert await connect(client, path, ticket=mine, user_id=w.stranger) == "403", name
        stranger = bearer(hs256(w.stranger))  # a real user: the session is not theirs
        assert await connect(client, path, stranger) == "closed 1008", name
        other_kind = "collector" if kind == "interview" else "interview"
        other = await ticket(client, w, other_kind)
        assert await connect(client, path, ticket=other) == "401", (name, "other session")
        assert await connect(client, path, ticket="made-up") == "401", (name, "made-up")
    assert await fingerprint(database_url) == before, "a refused socket changed a row"

    for name, (kind, path) in paths.items():
        assert await connect(client, path, bearer(es256(w.owner, SIGNER))) == "open", name
        once = await ticket(client, w, kind)
        assert await connect(client, path, ticket=once) == "open", name
        assert await connect(client, path, ticket=once) == "401", (name, "reused")
    late = {name: await ticket(client, w, kind) for name, (kind, _) in paths.items()}
    await asyncio.sleep(TICKET_TTL + 0.5)
    for name, (_, path) in paths.items():
        assert await connect(client, path, ticket=late[name]) == "401", (name, "expired")


async def test_jwks_keys_are_cached_and_refreshed_for_an_unknown_kid(
    aiohttp_server: Any, settings: Settings
) -> None:
    server: TestServer = await aiohttp_server(jwks_app(SIGNER))
    rotated = Signer("key-2")
    async with aiohttp.ClientSession() as http:
        keys = JwksKeys(str(server.make_url("/jwks.json")), http, refetch_cooldown=0.0)
        verifier = TokenVerifier(jwt_settings(settings, keys.url), keys)
        for _ in range(3):
            assert await verifier.subject(es256(f"u{_}", SIGNER)) == f"u{_}"
        assert keys.fetches == 1  # cached
        server.app[JWKS_KEYS].append(rotated.jwk)  # the provider rotates its keys
        assert await verifier.subject(es256("new", rotated)) == "new"
        assert keys.fetches == 2


async def test_development_mode_gives_each_browser_its_own_anonymous_id(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    dev = await aiohttp_client(create_app(settings))  # VIVA_AUTH=none, the default
    jars = [aiohttp.CookieJar(unsafe=True), aiohttp.CookieJar(unsafe=True)]
    async with (
        aiohttp.ClientSession(cookie_jar=jars[0]) as first,
        aiohttp.ClientSession(cookie_jar=jars[1]) as second,
    ):
        mine = await (await first.post(dev.make_url("/api/collector/start"))).json()
        theirs = await (await second.post(dev.make_url("/api/collector/start"))).json()
        assert mine["user_id"].startswith("anon-") and theirs["user_id"].startswith("anon-")
        assert mine["user_id"] != theirs["user_id"]
        path = "/api/transcripts/collector/{}"
        own = await first.get(dev.make_url(path.format(mine["collector_session_id"])))
        assert own.status == 200 and (await own.json())["user_id"] == mine["user_id"]
        for session in (mine["collector_session_id"], theirs["collector_session_id"]):
            other = second if session == mine["collector_session_id"] else first
            refused = await other.get(dev.make_url(path.format(session)))
            assert refused.status == 404
            turn = await other.post(
                dev.make_url(f"/api/collector/{session}/turn"), json={"user_message": "yes"}
            )
            assert turn.status == 404
        voice = dev.make_url(f"/api/collector/sessions/{mine['collector_session_id']}/voice")
        async with second.ws_connect(voice) as ws:
            assert (await ws.receive(timeout=15)).type == WSMsgType.CLOSE
            assert ws.close_code == 1008
        async with first.ws_connect(voice) as ws:
            assert (await ws.receive_json(timeout=15))["type"] == "assistant_prompt"
    named = await post_json(dev, "/api/collector/start", {"user_id": "seed-user"})
    assert named["user_id"] == "seed-user"  # the seed's user_id still works


async def test_origins_cors_and_the_page_policy(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    allowed = "https://app.example"
    client = await aiohttp_client(create_app(settings.replace(cors_origins=(allowed,))))
    owner = user()
    started = await post_json(client, "/api/collector/start", {"user_id": owner})
    voice = f"/api/collector/sessions/{started['collector_session_id']}/voice?user_id={owner}"

    evil = {"Origin": "https://evil.example"}
    refused = await client.get("/api/interviews", params={"user_id": owner}, headers=evil)
    assert refused.status == 403 and (await refused.json())["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refused.headers
    with pytest.raises(aiohttp.WSServerHandshakeError) as socket:
        await client.ws_connect(voice, headers=evil)
    assert socket.value.status == 403

    listed = await client.get(
        "/api/interviews", params={"user_id": owner}, headers={"Origin": allowed}
    )
    assert listed.status == 200 and listed.headers["Access-Control-Allow-Origin"] == allowed
    preflight = await client.options(
        "/api/tickets",
        headers={
            "Origin": allowed,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert (
        preflight.status == 204
        and "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    )
    same = {"Origin": str(client.make_url("")).rstrip("/")}  # the page's own origin
    async with client.ws_connect(voice, headers=same) as ws:
        assert (await ws.receive_json(timeout=15))["type"] == "assistant_prompt"

    for path in ("/", "/static/app.js"):
        page = await client.get(path)
        policy = page.headers["Content-Security-Policy"]
        assert page.status == 200 and "default-src 'self'" in policy
        assert f"frame-ancestors 'self' {allowed}" in policy and "unsafe" not in policy
    assert "Content-Security-Policy" not in (await client.get("/api/config")).headers
    assert await (await client.get("/api/config")).json() == {
        "auth": "none",
        "token_origins": [allowed],
    }


def test_settings_and_the_exposure_warning(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(SettingsError, match="VIVA_JWT_SECRET or VIVA_JWKS_URL"):
        Settings.from_env({"VIVA_AUTH": "jwt"})
    with pytest.raises(SettingsError, match="VIVA_CORS_ORIGINS"):
        Settings.from_env({"VIVA_CORS_ORIGINS": "app.example"})
    parsed = Settings.from_env(
        {
            "VIVA_AUTH": "jwt",
            "VIVA_JWKS_URL": "https://idp.example/jwks.json",
            "VIVA_LIMIT_TURNS_PER_MINUTE": "5",
            "VIVA_CORS_ORIGINS": "https://a.example/",
        }
    )
    assert parsed.limits.turns_per_minute == 5 and parsed.cors_origins == ("https://a.example",)
    assert Settings.from_env({"VIVA_LIMITS": "off"}).limits == NO_LIMITS
    with caplog.at_level(logging.WARNING, logger="viva.api.identity"):
        warn_if_exposed(Settings(host="127.0.0.1"))
        warn_if_exposed(Settings(host="0.0.0.0", auth="jwt", jwt_secret="s"))
        assert not caplog.records
        warn_if_exposed(Settings(host="0.0.0.0"))
    assert "VIVA_AUTH=none on 0.0.0.0" in caplog.text and "any user's" in caplog.text
