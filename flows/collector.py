"""The collector conversation: a pure state machine and everything the assistant says.

The collector sets up a practice interview by asking, in order, whether the candidate is
ready, then the role, interview type, level, tech stack and number of questions.
`advance(state, reading, confidence)` takes a `Reading` of the user's message (see
`collector_nlu`) and how sure speech-to-text was of it (1.0 for typed text), and returns
the next state and the reply.

Asking back: a value heard with confidence under `CONFIRM_BELOW`, or a role that is not a
recognisable job title (`job_titles`), is not stored at once. The collector keeps it as
`pending_value` and asks "I heard "oath". Is that the role you're preparing for?"; the
reply is read by `read_confirmation`: yes stores it, "no, it's data engineer" offers the
correction instead, a bare no asks the field again, and anything else asks again.

No I/O: the caller stores the state (`to_dict`/`from_dict`), generates the questions once
`completed` is true, and adds the sentence about the new interview.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, replace
from typing import Any

from flows.collector_nlu import (
    FIELDS,
    MAX_ROLE_CHARS,
    ROLE_TOO_LONG,
    Intent,
    Reading,
    known_technology,
    read_confirmation,
    read_message,
)
from flows.job_titles import GENERIC_TITLES, normalize_role
from flows.value_choices import FIELDS_WITH_CHOICES, Choices, value_choices

Value = str | int | bool | tuple[str, ...]
# Speech-to-text confidence (0-1) under which a heard value is confirmed before storing.
# Tuned on the tuning voices of benchmarks/voice_eval.py, never on the held-out family.
CONFIRM_BELOW = 0.5

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
CONFIRM_QUESTIONS: dict[str, str] = {
    "role": "Is that the role you're preparing for?",
    "interview_type": "Is that the kind of interview you want?",
    "level": "Is that the level of the position?",
    "techstack": "Are those the technologies to cover?",
    "amount": "Is that how many questions you'd like?",
}
NOT_CONFIRMED = "Sorry, I must have misheard."
ASK_AGAIN = "Sorry, was that a yes or a no?"


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
    pending_field: str | None = None  # a heard value awaiting the candidate's "yes"
    pending_value: Value | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["techstack"] = list(self.techstack)
        if isinstance(self.pending_value, tuple):
            data["pending_value"] = list(self.pending_value)
        return data

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CollectorState:
        expected = d.get("expected_field", "readiness")
        if expected is not None and expected not in FIELDS:
            raise ValueError(f"unknown collector field: {expected!r}")
        amount = d.get("amount")
        pending_field = d.get("pending_field")
        if pending_field is not None and pending_field not in FIELDS:
            raise ValueError(f"unknown collector field: {pending_field!r}")
        pending = d.get("pending_value")
        return cls(
            expected_field=expected,
            candidate_name=d.get("candidate_name"),
            role=d.get("role"),
            interview_type=d.get("interview_type"),
            level=d.get("level"),
            techstack=tuple(str(name) for name in d.get("techstack") or ()),
            amount=int(amount) if amount is not None else None,
            follow_ups=bool(d.get("follow_ups", False)),
            pending_field=pending_field,
            pending_value=tuple(pending) if isinstance(pending, list) else pending,
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


def rejoin_question(state: CollectorState) -> str:
    """What to ask someone (re)joining: the pending confirmation, or the field's question."""
    if state.pending_field is not None and state.pending_value is not None:
        return confirmation_question(state.pending_field, state.pending_value)
    return QUESTIONS[state.expected_field or "readiness"]


def advance(state: CollectorState, reading: Reading, confidence: float = 1.0) -> CollectorStep:
    """The next state and reply; the field in progress only moves on an answer to it.

    While a value awaits confirmation (`state.pending_field`), `reading` must come from
    `read_confirmation`."""
    field = state.expected_field
    if field is None:
        return CollectorStep(state, DONE, True)
    if reading.guessed:
        confidence = 0.0  # a sound-alike word: always asked back
    if state.pending_field is not None:
        return _confirming(state, reading, confidence)
    question = QUESTIONS[field]
    intent = reading.intent
    if reading.field == "role" and len(str(reading.value or "")) > MAX_ROLE_CHARS:
        return _stay(state, f"{ROLE_TOO_LONG} {question}")
    if intent in (Intent.ANSWER, Intent.CORRECTION) and reading.field != field:
        if reading.field not in FIELDS[1:] or reading.value is None:
            return _stay(state, f"Sure. {question}")
        return _offer(state, reading.field, reading.value, confidence)
    if intent in (Intent.ANSWER, Intent.CORRECTION):
        if reading.value is None or reading.value is False:
            return _stay(state, RETRY_QUESTIONS[field])
        return _offer(state, field, reading.value, confidence)
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


