"""The OpenAI chat model: JSON tasks as one completion, plain text streamed.

Transport retries (429, 5xx, timeouts) are the SDK's (`max_retries` of `OpenAIConfig`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import cast

import openai
from openai.types.chat import ChatCompletionMessageParam

from flows.providers.chat import ChatModel, Message


@dataclass(frozen=True)
class ChatConfig:
    model: str = "gpt-4o-mini"


class OpenAIChatModel(ChatModel):
    name = "openai"

    def __init__(self, client: openai.AsyncOpenAI, config: ChatConfig) -> None:
        self.client = client
        self.model = config.model

    async def _generate(
        self, messages: list[Message], json_object: bool
    ) -> AsyncGenerator[str, None]:
        params = cast("list[ChatCompletionMessageParam]", messages)
        if json_object:
            completion = await self.client.chat.completions.create(
                model=self.model, messages=params, response_format={"type": "json_object"}
            )
            if not completion.choices:
                raise ValueError("the reply has no choices")
            yield completion.choices[0].message.content or ""
            return
        stream = await self.client.chat.completions.create(
            model=self.model, messages=params, stream=True
        )
        async with stream:
            async for chunk in stream:
                piece = chunk.choices[0].delta.content if chunk.choices else None
                if piece:
                    yield piece
