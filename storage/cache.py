"""In-memory question cache for active sessions, bounded in size and age.

The database is the source of truth: a miss (or a restart) just reads it again.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class QuestionCache:
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

    def get(self, interview_id: str) -> tuple[str, ...] | None:
        entry = self._entries.get(interview_id)
        if entry is None or self.clock() - entry[0] > self.ttl_seconds:
            if entry is not None:
                del self._entries[interview_id]
            self.misses += 1
            return None
        self._entries.move_to_end(interview_id)
        self.hits += 1
        return entry[1]

    def put(self, interview_id: str, questions: tuple[str, ...]) -> None:
        self._entries[interview_id] = (self.clock(), questions)
        self._entries.move_to_end(interview_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
