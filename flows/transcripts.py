"""Transcripts: reading a session's turns, adding spoken ones, revising voice rows."""

from __future__ import annotations

from typing import Any

from flows.errors import NotFound
from flows.turns import Deps, unit_of_work
from storage.records import NewTranscript, TranscriptEntry
from storage.repositories import (
    CollectorRepository,
    InterviewSessionRepository,
    TranscriptRepository,
)

SESSION_TYPES = ("collector", "interview")


class TranscriptService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def owned(self, session_type: str, session_id: str, user_id: str) -> None:
        """Raise NotFound unless the session exists and belongs to user_id."""
        async with self.deps.reads() as db:
            if session_type == "collector":
                found: object = await CollectorRepository(db).get(session_id, user_id)
            else:
                found = await InterviewSessionRepository(db).get(session_id, user_id)
        if found is None:
            raise NotFound("session_not_found", f"No such {session_type} session.")

    async def list(self, session_type: str, session_id: str, user_id: str) -> list[TranscriptEntry]:
        await self.owned(session_type, session_id, user_id)
        async with self.deps.reads() as db:
            return await TranscriptRepository(db).list_for(session_type, session_id, user_id)

    async def add_user_text(
        self, session_type: str, session_id: str, user_id: str, text: str
    ) -> TranscriptEntry:
        await self.owned(session_type, session_id, user_id)
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
