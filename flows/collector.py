"""The collector conversation: a pure state machine and everything the assistant says.

The collector sets up a practice interview by asking, in order, whether the candidate is
ready, then the role, interview type, level, tech stack and number of questions.
`advance(state, reading)` takes a `Reading` of the user's message (see `collector_nlu`)
and returns the next state and the reply. No I/O: the caller stores the state
(`to_dict`/`from_dict`), generates the questions once `completed` is true, and adds the
sentence about the new interview.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, replace
from typing import Any

from flows.collector_nlu import FIELDS, MAX_ROLE_CHARS, ROLE_TOO_LONG, Intent, Reading

QUESTIONS: dict[str, str] = {
    "readiness": "Are you ready to begin?",
    "role": "What role are you preparing for?",
    "interview_type": "Would you like a technical, behavioral, or mixed interview?",
    "level": "What level is the position: intern, junior, mid, or senior?",
    "techstack": "Which technologies should the questions cover?",
    "amount": "How many questions would you like, from 1 to 30?",
}
# Asked again after an invalid answer, whose problem sentence already lists what is valid.
RETRY_QUESTIONS: dict[str, str] = {
    "readiness": "Are you ready to begin?",
    "role": "What role are you preparing for?",
    "interview_type": "Which would you like?",
    "level": "Which level fits best?",
    "techstack": "Which technologies should I focus on?",
    "amount": "How many would you like?",
}
EXAMPLES: dict[str, str] = {
    "readiness": 'You can say "yes, let\'s go" to start, or "give me a minute" if you '
    "need some time.",
    "role": "For example: backend developer, frontend engineer, data scientist, DevOps "
    "engineer, or product manager.",
    "interview_type": "For example: technical for coding and system design questions, "
    "behavioral for questions about teamwork and past situations, or mixed for a bit of both.",
    "level": "For example: intern, junior for entry-level and graduate roles, mid for a few "
    "years of experience, or senior for senior, staff, and lead roles.",
    "techstack": "For example: Python and Django; React, TypeScript and Node.js; or Java, "
    "Spring Boot and PostgreSQL.",
    "amount": "For example: 5 for a quick session, 10 for a typical interview, or up to 30 "
    "for a long practice run.",
}
CLARIFICATIONS: dict[str, str] = {
    "readiness": "I'll ask a few short questions to set up your practice interview: the role, "
    "the interview type, the level, your tech stack, and how many questions you'd like.",
    "role": "I mean the job you're interviewing for, so the questions fit it.",
    "interview_type": "Technical interviews test your knowledge and problem solving, "
    "behavioral ones ask how you've handled real situations at work, and mixed has both.",
    "level": "That's the seniority of the position. It sets how demanding the questions are.",
    "techstack": "Those are the languages, frameworks, and tools you'd use in the job, so I "
    "can ask about them.",
    "amount": "That's how many interview questions I'll prepare for you, anywhere from 1 to 30.",
}
LEVEL_NAMES = {"intern": "intern", "junior": "junior", "mid": "mid-level", "senior": "senior"}
ACKNOWLEDGEMENTS: dict[str, tuple[str, ...]] = {
    "readiness": (
        "Great, let's get started.",
        "Wonderful, let's begin.",
        "Perfect, let's dive in.",
    ),
    "role": ("Got it, {value}.", "Great, {value} it is.", "Nice, {value} sounds good."),
    "interview_type": ("{Value} it is.", "Got it, a {value} interview.", "Sounds good, {value}."),
    "level": ("{Value} it is.", "Got it, {value}.", "Okay, {value} questions then."),
    "techstack": ("Noted: {value}.", "Great, {value}.", "Got it, {value}."),
}
NOT_READY = "No problem, take your time. Just tell me when you're ready."
HOLD = "Sure, take your time."
WRAP_UP = "Great, I have everything I need."
DONE = "Your interview is already set up."


@dataclass(frozen=True)
class CollectorState:
    expected_field: str | None = "readiness"  # None when done
    candidate_name: str | None = None
    role: str | None = None
    interview_type: str | None = None
    level: str | None = None
    techstack: tuple[str, ...] = ()
    amount: int | None = None
    follow_ups: bool = False  # a setup choice made at start, not a collector question

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["techstack"] = list(self.techstack)
        return data

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CollectorState:
        expected = d.get("expected_field", "readiness")
        if expected is not None and expected not in FIELDS:
            raise ValueError(f"unknown collector field: {expected!r}")
        amount = d.get("amount")
        return cls(
            expected_field=expected,
            candidate_name=d.get("candidate_name"),
            role=d.get("role"),
            interview_type=d.get("interview_type"),
            level=d.get("level"),
            techstack=tuple(str(name) for name in d.get("techstack") or ()),
            amount=int(amount) if amount is not None else None,
            follow_ups=bool(d.get("follow_ups", False)),
        )


@dataclass(frozen=True)
class CollectorStep:
    state: CollectorState
    reply: str
    completed: bool


def opening(candidate_name: str | None) -> str:
    name = (candidate_name or "").strip()
    greeting = f"Hi {name}!" if name else "Hi there!"
    return (
        f"{greeting} I'm Viva. I'll ask you a few quick questions to set up your practice "
        f"interview. {QUESTIONS['readiness']}"
    )


def question_for(field: str) -> str:
    return QUESTIONS[field]


def advance(state: CollectorState, reading: Reading) -> CollectorStep:
    """The next state and reply; the field in progress only moves on an answer to it."""
    field = state.expected_field
    if field is None:
        return CollectorStep(state, DONE, True)
    question = QUESTIONS[field]
    intent = reading.intent
    if reading.field == "role" and len(str(reading.value or "")) > MAX_ROLE_CHARS:
        return _stay(state, f"{ROLE_TOO_LONG} {question}")
    if intent in (Intent.ANSWER, Intent.CORRECTION) and reading.field != field:
        if reading.field not in FIELDS[1:] or reading.value is None:
            return _stay(state, f"Sure. {question}")
        corrected = _store(state, reading.field, reading.value)
        return _stay(
            corrected, f"Got it, {_spoken(reading.field, reading.value)} instead. {question}"
        )
    if intent in (Intent.ANSWER, Intent.CORRECTION):
        return _answered(state, field, reading.value)
    if intent is Intent.REPEAT:
        body = CLARIFICATIONS["readiness"] if field == "readiness" else "Sure."
        return _stay(state, f"{body} {question}")
    if intent is Intent.EXAMPLES:
        return _stay(state, f"{EXAMPLES[field]} {question}")
    if intent is Intent.CLARIFY:
        return _stay(state, f"{CLARIFICATIONS[field]} {question}")
    if intent is Intent.NOT_READY:
        return _stay(state, NOT_READY if field == "readiness" else f"{HOLD} {question}")
    problem = reading.problem or "I didn't quite get that."
    retry = RETRY_QUESTIONS[field] if reading.field == field else question
    return _stay(state, f"{problem} {retry}")


def _answered(
    state: CollectorState, field: str, value: str | int | bool | tuple[str, ...] | None
) -> CollectorStep:
    if value is None or value is False:
        return _stay(state, RETRY_QUESTIONS[field])
    index = FIELDS.index(field)
    following = FIELDS[index + 1] if index + 1 < len(FIELDS) else None
    stored = replace(_store(state, field, value), expected_field=following)
    if following is None:
        return CollectorStep(stored, WRAP_UP, True)
    return CollectorStep(stored, f"{_acknowledge(field, value)} {QUESTIONS[following]}", False)


def _store(
    state: CollectorState, field: str, value: str | int | bool | tuple[str, ...]
) -> CollectorState:
    if field == "readiness":
        return state
    if field == "techstack":
        stack = value if isinstance(value, tuple) else (str(value),)
        return replace(state, techstack=stack)
    if field == "amount":
        return replace(state, amount=int(value) if not isinstance(value, tuple) else None)
    if field == "role":
        return replace(state, role=str(value))
    if field == "interview_type":
        return replace(state, interview_type=str(value))
    return replace(state, level=str(value))


def _stay(state: CollectorState, reply: str) -> CollectorStep:
    return CollectorStep(state, reply, False)


def _acknowledge(field: str, value: str | int | bool | tuple[str, ...]) -> str:
    options = ACKNOWLEDGEMENTS[field]
    spoken = _spoken(field, value)
    template = options[zlib.crc32(spoken.encode()) % len(options)]
    return template.format(value=spoken, Value=spoken[:1].upper() + spoken[1:])


def _spoken(field: str, value: str | int | bool | tuple[str, ...]) -> str:
    """A value as it reads inside a sentence."""
    if field == "level":
        return LEVEL_NAMES.get(str(value), str(value))
    if field == "techstack" and isinstance(value, tuple):
        return value[0] if len(value) == 1 else f"{', '.join(value[:-1])} and {value[-1]}"
    if field == "amount":
        return f"{value} question{'' if value == 1 else 's'}"
    return str(value)
