"""Statements run by asyncpg itself (storage/driver.py) read and write what SQLAlchemy does.

On Postgres the autocommit connections run the prebuilt statements through asyncpg; an
ORM session in a transaction runs the same statements through SQLAlchemy. Both are driven
here against one real database: the records read, and the rows a turn's write stores,
must be the same whichever way they went.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from flows.turns import Deps, single_statement, unit_of_work
from storage.driver import fetch_rows
from storage.records import InterviewSession, NewTranscript
from storage.repositories import (
    _GET_SESSION,
    CollectorRepository,
    InterviewRepository,
    InterviewSessionRepository,
    TranscriptRepository,
)
from tests.conftest import storage_deps, user

pytestmark = pytest.mark.postgres


@pytest.fixture
async def deps(postgres_url: str) -> AsyncIterator[Deps]:
    async with storage_deps(postgres_url) as deps:
        yield deps


async def new_session(deps: Deps, owner: str, follow_ups: bool) -> InterviewSession:
    async with unit_of_work(deps) as db:
        interview = await InterviewRepository(db).create(
            user_id=owner, role="backend developer", interview_type="technical", level="mid",
            techstack=["python", "postgres"], questions=["Q1?", "Q2?", "Q3?"],
            questions_source="offline", collector_session_id=None, follow_ups=follow_ups,
        )  # fmt: skip
        return await InterviewSessionRepository(db).create(interview.id, owner, follow_ups)


async def write_turn(deps: Deps, seen: InterviewSession, *, driver: bool) -> None:
    """One turn's write, through asyncpg (`driver`) or through SQLAlchemy in a transaction."""
    unit = single_statement(deps) if driver else unit_of_work(deps)
    follow_ups = None if seen.follow_ups is None else [{"index": 0, "question": "Why?"}]
    async with unit as db:
        await InterviewSessionRepository(db).save_turn(
            seen,
            question_index=1,
            status="active",
            answers=["an answer", None],
            follow_ups=follow_ups,
            session_type="interview",
            entries=[
                NewTranscript("user", "an answer", delivery={"wpm": 131.5, "fillers": []}),
                NewTranscript("assistant", "Thanks. Q2?", timings={"stt": 12}, kind="follow_up"),
            ],
        )


async def stored(postgres_url: str, session_id: str) -> list[Any]:
    """The session's rows as Postgres holds them (JSON as text, NULL apart from 'null')."""
    connection = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        session = await connection.fetchrow(
            "SELECT question_index, status, answers::text, follow_ups::text,"
            " follow_ups IS NULL AS no_follow_ups, feedback IS NULL AS no_feedback, version"
            " FROM interview_sessions WHERE id = $1",
            session_id,
        )
        entries = await connection.fetch(
            "SELECT speaker, message, timings::text, timings IS NULL, kind, delivery::text,"
            " delivery IS NULL FROM transcript_entries WHERE session_id = $1 ORDER BY id",
            session_id,
        )
    finally:
        await connection.close()
    return [dict(session or {}), [tuple(entry) for entry in entries]]


async def start_session(
    deps: Deps, owner: str, follow_ups: bool, *, one_statement: bool
) -> InterviewSession:
    """A session and its opening row: the Postgres statement, or the ORM's two inserts."""
    async with unit_of_work(deps) as db:
        interview = await InterviewRepository(db).create(
            user_id=owner, role="backend developer", interview_type="technical", level="mid",
            techstack=["python"], questions=["Q1?", "Q2?"], questions_source="offline",
            collector_session_id=None, follow_ups=follow_ups,
        )  # fmt: skip
    opening = NewTranscript("assistant", "Welcome! First question: Q1?")
    if one_statement:
        async with single_statement(deps) as db:
            session, entry = await InterviewSessionRepository(db).start(
                interview.id, owner, follow_ups, "interview", opening
            )
    else:
        async with unit_of_work(deps) as db:
            session = await InterviewSessionRepository(db).create(interview.id, owner, follow_ups)
            (entry,) = await TranscriptRepository(db).add("interview", session.id, owner, [opening])
    async with deps.reads() as db:  # what it returned is what is stored
        assert await InterviewSessionRepository(db).get(session.id, owner) == session
        assert await TranscriptRepository(db).list_for("interview", session.id, owner) == [entry]
    return session


@pytest.mark.parametrize("follow_ups", [False, True])
async def test_a_session_started_in_one_statement_stores_what_the_orm_stores(
    deps: Deps, postgres_url: str, follow_ups: bool
) -> None:
    owner = user()
    one = await start_session(deps, owner, follow_ups, one_statement=True)
    orm = await start_session(deps, owner, follow_ups, one_statement=False)
    assert await stored(postgres_url, one.id) == await stored(postgres_url, orm.id)


@pytest.mark.parametrize("follow_ups", [False, True])
async def test_a_turn_written_through_asyncpg_stores_what_sqlalchemy_stores(
    deps: Deps, postgres_url: str, follow_ups: bool
) -> None:
    owner = user()
    by_driver = await new_session(deps, owner, follow_ups)
    by_sqlalchemy = await new_session(deps, owner, follow_ups)
    await write_turn(deps, by_driver, driver=True)
    await write_turn(deps, by_sqlalchemy, driver=False)
    assert await stored(postgres_url, by_driver.id) == await stored(postgres_url, by_sqlalchemy.id)


async def test_records_read_through_asyncpg_equal_those_read_through_sqlalchemy(
    deps: Deps,
) -> None:
    owner = user()
    seen = await new_session(deps, owner, follow_ups=True)
    await write_turn(deps, seen, driver=True)
    async with unit_of_work(deps) as db:
        collector = await CollectorRepository(db).create(owner, "Ada", {"role": "backend"})

    async def read(db: Any) -> list[Any]:
        session = await InterviewSessionRepository(db).get(seen.id, owner)
        assert session is not None
        return [
            session,
            await InterviewRepository(db).get(seen.interview_id, owner),
            await InterviewRepository(db).list_for(owner),
            await TranscriptRepository(db).list_for("interview", seen.id, owner),
            await CollectorRepository(db).get(collector.id, owner),
            await InterviewSessionRepository(db).get(seen.id, "someone-else"),
        ]

    async with deps.reads() as db:
        through_driver = await read(db)
        rows = await fetch_rows(db, _GET_SESSION, {"session_id": seen.id, "owner": owner})
        assert isinstance(rows[0], asyncpg.Record)  # the reads above went through asyncpg
    async with deps.sessions() as db:
        through_sqlalchemy = await read(db)
        rows = await fetch_rows(db, _GET_SESSION, {"session_id": seen.id, "owner": owner})
        assert not isinstance(rows[0], asyncpg.Record)  # an ORM session: SQLAlchemy ran them
    assert through_driver == through_sqlalchemy
    session = through_driver[0]
    assert session.follow_ups == ({"index": 0, "question": "Why?"},)
    assert session.answers == ("an answer", None)
    assert session.created_at.tzinfo is not None
