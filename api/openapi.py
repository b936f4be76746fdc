"""The OpenAPI 3.1 document, generated from the route table and the models of api/schemas.py.

Each REST route declares its models once (api/routes.py); the handlers validate with the
same models, so the document cannot drift from what the server checks. The sockets are
described under `x-websockets`, their messages under components.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api import schemas

_REF = "#/components/schemas/{model}"
_REASONS = {
    400: "Malformed input (bad JSON, wrong types, NUL or unpaired surrogates, too long)",
    404: "No such resource for this user",
    409: "The session's state does not allow this now",
    413: "The body is over the route's limit",
    422: "The audio could not be used",
}
# How a caller is known (api/identity.py). With VIVA_AUTH=none (development) no token is
# needed: user_id, or the anonymous cookie, names the caller.
_SECURITY_SCHEMES = {
    "bearer_auth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The identity provider's access token; required with VIVA_AUTH=jwt. "
        "With VIVA_AUTH=none (development) user_id names the caller instead.",
    },
    "socket_ticket": {
        "type": "apiKey",
        "in": "query",
        "name": "ticket",
        "description": "A one-use ticket from POST /api/tickets, for the session's sockets "
        "(browsers cannot set headers on a WebSocket).",
    },
}
Security = list[dict[str, list[str]]]
_ANONYMOUS: Security = [{}]  # an alternative meaning "no credentials at all"
_ERRORS: dict[int, type[BaseModel]] = {404: schemas.NotFoundError}  # else schemas.Error
# What any operation that knows its caller may answer: no or a bad token (VIVA_AUTH=jwt),
# a user_id other than the signed-in user, a limit, the database away.
_REFUSALS: dict[int, tuple[str, str | None]] = {
    401: ("No usable credentials (VIVA_AUTH=jwt)", "WWW-Authenticate"),
    403: ("user_id is not the signed-in user", None),
    429: ("Over a limit; retry after Retry-After seconds", "Retry-After"),
    503: ("The database is unavailable; retry after Retry-After seconds", "Retry-After"),
}


@dataclass(frozen=True)
class Operation:
    """What one REST route takes and answers, for the document."""

    method: str
    path: str
    summary: str
    response: type[BaseModel]
    path_params: type[schemas.Input] | None = None
    query: type[schemas.Input] | None = schemas.OwnerQuery
    body: type[schemas.Input] | None = None
    body_required: bool = True
    form: type[schemas.Input] | None = None
    errors: tuple[int, ...] = (400,)
    refusals: bool = True  # it knows its caller (bearer_auth): identity, limits, database


@dataclass(frozen=True)
class Socket:
    path: str
    summary: str
    client: tuple[type[schemas.Input], ...]


def document(
    operations: Iterable[Operation], sockets: Iterable[Socket], auth: str
) -> dict[str, Any]:
    """The document a server with VIVA_AUTH=`auth` serves: with `none` an operation's
    bearer_auth is optional (an empty alternative), as the server does not ask for it."""
    operations, sockets = list(operations), list(sockets)
    optional = _ANONYMOUS if auth == "none" else []
    bearer: Security = [{"bearer_auth": []}, *optional]
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (schemas.Error, "serialization"),
        (schemas.NotFoundError, "serialization"),
    ]
    for op in operations:
        models.append((op.response, "serialization"))
        models += [(m, "validation") for m in (op.body, op.form) if m is not None]
    for socket in sockets:
        models += [(m, "validation") for m in socket.client]
    _, top = models_json_schema(list(dict.fromkeys(models)), ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, bearer)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Viva",
            "version": "1.0.0",
            "description": "Real-time voice interviews: collector, interviewer, transcripts, "
            "feedback. Errors are {detail, code}.",
        },
        "paths": paths,
        "components": {"schemas": top.get("$defs", {}), "securitySchemes": _SECURITY_SCHEMES},
        "x-websockets": {
            socket.path: {
                "summary": socket.summary,
                "security": [{"socket_ticket": []}, *bearer],
                "parameters": _parameters(schemas.SessionPath, "path")
                + _parameters(schemas.OwnerQuery, "query"),
                "client_messages": [_ref(model) for model in socket.client],
            }
            for socket in sockets
        },
    }


def _operation(op: Operation, security: Security) -> dict[str, Any]:
    name = op.path.replace("/", "_").replace("{", "").replace("}", "")
    error = {"content": _json(_ref(schemas.Error))}
    described: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method.lower()}{name}",
        "parameters": _parameters(op.path_params, "path") + _parameters(op.query, "query"),
        "responses": {
            "200": {"description": "OK", "content": _json(_ref(op.response))},
            **{
                str(status): {
                    "description": _REASONS[status],
                    "content": _json(_ref(_ERRORS.get(status, schemas.Error))),
                }
                for status in op.errors
            },
            **{
                str(status): {
                    "description": reason,
                    **({"headers": {header: {"required": True, "schema": {"type": "string"}}}}
                       if header else {}),
                    **error,
                }
                for status, (reason, header) in _REFUSALS.items()
                if op.refusals
            },
        },
    }
    if op.refusals:
        described["security"] = security
    if op.body is not None:
        described["requestBody"] = {"required": op.body_required, "content": _json(_ref(op.body))}
    if op.form is not None:
        form = {
            "type": "object",
            "required": ["audio_file"],
            "properties": {
                "audio_file": {"type": "string", "contentMediaType": "application/octet-stream"},
                **{
                    name: _single(prop)
                    for name, prop in op.form.model_json_schema()["properties"].items()
                },
            },
        }
        described["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": form}},
        }
    return described


def _parameters(model: type[schemas.Input] | None, where: str) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": _single(prop),
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema["properties"].items()
    ]


def _single(prop: dict[str, Any]) -> dict[str, Any]:
    """A property's schema without null (absent is how a parameter says none)."""
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    chosen = options[0] if len(options) == 1 else {"anyOf": options}
    return {k: v for k, v in chosen.items() if k not in ("title", "default", "description")}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}
