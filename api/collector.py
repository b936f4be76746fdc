"""Collector endpoints: thin handlers over CollectorService."""

from __future__ import annotations

from aiohttp import web

from api import schemas, validation
from api.appkeys import COLLECTOR
from api.identity import caller
from api.speaking import spoken
from flows.collecting import CollectorReply
from metrics import TURNS


async def reply_model(app: web.Application, reply: CollectorReply) -> schemas.CollectorReply:
    audio, content_type = await spoken(app, reply.message)
    return schemas.CollectorReply(
        collector_session_id=reply.session_id,
        user_id=reply.user_id,
        assistant_message=reply.message,
        assistant_audio_base64=audio,
        assistant_audio_content_type=content_type,
        expected_field=reply.expected_field,
        completed=reply.completed,
        interview_id=reply.interview_id,
    )


async def start(request: web.Request) -> web.Response:
    body = await validation.body(request, schemas.CollectorStart, required=False)
    named = validation.named_user(request, body.user_id)
    owner = await caller(request, named, spend="sessions")
    reply = await request.app[COLLECTOR].start(owner, body.candidate_name, body.follow_ups)
    return validation.reply(await reply_model(request.app, reply))


async def turn(request: web.Request) -> web.Response:
    session_id = validation.path(request, schemas.SessionPath).session_id
    body = await validation.body(request, schemas.TurnRequest)
    owner = await caller(request, validation.named_user(request, body.user_id), spend="turns")
    reply = await request.app[COLLECTOR].turn(session_id, owner, body.user_message)
    TURNS.labels("rest", "collector").inc()
    return validation.reply(await reply_model(request.app, reply))
