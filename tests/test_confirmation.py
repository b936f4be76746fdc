"""Asking back: low-confidence values and unknown role titles are confirmed before storing.

Pure domain code (the state machine, the readers, the title vocabulary): no server.
The REST and voice paths are covered in tests/test_confirmation_api.py.
"""

from __future__ import annotations

import pytest

from flows.collector import CONFIRM_BELOW, CollectorState, advance
from flows.collector_nlu import Intent, read_confirmation, read_message
from flows.job_titles import normalize_role

LOW = CONFIRM_BELOW / 2


def at(field: str, **values: object) -> CollectorState:
    return CollectorState(expected_field=field, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("said", "title", "known"),
    [
        ("back end dev", "backend developer", True),
        ("Backend Developer", "backend developer", True),
        ("front-end engineer", "frontend engineer", True),
        ("full-stack dev", "full stack developer", True),
        ("senior python backend developer", "senior Python backend developer", True),
        ("SRE", "SRE", True),
        ("iOS developer", "iOS developer", True),
        ("devops engineers", "DevOps engineer", True),
        ("product manager", "product manager", True),
        ("back in developer", "backend developer", False),  # the closest title, to confirm
        ("oath", "oath", False),
        ("a friend hand engine your position", "a friend hand engine your position", False),
        ("Cuban eats engineer", "Cuban eats engineer", False),
        # made of title words but no listed title: what a misheard "backend"/"data" gives
        ("mechanical developer", "mechanical developer", False),
        ("game engineer", "game engineer", False),
        ("cloud security engineer", "cloud security engineer", False),  # kept as said
        ("senior data engineer", "senior data engineer", True),  # a listed title, senior
        ("Django developer", "Django developer", True),
        ("lead devops engineer", "lead DevOps engineer", True),
    ],
)
def test_roles_are_normalised_against_job_titles(said: str, title: str, known: bool) -> None:
    role = normalize_role(said)
    assert (role.title, role.known) == (title, known)


@pytest.mark.parametrize(
    ("text", "intent", "value"),
    [
        ("yes", Intent.CONFIRM, None),
        ("Yeah, that's right.", Intent.CONFIRM, None),
        ("correct", Intent.CONFIRM, None),
        ("no", Intent.DENY, None),
        ("Nope.", Intent.DENY, None),
        ("no, it's data engineer", Intent.CORRECTION, "data engineer"),
        ("No, I said data engineer.", Intent.CORRECTION, "data engineer"),
        ("what's the weather like", Intent.INVALID, None),
        ("yes but I don't know", Intent.INVALID, None),
    ],
)
def test_confirmation_replies(text: str, intent: Intent, value: object) -> None:
    reading = read_confirmation("role", text)
    assert (reading.intent, reading.value) == (intent, value)


def test_numbers_in_a_correction_as_digits_or_words() -> None:
    for text in ("no, five", "no, 5", "no, I said five questions"):
        reading = read_confirmation("amount", text)
        assert (reading.intent, reading.value) == (Intent.CORRECTION, 5), text


def test_low_confidence_asks_then_yes_stores() -> None:
    step = advance(at("level"), read_message("level", "senior"), LOW)
    assert step.state.level is None and step.state.expected_field == "level"
    assert step.reply == 'I heard "senior". Is that the level of the position?'
    step = advance(step.state, read_confirmation("level", "yes"), 0.9)
    assert step.state.level == "senior" and step.state.pending_field is None
    assert step.state.expected_field == "techstack"


def test_no_with_a_correction_stores_the_correction() -> None:
    step = advance(at("role"), read_message("role", "oath"), 0.95)
    assert step.reply == 'I heard "oath". Is that the role you\'re preparing for?'
    assert step.state.role is None and step.state.pending_value == "oath"
    step = advance(step.state, read_confirmation("role", "no, it's data engineer"), 0.9)
    assert step.state.role == "data engineer" and step.state.expected_field == "interview_type"


def test_a_low_confidence_correction_is_confirmed_again() -> None:
    step = advance(at("amount"), read_message("amount", "ten"), LOW)
    step = advance(step.state, read_confirmation("amount", "no, five"), LOW)
    assert step.state.amount is None and step.state.pending_value == 5
    assert "I heard \"5 questions\"" in step.reply
    step = advance(step.state, read_confirmation("amount", "yes"), LOW)
    assert step.completed and step.state.amount == 5


