"""The interview conversation as pure functions: read a message, move the progress.

Beyond answering, the candidate may ask to repeat the question, skip it or end early;
those are requests, not answers, and are recognised only in short messages that are
clearly about the interview itself (a long answer that mentions "skip" stays an answer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum


class Move(StrEnum):
    ANSWER = "answer"
    REPEAT = "repeat"
    SKIP = "skip"
    END = "end"


_REQUEST_MAX_WORDS = 14
_PATTERNS: tuple[tuple[Move, re.Pattern[str]], ...] = (
    (
        Move.END,
        re.compile(
            r"\b(end|stop|finish|quit|wrap up|terminate)\b.{0,20}\b(interview|here|now|early|it)\b"
            r"|\b(i'?m|i am|we'?re) done\b|\bthat'?s enough\b|\bend (it|this) (now|here)\b"
            r"|\blet'?s stop\b|\bstop the interview\b",
        ),
    ),
    (
        Move.SKIP,
        re.compile(
            r"\bskip\b|\bnext question\b|\bpass on (this|that)\b|\bmove on\b"
            r"|\b(i )?(don'?t|do not) (want|wish) to answer\b|\bcan we go to the next\b",
        ),
    ),
    (
        Move.REPEAT,
        re.compile(
            r"\brepeat\b|\bsay (that|it) again\b|\bcome again\b|^\s*pardon\b|\bsorry\s*\?"
            r"|\bwhat was the question\b|\bcould you say\b.{0,15}\bagain\b"
            r"|\bone more time\b|\bdidn'?t (catch|hear|get) (that|it|the question)\b",
        ),
    ),
)


def read_move(text: str) -> Move:
    """What a message asks for. Long messages are answers, whatever words they contain."""
    cleaned = text.strip().lower()
    if len(cleaned.split()) > _REQUEST_MAX_WORDS:
        return Move.ANSWER
    for move, pattern in _PATTERNS:
        if pattern.search(cleaned):
            return move
    return Move.ANSWER


@dataclass(frozen=True)
class Progress:
    question_index: int
    answers: tuple[str | None, ...]
    total: int
    status: str = "active"

    @property
    def completed(self) -> bool:
        return self.status == "completed"


def apply_move(progress: Progress, move: Move, text: str) -> Progress:
    """The progress after a move; a repeat changes nothing."""
    if move is Move.REPEAT:
        return progress
    if move is Move.END:
        remaining = progress.total - len(progress.answers)
        return replace(progress, answers=progress.answers + (None,) * remaining, status="completed")
    answer = text.strip() if move is Move.ANSWER else None
    answers = progress.answers + (answer,)
    if len(answers) >= progress.total:
        return replace(progress, answers=answers, status="completed")
    return replace(progress, answers=answers, question_index=progress.question_index + 1)


def next_part(progress: Progress, move: Move, questions: tuple[str, ...], closing: str) -> str:
    """What follows the acknowledgement: the next (or same) question, or the closing."""
    if move is Move.REPEAT:
        return f"Of course. {questions[progress.question_index]}"
    if progress.completed:
        prefix = "Understood, we'll stop here. " if move is Move.END else ""
        return prefix + closing
    lead = "No problem, let's skip that one. " if move is Move.SKIP else ""
    return f"{lead}Next question: {questions[progress.question_index]}"


def hold_for_follow_up(before: Progress, after: Progress) -> Progress:
    """The answer is kept but the question stays current while its follow-up is open."""
    return replace(after, question_index=before.question_index, status="active")


def after_follow_up(progress: Progress) -> Progress:
    """Past an open follow-up (answered or declined): the next question, or the end."""
    if progress.question_index + 1 >= progress.total:
        return replace(progress, status="completed")
    return replace(progress, question_index=progress.question_index + 1)
