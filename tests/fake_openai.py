"""A fake OpenAI-compatible HTTP server that the real `openai` SDK talks to over loopback.

Tests (and the benchmark suite) script what each route answers: a queue of `Reply`s per
path, consumed one per request, and a default behaviour once the queue is empty. Every
request received is recorded (path, JSON body or form fields), so a test can assert what
the provider actually sent.

    async with FakeOpenAI() as fake:
        fake.script("/v1/chat/completions", Reply.error(429), Reply.chat('{"questions": []}'))
        client = openai.AsyncOpenAI(api_key="test", base_url=fake.base_url)
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.speech_samples import encode, tone

CHAT = "/v1/chat/completions"
DEFAULT_ACKNOWLEDGEMENT = "Thanks, that is a clear answer."
TRANSCRIPTIONS = "/v1/audio/transcriptions"
SPEECH = "/v1/audio/speech"
DEFAULT_TRANSCRIPT = "I'd like a technical interview."
# OpenAI speech response_format -> (speech_samples format, Content-Type)
SPEECH_FORMATS = {"mp3": ("mp3", "audio/mpeg"), "opus": ("ogg", "audio/ogg"),
                  "aac": ("aac", "audio/aac"), "flac": ("flac", "audio/flac"),
                  "wav": ("wav", "audio/wav")}


@dataclass(frozen=True)
class Received:
    path: str
    json: Any  # the decoded JSON body, or None
    form: Mapping[str, str | bytes] = field(default_factory=dict)  # multipart/form fields
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """One scripted answer.

    `content` is a chat reply: sent as a completion, or as SSE chunks (split into
    `pieces`, or word by word) when the request asked for `stream=True`. Otherwise `json`
    or `body` is sent as is. `delay` is the time to the first byte (first token when
    streaming); `tokens_per_second` paces streamed chunks.
    """

    status: int = 200
    json: Any = None
    body: bytes | None = None
    content_type: str = "application/json"
    content: str | None = None
    pieces: tuple[str, ...] | None = None
    chunks: tuple[bytes, ...] | None = None  # a raw streamed body (e.g. audio)
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float | None = None
    tokens_per_second: float | None = None

    @classmethod
    def chat(cls, content: str, *, delay: float | None = None,
             tokens_per_second: float | None = None) -> Reply:
        return cls(content=content, delay=delay, tokens_per_second=tokens_per_second)

    @classmethod
    def stream(cls, pieces: list[str] | tuple[str, ...], *, delay: float | None = None,
               tokens_per_second: float | None = None) -> Reply:
        return cls(content="".join(pieces), pieces=tuple(pieces), delay=delay,
                   tokens_per_second=tokens_per_second)

    @classmethod
    def error(cls, status: int, message: str = "scripted failure", *,
              delay: float | None = None, retry_after_ms: int | None = 1) -> Reply:
        """An OpenAI-style error; a short Retry-After keeps the SDK's retries fast."""
        headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else {}
        if status == 429 and retry_after_ms is not None:
            headers["retry-after"] = "0"
        body = {"error": {"message": message, "type": "server_error", "code": None}}
        return cls(status=status, json=body, headers=headers, delay=delay)


Behaviour = Callable[[Received], Reply]


def default_chat(request: Received) -> Reply:
    return Reply.chat(DEFAULT_ACKNOWLEDGEMENT)


def default_transcription(request: Received) -> Reply:
    return Reply(json={"text": DEFAULT_TRANSCRIPT})


def default_speech(request: Received) -> Reply:
    """Half a second of tone in the requested format; "pcm" (24 kHz) streams in 4 chunks."""
    response_format = str((request.json or {}).get("response_format", "mp3"))
    audio = tone(0.5, rate=24000)
    if response_format == "pcm":
        step = len(audio.data) // 4
        chunks = tuple(audio.data[i : i + step] for i in range(0, len(audio.data), step))
        return Reply(chunks=chunks, content_type="audio/pcm")
    fmt, content_type = SPEECH_FORMATS.get(response_format, SPEECH_FORMATS["mp3"])
    return Reply(body=encode(audio, fmt), content_type=content_type)


