"""One conversation (collector or interview) as every transport sees it.

REST, the WebSocket and WebRTC calls speak to a `Conversation`: what to say on (re)joining,
what a turn replies, and what speech-to-text should expect next. It wraps the services of
`flows/`, so all three paths share one flow. Two things happen here once for every path:
a reply becomes its wire fields (`Said.of`), and a turn is counted (`TURNS`).
`Conversations` is the factory the transports open sessions with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from flows.collecting import CollectorReply, CollectorService
from flows.collector import (
    CollectorState,
    answer_choices,
    confirmation_understood,
    confirmation_value,
    correction_choices,
    heard_value,
    spoken_value,
    understood,
)
from flows.delivery import VoiceSource
from flows.interviewing import InterviewReply, InterviewService
from flows.transcripts import over
from flows.turns import CommitGate, TextSink
from metrics import TURNS
from voice.stt import SpeechHints


@dataclass(frozen=True)
class Said:
    """An assistant utterance with the state fields that go with it on the wire."""

    text: str
    completed: bool
    fields: dict[str, Any] = field(default_factory=dict)
    assistant_entry_id: int | None = None

    @staticmethod
    def of(reply: CollectorReply | InterviewReply) -> Said:
        """The one mapping of a conversation reply to its wire fields (REST, socket, call)."""
        if isinstance(reply, CollectorReply):
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


class Conversation(Protocol):
    kind: str  # "collector" | "interview"
    session_id: str
    user_id: str

    async def prompt(self) -> Said: ...

    async def turn(
        self,
        text: str,
        sink: TextSink | None = None,
        voice: VoiceSource | None = None,
        confidence: float | None = None,
        gate: CommitGate | None = None,
    ) -> Said:
        """A turn; `voice` says where the speech was when the text was spoken, `confidence`
        how sure the recognizer was of it (None: typed, taken as sure); `gate` is awaited
        once the reply is written and before the turn is stored (see flows/turns.py)."""
        ...

    async def hints(self) -> SpeechHints: ...

    async def completed(self) -> bool:
        """Whether the session takes no more answers."""
        ...


class _ServiceConversation:
    """Shared plumbing: a service, a session, its owner, and the path turns arrive by."""

    kind: str

    def __init__(self, service: Any, session_id: str, user_id: str, path: str) -> None:
        self.service = service
        self.session_id = session_id
        self.user_id = user_id
        self.path = path  # "rest" | "websocket" | "webrtc": the TURNS label

    async def prompt(self) -> Said:
        return Said.of(await self.service.prompt(self.session_id, self.user_id))

    async def turn(
        self,
        text: str,
        sink: TextSink | None = None,
        voice: VoiceSource | None = None,
        confidence: float | None = None,
        gate: CommitGate | None = None,
    ) -> Said:
        sure = 1.0 if confidence is None else confidence
        reply = await self._reply(text, sink, voice, sure, gate)
        TURNS.labels(self.path, self.kind).inc()
        return Said.of(reply)

    async def _reply(
        self,
        text: str,
        sink: TextSink | None,
        voice: VoiceSource | None,
        confidence: float,
        gate: CommitGate | None,
    ) -> CollectorReply | InterviewReply:
        raise NotImplementedError


class CollectorConversation(_ServiceConversation):
    kind = "collector"
    service: CollectorService

    async def _reply(
        self,
        text: str,
        sink: TextSink | None,
        voice: VoiceSource | None,
        confidence: float,
        gate: CommitGate | None,
    ) -> CollectorReply:
        return await self.service.turn(
            self.session_id, self.user_id, text, sink, confidence, gate
        )

    async def completed(self) -> bool:
        return over(await self.service.load(self.session_id, self.user_id))

    async def hints(self) -> SpeechHints:
        """The field asked, which words would answer it, or the value being confirmed."""
        session = await self.service.load(self.session_id, self.user_id)
        state = CollectorState.from_dict(session.state)
        if state.pending_field is not None and state.pending_value is not None:
            pending = state.pending_field
            said = spoken_value(pending, state.pending_value)
            return SpeechHints(expected=pending, confirming=said,
                               accepts=partial(confirmation_understood, pending),
                               value_of=partial(confirmation_value, pending,
                                                state.pending_value),
                               choices=partial(correction_choices, pending,
                                               state.pending_value))
        field = state.expected_field
        if field is None:
            return SpeechHints()
        return SpeechHints(expected=field, accepts=partial(understood, field),
                           value_of=partial(heard_value, field),
                           choices=partial(answer_choices, field))


class InterviewConversation(_ServiceConversation):
    kind = "interview"
    service: InterviewService

    async def _reply(
        self,
        text: str,
        sink: TextSink | None,
        voice: VoiceSource | None,
        confidence: float,
        gate: CommitGate | None,
    ) -> InterviewReply:
        """Interview answers carry their voice timings: delivery is coached."""
        return await self.service.turn(self.session_id, self.user_id, text, sink, voice, gate)

    _stack: tuple[str, ...] | None = None  # the interview's tech stack, read once

    async def completed(self) -> bool:
        return await self.service.current_question(self.session_id, self.user_id) is None

    async def hints(self) -> SpeechHints:
        """The question and the candidate's own stack: the words an answer will use."""
        question = await self.service.current_question(self.session_id, self.user_id)
        if self._stack is None:
            self._stack = await self.service.stack_of(self.session_id, self.user_id)
        return SpeechHints(expected="answer", question=question, vocabulary=self._stack)


@dataclass(frozen=True)
class Conversations:
    """The conversation factory: a session of either kind, for one owner and one path."""

    collector: CollectorService
    interviews: InterviewService

    def open(self, kind: str, session_id: str, owner: str, path: str) -> Conversation:
        if kind == "collector":
            return CollectorConversation(self.collector, session_id, owner, path)
        return InterviewConversation(self.interviews, session_id, owner, path)
