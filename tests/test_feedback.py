"""Offline feedback scoring, the strict feedback shape, and the offline interviewer's lines."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from typing import Any

import pytest

from flows import offline_replies
from flows.feedback import CATEGORIES, CategoryScore, Feedback, offline_feedback
from flows.question_bank import InterviewSetup, bank_questions

SETUP = InterviewSetup("Backend Engineer", "technical", "mid", ("Python", "PostgreSQL"), 4)
QUESTIONS = bank_questions(SETUP)

DETAILED = [
    "First, I would look at the query plan in PostgreSQL with explain analyze, because a "
    "missing index is the most common cause. Then I would add the index concurrently so "
    "that we don't lock the table. For example, on my last team a slow endpoint went from "
    "two seconds to fifty milliseconds as a result, which helped our users a lot.",
    "In Python I usually profile first and then decide whether to cache. For instance, we "
    "put a cache in front of an API endpoint and measured the result on the team's "
    "dashboards. The trade-off was stale data, so we set a short expiry and invalidated on "
    "writes, because correctness mattered to customers.",
    "I would paginate with a cursor instead of offsets, because offsets get slow on large "
    "tables. First the API returns a cursor, then the client passes it back. As a result "
    "the database uses the index and each request stays fast even for deep pages, and we "
    "rolled it out with feedback from the mobile team.",
    "I would make the endpoint idempotent with an idempotency key stored under a unique "
    "constraint. Then retries return the first result instead of creating duplicates. For "
    "example, payments at my last job worked this way, and we tested it against a real "
    "database so the whole team trusted it.",
]
TERSE = ["yes", "an index", "I don't know", "cache it"]


def feedback_for(answers: Sequence[str | None], setup: InterviewSetup = SETUP) -> Feedback:
    questions = bank_questions(setup) if setup is not SETUP else QUESTIONS
    return offline_feedback(setup, list(zip(questions, answers, strict=True)))


def scores(feedback: Feedback) -> dict[str, int]:
    return {category.name: category.score for category in feedback.category_scores}


def test_detailed_answers_beat_terse_ones_which_beat_skipping() -> None:
    detailed, terse = feedback_for(list(DETAILED)), feedback_for(list(TERSE))
    skipped = feedback_for([None, None, None, None])
    assert detailed.total_score >= 75
    assert detailed.total_score - terse.total_score >= 40
    assert terse.total_score > skipped.total_score
    assert skipped.total_score <= 10
    for name in CATEGORIES:
        assert scores(detailed)[name] > scores(terse)[name] >= scores(skipped)[name]


def test_comments_give_counts() -> None:
    partial = feedback_for([*DETAILED[:3], None])
    comments = {c.name: c.comment for c in partial.category_scores}
    assert "You answered 3 of 4 questions" in comments["Communication Skills"]
    assert "2 of your 2 stack items (Python, PostgreSQL)" in comments["Technical Knowledge"]
    assert any("skipped 1 of 4" in area for area in partial.areas_for_improvement)
    assert "3 of 4 questions answered" in partial.final_assessment
    full = feedback_for(list(DETAILED))
    assert feedback_for(list(TERSE)).total_score < partial.total_score < full.total_score
    assert "You answered all 4 questions." in full.strengths


def test_all_skipped_is_still_a_valid_low_feedback() -> None:
    skipped = feedback_for([None, "   ", None, ""])
    assert skipped.total_score == 0
    assert all("All 4 questions were skipped" in c.comment for c in skipped.category_scores)
    assert skipped.strengths and skipped.areas_for_improvement
    assert Feedback.from_dict(skipped.to_dict()) == skipped


def test_naming_the_stack_raises_technical_knowledge() -> None:
    plain = [
        answer.replace("in PostgreSQL with explain analyze", "carefully") for answer in DETAILED
    ]
    plain = [answer.replace("In Python I", "I") for answer in plain]
    assert not any(re.search("python|postgres|explain", answer, re.I) for answer in plain)
    named, unnamed = feedback_for(list(DETAILED)), feedback_for(plain)
    assert scores(named)["Technical Knowledge"] > scores(unnamed)["Technical Knowledge"]
    assert any("Python, PostgreSQL" in area for area in unnamed.areas_for_improvement)


def test_filler_and_hedging_lower_confidence() -> None:
    hedged = [
        "Um, I guess, uh, kind of " + answer.replace(". ", ". Um, maybe, you know, ")
        for answer in DETAILED
    ]
    clean, nervous = feedback_for(list(DETAILED)), feedback_for(hedged)
    assert scores(nervous)["Confidence and Clarity"] < scores(clean)["Confidence and Clarity"]
    comment = next(c.comment for c in nervous.category_scores if c.name == CATEGORIES[4])
    count = int(re.search(r"came up (\d+) times", comment).group(1))  # type: ignore[union-attr]
    assert count >= 20
    assert any("filler" in area.lower() for area in nervous.areas_for_improvement)


def test_unknown_stack_items_are_recognized_in_answers() -> None:
    setup = InterviewSetup("Software Engineer", "technical", "mid", ("Elixir", "Phoenix"), 2)
    answers = ["In Elixir I lean on supervisors so that crashes are isolated.", "Not really."]
    feedback = feedback_for(list(answers), setup)
    technical = next(c for c in feedback.category_scores if c.name == "Technical Knowledge")
    assert "1 of your 2 stack items (Elixir)" in technical.comment
    assert any("never mentioned Phoenix" in area for area in feedback.areas_for_improvement)


def test_behavioral_weights_favour_collaboration() -> None:
    setup = InterviewSetup("Engineer", "behavioral", "mid", (), 2)
    teamwork = [
        "The situation was a missed deadline on my team. I decided to pair with a colleague, "
        "we talked to the customer together and, as a result, we shipped a week later with "
        "their feedback built in, and I learned to raise risks early with my manager.",
        "We had two teammates who disagreed, so I helped them write down the trade-offs, then "
        "the team voted. For example, we kept the simpler design because users needed it soon, "
        "and the result was a calmer team and a release our stakeholders liked.",
    ]
    solo = [
        "The deadline was missed. I worked late for two weeks on the parser and the queue "
        "code until it passed all of the checks, and then it shipped on the next release "
        "train with a small patch for the parser edge cases and a rewrite of the queue code.",
        "There was a disagreement about the parser design. I rewrote the parser over a weekend "
        "and merged it after the checks passed, and the old parser was removed in the next "
        "release along with the queue code that depended on the old parser design.",
    ]
    assert feedback_for(teamwork, setup).total_score > feedback_for(solo, setup).total_score + 15


# The strict shape -------------------------------------------------------------------------


def test_round_trip_through_json() -> None:
    feedback = feedback_for(list(DETAILED))
    data = json.loads(json.dumps(feedback.to_dict()))
    assert set(data) == {
        "total_score",
        "category_scores",
        "strengths",
        "areas_for_improvement",
        "final_assessment",
        "answers",
    }
    assert [a["question"] for a in data["answers"]] == QUESTIONS
    assert [c["name"] for c in data["category_scores"]] == list(CATEGORIES)
    assert Feedback.from_dict(data) == feedback


def model_output() -> dict[str, Any]:
    return {
        "total_score": 72,
        "category_scores": [
            {"name": name, "score": 60 + i, "comment": f"Comment {i}."}
            for i, name in enumerate(reversed(CATEGORIES))
        ],
        "strengths": ["Clear examples."],
        "areas_for_improvement": ["Quantify results."],
        "final_assessment": "Solid mid-level performance.",
    }


def test_from_dict_accepts_a_good_model_answer_in_any_order_and_case() -> None:
    data = model_output()
    data["category_scores"][0]["name"] = "confidence AND clarity"
    feedback = Feedback.from_dict(data)
    assert [c.name for c in feedback.category_scores] == list(CATEGORIES)
    assert feedback.category_scores[4] == CategoryScore("Confidence and Clarity", 60, "Comment 0.")
    assert feedback.strengths == ("Clear examples.",)


def _drop_category(d: dict) -> None:
    d["category_scores"].pop()


def _duplicate_category(d: dict) -> None:
    d["category_scores"].append(dict(d["category_scores"][0], score=10))


BREAKAGES = {
    "missing total": lambda d: d.pop("total_score"),
    "total over 100": lambda d: d.update(total_score=101),
    "negative total": lambda d: d.update(total_score=-1),
    "total as text": lambda d: d.update(total_score="72"),
    "total as float": lambda d: d.update(total_score=72.5),
    "total as bool": lambda d: d.update(total_score=True),
    "categories not a list": lambda d: d.update(category_scores={"a": 1}),
    "missing category": _drop_category,
    "duplicate category": _duplicate_category,
    "unknown category": lambda d: d["category_scores"][0].update(name="Charisma"),
    "extra category": lambda d: d["category_scores"].append(
        {"name": "Charisma", "score": 50, "comment": "x"}
    ),
    "category not an object": lambda d: d["category_scores"].__setitem__(0, "Communication"),
    "score too high": lambda d: d["category_scores"][0].update(score=150),
    "score missing": lambda d: d["category_scores"][0].pop("score"),
    "empty comment": lambda d: d["category_scores"][0].update(comment="  "),
    "strengths a string": lambda d: d.update(strengths="Clear examples."),
    "no strengths": lambda d: d.update(strengths=[]),
    "blank area": lambda d: d.update(areas_for_improvement=[""]),
    "area not text": lambda d: d.update(areas_for_improvement=[3]),
    "missing assessment": lambda d: d.pop("final_assessment"),
    "empty assessment": lambda d: d.update(final_assessment=""),
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=list(BREAKAGES))
def test_from_dict_rejects_bad_shapes(breakage: str) -> None:
    data = copy.deepcopy(model_output())
    Feedback.from_dict(copy.deepcopy(data))  # the unbroken answer is accepted
    BREAKAGES[breakage](data)
    with pytest.raises(ValueError):
        Feedback.from_dict(data)


@pytest.mark.parametrize("raw", [None, [], "feedback", 42])
def test_from_dict_rejects_non_objects(raw: Any) -> None:
    with pytest.raises(ValueError):
        Feedback.from_dict(raw)


# The offline interviewer's lines ----------------------------------------------------------

LONG = " ".join(["I started by measuring the latency and then compared both designs."] * 8)
ORDINARY = "I would add an index on the user id column and check the query plan again."
SHORT = "Yes, probably."
UNSURE = "Hmm, I don't know, sorry."


def test_acknowledgements_adapt_to_the_answer() -> None:
    short = {offline_replies.acknowledge(SHORT, i) for i in range(10)}
    long = {offline_replies.acknowledge(LONG, i) for i in range(10)}
    unsure = {offline_replies.acknowledge(UNSURE, i) for i in range(10)}
    ordinary = {offline_replies.acknowledge(ORDINARY, i) for i in range(10)}
    assert all(re.search(r"expand|example|detail|walk me through", a) for a in short)
    assert all(re.search(r"thorough|detail|depth|complete", a) for a in long)
    assert all(re.search(r"okay|problem|fine|worries", a) for a in unsure)
    assert not (short & long) and not (short & ordinary) and not (long & ordinary)
    assert len(short | long | unsure | ordinary) >= 12


def test_acknowledgements_never_repeat_on_consecutive_questions() -> None:
    answers = [SHORT, ORDINARY, ORDINARY, LONG, ORDINARY, UNSURE, UNSURE, SHORT, SHORT]
    for seed in (None, 0, 1, 99):
        said = [offline_replies.acknowledge(answers[i % len(answers)], i, seed) for i in range(60)]
        assert all(a != b for a, b in zip(said, said[1:], strict=False))
        for ordinary in (offline_replies.acknowledge(ORDINARY, i, seed) for i in range(30)):
            assert len(ordinary) < 90
            assert ordinary[-1] in ".!" and not re.search(r"[.!?]\s", ordinary[:-1])
    same_kind = [offline_replies.acknowledge(ORDINARY, i, 5) for i in range(16)]
    assert len(set(same_kind)) >= 8


def test_opening_and_closing() -> None:
    opening = offline_replies.opening(" Backend Engineer ", 5)
    assert "Backend Engineer practice interview" in opening and "5 questions" in opening
    assert not opening.rstrip().endswith("?")
    assert "one question" in offline_replies.opening("", 1)
    assert "questions" not in offline_replies.opening("", 1)
    closing = offline_replies.closing()
    assert "complete" in closing and "feedback" in closing and "Thank" in closing
