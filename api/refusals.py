"""Refusals that carry HTTP headers: 401 with WWW-Authenticate, 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Mapping


class Refusal(Exception):
    """The request is refused before any work; the error middleware answers it as JSON."""

    def __init__(
        self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


def unauthorized(code: str, detail: str) -> Refusal:
    """401: no usable credentials. RFC 6750's error names go in WWW-Authenticate."""
    error = "invalid_request" if code == "token_missing" else "invalid_token"
    challenge = f'Bearer realm="viva", error="{error}"'
    if code == "token_missing":
        challenge = 'Bearer realm="viva"'
    return Refusal(401, code, detail, {"WWW-Authenticate": challenge})


def too_many(what: str, retry_after: int) -> Refusal:
    return Refusal(
        429,
        "rate_limited",
        f"Too many {what}; try again in {retry_after} s.",
        {"Retry-After": str(retry_after)},
    )
