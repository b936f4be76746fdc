"""What the two voice sockets share: opening a session's conversation, refusing in-socket.

The base64 voice WebSocket (`api.voice_ws`) and the WebRTC signaling socket (`api.calls`)
both serve one session for its verified owner. Errors found before the upgrade are HTTP
answers; an id that is malformed is refused inside the socket with close code 1008, so a
browser's WebSocket sees the reason instead of a failed handshake.
"""

from __future__ import annotations

import logging

from aiohttp import WSCloseCode, web

from api.appkeys import CONVERSATIONS
from flows.errors import FlowError
from voice.conversation import Conversation

log = logging.getLogger(f"viva.{__name__}")


def conversation_for(request: web.Request, kind: str, owner: str, path: str) -> Conversation:
    """The conversation a session route names (session id in the path) for its verified
    owner; `path` (rest, websocket, webrtc) labels its turns."""
    return request.app[CONVERSATIONS].open(kind, request.match_info["session_id"], owner, path)


async def refuse(request: web.Request, kind: str, error: FlowError) -> web.WebSocketResponse:
    """Upgrade, then close with 1008 (policy violation) and the error's code."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    log.info("socket refused: %s %r: %s", kind, request.match_info["session_id"], error.code)
    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=error.code.encode())
    return ws
