"""What the two voice sockets share: opening a session's conversation, refusing in-socket.

The base64 voice WebSocket (`api.voice_ws`) and the WebRTC signaling socket (`api.calls`)
both serve one session for its verified owner. Errors found before the upgrade are HTTP
answers; an id that is malformed is refused inside the socket with close code 1008, so a
browser's WebSocket sees the reason instead of a failed handshake. A frame over the
socket's size limit gets an `error` message naming the limit, then close code 1009.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSCloseCode, web

from api.appkeys import CONVERSATIONS
from flows.errors import FlowError
from voice.conversation import Conversation

log = logging.getLogger(f"viva.{__name__}")
# How long an oversized frame may go on arriving (and be dropped) before the close.
OVERSIZE_LINGER_S = 1.0


class JsonSocket(web.WebSocketResponse):
    """A JSON WebSocket whose client learns why an oversized frame ended it.

    aiohttp's reader refuses a frame over `max_msg_size` at its header, unbuffered, and
    closes the socket at once with 1009 (message too big); that close is the one place
    left to speak first. So a close with 1009 sends `error {code: "frame_too_large",
    limit_bytes}`, then lingers while the client may still be sending the frame (aiohttp
    reads and drops it): closing over unread bytes resets the connection, and a reset can
    lose the error and the close frame before the client reads them. The close frame
    carries `frame_too_large` as its reason.
    """

    def __init__(self, *, max_msg_size: int, heartbeat: float | None = None) -> None:
        super().__init__(heartbeat=heartbeat, max_msg_size=max_msg_size)
        self.limit_bytes = max_msg_size

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes = b"", drain: bool = True
    ) -> bool:
        if code == WSCloseCode.MESSAGE_TOO_BIG and not self.closed:
            log.info("socket frame over %d bytes: error, then 1009", self.limit_bytes)
            with contextlib.suppress(ConnectionError):  # the client may be gone already
                await self.send_json(
                    {
                        "type": "error",
                        "code": "frame_too_large",
                        "message": f"Frames are limited to {self.limit_bytes} bytes; "
                        "that one was larger, so the socket closes.",
                        "limit_bytes": self.limit_bytes,
                    }
                )
                await asyncio.sleep(OVERSIZE_LINGER_S)
            message = message or b"frame_too_large"
        return await super().close(code=code, message=message, drain=drain)


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
