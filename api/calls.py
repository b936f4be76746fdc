"""WebRTC signaling: one WebSocket per call, for a collector or an interview session.

Client → server: offer {sdp} (once per call), candidate {candidate: {candidate, sdpMid,
sdpMLineIndex}}, user_text {text} (the text fallback: a turn like a spoken one, taken after
the reply in progress), ping, hangup.
Server → client: hello {ice_servers (TURN credentials minted for this call), completed,
session fields}, answer {sdp}, state
{state: listening | thinking | speaking | ended}, speech {event: start | end},
user_transcript {text}, assistant_text {text} (each sentence as it starts), assistant_done
{text, interrupted} (what was heard), barge_in, turn {status, question_index |
expected_field, …}, completed {…, interview_id for the collector}, error {code, message},
pong, draining {reconnect, message} (the server is shutting down: reconnect).
One live call per session across all instances: a second gets error {code: session_in_call}
(or `draining`) and the socket closes with 1013 "try again later".
The call ends on hangup, when either side closes the socket, or when the peer connection
fails or closes (the server then closes the socket with "going away"). A bad message gets
an `error` and the call goes on; a missing or foreign session closes the socket at once
with the policy-violation code. A frame over 256 KiB gets `error {code: frame_too_large,
limit_bytes}` and the socket closes with 1009 (message too big).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from aiortc.exceptions import InvalidAccessError, InvalidStateError, OperationError

from api import schemas, validation
from api.appkeys import CALL_REGISTRY, CALLS, LIMITER, SETTINGS, STT, TRANSCRIPTS, TTS
from api.identity import address, socket_user
from api.sockets import JsonSocket, conversation_for, refuse
from flows.errors import Conflict, InvalidInput, NotFound
from metrics import ACTIVE_CALLS
from settings import Settings
from voice.call import Call, CallConfig
from voice.end_of_turn import TurnPolicy
from voice.ice import call_ice_servers
from voice.vad import VadConfig

log = logging.getLogger(f"viva.{__name__}")
MAX_SIGNAL_BYTES = 256 * 1024
# What a malformed offer or candidate raises in aiortc and its SDP parser.
_SIGNAL_ERRORS = (
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    InvalidAccessError,
    InvalidStateError,
    OperationError,
)


async def interview_call(request: web.Request) -> web.WebSocketResponse:
    return await _serve(request, "interview")


async def collector_call(request: web.Request) -> web.WebSocketResponse:
    return await _serve(request, "collector")


async def _serve(request: web.Request, kind: str) -> web.WebSocketResponse:
    # no credentials (401), another user (403), over a limit (429): HTTP answers, before
    # the socket opens
    try:  # a malformed id or user_id: refused inside the socket, like a voice socket
        session_id = validation.path(request, schemas.SessionPath).session_id
        owner = await socket_user(request, kind, session_id)
    except InvalidInput as error:
        return await refuse(request, kind, error)
    limiter, where = request.app[LIMITER], address(request)
    await limiter.check("audio_seconds", owner, where)
    async with limiter.hold("calls", owner, where):
        started = time.monotonic()
        try:
            return await _call(request, kind, owner)
        finally:  # a call's minutes count against the daily audio budget
            await limiter.charge("audio_seconds", owner, where, time.monotonic() - started)


async def _call(request: web.Request, kind: str, owner: str) -> web.WebSocketResponse:
    app = request.app
    conversation = conversation_for(request, kind, owner, "webrtc")
    ws = JsonSocket(heartbeat=30, max_msg_size=MAX_SIGNAL_BYTES)
    await ws.prepare(request)
    try:
        said = await conversation.prompt()
    except NotFound as error:
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=error.code.encode())
        return ws
    except Exception:  # never an HTTP error page inside an upgraded socket
        log.exception("call socket %s: could not start", kind)
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal_error")
        return ws
    registry = app[CALL_REGISTRY]
    try:  # one live call per session, cluster-wide
        claim = await registry.claim(conversation.session_id)
    except Conflict as error:  # session_in_call, draining: try again later (elsewhere)
        log.info("call refused: %s %s: %s", kind, conversation.session_id, error.code)
        await ws.send_json(_error(error.code, error.message))
        await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=error.code.encode())
        return ws
    try:
        await _run_call(request, ws, conversation, said)
    finally:
        await registry.release(conversation.session_id, claim)
    return ws


async def _run_call(
    request: web.Request, ws: web.WebSocketResponse, conversation: Any, said: Any
) -> None:
    app = request.app

    async def send(event: dict[str, Any]) -> None:
        if not ws.closed:
            await ws.send_json(event)

    calls = app[CALLS]
    settings = app[SETTINGS]
    # the browser and this side use the same servers; TURN credentials minted per call
    ice_servers = call_ice_servers(
        settings.ice_servers,
        settings.turn_secret,
        conversation.user_id,
        settings.turn_credential_ttl_seconds,
    )

    def closed(call: Call) -> None:
        calls.discard(call)
        ACTIVE_CALLS.dec()

    call = Call(
        conversation,
        call_config(settings, conversation.kind, ice_servers),
        app[STT],
        app[TTS],
        app[TRANSCRIPTS],
        send,
        on_closed=closed,
    )
    calls.add(call)
    ACTIVE_CALLS.inc()
    watcher = asyncio.ensure_future(_close_when_ended(call, ws))
    try:
        await send(
            {
                "type": "hello",
                "ice_servers": ice_servers,
                "completed": said.completed,
                **said.fields,
            }
        )
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                if not await _handle(call, send, message.data):
                    break
            elif message.type == WSMsgType.BINARY:
                await send(_error("binary_not_supported", "Send JSON text messages."))
            elif message.type == WSMsgType.ERROR:
                break
    finally:
        code = WSCloseCode.GOING_AWAY if call.ended.is_set() else WSCloseCode.OK
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        # Runs to the end (and leaves CALLS) even if this handler is cancelled meanwhile.
        await call.close()
        await ws.close(code=code)


def call_config(
    settings: Settings, kind: str, ice_servers: Sequence[Mapping[str, object]]
) -> CallConfig:
    """The call's part of the settings; the silence window depends on the conversation."""
    silence = (
        settings.vad_silence_ms_collector
        if kind == "collector"
        else settings.vad_silence_ms_interview
    )
    turns = TurnPolicy.for_conversation(
        kind, settings.end_of_turn, silence, words_at_ms=settings.words_at_ms
    )
    # The segmenter's own silence window is the longest a turn can stay open; in the
    # adaptive mode the end-of-turn decision usually ends it sooner (voice/end_of_turn.py).
    pause = turns.words_at_ms if turns.mode == "adaptive" else settings.early_transcript_ms
    vad = VadConfig(
        aggressiveness=settings.vad_aggressiveness,
        pre_speech_ms=settings.vad_pre_speech_ms,
        silence_ms=turns.longest_ms,
        min_utterance_ms=settings.vad_min_utterance_ms,
        pause_ms=pause if 0 < pause < turns.longest_ms else None,
    )
    return CallConfig(
        vad=vad,
        turns=turns,
        ice_servers=ice_servers,
        relay_only=settings.ice_transport_policy == "relay",
        barge_in_ms=settings.barge_in_ms,
        streaming_replies=settings.streaming_replies,
        decode_on_arrival=settings.decode_on_arrival,
    )


