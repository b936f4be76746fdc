"""Limits per user and per client address, answered with 429 and Retry-After.

Spending limits count in fixed windows (sessions per hour, turns and transcribe uploads per
minute, audio seconds per day); holding limits count what is open now (calls, voice
sockets). A client address may spend `address_factor` times a user's limit. Counters live
in process, or in Redis when REDIS_URL is set, so that several instances enforce one limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from api.refusals import too_many
from settings import Limits

WINDOWS = {"sessions": 3600, "turns": 60, "transcribes": 60, "audio_seconds": 86400}
NAMES = {
    "sessions": "sessions started",
    "turns": "turns",
    "transcribes": "transcriptions",
    "audio_seconds": "seconds of audio today",
    "calls": "calls open at once",
    "sockets": "voice sockets open at once",
}
HOLD_TTL = 6 * 3600  # a crashed instance's holds in Redis expire after this
HOLD_RETRY_AFTER = 10


class Limiter:
    def __init__(
        self,
        limits: Limits,
        redis: Redis | None = None,
        prefix: str = "viva:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits
        self.redis = redis
        self.prefix = f"{prefix}limit:"
        self.clock = clock  # wall-clock seconds: windows start on the hour, minute, day
        self._local: dict[str, tuple[int, float]] = {}  # key -> (count, expires at, monotonic)

    def _scopes(self, kind: str, user: str, address: str) -> list[tuple[str, int]]:
        limit = {
            "sessions": self.limits.sessions_per_hour,
            "turns": self.limits.turns_per_minute,
            "transcribes": self.limits.transcribes_per_minute,
            "audio_seconds": self.limits.audio_seconds_per_day,
            "calls": self.limits.concurrent_calls,
            "sockets": self.limits.concurrent_sockets,
        }[kind]
        if limit <= 0:
            return []
        scopes = [(f"{kind}:user:{user}", limit)]
        if self.limits.address_factor > 0:
            scopes.append((f"{kind}:addr:{address}", limit * self.limits.address_factor))
        return scopes

    async def spend(self, kind: str, user: str, address: str, amount: float = 1) -> None:
        """Count `amount` against this window's limits, or refuse (counting nothing)."""
        window = WINDOWS[kind]
        now = self.clock()
        suffix = f":{int(now // window)}"
        retry_after = max(1, math.ceil(window - now % window))
        await self._add_all(kind, user, address, math.ceil(amount), suffix, window, retry_after)

    async def charge(self, kind: str, user: str, address: str, amount: float) -> None:
        """Count a cost already incurred (a call's minutes), refusing nothing."""
        window = WINDOWS[kind]
        suffix = f":{int(self.clock() // window)}"
        for key, _limit in self._scopes(kind, user, address):
            await self._add(self.prefix + key + suffix, math.ceil(amount), window)

    async def check(self, kind: str, user: str, address: str) -> None:
        """Refuse if this window's budget is already spent (for costs counted afterwards)."""
        window = WINDOWS[kind]
        now = self.clock()
        suffix = f":{int(now // window)}"
        for key, limit in self._scopes(kind, user, address):
            if await self._get(self.prefix + key + suffix) >= limit:
                raise too_many(NAMES[kind], max(1, math.ceil(window - now % window)))

    @asynccontextmanager
    async def hold(self, kind: str, user: str, address: str) -> AsyncIterator[None]:
        """One of the `kind` things this user may have open at once, while the block runs."""
        scopes = await self._add_all(kind, user, address, 1, "", HOLD_TTL, HOLD_RETRY_AFTER)
        try:
            yield
        finally:
            for key in scopes:
                await self._add(self.prefix + key, -1, HOLD_TTL)

    async def _add_all(
        self, kind: str, user: str, address: str, amount: int, suffix: str, ttl: int, retry: int
    ) -> list[str]:
        added: list[str] = []
        for key, limit in self._scopes(kind, user, address):
            full = self.prefix + key + suffix
            added.append(key + suffix)
            if await self._add(full, amount, ttl) > limit:
                for done in added:
                    await self._add(self.prefix + done, -amount, ttl)
                raise too_many(NAMES[kind], retry)
        return added

    async def _add(self, key: str, amount: int, ttl: int) -> int:
        if self.redis is not None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=ttl, nx=True)
                pipe.incrby(key, amount)
                _, value = await pipe.execute()
            return int(value)
        now = time.monotonic()
        count, expires = self._local.get(key, (0, now + ttl))
        if expires < now:
            count, expires = 0, now + ttl
        count += amount
        self._local[key] = (count, expires)
        if len(self._local) > 100_000:
            self._local = {k: v for k, v in self._local.items() if v[1] >= now}
        return count

    async def _get(self, key: str) -> int:
        if self.redis is not None:
            return int(await self.redis.get(key) or 0)
        count, expires = self._local.get(key, (0, 0.0))
        return count if expires >= time.monotonic() else 0
