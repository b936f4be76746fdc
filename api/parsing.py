"""Reading requests: JSON bodies, user ids, typed fields. Mistakes become InvalidInput.

Who is calling is decided in api/identity.py.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from flows.errors import InvalidInput

MAX_USER_ID = 128


async def json_body(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise InvalidInput("missing_body", "A JSON object body is required.")
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidInput("malformed_json", "The request body must be a JSON object.")
    return body


def checked_user_id(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_USER_ID or not value.strip():
        raise InvalidInput(
            "invalid_user_id", f"user_id must be a non-empty string of at most {MAX_USER_ID} chars."
        )
    return value.strip()


def optional_text(body: dict[str, Any], name: str, max_len: int = 200) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise InvalidInput(
            f"invalid_{name}", f"{name} must be a string of at most {max_len} chars."
        )
    return value.strip() or None


def message(body: dict[str, Any], name: str = "user_message") -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("empty_message", f"{name} must be a non-empty string.")
    return value
