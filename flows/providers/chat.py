"""The chat capability as vendors see it: messages in, text out.

A vendor subclasses `ChatModel` and fills one hook, `_generate`. The public methods wrap
it in `map_errors("chat")`, so every vendor's failures surface as a counted
`ProviderError`. What the messages say and how replies are validated is Viva's business
(`flows/prompts.py`, `flows/model_chat.py`), not the vendor's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator
from contextlib import aclosing

from flows.providers.base import map_errors

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}


class ChatModel(ABC):
    """One chat model; `_generate` is the only thing a vendor writes."""

    name: str

    async def complete_json(self, messages: list[Message]) -> str:
        """The whole reply to a request for one JSON object (not yet validated)."""
        with map_errors("chat"):
            async with aclosing(self._generate(messages, json_object=True)) as pieces:
                return "".join([piece async for piece in pieces])

    async def stream(self, messages: list[Message]) -> AsyncGenerator[str, None]:
        """The reply as plain text, piece by piece as the model produces it."""
        with map_errors("chat"):
            async with aclosing(self._generate(messages, json_object=False)) as pieces:
                async for piece in pieces:
                    yield piece

    @abstractmethod
    def _generate(self, messages: list[Message], json_object: bool) -> AsyncGenerator[str, None]:
        """The reply's text in pieces; `json_object` asks for one JSON object.

        Raise the vendor's own errors (or ValueError for a reply without content):
        the base class maps them.
        """
