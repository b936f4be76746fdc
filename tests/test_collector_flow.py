"""The collector conversation: reading messages and advancing the state machine.

Pure domain code, so these tests call it directly: no server, no database, no model.
"""

from __future__ import annotations

import pytest

from flows.collector import (
    QUESTIONS,
    CollectorState,
    CollectorStep,
    advance,
    opening,
    question_for,
)
from flows.collector_nlu import (
    FIELDS,
    INTERVIEW_TYPES,
    LEVELS,
    Intent,
    Reading,
    normalize_techstack,
    parse_amount,
    read_message,
)
from flows.vocabulary import TECH_NAMES, TECHNOLOGIES

Value = str | int | bool | tuple[str, ...] | None

ANSWERS = [
    # readiness: "now" is not "no", "know" is not "no"
    ("readiness", "yes", True),
    ("readiness", "yeah sure", True),
    ("readiness", "I'm ready now", True),
    ("readiness", "now is good", True),
    ("readiness", "let's go", True),
    ("readiness", "I am ready", True),
    ("readiness", "no problem, let's start", True),
    ("readiness", "Sure, why not", True),
    # role: the role, not the sentence
    ("role", "I'd like to train for backend developer", "backend developer"),
    ("role", "I want to practice for a frontend engineer role", "frontend engineer"),
    ("role", "data scientist", "data scientist"),
    ("role", "I'm applying to be a DevOps engineer at Google", "DevOps engineer"),
    ("role", "Backend Developer", "backend developer"),
    ("role", "iOS developer position", "iOS developer"),
    ("role", "my role is software engineer", "software engineer"),
    ("role", "I'd like to practice for a react developer job", "React developer"),
    ("role", "i'm interviewing for an ml engineer role at Meta", "ML engineer"),
    ("role", "I'd like to train for qa", "QA"),
    ("role", "tech lead", "tech lead"),
    ("role", "product manager at a startup", "product manager"),
    ("role", "sre", "SRE"),
    ("role", "Examples engineer", "examples engineer"),
    # interview type
    ("interview_type", "technical", "technical"),
    ("interview_type", "Behavioural please", "behavioral"),
    ("interview_type", "soft skills", "behavioral"),
    ("interview_type", "HR", "behavioral"),
    ("interview_type", "both", "mixed"),
    ("interview_type", "a bit of both", "mixed"),
    ("interview_type", "a combination", "mixed"),
    ("interview_type", "technical and behavioral", "mixed"),
    ("interview_type", "not technical, behavioral", "behavioral"),
    ("interview_type", "non-technical", "behavioral"),
    # level
    ("level", "intern", "intern"),
    ("level", "an internship", "intern"),
    ("level", "entry level", "junior"),
    ("level", "junior-level", "junior"),
    ("level", "graduate", "junior"),
    ("level", "beginner", "junior"),
    ("level", "mid-level", "mid"),
    ("level", "mid level", "mid"),
    ("level", "intermediate", "mid"),
    ("level", "middle", "mid"),
    ("level", "senior-level", "senior"),
    ("level", "staff", "senior"),
    ("level", "principal", "senior"),
    ("level", "lead", "senior"),
    ("level", "expert", "senior"),
    ("level", "I mean, probably senior", "senior"),
    ("level", "not junior, senior", "senior"),
    # tech stack
    ("techstack", "postgres, js and ts", ("PostgreSQL", "JavaScript", "TypeScript")),
    ("techstack", "TypeScript", ("TypeScript",)),
    ("techstack", "like React and Node", ("React", "Node.js")),
    ("techstack", "I use Python Django and Postgres", ("Python", "Django", "PostgreSQL")),
    ("techstack", "c plus plus and c sharp", ("C++", "C#")),
    ("techstack", "dot net / k8s & golang plus aws", (".NET", "Kubernetes", "Go", "AWS")),
    ("techstack", "mostly Python, and I also work with Docker", ("Python", "Docker")),
    ("techstack", "my stack is fastapi, redis, mongodb", ("FastAPI", "Redis", "MongoDB")),
    ("techstack", "React, react.js and ReactJS", ("React",)),
    ("techstack", "elixir, phoenix", ("Elixir", "Phoenix")),
    ("techstack", "Node JS with Express", ("Node.js", "Express")),
    ("techstack", "CI/CD and PL/SQL", ("CI/CD", "PL/SQL")),
    ("techstack", "spring boot, kotlin and mysql", ("Spring Boot", "Kotlin", "MySQL")),
    ("techstack", "Python, and actually some Go", ("Python", "Go")),
    # amount: digits and number words
    ("amount", "10", 10),
    ("amount", "ten questions", 10),
    ("amount", "twenty five", 25),
    ("amount", "twenty-five", 25),
    ("amount", "a dozen", 12),
    ("amount", "half a dozen", 6),
    ("amount", "let's do 7", 7),
    ("amount", "maybe 8?", 8),
    ("amount", "thirty", 30),
    ("amount", "one", 1),
    ("amount", "ten, actually twelve", 12),
]