async def _close_when_ended(call: Call, ws: web.WebSocketResponse) -> None:
    """The media side ended (network lost, peer closed): end the signaling side too."""
    await call.ended.wait()
    log.info("[%s] peer connection ended; closing the signaling socket", call.id)
    await ws.close(code=WSCloseCode.GOING_AWAY, message=b"call ended")


async def _handle(call: Call, send: Any, raw: str) -> bool:
    """Handle one signaling message; False ends the call."""
    unknown = InvalidInput("bad_message", "Expected offer, candidate, user_text, ping or hangup.")
    try:
        data = validation.message(schemas.CALL_MESSAGES, raw, unknown)
    except InvalidInput as error:
        await send(_error(error.code, error.message))
        return True
    kind = str(getattr(data, "type", "signaling"))
    try:
        if isinstance(data, schemas.Offer):
            await send({"type": "answer", "sdp": await call.answer(data.sdp)})
        elif isinstance(data, schemas.Candidate):
            candidate = data.candidate.model_dump() if data.candidate else None
            await call.add_candidate(candidate)
        elif isinstance(data, schemas.UserText):
            await call.user_text(data.text)
        elif isinstance(data, schemas.Ping):
            await send({"type": "pong"})
        else:  # Hangup
            return False
    except _SIGNAL_ERRORS as error:
        log.info("[%s] bad signaling message: %s", call.id, error)
        await send(_error("bad_signal", f"Could not use that {kind} message: {error}"))
    return True


def _error(code: str, message: str) -> dict[str, str]:
    return {"type": "error", "code": code, "message": message}
