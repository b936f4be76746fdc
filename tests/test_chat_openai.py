"""The OpenAI chat provider through the real `openai` SDK against a fake server on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from flows.chat import Chat
from flows.collector_nlu import Intent
from flows.feedback import CATEGORIES, Feedback
from flows.model_chat import ModelChat, parse_questions, parse_reading
from flows.offline_chat import OfflineChat
from flows.providers.base import ProviderError, openai_client
from flows.providers.openai_chat import ChatConfig, OpenAIChatModel
from flows.question_bank import InterviewSetup
from server import openai_config
from settings import Settings
from tests.fake_openai import CHAT, FakeOpenAI, Reply

SETUP = InterviewSetup("backend developer", "technical", "mid", ("Python", "PostgreSQL"), 3)
QUESTIONS = [
    "How would you design a rate limiter for a public API?",
    "Tell me how PostgreSQL decides whether to use an index.",
    "What happens in Python when you await a coroutine?",
]
PAIRS = [(QUESTIONS[0], "I would use a token bucket per client in Redis."), (QUESTIONS[1], None)]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def provider(fake: FakeOpenAI, timeout: float = 5.0, retries: int = 2) -> ModelChat:
    settings = Settings(
        openai_api_key="test", openai_base_url=fake.base_url, openai_model="fake-model",
        openai_timeout_seconds=timeout, openai_max_retries=retries,
    )
    model = OpenAIChatModel(openai_client(openai_config(settings)), ChatConfig("fake-model"))
    return ModelChat(model)


def questions_reply(questions: list[str]) -> Reply:
    return Reply.chat(json.dumps({"questions": questions}))


def sent_messages(fake: FakeOpenAI, number: int) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = fake.requests_to(CHAT)[number].json["messages"]
    return messages


def valid_feedback() -> dict[str, Any]:
    return {
        "total_score": 64,
        "category_scores": [
            {"name": name, "score": 60 + i, "comment": f"Comment on {name}."}
            for i, name in enumerate(CATEGORIES)
        ],
        "strengths": ["Knows caching well."],
        "areas_for_improvement": ["Answer every question."],
        "final_assessment": "A reasonable start; the second answer was missing.",
        "answers": [
            {
                "score": 70,
                "points_covered": ["algorithm"],
                "points_missed": ["where state lives"],
                "star": None,
                "good": 'Named a real algorithm: "a token bucket per client".',
                "missing": "Where the counters live when there are several servers.",
                "suggestion": "Say how the bucket is shared across instances.",
            },
            {
                "score": 0,
                "points_covered": [],
                "points_missed": ["statistics", "selectivity"],
                "star": None,
                "good": "Nothing to credit.",
                "missing": "No answer.",
                "suggestion": "Give a partial answer.",
            },
        ],
    }


# --- questions ----------------------------------------------------------------------------


async def test_questions_are_generated_as_json(fake: FakeOpenAI) -> None:
    fake.script(CHAT, questions_reply(QUESTIONS))
    assert await provider(fake).generate_questions(SETUP) == QUESTIONS
    (request,) = fake.requests_to(CHAT)
    assert request.json["model"] == "fake-model"
    assert request.json["response_format"] == {"type": "json_object"}
    prompt = sent_messages(fake, 0)[-1]["content"]
    assert "exactly 3" in prompt and "backend developer" in prompt and "PostgreSQL" in prompt


async def test_malformed_json_gets_one_corrective_retry(fake: FakeOpenAI) -> None:
    fake.script(CHAT, Reply.chat('{"questions": ["How would'), questions_reply(QUESTIONS))
    assert await provider(fake).generate_questions(SETUP) == QUESTIONS
    retry = sent_messages(fake, 1)
    assert retry[:2] == sent_messages(fake, 0)
    assert retry[2] == {"role": "assistant", "content": '{"questions": ["How would'}
    assert retry[3]["role"] == "user" and "JSON" in retry[3]["content"]


async def test_malformed_twice_is_a_provider_error(fake: FakeOpenAI) -> None:
    fake.script(CHAT, Reply.chat("Sure! Here are your questions:"), Reply.chat("[1, 2, 3]"))
    with pytest.raises(ProviderError) as caught:
        await provider(fake).generate_questions(SETUP)
    assert caught.value.kind == "invalid_output"
    assert len(fake.requests_to(CHAT)) == 2


async def test_wrong_question_count_is_retried_then_rejected(fake: FakeOpenAI) -> None:
    fake.script(CHAT, questions_reply(QUESTIONS[:2]), questions_reply(QUESTIONS * 2))
    with pytest.raises(ProviderError) as caught:
        await provider(fake).generate_questions(SETUP)
    assert caught.value.kind == "invalid_output"
    assert "expected exactly 3 questions, got 2" in sent_messages(fake, 1)[-1]["content"]


@pytest.mark.parametrize(
    "payload",
    [
        {"questions": "one, two, three"},
        {"questions": [QUESTIONS[0], QUESTIONS[1], "  "]},
        {"questions": [QUESTIONS[0], QUESTIONS[1], QUESTIONS[0].upper()]},
        {"questions": [QUESTIONS[0], QUESTIONS[1], 3]},
        {"items": QUESTIONS},
    ],
)
def test_question_shapes_that_are_rejected(payload: dict[str, Any]) -> None:
    with pytest.raises((ValueError, KeyError)):
        parse_questions(payload, 3)


def test_questions_are_stripped_of_list_markers() -> None:
    raw = [f"  {n}. {q} " for n, q in enumerate(QUESTIONS, start=1)]
    assert parse_questions({"questions": raw}, 3) == QUESTIONS


# --- transport failures: SDK retries, then the offline fallback ---------------------------


async def test_rate_limit_is_retried_by_the_sdk(fake: FakeOpenAI) -> None:
    fake.script(CHAT, Reply.error(429, "slow down"), questions_reply(QUESTIONS))
    assert await provider(fake).generate_questions(SETUP) == QUESTIONS
    assert len(fake.requests_to(CHAT)) == 2


async def test_persistent_server_error_falls_back_to_the_bank(fake: FakeOpenAI) -> None:
    fake.set_default(CHAT, Reply.error(500))
    with pytest.raises(ProviderError) as caught:
        await provider(fake, retries=2).generate_questions(SETUP)
    assert caught.value.kind == "http_500"
    assert len(fake.requests_to(CHAT)) == 3  # the first attempt and two SDK retries

    chat = Chat(offline=OfflineChat(), primary=provider(fake, retries=0))
    questions, source = await chat.generate_questions(SETUP)
    assert source == "offline"
    assert len(questions) == SETUP.amount and all(q.strip() for q in questions)


async def test_timeout_falls_back_to_the_bank(fake: FakeOpenAI) -> None:
    fake.set_default(CHAT, Reply.chat(json.dumps({"questions": QUESTIONS}), delay=2.0))
    chat = Chat(offline=OfflineChat(), primary=provider(fake, timeout=0.3, retries=1))
    started = time.monotonic()
    questions, source = await chat.generate_questions(SETUP)
    assert source == "offline" and len(questions) == SETUP.amount
    assert len(fake.requests_to(CHAT)) == 2
    assert time.monotonic() - started < 1.9  # gave up long before the server answered


# --- streamed acknowledgements ------------------------------------------------------------


async def test_acknowledgement_streams_pieces_in_order(fake: FakeOpenAI) -> None:
    pieces = ["Thanks", " for", " walking", " me", " through", " that."]
    fake.script(CHAT, Reply.stream(pieces, tokens_per_second=25))
    arrivals: list[tuple[str, float]] = []
    async for piece in provider(fake).acknowledge(QUESTIONS[0], "Token bucket.", 0):
        arrivals.append((piece, time.monotonic()))
    assert [piece for piece, _at in arrivals] == pieces
    assert arrivals[-1][1] - arrivals[0][1] > 0.15  # delivered as they came, not buffered
    request = fake.requests_to(CHAT)[0].json
    assert request["stream"] is True and "response_format" not in request
    assert "Token bucket." in request["messages"][-1]["content"]


def sse(*events: dict[str, Any]) -> Reply:
    """A streamed chat reply written event by event, as a vendor may send it."""
    body = tuple(f"data: {json.dumps(event)}\n\n".encode() for event in events)
    return Reply(chunks=(*body, b"data: [DONE]\n\n"), content_type="text/event-stream")


async def test_streamed_events_without_text_are_skipped(fake: FakeOpenAI) -> None:
    fake.script(
        CHAT,
        sse(
            {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
            {"choices": [{"index": 0, "delta": {"content": "Thanks,"}}]},
            {"choices": [{"index": 0, "delta": {"content": None, "refusal": None}}]},
            {"choices": [{"index": 0, "delta": {"content": " noted."}}]},
            {"choices": [], "usage": {"prompt_tokens": 80, "completion_tokens": 3}},
        ),
    )
    pieces = [piece async for piece in provider(fake).acknowledge(QUESTIONS[0], "Yes.", 0)]
    assert pieces == ["Thanks,", " noted."]


async def test_a_streamed_event_without_a_delta_is_skipped(fake: FakeOpenAI) -> None:
    """Finish-only and annotation chunks (Azure's content filter) carry no delta."""
    fake.script(CHAT, sse({"choices": [{"index": 0, "delta": {"content": "Thanks"}}]},
                          {"choices": [{"index": 0, "content_filter_results": {}}]},
                          {"choices": [{"index": 0, "delta": {"content": ", noted."}}]},
                          {"choices": [{"index": 0, "finish_reason": "stop"}]}))  # fmt: skip
    pieces = [piece async for piece in provider(fake).acknowledge(QUESTIONS[0], "Yes.", 0)]
    assert pieces == ["Thanks", ", noted."]


async def test_a_streamed_event_that_is_no_choice_is_invalid_output(fake: FakeOpenAI) -> None:
    fake.script(CHAT, sse({"choices": [{"index": 0, "delta": {"content": "Thanks"}}]},
                          {"choices": ["noted"]}))  # fmt: skip
    pieces: list[str] = []
    with pytest.raises(ProviderError) as caught:
        async for piece in provider(fake).acknowledge(QUESTIONS[0], "Yes.", 0):
            pieces.append(piece)
    assert pieces == ["Thanks"] and caught.value.kind == "invalid_output"


async def test_an_error_event_mid_stream_is_a_provider_error(fake: FakeOpenAI) -> None:
    """OpenAI sends `{"error": ...}` as an event when a stream fails after it began."""
    fake.script(CHAT, sse({"choices": [{"index": 0, "delta": {"content": "Thanks"}}]},
                          {"error": {"message": "The server is overloaded.",
                                     "type": "server_error"}}))  # fmt: skip
    pieces: list[str] = []
    with pytest.raises(ProviderError) as caught:
        async for piece in provider(fake).acknowledge(QUESTIONS[0], "Yes.", 0):
            pieces.append(piece)
    assert pieces == ["Thanks"] and caught.value.kind == "stream_error"


async def test_a_streamed_reply_is_retried_and_timed_out_like_any_request(
    fake: FakeOpenAI,
) -> None:
    fake.script(CHAT, Reply.error(429), Reply.stream(["Thanks,", " noted."]))
    pieces = [piece async for piece in provider(fake).acknowledge(QUESTIONS[0], "Yes.", 0)]
    assert pieces == ["Thanks,", " noted."] and len(fake.requests_to(CHAT)) == 2
    fake.script(CHAT, Reply.stream(["Thanks."], delay=2.0))
    with pytest.raises(ProviderError) as caught:
        async for _ in provider(fake, timeout=0.3, retries=0).acknowledge(QUESTIONS[0], "Yes.", 0):
            pass
    assert caught.value.kind == "timeout"


async def test_default_fake_acknowledgement(fake: FakeOpenAI) -> None:
    pieces = [piece async for piece in provider(fake).acknowledge(QUESTIONS[0], "Yes.", 1)]
    assert len(pieces) > 1 and "".join(pieces) == "Thanks, that is a clear answer."


async def test_failed_acknowledgement_falls_back_to_offline(fake: FakeOpenAI) -> None:
    fake.set_default(CHAT, Reply.error(503))
    chat = Chat(offline=OfflineChat(), primary=provider(fake, retries=0))
    pieces = [piece async for piece in chat.acknowledge(QUESTIONS[0], "A token bucket.", 0)]
    assert "".join(pieces).strip()
    assert len(fake.requests_to(CHAT)) == 1


# --- collector readings -------------------------------------------------------------------


async def test_rules_first_and_the_model_only_for_what_they_cannot_read(
    fake: FakeOpenAI,
) -> None:
    chat = Chat(offline=OfflineChat(), primary=provider(fake))
    reading = await chat.read_collector_message("level", "mid-level, I'd say")
    assert (reading.intent, reading.value) == (Intent.ANSWER, "mid")
    assert fake.requests_to(CHAT) == []

    fake.script(CHAT, Reply.chat('{"intent": "answer", "field": "level", "value": "Senior"}'))
    reading = await chat.read_collector_message("level", "I have about eight years of experience")
    assert (reading.intent, reading.field, reading.value) == (Intent.ANSWER, "level", "senior")
    (request,) = fake.requests_to(CHAT)
    assert "eight years" in request.json["messages"][-1]["content"]


async def test_model_reading_with_an_invalid_level_is_rejected(fake: FakeOpenAI) -> None:
    bad = Reply.chat('{"intent": "answer", "field": "level", "value": "principal"}')
    fake.script(CHAT, bad, bad)
    with pytest.raises(ProviderError) as caught:
        await provider(fake).read_collector_message("level", "about eight years in")
    assert caught.value.kind == "invalid_output"
    assert "level must be one of intern, junior, mid, senior" in sent_messages(fake, 1)[-1][
        "content"
    ]

    fake.script(CHAT, bad, bad)  # through Chat: the rules' own INVALID reading stands
    chat = Chat(offline=OfflineChat(), primary=provider(fake))
    reading = await chat.read_collector_message("level", "about eight years in")
    assert reading.intent is Intent.INVALID and reading.problem


@pytest.mark.parametrize(
    ("field", "data", "expected"),
    [
        ("techstack", {"intent": "answer", "value": ["postgres", "python"]},
         ("PostgreSQL", "Python")),
        ("amount", {"intent": "answer", "value": "ten"}, 10),
        ("amount", {"intent": "answer", "value": 30}, 30),
        ("role", {"intent": "answer", "value": " backend developer. "}, "backend developer"),
        ("interview_type", {"intent": "answer", "value": "Behavioral"}, "behavioral"),
        ("readiness", {"intent": "answer", "value": None}, True),
    ],
)
def test_model_values_are_normalised(field: str, data: dict[str, Any], expected: object) -> None:
    reading = parse_reading(data, field)
    assert (reading.intent, reading.field, reading.value) == (Intent.ANSWER, field, expected)


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("amount", {"intent": "answer", "value": 31}),
        ("amount", {"intent": "answer", "value": True}),
        ("techstack", {"intent": "answer", "value": []}),
        ("role", {"intent": "answer", "value": ""}),
        ("level", {"intent": "shrug"}),
        ("level", {"intent": "correction", "field": "mood", "value": "happy"}),
        ("level", {"value": "senior"}),
    ],
)
def test_model_readings_that_are_rejected(field: str, data: dict[str, Any]) -> None:
    with pytest.raises((ValueError, KeyError)):
        parse_reading(data, field)


