"""Repositories: take an AsyncSession, return records. Every read is scoped to its owner.

State changes use optimistic versions: `save_*` updates a row only if its version is still
the one that was read, so two racing turns cannot both advance one session.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import JSON, Table, TextClause, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.driver import Row, fetch_rows
from storage.models import (
    Base,
    CollectorSessionRow,
    InterviewRow,
    InterviewSessionRow,
    TranscriptEntryRow,
    utcnow,
)
from storage.records import (
    CollectorSession,
    Interview,
    InterviewSession,
    InterviewSummary,
    NewTranscript,
    TranscriptEntry,
)


class StaleVersion(Exception):
    """The row changed since it was read: another turn won the race."""


def new_id() -> str:
    return str(uuid.uuid4())


def _values(row: Base) -> dict[str, Any]:
    """An ORM object's column values by name, as a row's mapping holds them."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def _collector(row: Row) -> CollectorSession:
    return CollectorSession(
        id=row["id"],
        user_id=row["user_id"],
        candidate_name=row["candidate_name"],
        state=dict(row["state"]),
        completed=row["completed"],
        interview_id=row["interview_id"],
        version=row["version"],
        created_at=row["created_at"],
    )


def _interview(row: Row) -> Interview:
    return Interview(
        id=row["id"],
        user_id=row["user_id"],
        role=row["role"],
        interview_type=row["interview_type"],
        level=row["level"],
        techstack=tuple(row["techstack"]),
        amount=row["amount"],
        questions=tuple(row["questions"]),
        questions_source=row["questions_source"],
        created_at=row["created_at"],
        follow_ups=bool(row["follow_ups"]),
    )


def _interview_session(row: Row) -> InterviewSession:
    follow_ups = row["follow_ups"]
    return InterviewSession(
        id=row["id"],
        interview_id=row["interview_id"],
        user_id=row["user_id"],
        question_index=row["question_index"],
        status=row["status"],
        answers=tuple(row["answers"] or ()),
        feedback=row["feedback"],
        version=row["version"],
        created_at=row["created_at"],
        follow_ups=None if follow_ups is None else tuple(follow_ups),
        updated_at=row["updated_at"],
    )


def _entry(row: Row) -> TranscriptEntry:
    return TranscriptEntry(
        id=row["id"],
        session_type=row["session_type"],
        session_id=row["session_id"],
        user_id=row["user_id"],
        speaker=row["speaker"],
        message=row["message"],
        created_at=row["created_at"],
        timings=row["timings"],
        kind=row["kind"],
        delivery=row["delivery"],
    )


def _first(rows: Sequence[Row]) -> Row | None:
    return rows[0] if rows else None


# Reads are Core statements over the tables (built once): they also run on the Core
# connections of storage.db.read_session_factory, which load rows, not ORM objects, and
# there, on Postgres, asyncpg runs them itself (storage.driver.fetch_rows).
_COLLECTORS = cast(Table, CollectorSessionRow.__table__)
_GET_COLLECTOR = select(_COLLECTORS).where(
    _COLLECTORS.c.id == bindparam("session_id"), _COLLECTORS.c.user_id == bindparam("owner")
)
_INTERVIEW_TABLE = cast(Table, InterviewRow.__table__)
_GET_INTERVIEW = select(_INTERVIEW_TABLE).where(
    _INTERVIEW_TABLE.c.id == bindparam("interview_id"),
    _INTERVIEW_TABLE.c.user_id == bindparam("owner"),
)
_TRANSCRIPT_TABLE = cast(Table, TranscriptEntryRow.__table__)
_LIST_TRANSCRIPT = (
    select(_TRANSCRIPT_TABLE)
    .where(
        _TRANSCRIPT_TABLE.c.session_type == bindparam("session_type"),
        _TRANSCRIPT_TABLE.c.session_id == bindparam("session_id"),
        _TRANSCRIPT_TABLE.c.user_id == bindparam("owner"),
    )
    .order_by(_TRANSCRIPT_TABLE.c.id)
)


class CollectorRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self, user_id: str, candidate_name: str | None, state: dict[str, Any]
    ) -> CollectorSession:
        now = utcnow()
        row = CollectorSessionRow(
            id=new_id(),
            user_id=user_id,
            candidate_name=candidate_name,
            state=state,
            completed=False,
            version=0,
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _collector(_values(row))

    async def get(self, session_id: str, user_id: str) -> CollectorSession | None:
        params = {"session_id": session_id, "owner": user_id}
        row = _first(await fetch_rows(self.session, _GET_COLLECTOR, params))
        return _collector(row) if row else None

    async def save(
        self,
        current: CollectorSession,
        state: dict[str, Any],
        completed: bool,
        interview_id: str | None,
    ) -> None:
        result = await self.session.execute(
            update(CollectorSessionRow)
            .where(
                CollectorSessionRow.id == current.id,
                CollectorSessionRow.version == current.version,
            )
            .values(
                state=state,
                completed=completed,
                interview_id=interview_id,
                version=current.version + 1,
                updated_at=utcnow(),
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleVersion(current.id)


class InterviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        *,
        user_id: str,
        role: str,
        interview_type: str,
        level: str,
        techstack: Sequence[str],
        questions: Sequence[str],
        questions_source: str,
        collector_session_id: str | None,
        follow_ups: bool = False,
    ) -> Interview:
        row = InterviewRow(
            id=new_id(),
            user_id=user_id,
            role=role,
            interview_type=interview_type,
            level=level,
            techstack=list(techstack),
            amount=len(questions),
            questions=list(questions),
            questions_source=questions_source,
            collector_session_id=collector_session_id,
            follow_ups=follow_ups,
            created_at=utcnow(),
        )
        self.session.add(row)
        await self.session.flush()
        return _interview(_values(row))

    async def get(self, interview_id: str, user_id: str) -> Interview | None:
        params = {"interview_id": interview_id, "owner": user_id}
        row = _first(await fetch_rows(self.session, _GET_INTERVIEW, params))
        return _interview(row) if row else None

    async def list_for(self, user_id: str, limit: int = 200) -> list[InterviewSummary]:
        params = {"user_id": user_id, "limit": limit}
        return [
            InterviewSummary(
                id=row["id"],
                user_id=row["user_id"],
                role=row["role"],
                interview_type=row["interview_type"],
                level=row["level"],
                techstack=tuple(row["techstack"]),
                amount=row["amount"],
                created_at=row["created_at"],
            )
            for row in await fetch_rows(self.session, _LIST_INTERVIEWS, params)
        ]


_INTERVIEWS = cast(Table, InterviewRow.__table__)
# The dashboard's listing: no question texts, newest first, built once.
_LIST_INTERVIEWS = (
    select(
        _INTERVIEWS.c.id,
        _INTERVIEWS.c.user_id,
        _INTERVIEWS.c.role,
        _INTERVIEWS.c.interview_type,
        _INTERVIEWS.c.level,
        _INTERVIEWS.c.techstack,
        _INTERVIEWS.c.amount,
        _INTERVIEWS.c.created_at,
    )
    .where(_INTERVIEWS.c.user_id == bindparam("user_id"))
    .order_by(_INTERVIEWS.c.created_at.desc(), _INTERVIEWS.c.id.desc())
    .limit(bindparam("limit"))
)
_SESSIONS = cast(Table, InterviewSessionRow.__table__)
_TRANSCRIPT = cast(Table, TranscriptEntryRow.__table__)
# Statements built once: this is the path every turn takes, and SQLAlchemy memoizes the
# cache key of a statement object, so a prebuilt one skips construction and key hashing.
_GET_SESSION = select(_SESSIONS).where(
    _SESSIONS.c.id == bindparam("session_id"), _SESSIONS.c.user_id == bindparam("owner")
)
_SAVE_SESSION = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("session_id"), _SESSIONS.c.version == bindparam("seen"))
    .values(
        question_index=bindparam("question_index"),
        status=bindparam("status"),
        answers=bindparam("answers", type_=JSON),
        follow_ups=bindparam("follow_ups", type_=JSON),
        version=bindparam("next_version"),
        updated_at=bindparam("updated_at"),
    )
)
# One INSERT for all of a turn's rows; ids come back in the order given, so they follow
# the speaking order (SQLAlchemy's insertmanyvalues sorts RETURNING by parameter order).
_ADD_ENTRIES = insert(_TRANSCRIPT).returning(_TRANSCRIPT.c.id, sort_by_parameter_order=True)


