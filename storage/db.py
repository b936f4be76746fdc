"""The database engine, its session factory, and schema migrations (Alembic)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.faults import RetryingConnection, RetryingSession

log = logging.getLogger(f"viva.{__name__}")
MIGRATION_LOCK = 0x5649_5641  # "VIVA": instances starting together migrate one at a time
MIGRATIONS = Path(__file__).parent / "migrations"


def create_engine(url: str) -> AsyncEngine:
    """An async engine for a postgresql+asyncpg or sqlite+aiosqlite URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        sizes = {}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # Pooled: an aiosqlite connection is a thread of its own plus an open file and
            # its pragmas; opening one per unit of work cost more than the work (7.4 ms of
            # CPU per REST turn against 2.6 on Postgres). Writers still take turns through
            # the WriteGate; pooled readers run beside them (WAL).
            sizes = {"pool_size": 8, "max_overflow": 24}
        engine = create_async_engine(url, **sizes)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # no pre-ping (a round trip per checkout); recycle connections instead
    # Kept open: as many as the requests in flight at 32 clients. Past the pool, overflow
    # connections are opened and closed per checkout (connect, TLS probe, statements
    # prepared again), which cost ~7 % of the CPU of a REST turn at 20 + 20.
    return create_async_engine(url, pool_size=32, max_overflow=8, pool_recycle=1800)


class WriteGate:
    """Write transactions one at a time, in arrival order, where the database needs it.

    SQLite has one writer at a time. Left to itself, a writer that finds the database
    locked polls with growing sleeps until its busy timeout, so under load some writers
    starve and fail with "database is locked" while later ones get in. Through the gate,
    this process's writers queue on an asyncio lock (FIFO) and reach SQLite one by one;
    the busy timeout is left to order writers from other processes. Reads do not pass
    the gate and stay concurrent (WAL lets them run beside the writer). On Postgres the
    gate is open: its row locks and the optimistic versions already order writers.
    """

    def __init__(self, serialised: bool) -> None:
        self._lock = asyncio.Lock() if serialised else None

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> WriteGate:
        return cls(serialised=engine.url.get_backend_name() == "sqlite")

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        if self._lock is None:
            yield
            return
        async with self._lock:
            yield


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[RetryingSession]:
    """Sessions whose reads survive one lost connection (see storage.faults)."""
    return async_sessionmaker(engine, expire_on_commit=False, class_=RetryingSession)


def read_session_factory(engine: AsyncEngine) -> Callable[[], AsyncSession]:
    """Connections for single statements: autocommit, so a read is one round trip, not three.

    A read in a transaction costs BEGIN, the SELECT and ROLLBACK. Every read path in Viva
    is one statement (or independent statements whose results are checked again by the
    optimistic version on write), so it needs no transaction of its own; a write that is
    one statement (flows.turns.single_statement) is atomic without one. Core only: what
    these statements load are rows, not ORM objects, so they skip the ORM session (see
    storage.faults.RetryingConnection, which offers the part of AsyncSession they use).
    A read that loses its connection is retried once.

    SQLite's driver opens no transaction for a SELECT, so there a plain connection already
    runs each read on its own; asking aiosqlite for autocommit, and for the default back
    when the connection returns to the pool, cost two hops to its thread per read (~0.3 ms
    of CPU, a tenth of a REST turn there).
    """
    if engine.dialect.name == "sqlite":
        return lambda: cast(AsyncSession, RetryingConnection(engine))
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return lambda: cast(AsyncSession, RetryingConnection(autocommit))


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema up to the newest migration (creates it on an empty database)."""

    def upgrade(connection: Connection) -> None:
        command.upgrade(_alembic_config(connection), "head")

    async with engine.begin() as connection:
        if engine.url.get_backend_name() == "postgresql":  # held until this commit
            await connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        await connection.run_sync(upgrade)
    log.info("database schema is at the newest migration (%s)", engine.url.get_backend_name())
