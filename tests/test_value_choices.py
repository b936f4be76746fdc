"""Which sentences Whisper rescores for a misheard collector answer (`flows.value_choices`)
and when the collector asks for them (`answer_choices`, `correction_choices`)."""

from __future__ import annotations

import pytest

from flows.collector import CONFIRM_BELOW, answer_choices, correction_choices
from flows.value_choices import value_choices


def sentences(field: str, text: str, exclude: str | None = None) -> list[str]:
    choices = value_choices(field, text, exclude)
    assert choices is not None, text
    return [choices.sentence(option) for option in choices.options]


def test_a_misheard_title_is_replaced_by_the_titles_with_its_noun() -> None:
    found = sentences("role", "I want to prepare for a game up engineer position.")
    assert "I want to prepare for a DevOps engineer position." in found
    assert "I want to prepare for a data engineer position." in found
    assert all(s.startswith("I want to prepare for a") for s in found)
    assert all(s.endswith(" engineer position.") for s in found)  # only "engineer" titles
    # a bare noun is no choice: it is what is left when the title was not understood
    assert "I want to prepare for a engineer position." not in found


def test_the_article_follows_the_title() -> None:
    found = sentences("role", "I'd like to practice for an mop engineer role.")
    assert "I'd like to practice for an MLOps engineer role." in found
    assert "I'd like to practice for a DevOps engineer role." in found


def test_a_correction_keeps_its_no_and_leaves_out_the_value_said_no_to() -> None:
    found = sentences("role", "No, it's them up, engineer.", exclude="MLOps engineer")
    assert "No, it's DevOps engineer." in found
    assert "No, it's MLOps engineer." not in found


def test_the_type_goes_before_interview_with_an_article() -> None:
    assert sentences("interview_type", "Let's do everything in your own interview.") == [
        "Let's do a technical interview.", "Let's do a behavioral interview.",
        "Let's do a mixed interview."]
    assert sentences("interview_type", "Let's do an annual interview.")[1] == (
        "Let's do a behavioral interview.")
    # "the" keeps its place, and no article is added after it
    assert sentences("interview_type", "Let's do the behavral interview.") == [
        "Let's do the technical interview.", "Let's do the behavioral interview.",
        "Let's do the mixed interview."]


def test_a_type_without_interview_needs_a_word_of_the_field() -> None:
    assert sentences("interview_type", "Technical.") == ["Technical.", "Behavioral.", "Mixed."]
    # "A mix of both." heard as "Let me check out.": no place for a value in it
    assert value_choices("interview_type", "Let me check out.") is None
    # a correction's "No, it's …" is the place
    assert sentences("interview_type", "No, it's the same, you know.", exclude="mixed") == [
        "No, it's technical.", "No, it's behavioral."]


def test_no_choices_without_a_place_or_for_other_fields() -> None:
    assert value_choices("role", "taken here.") is None  # no role noun
    assert value_choices("level", "Senior.") is None
    assert value_choices("techstack", "Python and Django.") is None
    assert value_choices("interview_type", "No.", exclude="mixed") is None


def test_an_answer_stored_as_heard_is_not_rescored() -> None:
    sure = CONFIRM_BELOW + 0.2
    assert answer_choices("role", "I want to prepare for a DevOps engineer position.", sure) is None
    assert answer_choices("interview_type", "Technical.", sure) is None
    # asked back, so worth a look: unsure, not a listed title, guessed, not understood
    assert answer_choices("interview_type", "Technical.", CONFIRM_BELOW - 0.1) is not None
    assert answer_choices("role", "I want to prepare for a game up engineer position.",
                          sure) is not None
    assert answer_choices("interview_type", "Let's do everything you'll interview.",
                          sure) is not None  # "mixed" only through "everything"
    assert answer_choices("interview_type", "Let's do a bit in your lint or new interview.",
                          sure) is not None
    # no answer to look at: a question, or another field's correction
    assert answer_choices("role", "Could you repeat that?", 0.2) is None
    assert answer_choices("interview_type", "Sorry, I meant data engineer.", 0.2) is None


@pytest.mark.parametrize(
    ("text", "confidence", "rescored"),
    [
        ("Yes.", 0.3, False),
        ("No.", 0.3, False),
        ("No, it's DevOps engineer.", CONFIRM_BELOW + 0.1, False),  # stored as heard
        ("No, it's DevOps engineer.", CONFIRM_BELOW - 0.1, True),  # asked back
        ("No, it's them up, engineer.", 0.9, True),  # not a listed title
        ("What a lovely morning.", 0.9, False),
    ],
)
def test_a_correction_is_rescored_only_when_it_would_not_be_stored(
    text: str, confidence: float, rescored: bool
) -> None:
    found = correction_choices("role", "MLOps engineer", text, confidence)
    assert (found is not None) == rescored