def needs_confirmation(field: str, value: Value, confidence: float) -> bool:
    """Whether a heard value is confirmed before it is stored."""
    if field == "readiness":
        return False  # nothing is stored; a wrong "yes" costs one question
    if not recognisable(field, value):
        return True
    return confidence < CONFIRM_BELOW


def recognisable(field: str, value: Value) -> bool:
    """Whether a value is one Viva knows: a job title that is more than a bare "developer"
    or "engineer" (what is left when the words before it were not understood), and
    technologies from its list. Others are stored only after the candidate confirms."""
    if field == "role":
        title = normalize_role(str(value))
        return title.known and title.title.lower() not in GENERIC_TITLES
    if field == "techstack" and isinstance(value, tuple):
        return all(known_technology(name) for name in value)
    return True


def confirmation_understood(field: str, text: str) -> bool:
    """Whether words heard while a value of `field` is being confirmed answer the
    question: yes, a bare no, or a correction to a value Viva recognises."""
    reading = read_confirmation(field, text)
    if reading.intent is Intent.CORRECTION and reading.value is not None:
        return recognisable(field, reading.value)
    return reading.intent is not Intent.INVALID


def heard_value(field: str, text: str) -> object:
    """The value words heard while `field` is asked would give (the field answered and its
    value, a role as its title), or None when they give none: what the recogniser compares
    between its readings of one utterance."""
    reading = read_message(field, text)
    if reading.intent not in (Intent.ANSWER, Intent.CORRECTION) or reading.value is None:
        return None
    return reading.field, _comparable(reading.field, reading.value)


def confirmation_value(field: str, pending: Value, text: str) -> object:
    """What words heard while `pending` (a value of `field`) is confirmed would do: a
    correction's value; None for a yes, a bare no or anything else (their confidence is
    not used), and for a "correction" back to `pending` itself: the candidate has just
    said it was wrong, so a reading that repeats it is no rival to the correction."""
    reading = read_confirmation(field, text)
    if reading.intent is not Intent.CORRECTION or reading.value is None:
        return None
    value = _comparable(field, reading.value)
    return None if value == _comparable(field, pending) else value


def answer_choices(field: str, text: str, confidence: float) -> Choices | None:
    """Words heard while `field` is asked that would not be stored as they are (not
    understood, or asked back), with their value's place open to the field's values, for
    the recogniser to score on the audio (`flows.value_choices`); None when the words
    would be stored, or are no answer (a question, "not yet", a correction of another
    field)."""
    if field not in FIELDS_WITH_CHOICES:
        return None
    reading = read_message(field, text)
    if reading.intent in (Intent.ANSWER, Intent.CORRECTION) and reading.field != field:
        return None
    if reading.intent not in (Intent.ANSWER, Intent.CORRECTION, Intent.INVALID):
        return None
    if reading.intent is not Intent.INVALID and reading.value not in (None, False):
        value = reading.value
        if field == "role":
            title = normalize_role(str(value))
            value = title.title if title.known else value
            sure = title.known and not reading.guessed
        else:
            sure = not reading.guessed
        if sure and not needs_confirmation(field, value, confidence):
            return None
    return value_choices(field, text)


def correction_choices(
    field: str, pending: Value, text: str, confidence: float
) -> Choices | None:
    """A "no, it's …" heard while `pending` is confirmed, whose correction would not be
    stored as heard (not understood, or asked back), with the corrected value's place
    open to the field's other values; None for a yes, a bare no or anything else."""
    if field not in FIELDS_WITH_CHOICES:
        return None
    reading = read_confirmation(field, text)
    if reading.intent is Intent.CORRECTION and reading.value is not None:
        if not reading.guessed and not needs_confirmation(field, reading.value, confidence):
            return None
    elif reading.intent is not Intent.DENY:
        return None
    return value_choices(field, text, exclude=str(pending))