class FakeOpenAI:
    """Loopback server on a free port; `base_url` ends in /v1 like the real API."""

    def __init__(self, *, first_token_delay: float = 0.0,
                 tokens_per_second: float | None = None) -> None:
        self.first_token_delay = first_token_delay
        self.tokens_per_second = tokens_per_second
        self.requests: list[Received] = []
        self.defaults: dict[str, Behaviour] = {
            CHAT: default_chat, TRANSCRIPTIONS: default_transcription, SPEECH: default_speech}
        self._scripts: defaultdict[str, deque[Reply]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, path: str, *replies: Reply) -> None:
        """Queue replies for `path` (e.g. "/v1/chat/completions"), one per request."""
        self._scripts[path].extend(replies)

    def set_default(self, path: str, behaviour: Behaviour | Reply) -> None:
        """What `path` answers once its script is used up."""
        if isinstance(behaviour, Reply):
            reply = behaviour
            self.defaults[path] = lambda _request: reply
        else:
            self.defaults[path] = behaviour

    def requests_to(self, path: str) -> list[Received]:
        return [request for request in self.requests if request.path == path]

    def pending(self, path: str) -> int:
        return len(self._scripts[path])

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        received = await _receive(request)
        self.requests.append(received)
        script = self._scripts[received.path]
        if script:
            reply = script.popleft()
        elif received.path in self.defaults:
            reply = self.defaults[received.path](received)
        else:
            reply = Reply.error(404, f"no fake for {received.path}", retry_after_ms=None)
        delay = self.first_token_delay if reply.delay is None else reply.delay
        if delay:
            await asyncio.sleep(delay)
        if reply.content is not None:
            return await self._chat(request, received, reply)
        if reply.chunks is not None:
            return await self._stream_raw(request, reply)
        if reply.body is not None:
            return web.Response(status=reply.status, body=reply.body,
                                content_type=reply.content_type, headers=reply.headers)
        return web.json_response(reply.json, status=reply.status, headers=reply.headers)

    def _pace(self, reply: Reply) -> float:
        rate = reply.tokens_per_second or self.tokens_per_second
        return 1.0 / rate if rate else 0.0

    async def _chat(self, request: web.Request, received: Received,
                    reply: Reply) -> web.StreamResponse:
        content = reply.content or ""
        model = (received.json or {}).get("model", "fake-model")
        if not (received.json or {}).get("stream"):
            return web.json_response(_completion(model, content), status=reply.status,
                                     headers=reply.headers)
        response = web.StreamResponse(status=reply.status, headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-cache", **reply.headers})
        await response.prepare(request)
        pieces = reply.pieces if reply.pieces is not None else _words(content)
        pause = self._pace(reply)
        for number, piece in enumerate(pieces):
            if number and pause:
                await asyncio.sleep(pause)
            await _send_event(response, _chunk(model, {"content": piece}, None))
        await _send_event(response, _chunk(model, {}, "stop"))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _stream_raw(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        response = web.StreamResponse(status=reply.status, headers={
            "Content-Type": reply.content_type, **reply.headers})
        await response.prepare(request)
        pause = self._pace(reply)
        for number, chunk in enumerate(reply.chunks or ()):
            if number and pause:
                await asyncio.sleep(pause)
            await response.write(chunk)
        await response.write_eof()
        return response


async def _receive(request: web.Request) -> Received:
    headers = {name.lower(): value for name, value in request.headers.items()}
    if request.content_type == "application/json":
        return Received(request.path, await request.json(), headers=headers)
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form: dict[str, str | bytes] = {}
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                form[name] = value.file.read()
            else:
                form[name] = value if isinstance(value, str) else bytes(value)
        return Received(request.path, None, form, headers)
    await request.read()
    return Received(request.path, None, headers=headers)


def _words(text: str) -> list[str]:
    """Split into word-sized deltas that concatenate back to `text` exactly."""
    words = text.split(" ")
    return [word if i == 0 else " " + word for i, word in enumerate(words)]


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(model: str, delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


async def _send_event(response: web.StreamResponse, payload: dict[str, Any]) -> None:
    await response.write(f"data: {json.dumps(payload)}\n\n".encode())
