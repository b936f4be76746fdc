"""State that several Viva instances share through Redis: turn locks and call claims.

Without REDIS_URL both live in this process (one instance, as before). With it:

* A turn lock is a key `<prefix>turn:<session>` set with NX and a lease. The instance
  holding it renews it every third of the lease while the turn runs and deletes it (only
  if still its own token) when the turn ends. A crashed instance stops renewing, so its
  lock expires within one lease and another instance can take the session's next turn.
  The optimistic version check on the session row still guards the database if a lease
  ever lapses under a very slow turn.
* A call claim is a key `<prefix>call:<session>` whose value names the owning instance.
  One claim per session, cluster-wide: a second call or voice socket is refused with
  `session_in_call`. Claims are renewed together by one heartbeat task and released when
  the call ends; a crashed instance's claims expire within the call lease.

Keys are compared and deleted by token in Lua scripts, so an instance never removes a
lock or claim that has passed to another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

from flows.errors import Conflict

log = logging.getLogger(f"viva.{__name__}")

# KEYS[1] key, ARGV[1] token: delete only our own value
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
# KEYS[1] key, ARGV[1] token, ARGV[2] lease ms: extend only our own value
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


def redis_client(url: str) -> Redis:
    """The one Redis client of an app (a connection pool); values decoded as UTF-8 text."""
    return Redis.from_url(url, decode_responses=True, health_check_interval=30)


class RedisTurnGuard:
    """One turn at a time per session across instances: a Redis lock with a lease."""

    def __init__(self, redis: Redis, prefix: str, lease_seconds: float) -> None:
        self.redis = redis
        self.prefix = prefix
        self.lease_ms = int(lease_seconds * 1000)

    @contextlib.asynccontextmanager
    async def hold(self, session_id: str) -> AsyncIterator[None]:
        key = f"{self.prefix}turn:{session_id}"
        token = uuid.uuid4().hex
        if not await self.redis.set(key, token, nx=True, px=self.lease_ms):
            raise Conflict("turn_in_progress", "Another turn for this session is in progress.")
        renewer = asyncio.ensure_future(self._renew(key, token))
        try:
            yield
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
            try:
                await asyncio.shield(self.redis.eval(_RELEASE, 1, key, token))  # type: ignore[misc]
            except (RedisError, OSError, asyncio.CancelledError) as error:
                log.warning("turn lock %s not released (%s); it expires with its lease", key, error)

    async def _renew(self, key: str, token: str) -> None:
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            try:
                kept = await self.redis.eval(_RENEW, 1, key, token, self.lease_ms)  # type: ignore[misc]
            except (RedisError, OSError) as error:
                log.warning("turn lock %s: renewal failed: %s", key, error)
                continue
            if not kept:
                log.warning("turn lock %s lapsed before the turn ended", key)
                return


class CallRegistry:
    """Which sessions are in a call: here, and with Redis on every instance.

    `claim(session_id)` claims the session for the lifetime of a call or voice socket
    (returning a token for `release`) and raises `Conflict("session_in_call")` when it is
    already claimed anywhere. While the
    instance drains, every new claim is refused with `Conflict("draining")`.
    """

    def __init__(
        self,
        instance_id: str,
        redis: Redis | None = None,
        prefix: str = "viva:",
        lease_seconds: float = 10.0,
    ) -> None:
        self.instance_id = instance_id
        self.redis = redis
        self.prefix = prefix
        self.lease_ms = int(lease_seconds * 1000)
        self.draining = False
        self._local: dict[str, str] = {}  # session id -> claim token
        self._heartbeat: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._local)

    def _key(self, session_id: str) -> str:
        return f"{self.prefix}call:{session_id}"

    async def owner(self, session_id: str) -> str | None:
        """The instance whose call holds the session, or None."""
        if session_id in self._local:
            return self.instance_id
        if self.redis is None:
            return None
        value = await self.redis.get(self._key(session_id))
        return str(value).split(" ", 1)[0] if value else None

    async def claim(self, session_id: str) -> str:
        if self.draining:
            raise Conflict("draining", "This server is shutting down; reconnect to continue.")
        if session_id in self._local:
            raise Conflict("session_in_call", "This session is already in a call.")
        token = uuid.uuid4().hex
        self._local[session_id] = token  # reserved before any await: no same-instance race
        if self.redis is not None:
            value = f"{self.instance_id} {token}"
            try:
                claimed = await self.redis.set(
                    self._key(session_id), value, nx=True, px=self.lease_ms
                )
            except BaseException:
                self._local.pop(session_id, None)
                raise
            if not claimed:
                self._local.pop(session_id, None)
                raise Conflict(
                    "session_in_call", "This session is already in a call on another server."
                )
            self._start_heartbeat()
        return token

    async def release(self, session_id: str, token: str) -> None:
        if self._local.get(session_id) != token:
            return
        del self._local[session_id]
        if self.redis is None:
            return
        try:
            await asyncio.shield(
                self.redis.eval(_RELEASE, 1, self._key(session_id), f"{self.instance_id} {token}")  # type: ignore[misc]
            )
        except (RedisError, OSError, asyncio.CancelledError) as error:
            log.warning("call claim on %s not released (%s); it expires", session_id, error)

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.ensure_future(self._renew_all())

    async def _renew_all(self) -> None:
        assert self.redis is not None
        while self._local:
            await asyncio.sleep(self.lease_ms / 3000)
            claims = list(self._local.items())
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for session_id, token in claims:
                        pipe.eval(  # type: ignore[no-untyped-call]
                            _RENEW,
                            1,
                            self._key(session_id),
                            f"{self.instance_id} {token}",
                            self.lease_ms,
                        )
                    kept = await pipe.execute()
            except (RedisError, OSError) as error:
                log.warning("call claims: renewal failed: %s", error)
                continue
            for (session_id, _), ok in zip(claims, kept, strict=True):
                if not ok and session_id in self._local:
                    log.warning("call claim on %s lapsed while the call was live", session_id)

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
