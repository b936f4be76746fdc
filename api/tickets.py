"""Socket tickets: browsers cannot set headers on a WebSocket, so they send `?ticket=`.

A ticket is bound to one user and one session, valid for `ticket_ttl_seconds` (60 s) and
good once. It is all a URL ever carries: the long-lived bearer token stays in headers.
Tickets are sealed (encrypted and authenticated, Fernet) with VIVA_TICKET_KEY, or with a
key picked at start and handed to every worker, so any worker can redeem what another
issued and nobody can read or forge one. Instances that share REDIS_URL but were given no
VIVA_TICKET_KEY agree on one through Redis (`shared_ticket_key`): the first to start puts a
random key there, and the others use it. "Once" is kept in Redis when REDIS_URL is set
(across all workers and instances); without Redis, each process refuses a second use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time

from aiohttp import web
from cryptography.fernet import Fernet, InvalidToken
from redis.asyncio import Redis

from api import schemas, validation
from api.appkeys import TICKETS, TRANSCRIPTS
from api.identity import caller
from api.refusals import unauthorized

MAX_TICKET = 1024


async def shared_ticket_key(redis: Redis, prefix: str) -> str:
    """The ticket key every instance on this Redis uses: set once by the first, kept."""
    key, mine = f"{prefix}ticket-key", secrets.token_hex(32)
    # One round trip (Redis >= 7): SET NX GET answers the key that was there, or None
    # when ours was the first.
    shared = await redis.set(key, mine, nx=True, get=True)
    if shared is None:
        return mine
    return shared.decode() if isinstance(shared, bytes) else str(shared)


class TicketStore:
    def __init__(
        self, key: str, ttl_seconds: float, redis: Redis | None = None, prefix: str = "viva:"
    ) -> None:
        secret = hashlib.sha256((key or secrets.token_hex(32)).encode()).digest()
        self.fernet = Fernet(base64.urlsafe_b64encode(secret))
        self.ttl = ttl_seconds
        self.redis = redis
        self.prefix = f"{prefix}ticket:"  # used nonces, with REDIS_URL
        self._used: dict[str, float] = {}  # nonce -> expiry, in this process

    def issue(self, user_id: str, session_type: str, session_id: str) -> str:
        expires = round(time.time() + self.ttl, 3)
        nonce = secrets.token_urlsafe(12)
        payload = json.dumps([user_id, session_type, session_id, expires, nonce])
        return self.fernet.encrypt(payload.encode()).decode()

    async def redeem(self, ticket: str, session_type: str, session_id: str) -> str:
        """The ticket's user, once; a 401 Refusal for a used, expired or foreign ticket."""
        try:
            if len(ticket) > MAX_TICKET:
                raise InvalidToken
            user_id, kind, session, expires, nonce = json.loads(self.fernet.decrypt(ticket))
        except (InvalidToken, ValueError):
            raise unauthorized("invalid_ticket", "The ticket is not one of ours.") from None
        if expires < time.time():
            raise unauthorized("invalid_ticket", "The ticket has expired.")
        if not await self._first_use(nonce, expires):
            raise unauthorized("invalid_ticket", "The ticket was already used.")
        if (kind, session) != (session_type, session_id):
            raise unauthorized("invalid_ticket", "The ticket was issued for another session.")
        return str(user_id)

    async def _first_use(self, nonce: str, expires: float) -> bool:
        ttl_ms = max(1, int((expires - time.time()) * 1000) + 1000)
        if self.redis is not None:
            return bool(await self.redis.set(self.prefix + nonce, 1, px=ttl_ms, nx=True))
        now = time.time()
        if len(self._used) > 10_000:
            self._used = {n: e for n, e in self._used.items() if e >= now}
        if nonce in self._used:
            return False
        self._used[nonce] = expires
        return True


async def create_ticket(request: web.Request) -> web.Response:
    """POST /api/tickets {session_type, session_id}: a ticket for that session's sockets."""
    body = await validation.body(request, schemas.TicketRequest)
    user_id = await caller(request, validation.named_user(request, body.user_id))
    session_type, session_id = body.session_type, body.session_id
    await request.app[TRANSCRIPTS].owned(session_type, session_id, user_id)  # else 404
    tickets = request.app[TICKETS]
    ticket = tickets.issue(user_id, session_type, session_id)
    return validation.reply(schemas.Ticket(ticket=ticket, expires_in=int(tickets.ttl)))
