"""What Redis adds to a turn: the turn guard and the question cache, in-process vs Redis.

Side by side in one process, against the local Redis (REDIS_URL, default
redis://127.0.0.1:6379/0) under a key prefix of its own that is deleted afterwards: N
sequential acquire/release cycles of the turn guard, and N question-cache reads, each
timed. A turn takes the guard once and reads the cache once.
Run: python -m benchmarks.shared_state [--n 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from benchmarks.common import percentile, report
from flows.turns import BusyGuard, TurnGuard
from storage.cache import QuestionCache, QuestionStore, RedisQuestionCache
from storage.shared import RedisTurnGuard


async def timed(n: int, step: Callable[[int], Awaitable[object]]) -> list[float]:
    took = []
    for i in range(n):
        began = time.perf_counter()
        await step(i)
        took.append((time.perf_counter() - began) * 1000)
    return took


async def guard_cycles(guard: TurnGuard, n: int) -> list[float]:
    async def cycle(i: int) -> None:
        async with guard.hold(f"session-{i % 50}"):
            pass

    return await timed(n, cycle)


async def cache_reads(cache: QuestionStore, n: int) -> list[float]:
    await cache.put("interview", tuple(f"Question {i}?" for i in range(10)))

    async def read(_i: int) -> None:
        assert await cache.get("interview")

    return await timed(n, read)


async def run(n: int, url: str) -> None:
    redis = Redis.from_url(url, decode_responses=True)
    prefix = f"viva-bench-{uuid.uuid4().hex[:8]}:"
    try:
        measured = {
            ("turn guard", "in-process"): await guard_cycles(BusyGuard(), n),
            ("turn guard", "Redis"): await guard_cycles(RedisTurnGuard(redis, prefix, 15), n),
            ("question cache read", "in-process"): await cache_reads(QuestionCache(), n),
            ("question cache read", "Redis"): await cache_reads(
                RedisQuestionCache(redis, prefix, 60), n
            ),
        }
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    rows = [
        [what, where, n, f"{percentile(t, 50):.3f}", f"{percentile(t, 99):.3f}"]
        for (what, where), t in measured.items()
    ]
    report(
        "shared_state",
        ["operation", "where", "n", "p50 ms", "p99 ms"],
        rows,
        [
            {"operation": w, "where": s, "p50_ms": percentile(t, 50), "p99_ms": percentile(t, 99)}
            for (w, s), t in measured.items()
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    asyncio.run(run(args.n, args.redis))


if __name__ == "__main__":
    main()
