"""Interview endpoints: listing, details, sessions, turns, feedback, progress."""

from __future__ import annotations

from aiohttp import web

from api import schemas, validation
from api.appkeys import CONVERSATIONS, INTERVIEWS
from api.identity import caller
from flows.errors import NotFound
from storage.records import Interview, InterviewSummary, iso
from voice.conversation import Said


def summary(interview: Interview | InterviewSummary) -> schemas.InterviewSummary:
    return schemas.InterviewSummary(
        id=interview.id,
        user_id=interview.user_id,
        role=interview.role,
        interview_type=interview.interview_type,
        level=interview.level,
        techstack=list(interview.techstack),
        amount=interview.amount,
        created_at=iso(interview.created_at),
    )


def reply_model(said: Said) -> schemas.InterviewReply:
    return schemas.InterviewReply(**said.fields, assistant_message=said.text)


async def list_interviews(request: web.Request) -> web.Response:
    owner = await caller(request, validation.named_user(request))
    interviews = await request.app[INTERVIEWS].list(owner)
    return validation.reply(schemas.InterviewList([summary(i) for i in interviews]))


async def get_interview(request: web.Request) -> web.Response:
    interview_id = validation.path(request, schemas.InterviewPath).interview_id
    owner = await caller(request, validation.named_user(request))
    interview = await request.app[INTERVIEWS].get(interview_id, owner)
    details = summary(interview).model_dump(exclude={"id"})
    return validation.reply(
        schemas.InterviewDetails(
            interview_id=interview.id, **details, questions=list(interview.questions)
        )
    )


async def start(request: web.Request) -> web.Response:
    interview_id = validation.path(request, schemas.InterviewPath).interview_id
    body = await validation.body(request, schemas.OwnerBody, required=False)
    named = validation.named_user(request, body.user_id)
    owner = await caller(request, named, spend="sessions")
    reply = await request.app[INTERVIEWS].start(interview_id, owner)
    return validation.reply(reply_model(Said.of(reply)))


async def turn(request: web.Request) -> web.Response:
    session_id = validation.path(request, schemas.SessionPath).session_id
    body = await validation.body(request, schemas.TurnRequest)
    owner = await caller(request, validation.named_user(request, body.user_id), spend="turns")
    conversation = request.app[CONVERSATIONS].open("interview", session_id, owner, "rest")
    return validation.reply(reply_model(await conversation.turn(body.user_message)))


async def feedback(request: web.Request) -> web.Response:
    session_id = validation.path(request, schemas.SessionPath).session_id
    owner = await caller(request, validation.named_user(request))
    result = await request.app[INTERVIEWS].feedback(session_id, owner)
    return validation.reply(schemas.Feedback(interview_session_id=session_id, **result))


async def regenerate_feedback(request: web.Request) -> web.Response:
    session_id = validation.path(request, schemas.SessionPath).session_id
    body = await validation.body(request, schemas.OwnerBody, required=False)
    named = validation.named_user(request, body.user_id)
    owner = await caller(request, named, spend="turns")  # a model call, like a turn
    result = await request.app[INTERVIEWS].feedback(session_id, owner, regenerate=True)
    return validation.reply(schemas.Feedback(interview_session_id=session_id, **result))


async def progress(request: web.Request) -> web.Response:
    """A user's own history only: any other user's path is 404, like any foreign id."""
    named = validation.path(request, schemas.UserPath).user_id  # "me": whoever is calling
    owner = await caller(request, validation.named_user(request))
    if named != "me" and named != owner:
        raise NotFound("No such user.")
    return validation.reply(schemas.Progress(**await request.app[INTERVIEWS].progress(owner)))
