"""The interview service: sessions over pre-generated questions, turns, feedback."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flows import offline_replies
from flows.errors import Conflict, NotFound
from flows.interview import Move, Progress, apply_move, next_part, read_move
from flows.question_bank import InterviewSetup
from flows.turns import BusyGuard, Deps, TextSink, clean_message, unit_of_work
from storage.records import Interview, InterviewSession, InterviewSummary, NewTranscript
from storage.repositories import (
    InterviewRepository,
    InterviewSessionRepository,
    TranscriptRepository,
)

log = logging.getLogger(f"viva.{__name__}")
SESSION_TYPE = "interview"


@dataclass(frozen=True)
class InterviewReply:
    session_id: str
    user_id: str
    message: str
    status: str
    question_index: int | None
    move: str | None = None
    assistant_entry_id: int | None = None
    interview_id: str | None = None
    question_count: int | None = None


class InterviewService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.guard = BusyGuard()

    async def list(self, user_id: str) -> list[InterviewSummary]:
        async with self.deps.reads() as db:
            return await InterviewRepository(db).list_for(user_id)

    async def get(self, interview_id: str, user_id: str) -> Interview:
        async with self.deps.reads() as db:
            interview = await InterviewRepository(db).get(interview_id, user_id)
        if interview is None:
            raise NotFound("interview_not_found", "No such interview.")
        self.deps.cache.put(interview.id, interview.questions)
        return interview

    async def start(self, interview_id: str, user_id: str) -> InterviewReply:
        interview = await self.get(interview_id, user_id)
        message = (
            f"{offline_replies.opening(interview.role, len(interview.questions))} "
            f"First question: {interview.questions[0]}"
        )
        async with unit_of_work(self.deps) as db:
            session = await InterviewSessionRepository(db).create(interview.id, user_id)
            (entry,) = await TranscriptRepository(db).add(
                SESSION_TYPE, session.id, user_id, [NewTranscript("assistant", message)]
            )
        log.info("interview session %s started (interview %s)", session.id, interview.id)
        return InterviewReply(
            session.id,
            user_id,
            message,
            "active",
            0,
            None,
            entry.id,
            interview.id,
            len(interview.questions),
        )

    async def load(self, session_id: str, user_id: str) -> InterviewSession:
        async with self.deps.reads() as db:
            session = await InterviewSessionRepository(db).get(session_id, user_id)
        if session is None:
            raise NotFound("interview_session_not_found", "No such interview session.")
        return session

    async def questions(self, session: InterviewSession) -> tuple[str, ...]:
        cached = self.deps.cache.get(session.interview_id)
        if cached is not None:
            return cached
        return (await self.get(session.interview_id, session.user_id)).questions

    async def current_question(self, session_id: str, user_id: str) -> str | None:
        session = await self.load(session_id, user_id)
        if session.status != "active":
            return None
        return (await self.questions(session))[session.question_index]

    async def prompt(self, session_id: str, user_id: str) -> InterviewReply:
        """What to say on (re)joining: the current question, not the first."""
        session = await self.load(session_id, user_id)
        if session.status != "active":
            return InterviewReply(
                session.id,
                user_id,
                "This interview is complete. Thank you!",
                session.status,
                None,
                interview_id=session.interview_id,
            )
        questions = await self.questions(session)
        index = session.question_index
        if index == 0 and not session.answers:
            message = f"Welcome! First question: {questions[0]}"
        else:
            message = f"Welcome back. Question {index + 1} of {len(questions)}: {questions[index]}"
        return InterviewReply(
            session.id,
            user_id,
            message,
            "active",
            index,
            None,
            None,
            session.interview_id,
            len(questions),
        )

    async def turn(
        self, session_id: str, user_id: str, text: str, sink: TextSink | None = None
    ) -> InterviewReply:
        text = clean_message(text)
        async with self.guard.hold(session_id):
            session = await self.load(session_id, user_id)
            if session.status != "active":
                raise Conflict("session_completed", "This interview session is already completed.")
            questions = await self.questions(session)
            progress = Progress(session.question_index, session.answers, len(questions))
            move = read_move(text)
            after = apply_move(progress, move, text)
            parts: list[str] = []
            if move is Move.ANSWER:
                question = questions[progress.question_index]
                async for piece in self.deps.chat.acknowledge(
                    question, text, progress.question_index
                ):
                    parts.append(piece)
                    if sink:
                        await sink(piece)
            ack = "".join(parts).strip()
            follow = next_part(after, move, questions, offline_replies.closing())
            if sink:
                await sink((" " if ack else "") + follow)
            message = f"{ack} {follow}".strip()
            async with unit_of_work(self.deps) as db:
                await InterviewSessionRepository(db).save(
                    session,
                    question_index=after.question_index,
                    status=after.status,
                    answers=after.answers,
                )
                entries = await TranscriptRepository(db).add(
                    SESSION_TYPE,
                    session.id,
                    user_id,
                    [NewTranscript("user", text), NewTranscript("assistant", message)],
                )
            log.info(
                "interview session %s: %s at question %d -> %s",
                session.id,
                move.value,
                progress.question_index,
                after.status,
            )
            return InterviewReply(
                session.id,
                user_id,
                message,
                after.status,
                None if after.completed else after.question_index,
                move.value,
                entries[-1].id,
                session.interview_id,
                len(questions),
            )

    async def feedback(self, session_id: str, user_id: str) -> dict[str, Any]:
        """Feedback for a completed session, produced on first request and then kept."""
        session = await self.load(session_id, user_id)
        if session.status != "completed":
            raise Conflict(
                "session_not_completed", "Feedback is available once the interview is completed."
            )
        if session.feedback is not None:
            return session.feedback
        interview = await self.get(session.interview_id, user_id)
        setup = InterviewSetup(
            interview.role,
            interview.interview_type,
            interview.level,
            interview.techstack,
            len(interview.questions),
        )
        pairs = list(zip(interview.questions, session.answers, strict=False))
        feedback, source = await self.deps.chat.feedback(setup, pairs)
        payload = {**feedback.to_dict(), "source": source}
        async with unit_of_work(self.deps) as db:
            await InterviewSessionRepository(db).set_feedback(session.id, payload)
        return payload
