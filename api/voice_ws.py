"""The base64 voice WebSockets (seed protocol) for interview and collector sessions.

Client → server: user_audio {audio_base64, filename}, user_text {text}, ping.
Server → client: assistant_prompt, assistant_turn, completed, error {message, code}, pong.
A bad message gets an `error` and the socket stays usable; only a missing or foreign
session closes it, with the policy-violation code.
"""

from __future__ import annotations

import asyncio
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
    COLLECTOR,
    INTERVIEWS,
    LIMITER,
    SETTINGS,
    STT,
    TRANSCRIPTS,
    VOICE_SOCKETS,
)
from api.identity import address, socket_user
from api.refusals import Refusal
from api.speaking import spoken
from flows.delivery import VoiceTiming
from flows.errors import Conflict, FlowError, InvalidInput, NotFound
from metrics import ACTIVE_SOCKETS, TURNS, observe_turn_stages
from voice.audio import AudioError, decode_audio
from voice.conversation import (
    CollectorConversation,
    Conversation,
    InterviewConversation,
    Said,
)
from voice.timing import speech_spans

log = logging.getLogger(f"viva.{__name__}")

# Frames are capped at twice the audio limit (room for base64 and JSON); never lower than
# this, so a somewhat oversized recording gets an `error` rather than a closed socket (1009).
MIN_FRAME_BYTES = 1024 * 1024
ADDRESS = web.ResponseKey("client_address", str)  # for limits on each message
_DATA_URL = re.compile(r"data:[\w/+.-]*(;[\w=.-]+)*;base64,", re.IGNORECASE)


class MessageError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def conversation_for(request: web.Request, kind: str, owner: str) -> Conversation:
    """The conversation a voice route names (session id in the path) for its verified user."""
    return session_conversation(request.app, kind, request.match_info["session_id"], owner)


def session_conversation(
    app: web.Application, kind: str, session_id: str, owner: str
) -> Conversation:
    """The collector or interview conversation of a session, as the voice paths see it."""
    if kind == "collector":
        return CollectorConversation(app[COLLECTOR], session_id, owner)
    return InterviewConversation(app[INTERVIEWS], session_id, owner)


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
        return await _open(request, kind, conversation_for(request, kind, owner))


async def refuse(request: web.Request, kind: str, error: FlowError) -> web.WebSocketResponse:
    """Upgrade, then close with 1008 (policy violation) and the error's code."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    log.info(
        "socket refused: %s %r: %s", kind, request.match_info["session_id"], error.code
    )
    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=error.code.encode())
    return ws


async def _open(
    request: web.Request, kind: str, conversation: Conversation
) -> web.WebSocketResponse:
    app = request.app
    frame_limit = max(app[SETTINGS].max_audio_bytes * 2, MIN_FRAME_BYTES)
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=frame_limit)
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
    try:
        await ws.send_json(await _payload(app, "assistant_prompt", said))
        async for message in ws:
            if message.type == WSMsgType.ERROR:
                break
            await _answer(app, ws, conversation, message)
    except ConnectionResetError:  # the client left mid-reply; its turn is already stored
        log.info("voice socket lost: %s %s", kind, session_id)
    finally:
        ACTIVE_SOCKETS.dec()
        await registry.release(session_id, claim)
    log.info("voice socket closed: %s %s", kind, session_id)
    return ws


async def _answer(
    app: web.Application, ws: web.WebSocketResponse, conversation: Conversation, message: Any
) -> None:
    """Handle one client message; whatever goes wrong, the client gets an `error` frame."""
    try:
        await _handle(app, ws, conversation, message)
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
    app: web.Application, ws: web.WebSocketResponse, conversation: Conversation, message: Any
) -> None:
    if message.type == WSMsgType.BINARY:
        raise MessageError("binary_not_supported", "Send JSON text messages, not binary frames.")
    if message.type != WSMsgType.TEXT:
        return
    unknown = InvalidInput("unknown_type", "type must be user_audio, user_text or ping.")
    data = validation.message(schemas.VOICE_MESSAGES, message.data, unknown)
    received = time.monotonic()
    voice: VoiceTiming | None = None
    if isinstance(data, schemas.Ping):
        await ws.send_json({"type": "pong"})
        return
    await app[LIMITER].spend("turns", conversation.user_id, ws[ADDRESS])
    if isinstance(data, schemas.UserText):
        text = data.text
    else:
        assert isinstance(data, schemas.UserAudio)
        text, voice = await _transcribe(app, ws, conversation, data)
    transcribed = time.monotonic()
    said = await conversation.turn(text, voice=voice)
    replied = time.monotonic()
    payload = await _payload(app, "assistant_turn", said, user_text=text)
    await ws.send_json(payload)
    await _record(app, conversation, said, received, transcribed, replied)
    if said.completed:
        await ws.send_json({"type": "completed", **said.fields})


async def _record(
    app: web.Application,
    conversation: Conversation,
    said: Said,
    received: float,
    transcribed: float,
    replied: float,
) -> None:
    """Store and export the turn's stages, in ms from the moment the message arrived."""
    sent = time.monotonic()
    stages = {
        "transcript": round((transcribed - received) * 1000, 1),
        "reply_text": round((replied - received) * 1000, 1),
        "reply_sent": round((sent - received) * 1000, 1),
    }
    TURNS.labels("websocket", conversation.kind).inc()
    observe_turn_stages("websocket", stages)
    if said.assistant_entry_id is not None:
        await app[TRANSCRIPTS].revise(
            said.assistant_entry_id, timings={"message_received": 0.0, **stages}
        )


async def _transcribe(
    app: web.Application,
    ws: web.WebSocketResponse,
    conversation: Conversation,
    data: schemas.UserAudio,
) -> tuple[str, VoiceTiming]:
    """The recording's text, and where its speech is (a recording starts when the client
    starts recording, so the wait before the first word is counted from there)."""
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
    pcm = await decode_audio(
        raw, max_bytes=settings.max_audio_bytes, max_seconds=settings.max_audio_seconds
    )
    user, where = conversation.user_id, ws[ADDRESS]
    await app[LIMITER].spend("audio_seconds", user, where, pcm.duration_s)
    text = (await app[STT].transcribe(pcm, await conversation.hints())).text.strip()
    if not text:
        raise MessageError("nothing_heard", "I couldn't make out any words; please try again.")
    spans = await asyncio.to_thread(speech_spans, pcm, settings.vad_aggressiveness)
    return text, VoiceTiming(spans, pcm.duration_s, 0.0, "recording_start")


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