def test_model_correction_names_the_earlier_field() -> None:
    data = {"intent": "correction", "field": "interview_type", "value": "mixed"}
    reading = parse_reading(data, "techstack")
    assert (reading.intent, reading.field, reading.value) == (
        Intent.CORRECTION, "interview_type", "mixed"
    )


# --- feedback -----------------------------------------------------------------------------


async def test_valid_feedback(fake: FakeOpenAI) -> None:
    fake.script(CHAT, Reply.chat(json.dumps(valid_feedback())))
    feedback = await provider(fake).feedback(SETUP, PAIRS)
    assert feedback == Feedback.from_dict(valid_feedback(), PAIRS)
    assert feedback.answers[0]["question"] == QUESTIONS[0]
    assert feedback.answers[1]["answer"] is None and feedback.answers[1]["score"] == 0
    prompt = sent_messages(fake, 0)[-1]["content"]
    assert "token bucket per client" in prompt and "(not answered)" in prompt
    assert all(name in prompt for name in CATEGORIES)


async def test_invalid_feedback_is_rejected_and_falls_back(fake: FakeOpenAI) -> None:
    missing_category = valid_feedback()
    missing_category["category_scores"].pop(0)
    out_of_range = valid_feedback()
    out_of_range["total_score"] = 140
    one_answer_short = valid_feedback()
    one_answer_short["answers"].pop()
    bad_star = valid_feedback()
    bad_star["answers"][0]["star"] = {"situation": True}
    for bad in (one_answer_short, bad_star):
        fake.script(CHAT, Reply.chat(json.dumps(bad)), Reply.chat(json.dumps(bad)))
        with pytest.raises(ProviderError):
            await provider(fake).feedback(SETUP, PAIRS)
    fake.script(CHAT, *(Reply.chat(json.dumps(bad)) for bad in (missing_category, out_of_range)))
    with pytest.raises(ProviderError) as caught:
        await provider(fake).feedback(SETUP, PAIRS)
    assert caught.value.kind == "invalid_output"

    fake.set_default(CHAT, Reply.chat(json.dumps(out_of_range)))
    chat = Chat(offline=OfflineChat(), primary=provider(fake))
    feedback, source = await chat.feedback(SETUP, PAIRS)
    assert source == "offline" and isinstance(feedback, Feedback)