def test_anything_else_asks_again_and_a_bare_no_asks_the_field() -> None:
    first = advance(at("role"), read_message("role", "oath"), 0.95)
    again = advance(first.state, read_confirmation("role", "the weather is nice"), 0.9)
    assert again.state == first.state
    assert again.reply.startswith("Sorry, was that a yes or a no?") and '"oath"' in again.reply
    denied = advance(again.state, read_confirmation("role", "no"), 0.9)
    assert denied.state.pending_field is None and denied.state.role is None
    assert denied.reply.endswith("What role are you preparing for?")


def test_confident_known_values_are_stored_without_a_question() -> None:
    step = advance(at("role"), read_message("role", "I'd like to train for back end dev"), 0.9)
    assert step.state.role == "backend developer" and step.state.expected_field == "interview_type"
    step = advance(at("readiness"), read_message("readiness", "yes"), LOW)  # nothing stored
    assert step.state.expected_field == "role"


def test_a_low_confidence_correction_of_an_earlier_field_is_confirmed() -> None:
    state = at("techstack", role="backend developer", interview_type="technical", level="junior")
    step = advance(state, read_message("techstack", "sorry, I meant senior"), LOW)
    assert step.state.level == "junior" and step.state.pending_field == "level"
    step = advance(step.state, read_confirmation("level", "yes"), 0.9)
    assert step.state.level == "senior" and step.state.expected_field == "techstack"


def test_pending_confirmation_round_trips_through_json_safe_dict() -> None:
    step = advance(at("techstack"), read_message("techstack", "Python and Django"), LOW)
    data = step.state.to_dict()
    assert data["pending_value"] == ["Python", "Django"]
    assert CollectorState.from_dict(data) == step.state


@pytest.mark.parametrize("said", ["engineer", "Developer.", "I want a developer position"])
def test_a_bare_role_noun_is_confirmed(said: str) -> None:
    """What is left of "DevOps engineer" when the first word was not understood."""
    step = advance(at("role"), read_message("role", said), 0.95)
    assert step.state.role is None and step.state.pending_field == "role"
    assert step.reply.startswith('I heard "')


def test_spoken_dev_ops_and_back_end_are_one_word_in_a_role() -> None:
    reading = read_message("role", "I want to prepare for dev ops engineer position.")
    assert reading.value == "DevOps engineer"
    step = advance(at("role"), read_message("role", "a back end developer role"), 0.95)
    assert step.state.role == "backend developer"


@pytest.mark.parametrize(
    ("heard", "value"),
    [("Free questions, please.", 3), ("Let's do far.", 4), ("Tree questions", 3)],
)
def test_a_number_that_only_sounds_right_is_asked_back(heard: str, value: int) -> None:
    step = advance(at("amount"), read_message("amount", heard), 0.99)
    assert step.state.amount is None and step.state.pending_value == value
    assert step.reply == f'I heard "{value} questions". Is that how many questions you\'d like?'
    corrected = advance(step.state, read_confirmation("amount", "no, it's free"), 0.99)
    assert corrected.state.pending_value == 3 and corrected.state.amount is None


def test_sound_alikes_are_only_read_where_the_number_would_be() -> None:
    assert read_message("amount", "I'd like to practise").intent is Intent.INVALID
    assert read_message("amount", "five for now").value == 5


def test_an_unknown_technology_is_asked_back() -> None:
    step = advance(at("techstack"), read_message("techstack", "Genre and Spring Boot"), 0.99)
    assert step.state.techstack == () and step.state.pending_value == ("Genre", "Spring Boot")
    known = advance(at("techstack"), read_message("techstack", "Java and Spring Boot"), 0.99)
    assert known.state.techstack == ("Java", "Spring Boot")


@pytest.mark.parametrize(
    ("heard", "fillers"),
    [
        ("TypeScript, React, into Bernities.", [("Python, in my free time.", ("Python",))]),
        ("TypeScript, React and the Bernities.", [("Java, mostly.", ("Java",))]),
        ("TypeScript, React, so Bernities.", [("Go, and I like it.", ("Go",))]),
        ("TypeScript, React, into bernities.", [("Python, for fun.", ("Python",))]),
    ],
)
def test_a_name_after_a_filler_word_is_asked_back_not_dropped(
    heard: str, fillers: list[tuple[str, tuple[str, ...]]]
) -> None:
    """Whisper heard "Kubernetes" as "into Bernities": the stack was stored as TypeScript
    and React without a question. A name after a filler word (capitalised, or of four
    letters or more) is an unknown technology (asked back); a filler phrase alone still is
    not one."""
    step = advance(at("techstack"), read_message("techstack", heard), 0.99)
    assert step.state.techstack == ()
    assert step.state.pending_value == ("TypeScript", "React", "Bernities")
    for said, stored in fillers:
        plain = advance(at("techstack"), read_message("techstack", said), 0.99).state
        assert plain.pending_value is None and plain.techstack == stored, said


