"""Prebuilt statements run by asyncpg itself on Postgres, as SQLAlchemy would send them.

Every REST request makes one or two single statements (a turn: read the session, then
the one-statement write; a listing: one select). SQLAlchemy's execution around each of
them (its Connection, execution context, cursor adapter and result) cost ~0.2 ms of CPU
on this machine, twice the asyncpg round trip itself. So on a Postgres
`RetryingConnection` a prebuilt Core statement is compiled once, for the engine's own
dialect, into the SQL SQLAlchemy would have sent (the same casts, the same positional
parameters), and asyncpg runs that. Elsewhere (SQLite, an ORM session in a transaction)
SQLAlchemy runs the statement as before. Either way the rows come back as mappings of
the same values: JSON columns decoded, timestamps as datetimes.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

from storage.faults import RetryingConnection

Row = Mapping[Any, Any]  # a Core row mapping or an asyncpg Record


@dataclass(frozen=True)
class DriverStatement:
    """A statement compiled for asyncpg: its SQL and how to order its parameters."""

    sql: str
    names: tuple[str, ...]
    json: tuple[bool, ...]  # bound as JSON text, as SQLAlchemy's JSON type binds them

    @classmethod
    def compile(cls, statement: Executable, dialect: Dialect) -> DriverStatement:
        compiled = cast(SQLCompiler, cast(ClauseElement, statement).compile(dialect=dialect))
        names = tuple(compiled.positiontup or ())
        as_json = tuple(isinstance(compiled.binds[name].type, JSON) for name in names)
        return cls(compiled.string, names, as_json)

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        return [
            json.dumps(params[name]) if as_json else params[name]
            for name, as_json in zip(self.names, self.json, strict=True)
        ]


# by id(): statements are prebuilt module constants, kept alive here with their form
_COMPILED: dict[int, tuple[Executable, DriverStatement]] = {}


# far more than the prebuilt statements: past it, a caller builds statements per request
_MAX_COMPILED = 256


def _driver_statement(statement: Executable, dialect: Dialect) -> DriverStatement:
    found = _COMPILED.get(id(statement))
    if found is not None:
        return found[1]
    compiled = DriverStatement.compile(statement, dialect)
    if len(_COMPILED) < _MAX_COMPILED:
        _COMPILED[id(statement)] = (statement, compiled)
    else:  # still right, only slower (Python shows a warning once per place)
        warnings.warn(
            "fetch_rows takes prebuilt statements; this one is compiled per call",
            RuntimeWarning,
            stacklevel=3,
        )
    return compiled


async def fetch_rows(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any]
) -> Sequence[Row]:
    """The rows of a prebuilt statement (a module constant) as mappings, through asyncpg
    on a Postgres `RetryingConnection`, else through SQLAlchemy."""
    if isinstance(session, RetryingConnection) and session.driver_sql:
        driver = _driver_statement(statement, session.bind.dialect)
        return await session.fetch(driver.sql, *driver.arguments(params))
    result = await session.execute(statement, params)
    return result.mappings().all()
