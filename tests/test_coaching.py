"""Per-answer feedback, STAR, follow-ups, regeneration and the progress history.

Offline cases run the real scorer on real bank questions; OpenAI cases run the real SDK
against the fake server, whose "model" is scripted here: those check the prompt, the
validation and the contract, not a model's judgement.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from flows import coaching
from flows.bank_data import BEHAVIORAL, BEHAVIORAL_COMMON, DOMAINS, GENERAL
from flows.bank_tech import TECHS
from flows.question_bank import INTERVIEW_TYPES, LEVELS, InterviewSetup, bank_questions
from server import create_app
from settings import Settings
from tests.conftest import MakeClient, user
from tests.fake_openai import CHAT, FakeOpenAI, Received, Reply
from tests.rest_helpers import collect_interview, post_json

LIST_QUESTION = (
    "In Python, what is the difference between a list and a tuple, and when would you use each?"
)
STRONG_LIST = (
    "A list is mutable, so you can append to it or change items, while a tuple is immutable. "
    "Because a tuple cannot change it is hashable and can be a dictionary key. I use a tuple "
    "for a fixed record such as coordinates and a list for a collection that grows."
)
VAGUE = "I think it kind of depends on the situation, they are both useful."
STAR_ANSWER = {
    "situation": "At my last job our checkout page was timing out during a big sale.",
    "task": "I was responsible for getting it stable before the next campaign.",
    "action": "I profiled the service and added a cache in front of the pricing calls.",
    "result": "As a result the timeouts dropped from 5 percent to almost none.",
}


# Key points and STAR, offline ------------------------------------------------------------


def test_every_bank_question_has_key_points() -> None:
    technical = [q for d in DOMAINS for t in d.tiers.values() for q in t]
    technical += [q for t in GENERAL.values() for q in t]
    technical += [q for tech in TECHS for t in tech.tiers.values() for q in t]
    behavioral = [*BEHAVIORAL_COMMON, *(q for t in BEHAVIORAL.values() for q in t)]
    for question in technical + behavioral:
        assert len(coaching.key_points(question)) >= 2, question
    assert all(coaching.is_behavioral(q) for q in behavioral)
    assert not any(coaching.is_behavioral(q) for q in technical)
    # templates and warm-ups as they come out of the bank, with names filled in
    for kind in INTERVIEW_TYPES:
        for level in LEVELS:
            setup = InterviewSetup("Backend Engineer", kind, level, ("Haskell", "Go"), 12)
            for question in bank_questions(setup):
                assert coaching.key_points(question), question
    assert coaching.key_points("Some question a model wrote?") == ()


def test_strong_answer_beats_vague_one_on_key_points() -> None:
    strong = coaching.offline_answer(0, LIST_QUESTION, STRONG_LIST)
    vague = coaching.offline_answer(0, LIST_QUESTION, VAGUE)
    assert strong.score >= vague.score + 40
    assert {"mutable", "immutable", "hashable", "fixed record"} <= set(strong.points_covered)
    assert vague.points_covered == () and "mutable" in vague.points_missed
    assert "a list is mutable" in strong.good  # quotes the candidate's words
    assert vague.suggestion.startswith("Next time, also cover mutable")
    skipped = coaching.offline_answer(0, LIST_QUESTION, None)
    assert skipped.score == 0 and skipped.answer is None


@pytest.mark.parametrize("left_out", [None, *coaching.STAR_PARTS])
def test_star_parts_are_found_or_missed(left_out: str | None) -> None:
    answer = " ".join(text for part, text in STAR_ANSWER.items() if part != left_out)
    found = coaching.star(answer)
    assert {part: c.covered for part, c in found.items()} == {
        part: part != left_out for part in coaching.STAR_PARTS
    }
    question = BEHAVIORAL["mid"][0]
    feedback = coaching.offline_answer(1, question, answer)
    assert feedback.kind == "behavioral" and feedback.star is not None
    if left_out is not None:
        assert left_out in feedback.missing
        assert feedback.suggestion == coaching._STAR_ADVICE[left_out]
    full = coaching.offline_answer(1, question, " ".join(STAR_ANSWER.values()))
    assert full.score >= feedback.score


def test_follow_up_comes_from_the_missed_key_points() -> None:
    assert coaching.follow_up_for(LIST_QUESTION, STRONG_LIST) is None
    asked = coaching.follow_up_for(LIST_QUESTION, "A list can change.")
    assert asked == "Before we move on, could you say a little about immutable?"
    behavioral = BEHAVIORAL["mid"][0]
    short = f"{STAR_ANSWER['situation']} {STAR_ANSWER['action']}"
    assert coaching.follow_up_for(behavioral, short) == "How did it turn out in the end?"


# Through the API, offline -----------------------------------------------------------------


async def interview_with(
    client: TestClient, owner: str, *, follow_ups: bool = False
) -> tuple[str, list[str]]:
    """(interview_id, questions) of a fresh three-question technical interview."""
    started = await post_json(
        client, "/api/collector/start", {"user_id": owner, "follow_ups": follow_ups}
    )
    session = started["collector_session_id"]
    done: dict[str, Any] = {}
    for text in ("yes", "backend developer", "technical", "mid", "Python", "three"):
        done = await post_json(
            client, f"/api/collector/{session}/turn", {"user_id": owner, "user_message": text}
        )
    interview_id = done["interview_id"]
    details = await (await client.get(f"/api/interviews/{interview_id}?user_id={owner}")).json()
    return interview_id, details["questions"]


def strong_answer(question: str) -> str:
    """An answer that says each key point in the bank's own words."""
    return " ".join(f"I would consider {p.phrases[-1]} because of {p.label}." for p in
                    coaching.key_points(question))  # fmt: skip