@pytest.mark.parametrize(("field", "text", "value"), ANSWERS)
def test_answers_are_read_exactly(field: str, text: str, value: Value) -> None:
    assert read_message(field, text) == Reading(Intent.ANSWER, field, value)


NOT_READY = [
    ("readiness", "no"),
    ("readiness", "No."),
    ("readiness", "not yet"),
    ("readiness", "give me a minute"),
    ("readiness", "wait"),
    ("readiness", "I'm not ready"),
    ("readiness", "yes, but hold on"),
    ("role", "give me a second"),
    ("level", "hold on"),
    ("role", "wait a second"),
]


@pytest.mark.parametrize(("field", "text"), NOT_READY)
def test_not_ready(field: str, text: str) -> None:
    assert read_message(field, text) == Reading(Intent.NOT_READY, field)


INTENTS = [
    ("readiness", "can you repeat that", Intent.REPEAT),
    ("role", "say that again", Intent.REPEAT),
    ("level", "pardon?", Intent.REPEAT),
    ("amount", "what was the question", Intent.REPEAT),
    ("techstack", "sorry?", Intent.REPEAT),
    ("role", "give me some examples", Intent.EXAMPLES),
    ("techstack", "like what?", Intent.EXAMPLES),
    ("interview_type", "for example?", Intent.EXAMPLES),
    ("amount", "what are my options", Intent.EXAMPLES),
    ("role", "I don't know", Intent.EXAMPLES),
    ("level", "not sure", Intent.EXAMPLES),
    ("readiness", "what do you mean", Intent.CLARIFY),
    ("role", "I don't understand", Intent.CLARIFY),
    ("interview_type", "what's the difference", Intent.CLARIFY),
    ("level", "what's the difference between junior and mid?", Intent.CLARIFY),
    ("techstack", "what's a tech stack?", Intent.CLARIFY),
]


@pytest.mark.parametrize(("field", "text", "intent"), INTENTS)
def test_questions_about_the_question(field: str, text: str, intent: Intent) -> None:
    assert read_message(field, text) == Reading(intent, field)


CORRECTIONS = [
    ("techstack", "sorry, I meant senior", "level", "senior"),
    ("amount", "sorry, I meant senior", "level", "senior"),
    ("techstack", "actually make the role backend engineer", "role", "backend engineer"),
    ("techstack", "change the level to junior", "level", "junior"),
    ("level", "wait, I meant behavioral", "interview_type", "behavioral"),
    ("level", "actually I'd prefer behavioral", "interview_type", "behavioral"),
    ("interview_type", "sorry, I meant backend engineer", "role", "backend engineer"),
    ("techstack", "senior instead", "level", "senior"),
    ("amount", "sorry, I meant Python and Go", "techstack", ("Python", "Go")),
]


