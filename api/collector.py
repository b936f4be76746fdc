"""Collector endpoints: thin handlers over CollectorService."""

from __future__ import annotations

from aiohttp import web

from api import schemas, validation
from api.appkeys import COLLECTOR, CONVERSATIONS
from api.identity import caller
from api.speaking import spoken
from voice.conversation import Said


async def reply_model(app: web.Application, said: Said) -> schemas.CollectorReply:
    audio, content_type = await spoken(app, said.text)
    return schemas.CollectorReply(
        **said.fields,
        assistant_message=said.text,
        assistant_audio_base64=audio,
        assistant_audio_content_type=content_type,
        completed=said.completed,
    )


async def start(request: web.Request) -> web.Response:
    body = await validation.body(request, schemas.CollectorStart, required=False)
    named = validation.named_user(request, body.user_id)
    owner = await caller(request, named, spend="sessions")
    reply = await request.app[COLLECTOR].start(owner, body.candidate_name, body.follow_ups)
    return validation.reply(await reply_model(request.app, Said.of(reply)))


async def turn(request: web.Request) -> web.Response:
    session_id = validation.path(request, schemas.SessionPath).session_id
    body = await validation.body(request, schemas.CollectorTurnRequest)
    owner = await caller(request, validation.named_user(request, body.user_id), spend="turns")
    conversation = request.app[CONVERSATIONS].open("collector", session_id, owner, "rest")
    said = await conversation.turn(body.user_message, confidence=body.confidence)
    return validation.reply(await reply_model(request.app, said))
