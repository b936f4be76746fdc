"""Domain errors. Flows raise these; one web middleware maps them to HTTP statuses."""

from __future__ import annotations


class FlowError(Exception):
    """Base: `code` is machine-readable, the message is a sentence for a person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(FlowError):
    """Missing, or owned by someone else: the two are indistinguishable on purpose.

    Every 404 has the one code `not_found` (as a URL that matches no route has): the
    message says what was not found.
    """

    CODE = "not_found"

    def __init__(self, message: str) -> None:
        super().__init__(self.CODE, message)


class Conflict(FlowError):
    """The request is valid but the session's state does not allow it now."""


class InvalidInput(FlowError):
    """The request itself is wrong (empty message, bad value)."""
