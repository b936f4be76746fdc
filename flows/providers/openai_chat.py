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
        # The streamed reply (a voice turn's acknowledgement, on the path to its first
        # audio) goes through the client's own `post`: the SDK's retries, timeouts, error
        # classes and in-stream error events stay, but the messages are sent as written
        # (they are already the wire format the SDK's transform would rebuild) and each
        # chunk stays the decoded JSON instead of becoming pydantic objects. Together
        # that was ~40 % of the SDK's CPU per streamed reply (2026-11-30, README).
        stream = await self.client.post(
            "/chat/completions",
            body={"model": self.model, "messages": messages, "stream": True},
            cast_to=object,
            stream=True,
            stream_cls=openai.AsyncStream[object],
        )
        async with stream:
            async for chunk in stream:
                piece = _content(chunk)
                if piece:
                    yield piece


def _content(chunk: object) -> str | None:
    """The text of one streamed chunk (`choices[0].delta.content`), if it has any."""
    if not isinstance(chunk, dict):
        raise ValueError("a streamed chunk is not a JSON object")
    choices = chunk.get("choices")
    if not choices:
        return None  # e.g. a usage chunk
    if not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise ValueError("a streamed chunk's choices are not a list of objects")
    delta = choices[0].get("delta")
    if not isinstance(delta, dict):
        return None  # a finish-only or annotation chunk (some compatible servers send them)
    content = delta.get("content")
    return content if isinstance(content, str) else None