async def run_session(
    client: TestClient, owner: str, interview_id: str, answers: list[str]
) -> tuple[str, list[dict[str, Any]]]:
    started = await post_json(client, f"/api/interviews/{interview_id}/start", {"user_id": owner})
    session = started["interview_session_id"]
    replies = []
    for answer in answers:
        replies.append(
            await post_json(
                client,
                f"/api/interviews/sessions/{session}/turn",
                {"user_id": owner, "user_message": answer},
            )
        )
    return session, replies


async def feedback_of(client: TestClient, owner: str, session: str) -> dict[str, Any]:
    response = await client.get(f"/api/interviews/sessions/{session}/feedback?user_id={owner}")
    assert response.status == 200
    result: dict[str, Any] = await response.json()
    return result


async def test_per_answer_feedback_offline(client: TestClient) -> None:
    owner = user()
    interview_id, questions = await interview_with(client, owner)
    strong = [strong_answer(q) for q in questions]
    good_session, _ = await run_session(client, owner, interview_id, strong)
    vague_session, _ = await run_session(client, owner, interview_id, [VAGUE] * 3)
    good = await feedback_of(client, owner, good_session)
    vague = await feedback_of(client, owner, vague_session)
    for report in (good, vague):  # the seed's fields stay
        assert {"total_score", "category_scores", "strengths", "areas_for_improvement",
                "final_assessment", "source", "answers", "delivery"} <= set(report)  # fmt: skip
        assert report["source"] == "offline" and "cannot tell whether" in report["limits"]
        assert report["delivery"] is None  # typed answers have no delivery section
        assert [a["question"] for a in report["answers"]] == questions
    for mine, theirs in zip(good["answers"], vague["answers"], strict=True):
        assert mine["score"] > theirs["score"] + 30, (mine, theirs)
        assert mine["points_covered"] and not mine["points_missed"]
        assert theirs["points_missed"] and theirs["delivery"] is None
        assert theirs["answer"] == VAGUE and theirs["suggestion"]
    assert good["total_score"] > vague["total_score"]


