"""The base64 voice WebSockets (seed protocol) for interview and collector sessions.

Client → server: user_audio {audio_base64, filename}, user_text {text}, ping.
Server → client: assistant_prompt, assistant_turn, completed, error {message, code}, pong.
A bad message gets an `error` and the socket stays usable; only a missing or foreign
session closes it, with the policy-violation code, and a frame over the frame limit,
with `error {code: frame_too_large, limit_bytes}` and then 1009 (api.sockets.JsonSocket).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from api import schemas, validation
from api.appkeys import (
    CALL_REGISTRY,
    LIMITER,
    SETTINGS,
    STT,
    TRANSCRIPTS,
    VOICE_SOCKETS,
)
from api.identity import address, socket_user
from api.refusals import Refusal
from api.sockets import JsonSocket, conversation_for, refuse
from api.speaking import spoken
from flows.errors import Conflict, FlowError, InvalidInput, NotFound
from metrics import ACTIVE_SOCKETS
from voice.audio import AudioError, Pcm, decode_audio
from voice.conversation import Conversation, Said
from voice.engine import Delivered, Heard, NothingHeard, TurnEngine

log = logging.getLogger(f"viva.{__name__}")

# Frames are capped at twice the audio limit (room for base64 and JSON); never lower than
# this, so a somewhat oversized recording gets `audio_too_large` and the socket stays open.
# A frame over the cap gets `error {code: frame_too_large}` and the socket closes (1009).
MIN_FRAME_BYTES = 1024 * 1024
ADDRESS = web.ResponseKey("client_address", str)  # for limits on each message
_DATA_URL = re.compile(r"data:[\w/+.-]*(;[\w=.-]+)*;base64,", re.IGNORECASE)


class MessageError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def interview_voice(request: web.Request) -> web.WebSocketResponse:
    return await _serve(request, "interview")


async def collector_voice(request: web.Request) -> web.WebSocketResponse:
    return await _serve(request, "collector")


async def _serve(request: web.Request, kind: str) -> web.WebSocketResponse:
    try:  # no credentials (401), another user (403), too many sockets (429): HTTP answers
        session_id = validation.path(request, schemas.SessionPath).session_id
        owner = await socket_user(request, kind, session_id)
    except InvalidInput as error:  # a malformed id or user_id: refused inside the socket
        return await refuse(request, kind, error)
    async with request.app[LIMITER].hold("sockets", owner, address(request)):
        return await _open(request, kind, conversation_for(request, kind, owner, "websocket"))


async def _open(
    request: web.Request, kind: str, conversation: Conversation
) -> web.WebSocketResponse:
    app = request.app
    frame_limit = max(app[SETTINGS].max_audio_bytes * 2, MIN_FRAME_BYTES)
    ws = JsonSocket(heartbeat=30, max_msg_size=frame_limit)
    await ws.prepare(request)
    session_id = conversation.session_id
    ws[ADDRESS] = address(request)
    try:  # after prepare, errors cannot become HTTP responses: refuse with a close code
        said = await conversation.prompt()
    except (NotFound, InvalidInput) as error:
        log.info("voice socket refused: %s %s: %s", kind, session_id, error.code)
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=error.code.encode())
        return ws
    except Exception:  # never an HTTP error page inside an upgraded socket
        log.exception("voice socket %s %s: could not start", kind, session_id)
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal_error")
        return ws
    registry = app[CALL_REGISTRY]
    try:  # a voice socket is a call too: one per session, cluster-wide
        claim = await registry.claim(session_id)
    except Conflict as error:
        log.info("voice socket refused: %s %s: %s", kind, session_id, error.code)
        await ws.send_json({"type": "error", "code": error.code, "message": error.message})
        await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=error.code.encode())
        return ws
    log.info("voice socket open: %s %s", kind, session_id)
    app[VOICE_SOCKETS].add(ws)
    ACTIVE_SOCKETS.inc()
    engine = TurnEngine(
        conversation, app[STT], app[TRANSCRIPTS], "websocket", app[SETTINGS].vad_aggressiveness
    )
    try:
        await engine.say(said, _SocketMouth(app, ws, "assistant_prompt"))
        async for message in ws:
            if message.type == WSMsgType.ERROR:
                break
            await _answer(app, ws, engine, message)
    except ConnectionResetError:  # the client left mid-reply; its turn is already stored
        log.info("voice socket lost: %s %s", kind, session_id)
    finally:
        ACTIVE_SOCKETS.dec()
        await registry.release(session_id, claim)
    log.info("voice socket closed: %s %s", kind, session_id)
    return ws


async def _answer(
    app: web.Application, ws: web.WebSocketResponse, engine: TurnEngine, message: Any
) -> None:
    """Handle one client message; whatever goes wrong, the client gets an `error` frame."""
    conversation = engine.conversation
    try:
        await _handle(app, ws, engine, message)
    except (MessageError, FlowError, AudioError) as error:
        await ws.send_json({"type": "error", "code": error.code, "message": str(error)})
    except Refusal as refusal:  # a limit: the socket stays open for later turns
        retry_after = int(refusal.headers.get("Retry-After", 0)) or None
        await ws.send_json(
            {
                "type": "error",
                "code": refusal.code,
                "message": refusal.detail,
                "retry_after": retry_after,
            }
        )
    except ConnectionResetError:
        raise
    except Exception:  # the socket's counterpart of the HTTP error middleware
        log.exception(
            "voice socket %s %s: unhandled error", conversation.kind, conversation.session_id
        )
        await ws.send_json(
            {
                "type": "error",
                "code": "internal_error",
                "message": "Something went wrong on our side; please try again.",
            }
        )


async def _handle(
    app: web.Application, ws: web.WebSocketResponse, engine: TurnEngine, message: Any
) -> None:
    """Turn one message into the engine's input, and its reply into `assistant_turn`."""
    if message.type == WSMsgType.BINARY:
        raise MessageError("binary_not_supported", "Send JSON text messages, not binary frames.")
    if message.type != WSMsgType.TEXT:
        return
    unknown = InvalidInput("unknown_type", "type must be user_audio, user_text or ping.")
    data = validation.message(schemas.VOICE_MESSAGES, message.data, unknown)
    received = time.monotonic()
    if isinstance(data, schemas.Ping):
        await ws.send_json({"type": "pong"})
        return
    user = engine.conversation.user_id
    await app[LIMITER].spend("turns", user, ws[ADDRESS])
    if isinstance(data, schemas.UserText):
        heard = Heard(
            received, "message_received", text=data.text, marks={"transcript": time.monotonic()}
        )
    else:
        assert isinstance(data, schemas.UserAudio)
        pcm = await _audio(app, data)
        await app[LIMITER].spend("audio_seconds", user, ws[ADDRESS], pcm.duration_s)
        # a recording starts when the client starts recording: the wait counts from there
        heard = Heard(
            received, "message_received", pcm=pcm, question_end=0.0, wait_source="recording_start"
        )
    try:
        said = await engine.take_turn(heard, _SocketMouth(app, ws, "assistant_turn"))
    except NothingHeard:
        raise MessageError(
            "nothing_heard", "I couldn't make out any words; please try again."
        ) from None
    if said.completed:
        await ws.send_json({"type": "completed", **said.fields})


