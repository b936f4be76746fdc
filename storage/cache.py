"""The question cache for active sessions: in this process, or shared through Redis.

The database is the source of truth: a miss (or a restart, or an evicted key) just reads
it again. Whatever changes or deletes an interview calls `invalidate` after its commit;
with Redis that removes the shared entry for every instance at once. (Today an
interview's questions are written once, when the collector creates it.)
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(f"viva.{__name__}")


class QuestionStore(Protocol):
    async def get(self, interview_id: str) -> tuple[str, ...] | None: ...

    async def put(self, interview_id: str, questions: tuple[str, ...]) -> None: ...

    async def invalidate(self, interview_id: str) -> None: ...


class QuestionCache:
    """In this process, bounded in size and age (one instance, no REDIS_URL)."""

    def __init__(
        self,
        max_entries: int = 1024,
        ttl_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, tuple[str, ...]]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    async def get(self, interview_id: str) -> tuple[str, ...] | None:
        entry = self._entries.get(interview_id)
        if entry is None or self.clock() - entry[0] > self.ttl_seconds:
            if entry is not None:
                del self._entries[interview_id]
            self.misses += 1
            return None
        self._entries.move_to_end(interview_id)
        self.hits += 1
        return entry[1]

    async def put(self, interview_id: str, questions: tuple[str, ...]) -> None:
        self._entries[interview_id] = (self.clock(), questions)
        self._entries.move_to_end(interview_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def invalidate(self, interview_id: str) -> None:
        self._entries.pop(interview_id, None)

    def __len__(self) -> int:
        return len(self._entries)


class RedisQuestionCache:
    """Shared by every instance: one JSON list per interview, expiring after the TTL.

    Redis trouble never fails a turn: a failed read is a miss (the database answers), a
    failed write is skipped.
    """

    def __init__(self, redis: Redis, prefix: str, ttl_seconds: float) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_ms = int(ttl_seconds * 1000)
        self.hits = 0
        self.misses = 0

    def _key(self, interview_id: str) -> str:
        return f"{self.prefix}questions:{interview_id}"

    async def get(self, interview_id: str) -> tuple[str, ...] | None:
        try:
            raw = await self.redis.get(self._key(interview_id))
        except (RedisError, OSError) as error:
            log.warning("question cache read failed, using the database: %s", error)
            raw = None
        if raw is None:
            self.misses += 1
            return None
        self.hits += 1
        return tuple(json.loads(raw))

    async def put(self, interview_id: str, questions: tuple[str, ...]) -> None:
        try:
            await self.redis.set(self._key(interview_id), json.dumps(questions), px=self.ttl_ms)
        except (RedisError, OSError) as error:
            log.warning("question cache write skipped: %s", error)

    async def invalidate(self, interview_id: str) -> None:
        await self.redis.delete(self._key(interview_id))
