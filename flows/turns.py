"""What both conversations share: a unit of work, a busy guard, a text sink."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flows.chat import Chat
from flows.errors import Conflict, InvalidInput
from storage.cache import QuestionStore
from storage.db import WriteGate
from storage.faults import WRITING, RetryingSession, unavailable_on_fault
from storage.repositories import StaleVersion

# Voice paths pass a sink to hear the reply piece by piece while it is produced.
TextSink = Callable[[str], Awaitable[None]]
# ...and a gate, awaited once the whole reply is written and before anything is stored.
# A call opens it when the reply's first frame goes out; if the candidate goes on speaking
# before that, the call cancels the turn there, so nothing is stored and the session does
# not move: the speech that follows joins the same answer (voice/call.py).
CommitGate = Callable[[], Awaitable[None]]

MAX_MESSAGE_CHARS = 8000


class TurnGuard(Protocol):
    """One turn at a time per session: `hold` raises Conflict("turn_in_progress") if busy."""

    def hold(self, session_id: str) -> AbstractAsyncContextManager[None]: ...


class BusyGuard:
    """One turn at a time per session in this process; a second one gets 409 at once.

    With REDIS_URL, storage.shared.RedisTurnGuard does this across instances; without it,
    the optimistic version check in the repositories catches a race between processes.
    """

    def __init__(self) -> None:
        self._busy: set[str] = set()

    @asynccontextmanager
    async def hold(self, session_id: str) -> AsyncIterator[None]:
        if session_id in self._busy:
            raise Conflict("turn_in_progress", "Another turn for this session is in progress.")
        self._busy.add(session_id)
        try:
            yield
        finally:
            self._busy.discard(session_id)


@dataclass
class Deps:
    sessions: async_sessionmaker[RetryingSession]  # writes: one transaction per unit of work
    # single statements, autocommit (one round trip), Core only: storage.db.read_session_factory
    reads: Callable[[], AsyncSession]
    chat: Chat
    cache: QuestionStore
    writes: WriteGate = field(default_factory=lambda: WriteGate(serialised=False))
    guard: TurnGuard = field(default_factory=BusyGuard)  # shared by both conversations


@asynccontextmanager
async def unit_of_work(deps: Deps) -> AsyncIterator[AsyncSession]:
    """A transaction: committed on success, rolled back on error; a lost race is a 409.

    Writers pass `deps.writes` first: on SQLite they take turns instead of fighting over
    the database lock. A lost connection (also at commit) is `StorageUnavailable`, and
    nothing of the transaction is kept.
    """
    async with deps.writes.hold(), deps.sessions() as session:
        session.info[WRITING] = True
        try:
            with unavailable_on_fault():
                async with session.begin():
                    yield session
        except StaleVersion:
            raise Conflict(
                "turn_in_progress", "This session changed while the turn was running."
            ) from None


@asynccontextmanager
async def single_statement(deps: Deps) -> AsyncIterator[AsyncSession]:
    """For a write the repository makes in one statement where the database allows it.

    On Postgres one statement is atomic by itself, so it runs outside a transaction (the
    autocommit sessions): no BEGIN and COMMIT round trips. Elsewhere (SQLite) this is a
    `unit_of_work`, in which the repository makes the same write in several statements.
    Faults and lost races come out as from `unit_of_work`.
    """
    bind = deps.sessions.kw.get("bind")
    if bind is None or bind.dialect.name != "postgresql":
        async with unit_of_work(deps) as session:
            yield session
        return
    async with deps.reads() as session:
        session.info[WRITING] = True  # never retried: a write that failed is reported
        try:
            with unavailable_on_fault():
                yield session
        except StaleVersion:
            raise Conflict(
                "turn_in_progress", "This session changed while the turn was running."
            ) from None


def clean_message(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("empty_message", "user_message must be a non-empty string.")
    text = text.strip()
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(
            "message_too_long", f"user_message is limited to {MAX_MESSAGE_CHARS} characters."
        )
    return text