def _comparable(field: str, value: Value) -> Value:
    if field == "role":
        return normalize_role(str(value)).title.lower()
    return value


def understood(field: str, text: str) -> bool:
    """Whether words heard while `field` is asked make sense for it: an answer Viva
    recognises (above), or any other reading the rules make of them (a question, "not
    yet", a correction). Speech-to-text prefers such a reading among its own."""
    reading = read_message(field, text)
    if reading.intent is Intent.INVALID:
        return False
    if reading.intent is Intent.ANSWER and reading.field == field and reading.value is not None:
        return recognisable(field, reading.value)
    return True


def _offer(state: CollectorState, field: str, value: Value, confidence: float) -> CollectorStep:
    """Store an answer (or a correction of an earlier field), or ask to confirm it first.

    A role is offered as its normalised title; a near miss ("snake engineer") becomes the
    closest listed title ("sales engineer"), which is always asked back: it is a guess,
    whatever the recogniser's confidence in the words it heard."""
    if field == "role":
        title = normalize_role(str(value))
        if not title.known:
            confidence = 0.0
        value = title.title
    if needs_confirmation(field, value, confidence):
        pending = replace(state, pending_field=field, pending_value=value)
        return _stay(pending, confirmation_question(field, value))
    return _accept(state, field, value)


def confirmation_question(field: str, value: Value) -> str:
    return f'I heard "{spoken_value(field, value)}". {CONFIRM_QUESTIONS[field]}'


def _accept(state: CollectorState, field: str, value: Value) -> CollectorStep:
    state = replace(state, pending_field=None, pending_value=None)
    if field == state.expected_field:
        return _answered(state, field, value)
    question = QUESTIONS[state.expected_field or "readiness"]
    corrected = _store(state, field, value)
    return _stay(corrected, f"Got it, {spoken_value(field, value)} instead. {question}")


def _confirming(state: CollectorState, reading: Reading, confidence: float) -> CollectorStep:
    field, value = state.pending_field, state.pending_value
    assert field is not None and value is not None
    if reading.intent is Intent.CONFIRM:
        return _accept(state, field, value)
    cleared = replace(state, pending_field=None, pending_value=None)
    if reading.intent is Intent.CORRECTION and reading.value is not None:
        return _offer(cleared, field, reading.value, confidence)
    if reading.intent is Intent.DENY:
        return _stay(cleared, f"{NOT_CONFIRMED} {QUESTIONS[state.expected_field or field]}")
    return _stay(state, f"{ASK_AGAIN} {confirmation_question(field, value)}")


def _answered(state: CollectorState, field: str, value: Value | None) -> CollectorStep:
    if value is None or value is False:
        return _stay(state, RETRY_QUESTIONS[field])
    index = FIELDS.index(field)
    following = FIELDS[index + 1] if index + 1 < len(FIELDS) else None
    stored = replace(_store(state, field, value), expected_field=following)
    if following is None:
        return CollectorStep(stored, WRAP_UP, True)
    return CollectorStep(stored, f"{_acknowledge(field, value)} {QUESTIONS[following]}", False)


def _store(state: CollectorState, field: str, value: Value) -> CollectorState:
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


def _acknowledge(field: str, value: Value) -> str:
    options = ACKNOWLEDGEMENTS[field]
    spoken = spoken_value(field, value)
    template = options[zlib.crc32(spoken.encode()) % len(options)]
    return template.format(value=spoken, Value=spoken[:1].upper() + spoken[1:])


def spoken_value(field: str, value: Value) -> str:
    """A value as it reads inside a sentence."""
    if field == "level":
        return LEVEL_NAMES.get(str(value), str(value))
    if field == "techstack" and isinstance(value, tuple):
        return value[0] if len(value) == 1 else f"{', '.join(value[:-1])} and {value[-1]}"
    if field == "amount":
        return f"{value} question{'' if value == 1 else 's'}"
    return str(value)
