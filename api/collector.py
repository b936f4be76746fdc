"""Collector endpoints: thin handlers over CollectorService."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.appkeys import COLLECTOR
from api.identity import caller
from api.parsing import json_body, message, optional_text
from api.speaking import spoken
from flows.collecting import CollectorReply
from flows.errors import InvalidInput
from metrics import TURNS


async def reply_json(app: web.Application, reply: CollectorReply) -> dict[str, Any]:
    audio, content_type = await spoken(app, reply.message)
    return {
        "collector_session_id": reply.session_id,
        "user_id": reply.user_id,
        "assistant_message": reply.message,
        "assistant_audio_base64": audio,
        "assistant_audio_content_type": content_type,
        "expected_field": reply.expected_field,
        "completed": reply.completed,
        "interview_id": reply.interview_id,
    }


async def start(request: web.Request) -> web.Response:
    body = await json_body(request, required=False)
    follow_ups = body.get("follow_ups", False)
    if not isinstance(follow_ups, bool):
        raise InvalidInput("invalid_follow_ups", "follow_ups must be true or false.")
    owner = await caller(request, body, spend="sessions")
    reply = await request.app[COLLECTOR].start(
        owner, optional_text(body, "candidate_name"), follow_ups
    )
    return web.json_response(await reply_json(request.app, reply))


async def turn(request: web.Request) -> web.Response:
    body = await json_body(request)
    owner = await caller(request, body, spend="turns")
    reply = await request.app[COLLECTOR].turn(
        request.match_info["session_id"], owner, message(body)
    )
    TURNS.labels("rest", "collector").inc()
    return web.json_response(await reply_json(request.app, reply))
