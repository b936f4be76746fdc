"""A turn's write: the session moves and both transcript rows are stored, all or nothing.

On Postgres it is one statement outside a transaction (storage.repositories.save_turn,
flows.turns.single_statement); on SQLite an update and an insert in a transaction. Both
are driven here through the real engine, sessions and repositories, on both databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from flows.errors import Conflict
from flows.turns import Deps, single_statement, unit_of_work
from storage.records import InterviewSession, NewTranscript
from storage.repositories import (
    InterviewRepository,
    InterviewSessionRepository,
    TranscriptRepository,
)
from tests.conftest import storage_deps, user


@pytest.fixture
async def deps(database_url: str) -> AsyncIterator[Deps]:
    async with storage_deps(database_url) as deps:
        yield deps


async def new_session(deps: Deps, owner: str) -> InterviewSession:
    async with unit_of_work(deps) as db:
        interview = await InterviewRepository(db).create(
            user_id=owner, role="backend", interview_type="technical", level="mid",
            techstack=["python"], questions=["Q1?", "Q2?"], questions_source="offline",
            collector_session_id=None,
        )  # fmt: skip
        return await InterviewSessionRepository(db).create(interview.id, owner)


async def save(deps: Deps, seen: InterviewSession, answer: str) -> list[int]:
    async with single_statement(deps) as db:
        entries = await InterviewSessionRepository(db).save_turn(
            seen,
            question_index=1,
            status="active",
            answers=[answer],
            follow_ups=None,
            session_type="interview",
            entries=[
                NewTranscript("user", answer, delivery={"wpm": 120}),
                NewTranscript("assistant", f"Thanks. Next question: Q2? ({answer})"),
            ],
        )
    return [entry.id for entry in entries]


async def test_a_turn_moves_the_session_and_stores_both_rows_in_order(deps: Deps) -> None:
    owner = user()
    seen = await new_session(deps, owner)
    ids = await save(deps, seen, "an index")
    assert ids == sorted(ids) and len(set(ids)) == 2
    async with deps.reads() as db:
        session = await InterviewSessionRepository(db).get(seen.id, owner)
        rows = await TranscriptRepository(db).list_for("interview", seen.id, owner)
    assert session is not None
    assert (session.question_index, session.answers, session.version) == (1, ("an index",), 1)
    assert session.follow_ups is None
    assert [(r.id, r.speaker, r.message) for r in rows] == [
        (ids[0], "user", "an index"),
        (ids[1], "assistant", "Thanks. Next question: Q2? (an index)"),
    ]
    assert rows[0].delivery == {"wpm": 120} and rows[1].delivery is None
    assert rows[0].timings is None and rows[1].kind is None


async def test_a_turn_on_a_stale_version_is_a_conflict_and_stores_nothing(deps: Deps) -> None:
    owner = user()
    seen = await new_session(deps, owner)
    await save(deps, seen, "first")
    with pytest.raises(Conflict) as raised:
        await save(deps, seen, "second, from a turn that read the same version")
    assert raised.value.code == "turn_in_progress"
    async with deps.reads() as db:
        session = await InterviewSessionRepository(db).get(seen.id, owner)
        rows = await TranscriptRepository(db).list_for("interview", seen.id, owner)
    assert session is not None and session.answers == ("first",) and session.version == 1
    assert [r.message for r in rows if r.speaker == "user"] == ["first"]
    assert len(rows) == 2
