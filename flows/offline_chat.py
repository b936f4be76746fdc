"""The offline chat provider: rules, a bundled question bank, heuristic feedback."""

from __future__ import annotations

from collections.abc import AsyncIterator

from flows import offline_replies
from flows.chat import QAPairs
from flows.collector_nlu import Reading, read_message
from flows.feedback import Feedback, offline_feedback
from flows.question_bank import InterviewSetup, bank_questions


class OfflineChat:
    name = "offline"

    async def read_collector_message(self, expected_field: str, text: str) -> Reading:
        return read_message(expected_field, text)

    async def generate_questions(self, setup: InterviewSetup) -> list[str]:
        return bank_questions(setup)

    async def acknowledge(self, question: str, answer: str, index: int) -> AsyncIterator[str]:
        yield offline_replies.acknowledge(answer, index)

    async def feedback(self, setup: InterviewSetup, pairs: QAPairs) -> Feedback:
        return offline_feedback(setup, list(pairs))

    async def follow_up(self, question: str, answer: str, offline: str) -> str:
        return offline  # from the key points the answer missed (flows.coaching)
