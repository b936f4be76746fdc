"""The offline chat provider: rules, a bundled question bank, heuristic feedback."""

from __future__ import annotations

from collections.abc import AsyncIterator

from viva.flows import offline_replies
from viva.flows.collector_nlu import Reading, read_message
from viva.flows.feedback import Feedback, offline_feedback
from viva.flows.question_bank import InterviewSetup, bank_questions
from viva.providers.chat import QAPairs


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
