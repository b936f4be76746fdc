"""One conversation (collector or interview) as the voice paths see it.

The WebSocket and WebRTC handlers speak to a `Conversation`: what to say on (re)joining,
what a turn replies, and what speech-to-text should expect next. It wraps the same
services the REST handlers use, so all three paths share one flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from flows.collecting import CollectorReply, CollectorService
from flows.delivery import VoiceTiming
from flows.interviewing import InterviewReply, InterviewService
from flows.turns import TextSink
from voice.stt import SpeechHints


@dataclass(frozen=True)
class Said:
    """An assistant utterance with the state fields that go with it on the wire."""

    text: str
    completed: bool
    fields: dict[str, Any] = field(default_factory=dict)
    assistant_entry_id: int | None = None


class Conversation(Protocol):
    kind: str
    session_id: str
    user_id: str

    async def prompt(self) -> Said: ...

    async def turn(
        self, text: str, sink: TextSink | None = None, voice: VoiceTiming | None = None
    ) -> Said:
        """A turn; `voice` says where the speech was when the text was spoken."""
        ...

    async def hints(self) -> SpeechHints: ...


class _ServiceConversation:
    """Shared plumbing: a service, a session and its owner; subclasses shape the fields."""

    kind: str

    def __init__(self, service: Any, session_id: str, user_id: str) -> None:
        self.service = service
        self.session_id = session_id
        self.user_id = user_id

    def _said(self, reply: Any) -> Said:
        raise NotImplementedError

    async def prompt(self) -> Said:
        return self._said(await self.service.prompt(self.session_id, self.user_id))

    async def turn(
        self, text: str, sink: TextSink | None = None, voice: VoiceTiming | None = None
    ) -> Said:
        return self._said(await self.service.turn(self.session_id, self.user_id, text, sink))


class CollectorConversation(_ServiceConversation):
    kind = "collector"
    service: CollectorService

    def _said(self, reply: CollectorReply) -> Said:
        return Said(
            reply.message,
            reply.completed,
            {
                "collector_session_id": reply.session_id,
                "user_id": reply.user_id,
                "status": "completed" if reply.completed else "active",
                "expected_field": reply.expected_field,
                "interview_id": reply.interview_id,
            },
            reply.assistant_entry_id,
        )

    async def hints(self) -> SpeechHints:
        session = await self.service.load(self.session_id, self.user_id)
        return SpeechHints(expected=session.state.get("expected_field"))


class InterviewConversation(_ServiceConversation):
    kind = "interview"
    service: InterviewService

    def _said(self, reply: InterviewReply) -> Said:
        return Said(
            reply.message,
            reply.status == "completed",
            {
                "interview_session_id": reply.session_id,
                "user_id": reply.user_id,
                "status": reply.status,
                "question_index": reply.question_index,
                "question_count": reply.question_count,
                "interview_id": reply.interview_id,
            },
            reply.assistant_entry_id,
        )

    async def turn(
        self, text: str, sink: TextSink | None = None, voice: VoiceTiming | None = None
    ) -> Said:
        """Interview answers carry their voice timings: delivery is coached."""
        reply = await self.service.turn(self.session_id, self.user_id, text, sink, voice)
        return self._said(reply)

    async def hints(self) -> SpeechHints:
        question = await self.service.current_question(self.session_id, self.user_id)
        return SpeechHints(expected="answer", question=question)