@pytest.mark.parametrize(
    "said",
    ["Python, React, in general.", "Python, React, at scale.", "Python, React, in production.",
     "Python, React, on weekends.", "Python, React, in school."],
)
def test_a_word_after_a_filler_that_is_no_name_is_not_asked_back(said: str) -> None:
    """Typed (confidence 1.0), "Python, React, in general." is Python and React: a
    lower-case word after a filler is taken as a misheard name only when it is close to a
    known one or to the end of one ("bernities", "script"), not "general" or "scale"."""
    step = advance(at("techstack"), read_message("techstack", said), 1.0)
    assert step.state.pending_value is None and step.state.techstack == ("Python", "React")


def test_a_misheard_first_name_in_a_list_is_asked_back() -> None:
    """Piper's "TypeScript, React and Kubernetes." heard as "That's script, React, and
    Kubernetes." was stored as React and Kubernetes without a question."""
    step = advance(at("techstack"),
                   read_message("techstack", "That's script, React, and Kubernetes."), 0.9)
    assert step.state.techstack == ()
    assert step.state.pending_value == ("Script", "React", "Kubernetes")
    alone = advance(at("techstack"), read_message("techstack", "That's script."), 0.9)
    assert alone.state.pending_value is None


def test_an_and_heard_as_in_between_technologies() -> None:
    step = advance(at("techstack"), read_message("techstack", "TypeScript, React in Kubernetes."),
                   0.99)
    assert step.state.techstack == ("TypeScript", "React", "Kubernetes")


@pytest.mark.parametrize(
    ("heard", "closest"),
    [("snake engineer", "sales engineer"), ("NEMOP engineer", "MLOps engineer")],
)
def test_a_near_miss_role_is_offered_as_the_closest_title_and_always_asked_back(
    heard: str, closest: str
) -> None:
    """The closest listed title is a guess, however sure the recogniser was of its words:
    "No, it's snake engineer." (heard for "data engineer", confidence 0.77) was stored as
    "sales engineer" without a question."""
    step = advance(at("role"), read_message("role", heard), 0.99)
    assert step.state.role is None and step.state.pending_value == closest
    pending = advance(at("role"), read_message("role", "oath"), 0.99).state
    corrected = advance(pending, read_confirmation("role", f"No, it's {heard}."), 0.99)
    assert corrected.state.role is None and corrected.state.pending_value == closest
    assert corrected.reply.startswith(f'I heard "{closest}"')


@pytest.mark.parametrize("heard", ["I'm questions.", "I question.", "Fine questions, please."])
def test_five_heard_without_its_consonants_is_read_and_asked_back(heard: str) -> None:
    step = advance(at("amount"), read_message("amount", heard), 0.99)
    assert step.state.amount is None and step.state.pending_value == 5


def test_mixed_chosen_only_indirectly_is_asked_back() -> None:
    """"Let's do everything you'll interview." (heard for "…a behavioral interview.") was
    stored as mixed without a question; "a mix of both" is still taken at once."""
    step = advance(at("interview_type"),
                   read_message("interview_type", "Let's do everything you'll interview."), 0.99)
    assert step.state.interview_type is None and step.state.pending_value == "mixed"
    direct = advance(at("interview_type"), read_message("interview_type", "A mix of both."), 0.99)
    assert direct.state.interview_type == "mixed"
    both = advance(at("interview_type"),
                   read_message("interview_type", "technical and behavioral, everything"), 0.99)
    assert both.state.interview_type == "mixed"


def test_and_heard_as_in_after_a_comma_keeps_the_next_technology() -> None:
    """"Java, Spring Boot, in Kafka." (Whisper's reading of "…and Kafka" in a call) lost
    Kafka."""
    step = advance(at("techstack"), read_message("techstack", "Java, Spring Boot, in Kafka."),
                   0.99)
    assert step.state.techstack == ("Java", "Spring Boot", "Kafka")
