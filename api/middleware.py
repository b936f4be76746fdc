"""One error middleware: every failure leaves as `{"detail", "code"}` JSON."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from api.refusals import Refusal
from api.validation import BodyTooLarge, UnreadableBody
from flows.errors import Conflict, FlowError, InvalidInput, NotFound
from storage.faults import StorageUnavailable
from voice.audio import AudioError

log = logging.getLogger(f"viva.{__name__}")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_FLOW_STATUS: dict[type[FlowError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 400,
    BodyTooLarge: 413,
}
_AUDIO_STATUS = {"audio_too_large": 413}
RETRY_AFTER_S = 1  # a lost connection is replaced at once; a restarting database takes longer


def error_response(status: int, code: str, detail: str) -> web.Response:
    return web.json_response({"detail": detail, "code": code}, status=status)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refusal as refusal:
        response = error_response(refusal.status, refusal.code, refusal.detail)
        response.headers.update(refusal.headers)
        return response
    except FlowError as error:
        response = error_response(_FLOW_STATUS.get(type(error), 400), error.code, error.message)
        if isinstance(error, UnreadableBody):
            response.force_close()
        return response
    except AudioError as error:
        return error_response(_AUDIO_STATUS.get(error.code, 422), error.code, str(error))
    except StorageUnavailable as error:
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
        response = error_response(
            503, "database_unavailable", "The database is unavailable; try again shortly."
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response
    except (HttpProcessingError, RequestPayloadError) as error:  # a broken body (encoding)
        response = error_response(400, "bad_request_body", " ".join(str(error).split()))
        response.force_close()
        return response
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "body_too_large", "The request body is too large.")
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = error.reason.lower().replace(" ", "_")
        return error_response(error.status, code, error.text or error.reason)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Something went wrong on our side.")