@pytest.mark.parametrize(("field", "text", "target", "value"), CORRECTIONS)
def test_corrections_name_the_earlier_field(
    field: str, text: str, target: str, value: Value
) -> None:
    assert read_message(field, text) == Reading(Intent.CORRECTION, target, value)


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        ("level", "no, senior", "senior"),
        ("interview_type", "actually technical", "technical"),
        ("role", "sorry, I meant data engineer", "data engineer"),
        ("role", "actually, backend", "backend"),
        ("techstack", "Actually I use React and Node", ("React", "Node.js")),
    ],
)
def test_correction_words_about_the_field_in_progress_are_its_answer(
    field: str, text: str, value: Value
) -> None:
    assert read_message(field, text) == Reading(Intent.ANSWER, field, value)


INVALID = [
    ("readiness", "I know", "Just say yes when you're ready"),
    ("role", "", "I didn't catch anything."),
    ("interview_type", "TypeScript", "technical, behavioral, or mixed"),
    ("interview_type", "banana", "technical, behavioral, or mixed"),
    ("level", "banana", "intern, junior, mid, or senior"),
    ("level", "junior or mid", "just one level"),
    ("techstack", "none", "at least one technology"),
    ("techstack", "I don't really have one, I'm a manager", "at least one technology"),
    ("amount", "between 5 and 10", "one number rather than a range"),
    ("amount", "5 to 10", "one number rather than a range"),
    ("amount", "fifteen or twenty", "one number rather than a range"),
    ("amount", "0", "1 to 30"),
    ("amount", "31", "1 to 30"),
    ("amount", "a hundred", "1 to 30"),
    ("amount", "banana", "1 to 30"),
    ("amount", "7.5", "1 to 30"),
    ("role", "actually, 10 questions", "We'll get to the number of questions"),
    ("role", "change the level to senior", "We'll get to the level"),
]


@pytest.mark.parametrize(("field", "text", "problem"), INVALID)
def test_invalid_values_say_what_is_valid(field: str, text: str, problem: str) -> None:
    reading = read_message(field, text)
    assert (reading.intent, reading.field, reading.value) == (Intent.INVALID, field, None)
    assert reading.problem is not None and problem in reading.problem


def test_typescript_is_not_type_and_now_is_not_no() -> None:
    assert read_message("interview_type", "TypeScript").intent is Intent.INVALID
    assert read_message("techstack", "change the TypeScript part").intent is Intent.ANSWER
    assert read_message("readiness", "now").value is True
    assert read_message("readiness", "I know, let's go").value is True
    assert read_message("readiness", "nope").intent is Intent.NOT_READY


def test_unknown_field_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        read_message("favourite_colour", "blue")


def test_value_sets_and_helpers() -> None:
    assert FIELDS == ("readiness", "role", "interview_type", "level", "techstack", "amount")
    assert INTERVIEW_TYPES == ("technical", "behavioral", "mixed")
    assert LEVELS == ("intern", "junior", "mid", "senior")
    assert len(TECHNOLOGIES) >= 50
    assert all(TECH_NAMES[name.lower().replace(" ", "")] for name in ("Redis", "GraphQL"))
    assert normalize_techstack("graphql, Rust and pytorch") == ("GraphQL", "Rust", "PyTorch")
    assert normalize_techstack("") == ()
    assert parse_amount("twenty-one questions") == 21
    assert parse_amount("between 5 and 10") is None
    assert parse_amount("forty") is None


# --- the state machine --------------------------------------------------------------------


def say(state: CollectorState, text: str) -> CollectorStep:
    assert state.expected_field is not None
    return advance(state, read_message(state.expected_field, text))


def test_opening_greets_by_name_and_asks_if_ready() -> None:
    assert opening("Ana").startswith("Hi Ana!")
    assert opening(None).startswith("Hi there!")
    assert opening("  ").startswith("Hi there!")
    assert "few" in opening("Ana") and opening("Ana").endswith(question_for("readiness"))


