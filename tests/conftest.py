"""Shared fixtures: a database per backend (SQLite file, real Postgres), the real app."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from flows.chat import Chat
from flows.offline_chat import OfflineChat
from flows.turns import Deps
from server import create_app
from settings import Settings
from storage.cache import QuestionCache
from storage.db import WriteGate, create_engine, migrate, read_session_factory, session_factory
from tests.loopback_guard import LoopbackGuard

PG_HOST = os.environ.get("VIVA_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("VIVA_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("VIVA_TEST_PG_USER", "postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
GUARD = LoopbackGuard()


@pytest.fixture(scope="session", autouse=True)
def loopback_only() -> Iterator[LoopbackGuard]:
    """The whole run: the test process may contact loopback addresses only."""
    GUARD.install()
    yield GUARD
    GUARD.uninstall()


@pytest.fixture(autouse=True)
def no_remote_contact(loopback_only: LoopbackGuard) -> Iterator[None]:
    """Fails the test that tried to reach off this machine, even if the error was swallowed."""
    loopback_only.take_violations()
    yield
    violations = loopback_only.take_violations()
    assert not violations, f"non-loopback destinations contacted: {violations}"


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=5
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh Postgres database for this test run, dropped at the end.

    Unreachable Postgres fails the run in CI (CI=true) and skips these cases locally.
    """
    name = f"viva_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        if IN_CI:
            pytest.fail(f"Postgres on {PG_HOST}:{PG_PORT} is required in CI: {error}")
        pytest.skip(f"Postgres on {PG_HOST}:{PG_PORT} unreachable, skipping its cases: {error}")
    yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'viva.sqlite3'}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url=database_url, providers="offline", tts_enabled=False
    )


AppClient = TestClient  # type: ignore[type-arg]
MakeClient = Callable[[web.Application], Awaitable[AppClient]]


@pytest.fixture
async def client(aiohttp_client: MakeClient, settings: Settings) -> AppClient:
    return await aiohttp_client(create_app(settings))


def user() -> str:
    """A fresh user id: tests share databases, users keep them apart."""
    return f"user-{uuid.uuid4().hex[:10]}"


REDIS_URL = os.environ.get("VIVA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The local Redis (required in CI, like Postgres; skipped locally when unreachable)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()
    except redis.RedisError as error:
        if IN_CI:
            pytest.fail(f"Redis at {REDIS_URL} is required in CI: {error}")
        pytest.skip(f"Redis at {REDIS_URL} unreachable, skipping its cases: {error}")
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    import redis

    prefix = f"viva-test-{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@asynccontextmanager
async def storage_deps(url: str) -> AsyncIterator[Deps]:
    """What the flows need to store, on a migrated database at `url`, with the offline chat
    (for tests that drive the repositories and turns without an app)."""
    engine = create_engine(url)
    await migrate(engine)
    try:
        yield Deps(
            sessions=session_factory(engine),
            reads=read_session_factory(engine),
            chat=Chat(OfflineChat(), None),
            cache=QuestionCache(10, 60),
            writes=WriteGate.for_engine(engine),
        )
    finally:
        await engine.dispose()
