"""The route table: every URL Viva answers, in one place, with the models each REST route
takes and answers (they make the OpenAPI document at /api/openapi.json)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from api import (
    calls,
    collector,
    health,
    identity,
    interviews,
    schemas,
    tickets,
    transcripts,
    voice_ws,
)
from api.appkeys import SETTINGS
from api.metrics_site import guarded_metrics
from api.openapi import Operation, Socket, document

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DOCS_PAGE = Path(__file__).parent.parent / "static" / "api.html"
_TURN_ERRORS = (400, 404, 409, 413)

REST: list[tuple[Operation, Handler]] = [
    (
        Operation(
            "GET", "/api/config", "How the page learns who vouches for its users",
            schemas.ClientConfig, query=None, errors=(), refusals=False,
        ),
        identity.config,
    ),
    (
        Operation(
            "POST", "/api/tickets", "A one-use ticket for a session's sockets",
            schemas.Ticket, body=schemas.TicketRequest, errors=(400, 404, 413),
        ),
        tickets.create_ticket,
    ),
    (
        Operation(
            "POST", "/api/collector/start", "Start a collector session",
            schemas.CollectorReply, body=schemas.CollectorStart, body_required=False,
            errors=(400, 413),
        ),
        collector.start,
    ),
    (
        Operation(
            "POST", "/api/collector/{session_id}/turn", "Answer the collector",
            schemas.CollectorReply, schemas.SessionPath, body=schemas.CollectorTurnRequest,
            errors=_TURN_ERRORS,
        ),
        collector.turn,
    ),
    (
        Operation(
            "GET", "/api/interviews", "The caller's interviews, newest first",
            schemas.InterviewList,
        ),
        interviews.list_interviews,
    ),
    (
        Operation(
            "GET", "/api/interviews/{interview_id}", "One interview with its questions",
            schemas.InterviewDetails, schemas.InterviewPath, errors=(400, 404),
        ),
        interviews.get_interview,
    ),
    (
        Operation(
            "POST", "/api/interviews/{interview_id}/start", "Start an interview session",
            schemas.InterviewReply, schemas.InterviewPath, body=schemas.OwnerBody,
            body_required=False, errors=(400, 404, 413),
        ),
        interviews.start,
    ),
    (
        Operation(
            "POST", "/api/interviews/sessions/{session_id}/turn", "Answer the interviewer",
            schemas.InterviewReply, schemas.SessionPath, body=schemas.TurnRequest,
            errors=_TURN_ERRORS,
        ),
        interviews.turn,
    ),
    (
        Operation(
            "GET", "/api/interviews/sessions/{session_id}/feedback",
            "Scored feedback of a completed session", schemas.Feedback, schemas.SessionPath,
            errors=(400, 404, 409),
        ),
        interviews.feedback,
    ),
    (
        Operation(
            "POST", "/api/interviews/sessions/{session_id}/feedback/regenerate",
            "Feedback produced again", schemas.Feedback, schemas.SessionPath,
            body=schemas.OwnerBody, body_required=False, errors=(400, 404, 409, 413),
        ),
        interviews.regenerate_feedback,
    ),
    (
        Operation(
            "GET", "/api/users/{user_id}/progress", "A user's scored interviews and trends",
            schemas.Progress, schemas.UserPath, errors=(400, 404),
        ),
        interviews.progress,
    ),
    (
        Operation(
            "GET", "/api/transcripts/{session_type}/{session_id}", "A session's turns in order",
            schemas.Transcript, schemas.TranscriptPath, errors=(400, 404),
        ),
        transcripts.list_transcript,
    ),
    (
        Operation(
            "POST", "/api/transcripts/voice/transcribe", "Transcribe a recording",
            schemas.Transcribed, form=schemas.TranscribeForm, errors=(400, 404, 409, 413, 422),
        ),
        transcripts.transcribe,
    ),
]
_VOICE = (schemas.UserAudio, schemas.UserText, schemas.Ping)
_CALL = (schemas.Offer, schemas.Candidate, schemas.UserText, schemas.Ping, schemas.Hangup)
SOCKETS: list[tuple[Socket, Handler]] = [
    (Socket("/api/interviews/sessions/{session_id}/voice", "Base64 voice turns", _VOICE),
     voice_ws.interview_voice),
    (Socket("/api/collector/sessions/{session_id}/voice", "Base64 voice turns", _VOICE),
     voice_ws.collector_voice),
    (Socket("/api/interviews/sessions/{session_id}/call", "WebRTC signaling", _CALL),
     calls.interview_call),
    (Socket("/api/collector/sessions/{session_id}/call", "WebRTC signaling", _CALL),
     calls.collector_call),
]
OPENAPI = {  # by VIVA_AUTH: whether a bearer token is required or optional
    auth: document((op for op, _ in REST), (socket for socket, _ in SOCKETS), auth)
    for auth in ("none", "jwt")
}


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI[request.app[SETTINGS].auth])


async def docs(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(DOCS_PAGE)


def add_routes(app: web.Application) -> None:
    if app[SETTINGS].metrics_token:  # else /metrics is only on VIVA_METRICS_ADDRESS
        app.router.add_get("/metrics", guarded_metrics)
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/api/docs", docs)
    for op, handler in REST:
        app.router.add_route(op.method, op.path, handler)
    for socket, handler in SOCKETS:
        app.router.add_get(socket.path, handler)
    app.router.add_get("/healthz", health.healthz)  # for load balancers, outside /api
    app.router.add_get("/readyz", health.readyz)
