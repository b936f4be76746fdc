"""Viva's chat tasks: one small interface, and the layer that degrades to offline.

`Chat` is what flows use. It asks the model-backed provider (`flows/model_chat.py`) when
there is one and falls back to the offline provider (`flows/offline_chat.py`) for that
call when the model fails after the SDK's retries, so a turn never fails because a model
did.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from flows.collector_nlu import Intent, Reading
from flows.feedback import Feedback
from flows.providers.base import ProviderError
from flows.question_bank import InterviewSetup

log = logging.getLogger(f"viva.{__name__}")

QAPairs = Sequence[tuple[str, str | None]]


class ChatProvider(Protocol):
    name: str

    async def read_collector_message(self, expected_field: str, text: str) -> Reading: ...

    async def generate_questions(self, setup: InterviewSetup) -> list[str]: ...

    def acknowledge(self, question: str, answer: str, index: int) -> AsyncIterator[str]:
        """Stream a one-sentence acknowledgement of an answer, token by token."""
        ...

    async def feedback(self, setup: InterviewSetup, pairs: QAPairs) -> Feedback: ...

    async def follow_up(self, question: str, answer: str, offline: str) -> str:
        """One short follow-up question on a thin answer; `offline` is the rules' own."""
        ...


class Chat:
    """Primary provider (OpenAI) when configured, offline behaviour when it fails."""

    def __init__(self, offline: ChatProvider, primary: ChatProvider | None = None) -> None:
        self.offline = offline
        self.primary = primary

    @property
    def name(self) -> str:
        return self.primary.name if self.primary else self.offline.name

    async def read_collector_message(self, expected_field: str, text: str) -> Reading:
        """Rules first (instant, free); the model only for what the rules cannot read."""
        reading = await self.offline.read_collector_message(expected_field, text)
        if reading.intent is not Intent.INVALID or self.primary is None:
            return reading
        try:
            return await self.primary.read_collector_message(expected_field, text)
        except ProviderError as error:
            log.warning("collector reading falls back to rules: %s", error)
            return reading

    async def generate_questions(self, setup: InterviewSetup) -> tuple[list[str], str]:
        """Exactly setup.amount questions, and where they came from."""
        if self.primary is not None:
            try:
                return await self.primary.generate_questions(setup), self.primary.name
            except ProviderError as error:
                log.warning("question generation falls back to the bank: %s", error)
        return await self.offline.generate_questions(setup), self.offline.name

    async def acknowledge(self, question: str, answer: str, index: int) -> AsyncIterator[str]:
        if self.primary is not None:
            produced = False
            try:
                async for piece in self.primary.acknowledge(question, answer, index):
                    produced = True
                    yield piece
                if produced:
                    return
            except ProviderError as error:
                log.warning("acknowledgement falls back to offline: %s", error)
                if produced:  # what was already said stands; end the sentence cleanly
                    return
        async for piece in self.offline.acknowledge(question, answer, index):
            yield piece

    async def feedback(self, setup: InterviewSetup, pairs: QAPairs) -> tuple[Feedback, str]:
        if self.primary is not None:
            try:
                return await self.primary.feedback(setup, pairs), self.primary.name
            except ProviderError as error:
                log.warning("feedback falls back to offline scoring: %s", error)
        return await self.offline.feedback(setup, pairs), self.offline.name

    async def follow_up(self, question: str, answer: str, offline: str) -> str:
        if self.primary is not None:
            try:
                return await self.primary.follow_up(question, answer, offline)
            except ProviderError as error:
                log.warning("follow-up question falls back to the rules: %s", error)
        return offline
