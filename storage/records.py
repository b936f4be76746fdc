"""Domain records the repositories return: plain frozen dataclasses, no ORM state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC; SQLite hands back naive datetimes, which are UTC here."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class CollectorSession:
    id: str
    user_id: str
    candidate_name: str | None
    state: dict[str, Any]
    completed: bool
    interview_id: str | None
    version: int
    created_at: datetime


@dataclass(frozen=True)
class Interview:
    id: str
    user_id: str
    role: str
    interview_type: str
    level: str
    techstack: tuple[str, ...]
    amount: int
    questions: tuple[str, ...]
    questions_source: str
    created_at: datetime
    follow_ups: bool = False


@dataclass(frozen=True)
class InterviewSummary:
    """What a listing shows of an interview: everything but its questions."""

    id: str
    user_id: str
    role: str
    interview_type: str
    level: str
    techstack: tuple[str, ...]
    amount: int
    created_at: datetime


@dataclass(frozen=True)
class InterviewSession:
    id: str
    interview_id: str
    user_id: str
    question_index: int
    status: str
    answers: tuple[str | None, ...]
    feedback: dict[str, Any] | None
    version: int
    created_at: datetime
    # None: follow-ups are off for this session; else [{index, question, answer}] in order
    follow_ups: tuple[dict[str, Any], ...] | None = None
    updated_at: datetime | None = None

    @property
    def pending_follow_up(self) -> dict[str, Any] | None:
        """The follow-up asked and not yet answered, if any."""
        last = self.follow_ups[-1] if self.follow_ups else None
        return last if last is not None and last.get("answer") is None else None


@dataclass(frozen=True)
class TranscriptEntry:
    id: int
    session_type: str
    session_id: str
    user_id: str
    speaker: str
    message: str
    created_at: datetime
    timings: dict[str, Any] | None = field(default=None)
    kind: str | None = None  # "follow_up" for a follow-up question and its answer
    delivery: dict[str, Any] | None = None  # voice answers: see flows.delivery

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_type": self.session_type,
            "session_id": self.session_id,
            "user_id": self.user_id,
            "speaker": self.speaker,
            "message": self.message,
            "created_at": iso(self.created_at),
            "timings": self.timings,
            "kind": self.kind,
            "delivery": self.delivery,
        }


@dataclass(frozen=True)
class NewTranscript:
    """A transcript row to write together with a state change."""

    speaker: str
    message: str
    timings: dict[str, Any] | None = None
    kind: str | None = None
    delivery: dict[str, Any] | None = None
