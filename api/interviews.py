"""Interview endpoints: listing, details, sessions, turns, feedback."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.appkeys import INTERVIEWS
from api.identity import caller
from api.parsing import checked_user_id, json_body, message
from flows.errors import NotFound
from flows.interviewing import InterviewReply
from metrics import TURNS
from storage.records import Interview, InterviewSummary, iso


def summary(interview: Interview | InterviewSummary) -> dict[str, Any]:
    return {
        "id": interview.id,
        "user_id": interview.user_id,
        "role": interview.role,
        "interview_type": interview.interview_type,
        "level": interview.level,
        "techstack": list(interview.techstack),
        "amount": interview.amount,
        "created_at": iso(interview.created_at),
    }


def reply_json(reply: InterviewReply) -> dict[str, Any]:
    return {
        "interview_session_id": reply.session_id,
        "user_id": reply.user_id,
        "assistant_message": reply.message,
        "status": reply.status,
        "question_index": reply.question_index,
    }


async def list_interviews(request: web.Request) -> web.Response:
    interviews = await request.app[INTERVIEWS].list(await caller(request))
    return web.json_response([summary(interview) for interview in interviews])


async def get_interview(request: web.Request) -> web.Response:
    owner = await caller(request)
    interview = await request.app[INTERVIEWS].get(request.match_info["interview_id"], owner)
    details = summary(interview)
    details.pop("id")
    return web.json_response(
        {"interview_id": interview.id, **details, "questions": list(interview.questions)}
    )


async def start(request: web.Request) -> web.Response:
    body = await json_body(request, required=False)
    owner = await caller(request, body, spend="sessions")
    reply = await request.app[INTERVIEWS].start(request.match_info["interview_id"], owner)
    return web.json_response(reply_json(reply))


async def turn(request: web.Request) -> web.Response:
    body = await json_body(request)
    owner = await caller(request, body, spend="turns")
    reply = await request.app[INTERVIEWS].turn(
        request.match_info["session_id"], owner, message(body)
    )
    TURNS.labels("rest", "interview").inc()
    return web.json_response(reply_json(reply))


async def feedback(request: web.Request) -> web.Response:
    session_id = request.match_info["session_id"]
    result = await request.app[INTERVIEWS].feedback(session_id, await caller(request))
    return web.json_response({"interview_session_id": session_id, **result})


async def regenerate_feedback(request: web.Request) -> web.Response:
    body = await json_body(request, required=False)
    session_id = request.match_info["session_id"]
    owner = await caller(request, body, spend="turns")  # a model call, like a turn
    result = await request.app[INTERVIEWS].feedback(session_id, owner, regenerate=True)
    return web.json_response({"interview_session_id": session_id, **result})


async def progress(request: web.Request) -> web.Response:
    """A user's own history only: any other user's path is 404, like any foreign id."""
    owner = await caller(request)
    named = request.match_info["user_id"]  # "me": whoever is calling
    if named != "me" and checked_user_id(named) != owner:
        raise NotFound("user_not_found", "No such user.")
    return web.json_response(await request.app[INTERVIEWS].progress(owner))
