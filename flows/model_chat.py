"""Chat through a model: Viva's tasks (prompts in, validated domain values out).

`ModelChat` turns a vendor `ChatModel` into the `ChatProvider` the flows use. JSON tasks
are validated strictly; a reply that is not valid JSON of the asked shape gets one
corrective follow-up, then the call fails with ProviderError(kind="invalid_output") and
`Chat` falls back to offline. Acknowledgements are streamed and cut when they run away.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, TypeVar

from flows import collector_nlu as nlu
from flows import prompts
from flows.chat import QAPairs
from flows.collector_nlu import (
    FIELDS,
    INTERVIEW_TYPES,
    LEVELS,
    MAX_AMOUNT,
    MIN_AMOUNT,
    Intent,
    Reading,
    normalize_techstack,
    parse_amount,
)
from flows.feedback import Feedback
from flows.providers.base import map_errors
from flows.providers.chat import ChatModel
from flows.question_bank import InterviewSetup

log = logging.getLogger(f"viva.{__name__}")

T = TypeVar("T")

MAX_QUESTION_CHARS = 400
MAX_ROLE_CHARS = 80
ACK_WORD_LIMIT = 2 * prompts.ACK_MAX_WORDS  # a runaway reply is cut, not spoken in full
# what the user hears when the model, too, finds no valid value: the rules' own wording
_PROBLEMS: dict[str, str] = {
    "readiness": nlu.READY_PROBLEM,
    "role": nlu.ROLE_PROBLEM,
    "interview_type": nlu.TYPE_PROBLEM,
    "level": nlu.LEVEL_PROBLEM,
    "techstack": nlu.TECH_PROBLEM,
    "amount": nlu.AMOUNT_PROBLEM,
}
_LIST_MARKER = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)]|question\s+\d+\s*[:.)-])\s*", re.I)


class ModelChat:
    """Viva's chat tasks answered by a model; failures raise ProviderError."""

    def __init__(self, model: ChatModel) -> None:
        self.model = model
        self.name = model.name

    async def generate_questions(self, setup: InterviewSetup) -> list[str]:
        messages = prompts.question_messages(setup)
        return await self._json_task(messages, lambda data: parse_questions(data, setup.amount))

    async def read_collector_message(self, expected_field: str, text: str) -> Reading:
        messages = prompts.reading_messages(expected_field, text)
        return await self._json_task(messages, lambda data: parse_reading(data, expected_field))

    async def feedback(self, setup: InterviewSetup, pairs: QAPairs) -> Feedback:
        messages = prompts.feedback_messages(setup, pairs)
        return await self._json_task(messages, lambda data: Feedback.from_dict(data, pairs))

    async def follow_up(self, question: str, answer: str, offline: str) -> str:
        messages = prompts.follow_up_messages(question, answer, offline)
        return await self._json_task(messages, parse_follow_up)

    async def acknowledge(self, question: str, answer: str, index: int) -> AsyncIterator[str]:
        messages = prompts.acknowledgement_messages(question, answer, index)
        words = 0
        async with aclosing(self.model.stream(messages)) as pieces:
            async for piece in pieces:
                yield piece
                words += len(piece.split())
                if words >= ACK_WORD_LIMIT:
                    log.warning("acknowledgement cut after %d words", words)
                    return

    async def _json_task(self, messages: list[prompts.Message], parse: Callable[[Any], T]) -> T:
        """Ask for a JSON object; one corrective follow-up when the reply does not parse."""
        content = await self.model.complete_json(messages)
        try:
            return parse(_decode(content))
        except (ValueError, KeyError, TypeError) as error:
            log.warning("model reply rejected, asking once more: %s", error)
            problem = _describe_error(error)
        retry = [*messages, {"role": "assistant", "content": content}, prompts.correction(problem)]
        content = await self.model.complete_json(retry)
        with map_errors("chat"):  # still invalid: counted as invalid_output, then fallback
            return parse(_decode(content))


def _describe_error(error: Exception) -> str:
    return f"missing key {error}" if isinstance(error, KeyError) else str(error)


def _decode(content: str) -> dict[str, Any]:
    data = json.loads(content)
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    return data


