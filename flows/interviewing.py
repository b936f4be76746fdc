"""The interview service: sessions over pre-generated questions, turns, feedback."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from flows import coaching, offline_replies, report
from flows.delivery import VoiceSource, VoiceTiming, measure
from flows.errors import Conflict, NotFound
from flows.interview import (
    Move,
    Progress,
    after_follow_up,
    apply_move,
    hold_for_follow_up,
    next_part,
    read_move,
)
from flows.question_bank import InterviewSetup
from flows.turns import (
    CommitGate,
    Deps,
    TextSink,
    clean_message,
    single_statement,
    unit_of_work,
)
from storage.records import Interview, InterviewSession, InterviewSummary, NewTranscript
from storage.repositories import (
    InterviewRepository,
    InterviewSessionRepository,
    TranscriptRepository,
)

log = logging.getLogger(f"viva.{__name__}")
SESSION_TYPE = "interview"
RESUME_SAVED = "Your last answer was saved. "


FOLLOW_UP = "follow_up"  # transcript kind of a follow-up question and its answer


@dataclass(frozen=True)
class _Step:
    """What one message does to a session: the pure part of a turn."""

    move: Move
    before: Progress
    after: Progress
    asked: str  # what the message answers: the question, or its open follow-up
    follow: str  # what the reply says after the acknowledgement
    follow_ups: list[dict[str, Any]] | None
    answers_follow_up: bool = False
    asks_follow_up: bool = False


def _plan(session: InterviewSession, questions: tuple[str, ...], text: str) -> _Step:
    before = Progress(session.question_index, session.answers, len(questions))
    move = read_move(text)
    follow_ups = None if session.follow_ups is None else list(session.follow_ups)
    pending = session.pending_follow_up
    closing = offline_replies.closing()
    if pending is not None and follow_ups is not None:
        if move is Move.REPEAT:
            return _Step(move, before, before, pending["question"],
                         f"Of course. {pending['question']}", follow_ups)  # fmt: skip
        follow_ups[-1] = {**pending, "answer": text if move is Move.ANSWER else ""}
        after = apply_move(before, move, text) if move is Move.END else after_follow_up(before)
        shown = Move.ANSWER if move is Move.SKIP else move  # a declined follow-up just moves on
        follow = next_part(after, shown, questions, closing)
        return _Step(move, before, after, pending["question"], follow, follow_ups, True)
    after = apply_move(before, move, text)
    question = questions[before.question_index]
    if move is Move.ANSWER and follow_ups is not None:
        asked = coaching.follow_up_for(question, text)
        if asked is not None:
            follow_ups.append({"index": before.question_index, "question": asked, "answer": None})
            held = hold_for_follow_up(before, after)
            return _Step(move, before, held, question, asked, follow_ups, False, True)
    return _Step(move, before, after, question, next_part(after, move, questions, closing),
                 follow_ups)  # fmt: skip


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

    async def list(self, user_id: str) -> list[InterviewSummary]:
        async with self.deps.reads() as db:
            return await InterviewRepository(db).list_for(user_id)

    async def get(self, interview_id: str, user_id: str) -> Interview:
        async with self.deps.reads() as db:
            interview = await InterviewRepository(db).get(interview_id, user_id)
        if interview is None:
            raise NotFound("No such interview.")
        await self.deps.cache.put(interview.id, interview.questions)
        return interview

    async def start(self, interview_id: str, user_id: str) -> InterviewReply:
        interview = await self.get(interview_id, user_id)
        message = (
            f"{offline_replies.opening(interview.role, len(interview.questions))} "
            f"First question: {interview.questions[0]}"
        )
        async with single_statement(self.deps) as db:
            session, entry = await InterviewSessionRepository(db).start(
                interview.id,
                user_id,
                interview.follow_ups,
                SESSION_TYPE,
                NewTranscript("assistant", message),
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
            raise NotFound("No such interview session.")
        return session

    async def questions(self, session: InterviewSession) -> tuple[str, ...]:
        cached = await self.deps.cache.get(session.interview_id)
        if cached is not None:
            return cached
        return (await self.get(session.interview_id, session.user_id)).questions

    async def stack_of(self, session_id: str, user_id: str) -> tuple[str, ...]:
        """The tech stack of the interview a session belongs to (speech-to-text hints)."""
        session = await self.load(session_id, user_id)
        return (await self.get(session.interview_id, user_id)).techstack

    async def current_question(self, session_id: str, user_id: str) -> str | None:
        session = await self.load(session_id, user_id)
        if session.status != "active":
            return None
        return (await self.questions(session))[session.question_index]

    async def prompt(self, session_id: str, user_id: str) -> InterviewReply:
        """What to say on (re)joining: the current question, not the first."""
        session = await self.load(session_id, user_id)
        # The reply to the last turn may never have been heard (the server died after
        # storing it, the connection dropped): say that the answer is safe.
        saved = RESUME_SAVED if session.answers and session.answers[-1] is not None else ""
        if session.status != "active":
            return InterviewReply(
                session.id,
                user_id,
                f"{saved}This interview is complete. Thank you!",
                session.status,
                None,
                interview_id=session.interview_id,
            )
        questions = await self.questions(session)
        index = session.question_index
        pending = session.pending_follow_up
        if pending is not None:
            message = f"Welcome back. We were on a follow-up: {pending['question']}"
        elif index == 0 and not session.answers:
            message = f"Welcome! First question: {questions[0]}"
        else:
            message = (
                f"Welcome back. {saved}Question {index + 1} of {len(questions)}: {questions[index]}"
            )
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
        self,
        session_id: str,
        user_id: str,
        text: str,
        sink: TextSink | None = None,
        voice: VoiceSource | None = None,
        gate: CommitGate | None = None,
    ) -> InterviewReply:
        """One candidate message; `voice` when it was spoken (its delivery is stored; an
        awaitable is awaited once the reply is written); `gate` is awaited after the reply
        is written, before anything is stored."""
        text = clean_message(text)
        async with self.deps.guard.hold(session_id):
            session = await self.load(session_id, user_id)
            if session.status != "active":
                raise Conflict("session_completed", "This interview session is already completed.")
            questions = await self.questions(session)
            step = _plan(session, questions, text)
            if step.asks_follow_up and step.follow_ups:  # the model may word it better
                worded = await self.deps.chat.follow_up(step.asked, text, step.follow)
                step.follow_ups[-1]["question"] = worded
                step = replace(step, follow=worded)
            parts: list[str] = []
            if step.move is Move.ANSWER:
                async for piece in self.deps.chat.acknowledge(
                    step.asked, text, step.before.question_index
                ):
                    parts.append(piece)
                    if sink:
                        await sink(piece)
            ack = "".join(parts).strip()
            if sink:
                await sink((" " if ack else "") + step.follow)
            message = f"{ack} {step.follow}".strip()
            if voice is not None and not isinstance(voice, VoiceTiming):
                voice = await voice
            delivery = measure(text, voice) if voice is not None else None
            if delivery is not None:
                delivery |= {"question_index": step.before.question_index,
                             "follow_up": step.answers_follow_up}  # fmt: skip
            user_kind = FOLLOW_UP if step.answers_follow_up else None
            assistant_kind = FOLLOW_UP if step.asks_follow_up else None
            if gate is not None:
                await gate()
            async with single_statement(self.deps) as db:
                entries = await InterviewSessionRepository(db).save_turn(
                    session,
                    question_index=step.after.question_index,
                    status=step.after.status,
                    answers=step.after.answers,
                    follow_ups=step.follow_ups,
                    session_type=SESSION_TYPE,
                    entries=[
                        NewTranscript("user", text, kind=user_kind, delivery=delivery),
                        NewTranscript("assistant", message, kind=assistant_kind),
                    ],
                )
            log.info(
                "interview session %s: %s at question %d -> %s%s",
                session.id,
                step.move.value,
                step.before.question_index,
                step.after.status,
                " (follow-up asked)" if step.asks_follow_up else "",
            )
            return InterviewReply(
                session.id,
                user_id,
                message,
                step.after.status,
                None if step.after.completed else step.after.question_index,
                step.move.value,
                entries[-1].id,
                session.interview_id,
                len(questions),
            )

    async def feedback(
        self, session_id: str, user_id: str, *, regenerate: bool = False
    ) -> dict[str, Any]:
        """Feedback for a completed session: produced on first request and kept; produced
        again only when `regenerate` is asked for."""
        session = await self.load(session_id, user_id)
        if session.status != "completed":
            raise Conflict(
                "session_not_completed", "Feedback is available once the interview is completed."
            )
        if session.feedback is not None and not regenerate:
            return session.feedback
        interview = await self.get(session.interview_id, user_id)
        setup = InterviewSetup(
            interview.role,
            interview.interview_type,
            interview.level,
            interview.techstack,
            len(interview.questions),
        )
        async with self.deps.sessions() as db:
            rows = await TranscriptRepository(db).list_for(SESSION_TYPE, session.id, user_id)
        exchanges = report.exchanges(interview.questions, session)
        feedback, source = await self.deps.chat.feedback(setup, report.pairs(exchanges))
        payload = report.payload(feedback, source, exchanges, rows)
        async with unit_of_work(self.deps) as db:
            await InterviewSessionRepository(db).set_feedback(session.id, payload)
        log.info("interview session %s: feedback %s (%s)", session.id,
                 "regenerated" if regenerate else "produced", source)  # fmt: skip
        return payload

    async def progress(self, user_id: str) -> dict[str, Any]:
        """The user's scored interviews, oldest first, with delivery trends."""
        async with self.deps.sessions() as db:
            found = await InterviewSessionRepository(db).completed_with_feedback(user_id)
        return report.progress(user_id, found)