_SAVE_TURN: dict[int, TextClause] = {}


def _save_turn(count: int) -> TextClause:
    """Postgres: the session's update and `count` transcript rows in one statement.

    The rows are inserted only when the update matched (the version was still the one
    read). Their ids are drawn in the order given (ORDER BY e.n), so sorted ids follow the
    speaking order.
    """
    if count not in _SAVE_TURN:
        rows = ", ".join(
            f"({n}, CAST(:speaker{n} AS VARCHAR), CAST(:message{n} AS TEXT), :timings{n}, "
            f"CAST(:kind{n} AS VARCHAR), :delivery{n})"
            for n in range(count)
        )
        statement = text(
            "WITH moved AS ("
            " UPDATE interview_sessions SET question_index = :question_index,"
            " status = :status, answers = :answers, follow_ups = :follow_ups,"
            " version = :next_version, updated_at = :now"
            " WHERE id = :session_id AND version = :seen RETURNING id)"
            " INSERT INTO transcript_entries (session_type, session_id, user_id, speaker,"
            " message, timings, kind, delivery, created_at)"
            " SELECT :session_type, moved.id, :user_id, e.speaker, e.message, e.timings,"
            " e.kind, e.delivery, :now"
            f" FROM moved CROSS JOIN (VALUES {rows})"
            " AS e(n, speaker, message, timings, kind, delivery)"
            " ORDER BY e.n RETURNING id"
        )
        json_fields = ("answers", "follow_ups") + tuple(
            f"{name}{n}" for n in range(count) for name in ("timings", "delivery")
        )
        _SAVE_TURN[count] = statement.bindparams(
            *(bindparam(name, type_=JSON) for name in json_fields),
            bindparam("now", type_=_SESSIONS.c.updated_at.type),
        )
    return _SAVE_TURN[count]


# Postgres: a new session and its opening transcript row in one statement (see `start`).
_START_SESSION = text(
    "WITH started AS ("
    " INSERT INTO interview_sessions (id, interview_id, user_id, question_index, status,"
    " answers, follow_ups, version, created_at, updated_at)"
    " VALUES (:session_id, :interview_id, :user_id, 0, 'active', :answers, :follow_ups, 0,"
    " :now, :now) RETURNING id)"
    " INSERT INTO transcript_entries (session_type, session_id, user_id, speaker, message,"
    " timings, kind, delivery, created_at)"
    " SELECT :session_type, started.id, :user_id, :speaker, :message, :timings,"
    " CAST(:kind AS VARCHAR), :delivery, :now FROM started RETURNING id"
).bindparams(
    *(bindparam(name, type_=JSON) for name in ("answers", "follow_ups", "timings", "delivery")),
    bindparam("now", type_=_SESSIONS.c.created_at.type),
)


class InterviewSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def start(
        self,
        interview_id: str,
        user_id: str,
        follow_ups: bool,
        session_type: str,
        opening: NewTranscript,
    ) -> tuple[InterviewSession, TranscriptEntry]:
        """A new session and its opening transcript row, all or nothing.

        On Postgres one statement (the session inserted in a data-modifying WITH), so it
        needs no transaction of its own, like `save_turn`; elsewhere the two inserts in the
        caller's transaction.
        """
        if self.session.bind is None or self.session.bind.dialect.name != "postgresql":
            session = await self.create(interview_id, user_id, follow_ups)
            (entry,) = await TranscriptRepository(self.session).add(
                session_type, session.id, user_id, [opening]
            )
            return session, entry
        now = utcnow()
        session = InterviewSession(
            id=new_id(),
            interview_id=interview_id,
            user_id=user_id,
            question_index=0,
            status="active",
            answers=(),
            feedback=None,
            version=0,
            created_at=now,
            follow_ups=() if follow_ups else None,
            updated_at=now,
        )
        params: dict[str, Any] = {
            "session_id": session.id,
            "interview_id": interview_id,
            "user_id": user_id,
            "answers": [],
            "follow_ups": [] if follow_ups else None,
            "now": now,
            "session_type": session_type,
            "speaker": opening.speaker,
            "message": opening.message,
            "timings": opening.timings,
            "kind": opening.kind,
            "delivery": opening.delivery,
        }
        (row,) = await fetch_rows(self.session, _START_SESSION, params)
        entry = TranscriptEntry(
            id=int(row["id"]),
            session_type=session_type,
            session_id=session.id,
            user_id=user_id,
            speaker=opening.speaker,
            message=opening.message,
            created_at=now,
            timings=opening.timings,
            kind=opening.kind,
            delivery=opening.delivery,
        )
        return session, entry

    async def create(
        self, interview_id: str, user_id: str, follow_ups: bool = False
    ) -> InterviewSession:
        now = utcnow()
        row = InterviewSessionRow(
            id=new_id(),
            interview_id=interview_id,
            user_id=user_id,
            question_index=0,
            status="active",
            answers=[],
            follow_ups=[] if follow_ups else None,
            version=0,
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _interview_session(_values(row))

    async def get(self, session_id: str, user_id: str) -> InterviewSession | None:
        params = {"session_id": session_id, "owner": user_id}
        row = _first(await fetch_rows(self.session, _GET_SESSION, params))
        return _interview_session(row) if row else None

    async def save(
        self,
        current: InterviewSession,
        *,
        question_index: int,
        status: str,
        answers: Sequence[str | None],
        follow_ups: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        """Advance the session; `follow_ups` None keeps the ones it has."""
        advance = _advance(current, question_index, status, answers, follow_ups)
        result = await self.session.execute(_SAVE_SESSION, advance | {"updated_at": utcnow()})
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleVersion(current.id)

    async def save_turn(
        self,
        current: InterviewSession,
        *,
        question_index: int,
        status: str,
        answers: Sequence[str | None],
        follow_ups: Sequence[dict[str, Any]] | None,
        session_type: str,
        entries: Sequence[NewTranscript],
    ) -> list[TranscriptEntry]:
        """Advance the session and add the turn's transcript rows, all or nothing.

        On Postgres this is one statement (the update in a data-modifying WITH, the rows
        inserted only if it matched), so it needs no transaction of its own: one round trip
        instead of BEGIN, UPDATE, INSERT and COMMIT (see flows.turns.single_statement).
        Elsewhere it is the update and then the insert, inside the caller's transaction.
        """
        if self.session.bind is None or self.session.bind.dialect.name != "postgresql":
            await self.save(
                current,
                question_index=question_index,
                status=status,
                answers=answers,
                follow_ups=follow_ups,
            )
            return await TranscriptRepository(self.session).add(
                session_type, current.id, current.user_id, entries
            )
        now = utcnow()
        params = _advance(current, question_index, status, answers, follow_ups) | {
            "now": now,
            "session_type": session_type,
            "user_id": current.user_id,
        }
        for n, entry in enumerate(entries):
            params |= {
                f"speaker{n}": entry.speaker,
                f"message{n}": entry.message,
                f"timings{n}": entry.timings,
                f"kind{n}": entry.kind,
                f"delivery{n}": entry.delivery,
            }
        rows = await fetch_rows(self.session, _save_turn(len(entries)), params)
        ids = sorted(row["id"] for row in rows)
        if len(ids) != len(entries):  # the update matched nothing: another turn won
            raise StaleVersion(current.id)
        return [
            TranscriptEntry(
                id=int(entry_id),
                session_type=session_type,
                session_id=current.id,
                user_id=current.user_id,
                speaker=entry.speaker,
                message=entry.message,
                created_at=now,
                timings=entry.timings,
                kind=entry.kind,
                delivery=entry.delivery,
            )
            for entry_id, entry in zip(ids, entries, strict=True)
        ]

    async def completed_with_feedback(
        self, user_id: str, limit: int = 200
    ) -> list[tuple[InterviewSession, Interview]]:
        """A user's completed sessions that have feedback, oldest first, with interviews."""
        rows = await self.session.execute(
            select(InterviewSessionRow, InterviewRow)
            .join(InterviewRow, InterviewRow.id == InterviewSessionRow.interview_id)
            .where(
                InterviewSessionRow.user_id == user_id,
                InterviewSessionRow.status == "completed",
                InterviewSessionRow.feedback.is_not(None),
            )
            .order_by(InterviewSessionRow.updated_at.desc(), InterviewSessionRow.id.desc())
            .limit(limit)
        )
        found = [(_interview_session(_values(s)), _interview(_values(i))) for s, i in rows.all()]
        return found[::-1]

    async def set_feedback(self, session_id: str, feedback: dict[str, Any]) -> None:
        await self.session.execute(
            update(InterviewSessionRow)
            .where(InterviewSessionRow.id == session_id)
            .values(feedback=feedback)
        )


def _advance(
    current: InterviewSession,
    question_index: int,
    status: str,
    answers: Sequence[str | None],
    follow_ups: Sequence[dict[str, Any]] | None,
) -> dict[str, Any]:
    """The parameters that move a session on by one version, if it is still at `current`'s."""
    return {
        "session_id": current.id,
        "seen": current.version,
        "question_index": question_index,
        "status": status,
        "answers": list(answers),
        "follow_ups": _follow_ups(current, follow_ups),
        "next_version": current.version + 1,
    }


def _follow_ups(
    current: InterviewSession, given: Sequence[dict[str, Any]] | None
) -> list[dict[str, Any]] | None:
    if given is not None:
        return list(given)
    return None if current.follow_ups is None else list(current.follow_ups)


class TranscriptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, session_type: str, session_id: str, user_id: str, entries: Sequence[NewTranscript]
    ) -> list[TranscriptEntry]:
        now = utcnow()
        rows = [
            {
                "session_type": session_type,
                "session_id": session_id,
                "user_id": user_id,
                "speaker": entry.speaker,
                "message": entry.message,
                "timings": entry.timings,
                "kind": entry.kind,
                "delivery": entry.delivery,
                "created_at": now,
            }
            for entry in entries
        ]
        if not rows:
            return []
        ids = (await self.session.scalars(_ADD_ENTRIES, rows)).all()
        records = [
            TranscriptEntry(id=int(entry_id), **values)  # type: ignore[arg-type]
            for entry_id, values in zip(ids, rows, strict=True)
        ]
        return records

    async def list_for(
        self, session_type: str, session_id: str, user_id: str
    ) -> list[TranscriptEntry]:
        params = {"session_type": session_type, "session_id": session_id, "owner": user_id}
        return [_entry(row) for row in await fetch_rows(self.session, _LIST_TRANSCRIPT, params)]

    async def revise(
        self, entry_id: int, *, message: str | None = None, timings: dict[str, Any] | None = None
    ) -> None:
        """Change an assistant row after the fact: what was really played, or voice timings."""
        values: dict[str, Any] = {}
        if message is not None:
            values["message"] = message
        if timings is not None:
            values["timings"] = timings
        if values:
            await self.session.execute(
                update(TranscriptEntryRow).where(TranscriptEntryRow.id == entry_id).values(**values)
            )