async def test_feedback_is_kept_and_regenerated_only_on_request(client: TestClient) -> None:
    owner = user()
    interview_id, questions = await interview_with(client, owner)
    session, _ = await run_session(client, owner, interview_id, [VAGUE] * 3)
    first = await feedback_of(client, owner, session)
    assert await feedback_of(client, owner, session) == first
    path = f"/api/interviews/sessions/{session}/feedback/regenerate"
    again = await post_json(client, path, {"user_id": owner})
    assert again["answers"] == first["answers"]  # the same offline judgement, made anew
    assert (await post_json(client, path, {"user_id": user()}, status=404))["code"]


async def test_follow_ups_are_asked_once_for_thin_answers(client: TestClient) -> None:
    owner = user()
    interview_id, questions = await interview_with(client, owner, follow_ups=True)
    thin = "I am not sure."
    session, replies = await run_session(
        client, owner, interview_id, [thin, "Well, it depends.", strong_answer(questions[1]),
                                      thin, "skip"],  # fmt: skip
    )
    assert [r["question_index"] for r in replies] == [0, 1, 2, 2, None]
    assert "could you say a little about" in replies[0]["assistant_message"]
    assert questions[1] in replies[1]["assistant_message"]  # one follow-up, then move on
    assert replies[-1]["status"] == "completed"
    rows = (await (await client.get(
        f"/api/transcripts/interview/{session}?user_id={owner}")).json())["items"]  # fmt: skip
    assert [r["kind"] for r in rows if r["kind"]] == ["follow_up"] * 4
    report = await feedback_of(client, owner, session)
    first, second, third = report["answers"]
    assert first["answer"] == thin and first["follow_up"]["answer"] == "Well, it depends."
    assert second["follow_up"] is None
    assert third["follow_up"]["question"] and third["follow_up"]["answer"] is None
    # off by default: the same answers go straight through the three questions
    plain_id, _ = await interview_with(client, owner)
    _, plain = await run_session(client, owner, plain_id, [thin, thin, thin])
    assert [r["question_index"] for r in plain] == [1, 2, None]


async def test_follow_ups_must_be_a_boolean(client: TestClient) -> None:
    body = {"user_id": user(), "follow_ups": "yes"}
    error = await post_json(client, "/api/collector/start", body, status=400)
    assert error["code"] == "invalid_follow_ups"


async def test_progress_is_owned_ordered_and_may_be_empty(client: TestClient) -> None:
    owner, stranger = user(), user()
    path = f"/api/users/{owner}/progress"
    empty = await (await client.get(path, params={"user_id": owner})).json()
    assert empty == {"user_id": owner, "interviews": [], "trend": {}}
    interview_id, questions = await interview_with(client, owner)
    sessions = []
    for answers in ([VAGUE] * 3, [strong_answer(q) for q in questions]):
        session, _ = await run_session(client, owner, interview_id, answers)
        await feedback_of(client, owner, session)
        sessions.append(session)
    unscored, _ = await run_session(client, owner, interview_id, [VAGUE] * 3)  # no feedback yet
    history = await (await client.get(path, params={"user_id": owner})).json()
    assert [i["interview_session_id"] for i in history["interviews"]] == sessions
    first, latest = history["interviews"]
    assert latest["total_score"] > first["total_score"]
    assert set(latest["category_scores"]) >= {"Technical Knowledge", "Problem Solving"}
    assert history["trend"]["total_score"]["change"] > 0
    for who in (stranger, None):
        response = await client.get(path, params={"user_id": who} if who else {})
        assert response.status == 404 and (await response.json())["code"] == "not_found"


# With the OpenAI provider (the fake server at the network edge) ---------------------------


@pytest.fixture
async def fake() -> Any:
    async with FakeOpenAI() as server:
        yield server


MODEL_FOLLOW_UP = "Which part of that would you change first, and why?"


