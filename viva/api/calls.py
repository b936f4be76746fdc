"""WebRTC signaling: one WebSocket per call, for a collector or an interview session.

Client → server: offer {sdp}, candidate {candidate: {candidate, sdpMid, sdpMLineIndex}},
user_text {text} (the text fallback), ping, hangup.
Server → client: hello {ice_servers, session fields}, answer {sdp}, state {state},
speech {event}, user_transcript {text}, assistant_text {text}, assistant_done {text,
interrupted}, barge_in, turn {status, question_index | expected_field …}, completed,
error {code, message}, pong.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from viva.api.voice_ws import conversation_for
from viva.appkeys import CALLS, SETTINGS, STT, TRANSCRIPTS, TTS
from viva.flows.errors import NotFound
from viva.voice.call import Call

log = logging.getLogger(__name__)
MAX_SIGNAL_BYTES = 256 * 1024


async def interview_call(request: web.Request) -> web.WebSocketResponse:
    return await _serve(request, "interview")


async def collector_call(request: web.Request) -> web.WebSocketResponse:
    return await _serve(request, "collector")


async def _serve(request: web.Request, kind: str) -> web.WebSocketResponse:
    app = request.app
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_SIGNAL_BYTES)
    await ws.prepare(request)
    conversation = conversation_for(request, kind)
    try:
        said = await conversation.prompt()
    except NotFound as error:
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=error.message.encode())
        return ws

    async def send(event: dict[str, Any]) -> None:
        if not ws.closed:
            await ws.send_json(event)

    call = Call(conversation, app[SETTINGS], app[STT], app[TTS], app[TRANSCRIPTS], send)
    app[CALLS].add(call)
    await send(
        {
            "type": "hello",
            "ice_servers": [dict(server) for server in app[SETTINGS].ice_servers],
            "completed": said.completed,
            **said.fields,
        }
    )
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                if not await _handle(call, send, message.data):
                    break
            elif message.type == WSMsgType.BINARY:
                await send(_error("binary_not_supported", "Send JSON text messages."))
            elif message.type == WSMsgType.ERROR:
                break
    finally:
        app[CALLS].discard(call)
        await call.close()
        await ws.close()
    return ws


async def _handle(call: Call, send: Any, raw: str) -> bool:
    """Handle one signaling message; False ends the call."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        await send(_error("malformed_json", "Messages must be JSON objects."))
        return True
    if not isinstance(data, dict):
        await send(_error("malformed_json", "Messages must be JSON objects."))
        return True
    kind = data.get("type")
    try:
        if kind == "offer" and isinstance(data.get("sdp"), str):
            await send({"type": "answer", "sdp": await call.answer(data["sdp"])})
        elif kind == "candidate":
            await call.add_candidate(data.get("candidate"))
        elif kind == "user_text" and isinstance(data.get("text"), str) and data["text"].strip():
            await call.user_text(data["text"].strip())
        elif kind == "ping":
            await send({"type": "pong"})
        elif kind == "hangup":
            return False
        else:
            await send(
                _error("bad_message", "Expected offer, candidate, user_text, ping or hangup.")
            )
    except (ValueError, IndexError, KeyError, TypeError, AttributeError) as error:
        log.info("[%s] bad signaling message: %s", call.id, error)
        await send(_error("bad_signal", f"Could not use that {kind} message: {error}"))
    return True


def _error(code: str, message: str) -> dict[str, str]:
    return {"type": "error", "code": code, "message": message}
