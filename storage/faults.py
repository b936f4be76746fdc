"""Lost and refused database connections: one retry for a read, then `StorageUnavailable`.

A connection can die under a request (Postgres restarted, a backend terminated, a network
blip) or a new one can be refused. Such a fault says nothing about the request, so the
request is not answered with a generic 500: a read is retried once on a fresh connection
(SQLAlchemy invalidates the whole pool on a disconnect, so the retry does not pick up
another dead one), and if that fails too, or the work was a write, the caller gets
`StorageUnavailable`, which the web layer answers with 503 and `Retry-After`. A write is
never retried here: its transaction was rolled back (or never committed), so nothing of
it is stored, and the client decides whether to send it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import asyncpg.exceptions as pg
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

log = logging.getLogger(f"viva.{__name__}")
WRITING = "viva_writing"  # Session.info key set by a write transaction


class StorageUnavailable(Exception):
    """The database could not be reached or lost the connection; try again shortly."""


# What asyncpg raises when the server went away or will not take a connection now. An
# InternalClientError ("another operation is in progress") is what a query on a
# connection whose previous operation was cut off by the server gets.
_DRIVER_FAULTS: tuple[type[BaseException], ...] = (
    pg.PostgresConnectionError,  # SQLSTATE class 08
    pg.AdminShutdownError,
    pg.CrashShutdownError,
    pg.CannotConnectNowError,
    pg.TooManyConnectionsError,
    pg.InterfaceError,  # client side: the connection is closed
    pg.InternalClientError,
    OSError,  # refused, reset, unreachable
    TimeoutError,
    exc.DisconnectionError,
)


def is_connection_fault(error: BaseException) -> bool:
    """A fault of the connection or the database server, not of the statement."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.OperationalError) and "database is locked" in str(error):
        return True  # SQLite: another process held the write lock past the busy timeout
    seen: BaseException | None = error
    for _ in range(5):  # SQLAlchemy wraps the driver's error, which may wrap another
        if seen is None:
            return False
        if isinstance(seen, _DRIVER_FAULTS) or _refused(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _refused(error: BaseException) -> bool:
    """Postgres refusing connections to a database (ALLOW_CONNECTIONS false, dropping)."""
    return isinstance(error, pg.PostgresError) and "not currently accepting connections" in str(
        error
    )


class RetryingSession(AsyncSession):
    """An AsyncSession whose reads survive one lost connection.

    Outside a write transaction (see `WRITING`), a statement that fails with a connection
    fault is run once more after a rollback; any other fault becomes `StorageUnavailable`.
    """

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await self._with_retry(super().execute, args, kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return await self._with_retry(super().scalar, args, kwargs)

    async def _with_retry(self, run: Any, args: Any, kwargs: Any) -> Any:
        with unavailable_on_fault():
            try:
                return await run(*args, **kwargs)
            except Exception as error:
                if not is_connection_fault(error) or self.info.get(WRITING):
                    raise
                log.warning("database connection lost during a read; retrying once: %s", error)
                await self.rollback()
            return await run(*args, **kwargs)

    async def close(self) -> None:
        """Give the connection back; one that died meanwhile is discarded, not an error.

        Whatever the session did has already succeeded or failed by now: a dead connection
        found while resetting it must not turn a finished request into a failed one.
        """
        try:
            await super().close()
        except Exception as error:
            if not is_connection_fault(error):
                raise
            log.warning("database connection lost after its work was done: %s", error)
            with suppress(Exception):
                await self.invalidate()


class RetryingConnection:
    """A Core connection in autocommit for single statements, without an ORM session.

    It offers what the repositories' reads (and one-statement writes) use of an
    AsyncSession: `execute`, `scalar`, `scalars`, `info`, `bind`, with the same fault
    handling as `RetryingSession`: a read that loses its connection runs once more on a
    new one; a write (`info[WRITING]`) is never retried. The ORM session's own work per
    statement (its transaction object, identity map, state snapshot, close) was about a
    tenth of a REST turn's CPU, for statements that load no ORM objects.

    On Postgres it also runs statements written in the driver's own SQL (`fetch`, see
    `driver_sql`), under the same rules.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.bind = engine
        self.info: dict[str, Any] = {}
        self.driver_sql = engine.dialect.name == "postgresql"
        self._connection: AsyncConnection | None = None
        self._raw: PoolProxiedConnection | None = None

    async def __aenter__(self) -> RetryingConnection:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        try:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None
            if self._raw is not None:
                await greenlet_spawn(self._raw.close)
                self._raw = None
        except Exception as error:
            if not is_connection_fault(error):
                # not the database's fault, but the driver connection still goes back to
                # the pool: else each such error would keep one of the pool's connections
                raw, self._raw = self._raw, None
                if raw is not None:
                    with suppress(Exception):
                        await greenlet_spawn(raw.close)
                raise
            log.warning("database connection lost after its work was done: %s", error)
            await self._drop(error)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await self._with_retry(self._run, "execute", args, kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return await self._with_retry(self._run, "scalar", args, kwargs)

    async def scalars(self, *args: Any, **kwargs: Any) -> Any:
        return await self._with_retry(self._run, "scalars", args, kwargs)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """Postgres only (`driver_sql`): one statement in Postgres's own SQL ($1, $2, …),
        run by asyncpg on a connection from the engine's pool; asyncpg records back.

        For the statements every REST request makes: SQLAlchemy's execution around a
        statement (its Connection, execution context, cursor adapter and result) cost
        ~0.2 ms of CPU each on this machine, twice the asyncpg round trip itself. JSON
        columns come back decoded and are bound as JSON text (SQLAlchemy's codecs on the
        pool's connections).
        """
        return await self._with_retry(self._fetch, sql, args, {})  # type: ignore[no-any-return]

    async def _with_retry(self, run: Any, what: Any, args: Any, kwargs: Any) -> Any:
        with unavailable_on_fault():
            try:
                return await run(what, args, kwargs)
            except Exception as error:
                if not is_connection_fault(error) or self.info.get(WRITING):
                    raise
                log.warning("database connection lost during a read; retrying once: %s", error)
                await self._drop(error)
            return await run(what, args, kwargs)

    async def _run(self, method: str, args: Any, kwargs: Any) -> Any:
        if self._connection is None:
            self._connection = await self.bind.connect()
        return await getattr(self._connection, method)(*args, **kwargs)

    async def _fetch(self, sql: str, args: Any, _kwargs: Any) -> Any:
        if self._raw is None:
            self._raw = await self.bind.raw_connection()
        try:
            return await self._raw.driver_connection.fetch(sql, *args)  # type: ignore[union-attr]
        except Exception as error:
            if is_connection_fault(error):  # a write too: its connection is not reused
                await self._drop(error)
            raise

    async def _drop(self, error: BaseException | None = None) -> None:
        connection, self._connection = self._connection, None
        raw, self._raw = self._raw, None
        if connection is not None:
            with suppress(Exception):
                await connection.invalidate()
        if raw is not None:
            # What SQLAlchemy does on a disconnect: every connection of this one's
            # generation is replaced at its next checkout, so a retry after a restarted
            # database gets a new connection rather than another dead one.
            with suppress(Exception):
                await greenlet_spawn(self.bind.sync_engine.pool._invalidate, raw, error)


@contextmanager
def unavailable_on_fault() -> Iterator[None]:
    """Connection faults leave as `StorageUnavailable`; everything else as it is."""
    try:
        yield
    except StorageUnavailable:
        raise
    except Exception as error:
        if is_connection_fault(error):
            raise StorageUnavailable(str(error)) from error
        raise