def test_a_whole_conversation_from_opening_to_completed() -> None:
    state = CollectorState(candidate_name="Ana")
    script = [
        ("what do you mean", "readiness", "the role, the interview type"),
        ("not yet", "readiness", "take your time"),
        ("I'm ready now", "role", QUESTIONS["role"]),
        ("I'd like to train for backend developer", "interview_type", "backend developer"),
        ("like what?", "interview_type", "For example"),
        ("a bit of both", "level", "mixed"),
        ("sorry, I meant technical", "level", "Got it, technical instead."),
        ("banana", "level", "intern, junior, mid, or senior"),
        ("mid-level", "techstack", "Mid-level"),
        ("postgres and django", "amount", "PostgreSQL and Django"),
        ("sorry, I meant senior", "amount", "Got it, senior instead."),
        ("say that again", "amount", QUESTIONS["amount"]),
        ("between 5 and 10", "amount", "one number"),
        ("twenty five", None, "Great, I have everything I need."),
    ]
    for text, expected_field, in_reply in script:
        step = say(state, text)
        state = step.state
        assert state.expected_field == expected_field, text
        assert in_reply in step.reply, (text, step.reply)
        assert step.completed is (expected_field is None)
    assert state == CollectorState(
        expected_field=None,
        candidate_name="Ana",
        role="backend developer",
        interview_type="technical",
        level="senior",
        techstack=("PostgreSQL", "Django"),
        amount=25,
    )


@pytest.mark.parametrize("field", FIELDS)
def test_repeat_examples_and_clarify_keep_the_field(field: str) -> None:
    state = CollectorState(expected_field=field)
    for intent in (Intent.REPEAT, Intent.EXAMPLES, Intent.CLARIFY, Intent.NOT_READY):
        step = advance(state, Reading(intent, field))
        assert step.state == state and not step.completed
        if intent is not Intent.NOT_READY or field != "readiness":
            assert step.reply.endswith(question_for(field)), (intent, step.reply)
    examples = advance(state, Reading(Intent.EXAMPLES, field)).reply
    clarification = advance(state, Reading(Intent.CLARIFY, field)).reply
    assert examples != clarification != question_for(field)


def test_each_answer_is_acknowledged_with_its_value_and_the_next_question() -> None:
    state = CollectorState(expected_field="level")
    step = say(state, "senior")
    assert "senior" in step.reply.lower()
    assert step.reply.endswith(QUESTIONS["techstack"])
    assert step.state == CollectorState(expected_field="techstack", level="senior")


def test_a_correction_never_moves_the_field_in_progress() -> None:
    state = CollectorState(expected_field="techstack", role="x", interview_type="mixed")
    step = say(state, "actually make the role backend engineer")
    assert step.state == CollectorState(
        expected_field="techstack", role="backend engineer", interview_type="mixed"
    )
    assert step.reply == f"Got it, backend engineer instead. {QUESTIONS['techstack']}"


def test_invalid_keeps_the_field_and_says_what_is_valid() -> None:
    state = CollectorState(expected_field="amount")
    step = say(state, "0")
    assert step.state == state and not step.completed
    assert step.reply == "I can prepare anywhere from 1 to 30 questions. How many would you like?"


def test_a_finished_collector_stays_finished() -> None:
    done = CollectorState(expected_field=None, role="r", amount=3)
    step = advance(done, Reading(Intent.ANSWER, "amount", 5))
    assert step.state == done and step.completed


def test_state_round_trips_through_json_safe_dict() -> None:
    state = CollectorState(
        expected_field="amount",
        candidate_name="Ana",
        role="data scientist",
        interview_type="mixed",
        level="mid",
        techstack=("Python", "pandas"),
    )
    data = state.to_dict()
    assert data["techstack"] == ["Python", "pandas"]
    assert CollectorState.from_dict(data) == state
    assert CollectorState.from_dict({}) == CollectorState()
    with pytest.raises(ValueError):
        CollectorState.from_dict({"expected_field": "shoe_size"})
