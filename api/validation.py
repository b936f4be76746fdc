"""The validation edge: bodies, queries, paths and socket messages checked against the
models of api/schemas.py. Every mistake becomes InvalidInput (a 400 with a code), an
oversized body BodyTooLarge (413); nothing malformed reaches a flow or the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from api.appkeys import SETTINGS
from api.schemas import Input, OwnerQuery
from flows.errors import FlowError, InvalidInput

M = TypeVar("M", bound=Input)
_CHUNK = 64 * 1024
_CHARACTER_ERRORS = ("invalid_characters", "string_unicode")


class BodyTooLarge(FlowError):
    """The body is over its route's limit (413)."""


class UnreadableBody(InvalidInput):
    """The body's encoding is corrupt: the rest of the stream cannot be skipped, so the
    connection closes after the 400."""


def unreadable(request: web.Request, code: str, message: str) -> UnreadableBody:
    """The error for a body that broke while being read. Nothing more can be read from
    it: marked at its end, aiohttp does not try to drain it after the reply (which raised
    the error again there, logged as an unhandled exception); the reply closes the
    connection instead."""
    request.content.feed_eof()
    return UnreadableBody(code, message)


def named_user(request: web.Request, claimed: str | None = None) -> dict[str, str]:
    """The user id a request names, for api.identity.caller (which decides who is
    calling): `claimed` from a body or form, else ?user_id=, which is checked either way."""
    from_query = query(request, OwnerQuery).user_id
    user = claimed or from_query
    return {"user_id": user} if user else {}


async def read_body(request: web.Request, limit: int | None = None) -> bytes:
    """The (decoded) body, at most `limit` bytes (the JSON limit by default)."""
    limit = request.app[SETTINGS].max_body_bytes if limit is None else limit
    too_large = BodyTooLarge("body_too_large", f"The request body is over {limit} bytes.")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := await request.content.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except (HttpProcessingError, RequestPayloadError) as error:  # corrupt gzip/deflate
        reason = " ".join(str(error).split())
        raise unreadable(
            request, "bad_content_encoding", f"The request body could not be decoded: {reason}"
        ) from None
    return b"".join(chunks)


def parse_json(raw: bytes | str) -> Any:
    """JSON with bounded nesting (the parser stops at 200 levels), no lone surrogates."""
    try:
        return from_json(raw)
    except ValueError as error:
        reason = str(error)
        if "recursion limit" in reason:
            raise InvalidInput("json_too_deep", "The JSON is nested too deeply.") from None
        if "surrogate" in reason or "hex escape" in reason:
            raise character_error() from None
        raise InvalidInput("malformed_json", f"The body is not valid JSON: {reason}.") from None


async def body(request: web.Request, model: type[M], *, required: bool = True) -> M:
    """The JSON object body of a request, as `model`."""
    raw = await read_body(request)
    if not raw.strip():
        if required:
            raise InvalidInput("missing_body", "A JSON object body is required.")
        return model()
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise InvalidInput("malformed_json", "The request body must be a JSON object.")
    return validate(model, data)


def query(request: web.Request, model: type[M]) -> M:
    """The query string as `model`; a repeated parameter counts once (the first)."""
    return validate(model, {name: request.query[name] for name in request.query})


def path(request: web.Request, model: type[M]) -> M:
    return validate(model, dict(request.match_info))


def message(models: Mapping[str, type[Input]], raw: str, unknown: InvalidInput) -> Input:
    """One socket message: a JSON object whose `type` picks its model."""
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise InvalidInput("malformed_json", "Messages must be JSON objects.")
    kind = data.get("type")
    model = models.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise unknown
    return validate(model, data)


def validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _invalid(model, error) from None


def _invalid(model: type[Input], error: ValidationError) -> InvalidInput:
    first = error.errors(include_url=False)[0]
    if first["type"] in _CHARACTER_ERRORS:
        return character_error()
    field = str(first["loc"][0]) if first["loc"] else ""
    codes = model.codes.get(field, f"invalid_{field}")
    kind = str(first["type"]).removeprefix("string_")  # too_long, whatever the string type
    code = codes if isinstance(codes, str) else codes.get(kind, codes["*"])
    where = ".".join(str(part) for part in first["loc"])
    return InvalidInput(code, f"{where}: {first['msg']}." if where else f"{first['msg']}.")


def character_error() -> InvalidInput:
    return InvalidInput(
        "invalid_characters", "Text may not contain NUL characters or unpaired surrogates."
    )


def reply(model: BaseModel) -> web.Response:
    """A response model as the JSON body of a 200.

    The serializer's own bytes (what `model_dump_json` decodes to a str): aiohttp sends
    bytes as they are, while a str body goes through its payload registry and is encoded
    again, ~5 µs per response.
    """
    body = model.__pydantic_serializer__.to_json(model)
    return web.Response(body=body, content_type="application/json")