def scripted_model(questions: list[str]) -> Any:
    """The fake model: bank questions on request, and feedback that scores each answer
    by whether it says the first key point (enough to tell strong from vague)."""

    def reply(request: Received) -> Reply:
        prompt = request.json["messages"][-1]["content"]
        if '{"follow_up"' in prompt:
            return Reply.chat(json.dumps({"follow_up": MODEL_FOLLOW_UP}))
        if '"questions"' in prompt:
            return Reply.chat(json.dumps({"questions": questions}))
        if '"answers"' not in prompt:
            return Reply.chat("Thanks, that is a clear answer.")
        answers = []
        for question in questions:
            point = coaching.key_points(question)[0].label
            said = f"because of {point}." in prompt.split(question, 1)[1].split("\nQ", 1)[0]
            answers.append({
                "score": 85 if said else 20, "points_covered": [point] if said else [],
                "points_missed": [] if said else [point], "star": None,
                "good": "Clear." if said else "Short.", "missing": "-" if said else point,
                "suggestion": "Add a number." if said else f"Cover {point}.",
            })  # fmt: skip
        return Reply.chat(json.dumps({
            "total_score": 60,
            "category_scores": [{"name": n, "score": 60, "comment": "ok"} for n in
                                ("Communication Skills", "Technical Knowledge", "Problem Solving",
                                 "Cultural Fit", "Confidence and Clarity")],
            "strengths": ["Answered."], "areas_for_improvement": ["Depth."],
            "final_assessment": "Fine.", "answers": answers,
        }))  # fmt: skip

    return reply


async def test_per_answer_feedback_with_openai_and_its_fallback(
    aiohttp_client: MakeClient, settings: Settings, fake: FakeOpenAI
) -> None:
    setup = InterviewSetup("backend developer", "technical", "mid", ("Python",), 3)
    questions = bank_questions(setup)
    fake.set_default(CHAT, scripted_model(questions))
    client = await aiohttp_client(create_app(settings.replace(
        openai_api_key="test-key", openai_base_url=fake.base_url, providers="openai",
        openai_max_retries=0)))  # fmt: skip
    owner = user()
    await collect_interview(client, owner, ("yes", "backend developer", "technical", "mid",
                                            "Python", "three"))  # fmt: skip
    interview_id = (await (await client.get(f"/api/interviews?user_id={owner}")).json())[0]["id"]
    strong, _ = await run_session(client, owner, interview_id, [strong_answer(questions[0]),
                                                                VAGUE, VAGUE])  # fmt: skip
    report = await feedback_of(client, owner, strong)
    assert report["source"] == "openai" and "limits" not in report
    first, second, _ = report["answers"]
    assert first["score"] > second["score"] and first["question"] == questions[0]
    prompt = fake.requests_to(CHAT)[-1].json["messages"][-1]["content"]
    assert "Key points of a strong answer" in prompt and VAGUE in prompt
    # the model fails: the offline report, marked as such, still has every answer
    fake.set_default(CHAT, Reply.error(500))
    path = f"/api/interviews/sessions/{strong}/feedback/regenerate"
    offline = await post_json(client, path, {"user_id": owner})
    assert offline["source"] == "offline" and len(offline["answers"]) == 3
    assert offline["answers"][0]["score"] > offline["answers"][1]["score"]


async def test_follow_ups_worded_by_the_model_or_the_rules(
    aiohttp_client: MakeClient, settings: Settings, fake: FakeOpenAI
) -> None:
    setup = InterviewSetup("backend developer", "technical", "mid", ("Python",), 3)
    questions = bank_questions(setup)
    fake.set_default(CHAT, scripted_model(questions))
    client = await aiohttp_client(create_app(settings.replace(
        openai_api_key="test-key", openai_base_url=fake.base_url, providers="openai",
        openai_max_retries=0)))  # fmt: skip
    owner = user()
    interview_id, _ = await interview_with(client, owner, follow_ups=True)
    session, replies = await run_session(client, owner, interview_id, ["Not sure."])
    assert replies[0]["assistant_message"].endswith(MODEL_FOLLOW_UP)
    assert replies[0]["question_index"] == 0
    fake.set_default(CHAT, Reply.chat("not JSON"))  # the model fails: the rules' wording
    turn = f"/api/interviews/sessions/{session}/turn"
    await post_json(client, turn, {"user_id": owner, "user_message": "It depends."})
    reply = await post_json(client, turn, {"user_id": owner, "user_message": "Not sure."})
    assert "could you say a little about" in reply["assistant_message"]
