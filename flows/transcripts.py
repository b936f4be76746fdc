"""Transcripts: reading a session's turns, adding spoken ones, revising voice rows."""

from __future__ import annotations

from typing import Any

from flows.collector import CollectorState
from flows.errors import Conflict, NotFound
from flows.turns import Deps, unit_of_work
from storage.records import CollectorSession, InterviewSession, NewTranscript, TranscriptEntry
from storage.repositories import (
    CollectorRepository,
    InterviewSessionRepository,
    TranscriptRepository,
)

SESSION_TYPES = ("collector", "interview")


def over(session: CollectorSession | InterviewSession) -> bool:
    """Whether a session takes no more answers."""
    if isinstance(session, InterviewSession):
        return session.status != "active"
    return session.completed or CollectorState.from_dict(session.state).expected_field is None


class TranscriptService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def owned(
        self, session_type: str, session_id: str, user_id: str
    ) -> CollectorSession | InterviewSession:
        """The session; NotFound unless it exists and belongs to user_id."""
        async with self.deps.reads() as db:
            found: CollectorSession | InterviewSession | None
            if session_type == "collector":
                found = await CollectorRepository(db).get(session_id, user_id)
            else:
                found = await InterviewSessionRepository(db).get(session_id, user_id)
        if found is None:
            raise NotFound(f"No such {session_type} session.")
        return found

    async def list(self, session_type: str, session_id: str, user_id: str) -> list[TranscriptEntry]:
        await self.owned(session_type, session_id, user_id)
        async with self.deps.reads() as db:
            return await TranscriptRepository(db).list_for(session_type, session_id, user_id)

    async def add_user_text(
        self, session_type: str, session_id: str, user_id: str, text: str
    ) -> TranscriptEntry:
        # Checked again here, after the recognition the caller waited for: a turn may have
        # ended the session meanwhile (what is left is the few ms to the insert).
        if over(await self.owned(session_type, session_id, user_id)):
            raise Conflict(
                "session_completed", f"This {session_type} session is already completed."
            )
        async with unit_of_work(self.deps) as db:
            (entry,) = await TranscriptRepository(db).add(
                session_type, session_id, user_id, [NewTranscript("user", text)]
            )
        return entry

    async def revise(
        self, entry_id: int, *, message: str | None = None, timings: dict[str, Any] | None = None
    ) -> None:
        async with unit_of_work(self.deps) as db:
            await TranscriptRepository(db).revise(entry_id, message=message, timings=timings)