# Validation: pure functions from decoded JSON to domain values, ValueError when wrong. ---


def parse_questions(data: dict[str, Any], amount: int) -> list[str]:
    questions = data["questions"]
    if not isinstance(questions, list):
        raise ValueError('"questions" must be a list of strings')
    if len(questions) != amount:
        raise ValueError(f"expected exactly {amount} questions, got {len(questions)}")
    cleaned: list[str] = []
    for item in questions:
        if not isinstance(item, str):
            raise ValueError("every question must be a string")
        question = _LIST_MARKER.sub("", item.strip()).strip()
        if not question:
            raise ValueError("a question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise ValueError(f"a question is longer than {MAX_QUESTION_CHARS} characters")
        cleaned.append(question)
    if len({question.casefold() for question in cleaned}) != len(cleaned):
        raise ValueError("the questions must be distinct")
    return cleaned


def parse_intent(raw: object) -> Intent:
    if not isinstance(raw, str):
        raise ValueError('"intent" must be a string')
    key = raw.strip().lower().replace(" ", "_").replace("-", "_")
    for intent in Intent:
        if key in (intent.name.lower(), str(intent.value).lower()):
            return intent
    raise ValueError(f"unknown intent {raw!r}; use one of {', '.join(prompts.intent_names())}")


def parse_reading(data: dict[str, Any], expected_field: str) -> Reading:
    intent = parse_intent(data["intent"])
    field = data.get("field") or expected_field
    if field not in FIELDS:
        raise ValueError(f"unknown field {field!r}")
    if intent is Intent.CORRECTION:
        return Reading(intent, field, field_value(field, data.get("value")), None)
    if intent is Intent.ANSWER:
        return Reading(intent, expected_field, field_value(expected_field, data.get("value")), None)
    if intent is Intent.INVALID:
        return Reading(intent, expected_field, None, _PROBLEMS[expected_field])
    return Reading(intent, expected_field, None, None)


def field_value(field: str, value: object) -> Any:
    """The model's value for `field`, normalised like the rules do; ValueError if invalid."""
    if field == "readiness":
        return True
    if field == "role":
        return _role(value)
    if field == "interview_type":
        return _choice(field, value, INTERVIEW_TYPES)
    if field == "level":
        return _choice(field, value, LEVELS)
    if field == "techstack":
        return _techstack(value)
    if field == "amount":
        return _amount(value)
    raise ValueError(f"unknown field {field!r}")


def _role(value: object) -> str:
    if not isinstance(value, str) or not value.strip(" .!?\n\t"):
        raise ValueError("role must be a non-empty string")
    role = " ".join(value.strip(" .!?\n\t").split())
    if len(role) > MAX_ROLE_CHARS:
        raise ValueError(f"role must be at most {MAX_ROLE_CHARS} characters")
    return role


def _choice(field: str, value: object, options: tuple[str, ...]) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if text not in options:
        raise ValueError(f"{field} must be one of {', '.join(options)}, got {value!r}")
    return text


def _techstack(value: object) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = ", ".join(value)
    if not isinstance(value, str):
        raise ValueError("techstack must be a list of strings")
    stack = normalize_techstack(value)
    if not stack:
        raise ValueError("techstack must name at least one technology")
    return stack


def _amount(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("amount must be an integer")
    number = value if isinstance(value, int) else parse_amount(str(value))
    if number is None or not MIN_AMOUNT <= number <= MAX_AMOUNT:
        raise ValueError(f"amount must be between {MIN_AMOUNT} and {MAX_AMOUNT}, got {value!r}")
    return number


MAX_FOLLOW_UP_WORDS = 25


def parse_follow_up(data: Any) -> str:
    """{"follow_up": "<one short question>"}: a question of at most 25 words."""
    if not isinstance(data, dict):
        raise ValueError("the reply must be a JSON object")
    text = data.get("follow_up")
    if not isinstance(text, str) or not text.strip().endswith("?"):
        raise ValueError('"follow_up" must be one question ending with "?"')
    text = " ".join(text.split())
    if len(text.split()) > MAX_FOLLOW_UP_WORDS:
        raise ValueError(f'"follow_up" must be at most {MAX_FOLLOW_UP_WORDS} words')
    return text
