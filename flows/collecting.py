"""The collector service: runs the collector conversation against storage and the model."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flows.collector import CollectorState, advance, opening, question_for, rejoin_question
from flows.collector_nlu import read_confirmation
from flows.errors import Conflict, NotFound
from flows.question_bank import InterviewSetup
from flows.turns import CommitGate, Deps, TextSink, clean_message, unit_of_work
from storage.records import CollectorSession, NewTranscript
from storage.repositories import (
    CollectorRepository,
    InterviewRepository,
    TranscriptRepository,
)

log = logging.getLogger(f"viva.{__name__}")
SESSION_TYPE = "collector"
RESUME_SAVED = "Your last answer was saved. "


@dataclass(frozen=True)
class CollectorReply:
    session_id: str
    user_id: str
    message: str
    expected_field: str | None
    completed: bool
    interview_id: str | None = None
    assistant_entry_id: int | None = None


class CollectorService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def start(
        self, user_id: str, candidate_name: str | None, follow_ups: bool = False
    ) -> CollectorReply:
        state = CollectorState(candidate_name=candidate_name, follow_ups=follow_ups)
        message = opening(candidate_name)
        async with unit_of_work(self.deps) as db:
            session = await CollectorRepository(db).create(user_id, candidate_name, state.to_dict())
            (entry,) = await TranscriptRepository(db).add(
                SESSION_TYPE, session.id, user_id, [NewTranscript("assistant", message)]
            )
        log.info("collector %s started for user %s", session.id, user_id)
        return CollectorReply(
            session.id, user_id, message, state.expected_field, False, None, entry.id
        )

    async def load(self, session_id: str, user_id: str) -> CollectorSession:
        async with self.deps.reads() as db:
            session = await CollectorRepository(db).get(session_id, user_id)
        if session is None:
            raise NotFound("No such collector session.")
        return session

    async def prompt(self, session_id: str, user_id: str) -> CollectorReply:
        """What to say to someone (re)joining: the question in progress, or the outcome."""
        session = await self.load(session_id, user_id)
        state = CollectorState.from_dict(session.state)
        if session.completed:
            message = "Your interview is ready. You can start it from the dashboard."
        elif state.expected_field == "readiness":
            message = opening(session.candidate_name)
        elif state.pending_field is not None:  # the value heard awaits a yes
            message = rejoin_question(state)
        else:  # past the first answer: the reply to the last one may never have been heard
            question = question_for(state.expected_field or "readiness")
            message = f"Welcome back. {RESUME_SAVED}{question}"
        return CollectorReply(
            session.id,
            user_id,
            message,
            state.expected_field,
            session.completed,
            session.interview_id,
        )

    async def turn(
        self,
        session_id: str,
        user_id: str,
        text: str,
        sink: TextSink | None = None,
        confidence: float = 1.0,
        gate: CommitGate | None = None,
    ) -> CollectorReply:
        """One collector turn. `confidence` is speech-to-text's (0-1; 1.0 for typed text):
        low values make the collector confirm what it heard before storing it. `gate` is
        awaited after the reply is written, before anything is stored."""
        text = clean_message(text)
        async with self.deps.guard.hold(session_id):
            session = await self.load(session_id, user_id)
            state = CollectorState.from_dict(session.state)
            if session.completed or state.expected_field is None:
                raise Conflict(
                    "session_completed",
                    "This interview is already set up; start it from the dashboard.",
                )
            log.debug("collector %s: %s, heard %r, confidence %.3f", session_id,
                      state.pending_field and f"confirming {state.pending_field}"
                      or state.expected_field, text, confidence)
            if state.pending_field is not None:
                reading = read_confirmation(state.pending_field, text)
            else:
                reading = await self.deps.chat.read_collector_message(state.expected_field, text)
            step = advance(state, reading, confidence)
            message = step.reply
            interview_id: str | None = None
            questions: list[str] = []
            source = ""
            if step.completed:
                setup = _setup(step.state)
                if sink:
                    await sink(message)
                questions, source = await self.deps.chat.generate_questions(setup)
                ready = (
                    f"I've prepared {len(questions)} {setup.interview_type} "
                    f"question{'s' if len(questions) != 1 else ''} for the {setup.role} role. "
                    "You can start the interview whenever you're ready."
                )
                message = f"{message} {ready}"
                if sink:
                    await sink(" " + ready)
            elif sink:
                await sink(message)
            if gate is not None:
                await gate()
            async with unit_of_work(self.deps) as db:
                if step.completed:
                    interview = await InterviewRepository(db).create(
                        user_id=user_id,
                        role=setup.role,
                        interview_type=setup.interview_type,
                        level=setup.level,
                        techstack=setup.techstack,
                        questions=questions,
                        questions_source=source,
                        collector_session_id=session.id,
                        follow_ups=step.state.follow_ups,
                    )
                    interview_id = interview.id
                await CollectorRepository(db).save(
                    session, step.state.to_dict(), step.completed, interview_id
                )
                entries = await TranscriptRepository(db).add(
                    SESSION_TYPE,
                    session.id,
                    user_id,
                    [NewTranscript("user", text), NewTranscript("assistant", message)],
                )
            if interview_id:
                await self.deps.cache.put(interview_id, tuple(questions))
                log.info("collector %s created interview %s (%s)", session.id, interview_id, source)
            return CollectorReply(
                session.id,
                user_id,
                message,
                step.state.expected_field,
                step.completed,
                interview_id,
                entries[-1].id,
            )


def _setup(state: CollectorState) -> InterviewSetup:
    assert state.role and state.interview_type and state.level and state.amount
    return InterviewSetup(
        role=state.role,
        interview_type=state.interview_type,
        level=state.level,
        techstack=tuple(state.techstack),
        amount=state.amount,
    )