class _SocketMouth:
    """The socket's wire for a reply: one JSON message carrying the whole clip."""

    def __init__(self, app: web.Application, ws: web.WebSocketResponse, kind: str) -> None:
        self.app = app
        self.ws = ws
        self.kind = kind  # assistant_prompt | assistant_turn
        self.heard: str | None = None

    async def user_text(self, text: str) -> None:
        self.heard = text

    async def push(self, piece: str) -> None:
        """The socket sends the reply whole: nothing to do per piece."""

    async def audible(self) -> None:
        """A socket's answer is one message, its recording already over: store it at once."""

    async def deliver(self, said: Said) -> Delivered:
        replied = time.monotonic()
        await self.ws.send_json(await _payload(self.app, self.kind, said, user_text=self.heard))
        return Delivered({"reply_text": replied, "reply_sent": time.monotonic()})

    async def finish(self, said: Said) -> str | None:
        return None  # a clip is never cut short


async def _audio(app: web.Application, data: schemas.UserAudio) -> Pcm:
    """The recording of a user_audio message, decoded."""
    settings = app[SETTINGS]
    encoded = data.audio_base64.strip()
    if (prefix := _DATA_URL.match(encoded)) is not None:  # FileReader.readAsDataURL output
        encoded = encoded[prefix.end() :]
    if not encoded:
        raise AudioError("audio_empty", "The recording is empty.")
    if len(encoded) > settings.max_audio_bytes * 4 // 3 + 4:
        raise AudioError(
            "audio_too_large", f"Audio is limited to {settings.max_audio_bytes} bytes."
        )
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise MessageError("invalid_base64", "audio_base64 is not valid base64.") from None
    return await decode_audio(
        raw, max_bytes=settings.max_audio_bytes, max_seconds=settings.max_audio_seconds
    )


async def _payload(
    app: web.Application, kind: str, said: Said, user_text: str | None = None
) -> dict[str, Any]:
    audio, content_type = await spoken(app, said.text)
    payload: dict[str, Any] = {"type": kind}
    if user_text is not None:
        payload["user_text"] = user_text
    payload.update(
        assistant_text=said.text,
        assistant_audio_base64=audio,
        assistant_audio_content_type=content_type,
        completed=said.completed,
        **said.fields,
    )
    return payload
