"""The API's shapes, defined once: request and response models, socket messages.

The edge validates every body, query, path and socket message against these models
(api/validation.py), the OpenAPI document is generated from them (api/openapi.py), and
handlers serialize their replies through them. String bounds match the database columns
(storage/models.py), because SQLite does not enforce varchar lengths.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    RootModel,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from flows.turns import MAX_MESSAGE_CHARS

# Column sizes (storage/models.py) and the flows' own limits.
MAX_ID = 36  # String(36): uuid4 ids
MAX_USER_ID = 128  # String(128)
MAX_NAME = 200  # candidate_name String(200)
MAX_FILENAME = 255
MAX_SDP = 64 * 1024
MAX_CANDIDATE = 1024
# NUL is refused by Postgres text and is never part of a human's message; an unpaired
# surrogate cannot be encoded as UTF-8 at all. Both are rejected wherever a string enters.
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
# In the document: no NUL (a JSON text cannot carry a valid unpaired surrogate anyway; the
# parser refuses the escape).
SAFE_PATTERN = "^[^\\u0000]*$"


class _SafeText:
    """Rejects NUL and unpaired surrogates; in the document, the matching `pattern`."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(cls.check, handler(source))

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), "pattern": SAFE_PATTERN}

    @staticmethod
    def check(value: str) -> str:
        if _FORBIDDEN.search(value):
            raise PydanticCustomError(
                "invalid_characters",
                "Text may not contain NUL characters or unpaired surrogates.",
            )
        return value


def _stripped_or_none(value: str) -> str | None:
    return value.strip() or None


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise PydanticCustomError("string_too_short", "The text is empty.")
    return value


class _Length:
    """A string's length bounds, checked after its characters (so an id with a NUL appended
    is reported as bad characters, not as one too long), with pydantic's own string error
    types and sentences ("at most 36 characters"). StringConstraints placed after another
    validator fall back to the generic length check, whose sentence counts "items"."""

    def __init__(self, max_length: int, min_length: int = 0) -> None:
        self.max_length = max_length
        self.min_length = min_length

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        bounds = {"minLength": self.min_length} if self.min_length else {}
        return {**handler(schema), **bounds, "maxLength": self.max_length}

    def check(self, value: str) -> str:
        if len(value) > self.max_length:
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters",
                {"max_length": self.max_length},
            )
        if len(value) < self.min_length:
            raise PydanticCustomError(
                "string_too_short",
                "String should have at least {min_length} character"
                + ("s" if self.min_length > 1 else ""),
                {"min_length": self.min_length},
            )
        return value


# Characters first, then lengths (before stripping: the document's maxLength is the rule).
Id = Annotated[str, _SafeText, _Length(MAX_ID, 1)]
UserId = Annotated[str, _SafeText, _Length(MAX_USER_ID), AfterValidator(_stripped_or_none)]
Message = Annotated[str, _SafeText, _Length(MAX_MESSAGE_CHARS, 1), AfterValidator(_not_blank)]
Name = Annotated[str, _SafeText, _Length(MAX_NAME), AfterValidator(_stripped_or_none)]
SessionType = Literal["collector", "interview"]


class Input(BaseModel):
    """A request or message model. `codes` names the error code of a field's mistakes:
    a field maps to one code, or to {error type: code} ("too_long", …) with "*" for the
    rest; unnamed fields get invalid_<field>."""

    model_config = ConfigDict(
        extra="ignore", strict=True, json_schema_serialization_defaults_required=True
    )
    codes: ClassVar[dict[str, str | dict[str, str]]] = {}


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenOutput(BaseModel):
    """A reply whose documented fields are fixed and whose coaching details may grow."""

    model_config = ConfigDict(extra="allow")


# --- REST requests -------------------------------------------------------------------------


class OwnerQuery(Input):
    user_id: UserId | None = Field(None, description="The caller; absent means 'anonymous'.")
    codes = {"user_id": "invalid_user_id"}


class OwnerBody(Input):
    user_id: UserId | None = Field(None, description="The caller; absent means 'anonymous'.")
    codes = {"user_id": "invalid_user_id"}


class CollectorStart(OwnerBody):
    candidate_name: Name | None = Field(None, description="Used in the greeting.")
    follow_ups: bool = Field(False, description="Ask follow-up questions in the interview.")
    codes = {
        **OwnerBody.codes,
        "candidate_name": "invalid_candidate_name",
        "follow_ups": "invalid_follow_ups",
    }


class TurnRequest(OwnerBody):
    user_message: Message
    codes = {
        **OwnerBody.codes,
        "user_message": {"too_long": "message_too_long", "*": "empty_message"},
    }


class CollectorTurnRequest(TurnRequest):
    confidence: float = Field(
        1.0,
        ge=0,
        le=1,
        description="How sure the client's own speech recognition was of user_message (typed "
        "text: 1). Under 0.5 the collector confirms the value before storing it.",
    )
    codes = {**TurnRequest.codes, "confidence": "invalid_confidence"}


class SessionPath(Input):
    session_id: Id
    codes = {"session_id": "invalid_session_id"}


class InterviewPath(Input):
    interview_id: Id
    codes = {"interview_id": "invalid_interview_id"}


class UserPath(Input):
    user_id: Annotated[str, _SafeText, _Length(MAX_USER_ID, 1)] = Field(
        description="A user id, or 'me' for the caller"
    )
    codes = {"user_id": "invalid_user_id"}


class TicketRequest(OwnerBody):
    session_type: SessionType
    session_id: Id
    codes = {
        **OwnerBody.codes,
        "session_type": "invalid_session_type",
        "session_id": "invalid_session_id",
    }


class TranscriptPath(SessionPath):
    session_type: SessionType
    codes = {**SessionPath.codes, "session_type": "invalid_session_type"}


class TranscribeForm(Input):
    """multipart/form-data; `audio_file` is read separately, streamed under the audio limit."""

    session_type: SessionType | None = None
    session_id: Id | None = None
    user_id: UserId | None = None
    codes = {
        "session_type": "invalid_session_type",
        "session_id": "invalid_session_id",
        "user_id": "invalid_user_id",
    }


# --- REST responses ------------------------------------------------------------------------


class Error(Output):
    detail: str = Field(description="A sentence for a person.")
    code: str = Field(description="A machine-readable code.")


class NotFoundError(Output):
    """Every 404, whatever is missing (or not the caller's: the two look the same)."""

    detail: str = Field(description="A sentence for a person: what was not found.")
    code: Literal["not_found"]


class CollectorReply(Output):
    collector_session_id: str
    user_id: str
    status: Literal["active", "completed"]
    assistant_message: str
    assistant_audio_base64: str | None
    assistant_audio_content_type: str | None
    expected_field: str | None = Field(description="null once the setup is complete")
    completed: bool
    interview_id: str | None


class InterviewSummary(Output):
    id: str
    user_id: str
    role: str
    interview_type: str
    level: str
    techstack: list[str]
    amount: int
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class InterviewList(RootModel[list[InterviewSummary]]):
    """Newest first."""


class InterviewDetails(Output):
    interview_id: str
    user_id: str
    role: str
    interview_type: str
    level: str
    techstack: list[str]
    amount: int
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    questions: list[str]


class InterviewReply(Output):
    interview_session_id: str
    user_id: str
    assistant_message: str
    status: Literal["active", "completed"]
    question_index: int | None = Field(description="null once the interview is completed")
    question_count: int | None = Field(description="how many questions the interview has")
    interview_id: str | None


class CategoryScore(Output):
    name: str
    score: int
    comment: str


class Feedback(OpenOutput):
    """Scores and comments; coaching adds per-answer feedback and delivery figures."""

    interview_session_id: str
    total_score: int
    category_scores: list[CategoryScore]
    strengths: list[str]
    areas_for_improvement: list[str]
    final_assessment: str
    source: str


class TranscriptItem(Output):
    id: int
    session_type: SessionType
    session_id: str
    user_id: str
    speaker: Literal["user", "assistant"]
    message: str
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    timings: dict[str, Any] | None
    kind: str | None = None
    delivery: dict[str, Any] | None = None


class Transcript(Output):
    user_id: str
    items: list[TranscriptItem]


class Transcribed(Output):
    text: str
    user_id: str


class Progress(OpenOutput):
    user_id: str
    interviews: list[dict[str, Any]] = Field(description="Scored interviews, oldest first")
    trend: dict[str, Any]


class ClientConfig(Output):
    auth: str = Field(description="none or jwt")
    token_origins: list[str]


class Ticket(Output):
    ticket: str = Field(description="Send it as ?ticket= when opening the session's sockets")
    expires_in: int


# --- socket messages -----------------------------------------------------------------------


class UserText(Input):
    type: Literal["user_text"]
    text: Message
    confidence: float = Field(1.0, ge=0, le=1, description="as a collector turn's confidence")
    codes = {
        "text": {"too_long": "message_too_long", "*": "empty_text"},
        "confidence": "invalid_confidence",
    }


class UserAudio(Input):
    type: Literal["user_audio"]
    audio_base64: Annotated[str, _SafeText] = Field(
        description="base64 or a data: URL; its decoded size is bounded by the audio limit"
    )
    filename: Annotated[str, _SafeText, _Length(MAX_FILENAME)] | None = None
    codes = {"audio_base64": "audio_missing", "filename": "invalid_filename"}


class Ping(Input):
    type: Literal["ping"]


class Hangup(Input):
    type: Literal["hangup"]


class Offer(Input):
    type: Literal["offer"]
    sdp: Annotated[str, _SafeText, _Length(MAX_SDP)]
    codes = {"sdp": "bad_signal"}

    @field_validator("sdp")
    @classmethod
    def _has_fingerprint(cls, sdp: str) -> str:
        # DTLS needs the offerer's certificate fingerprint; without it no media can flow.
        if not re.search(r"^a=fingerprint:\S+ \S+", sdp, re.MULTILINE):
            raise PydanticCustomError("no_fingerprint", "The offer has no a=fingerprint line.")
        return sdp


class IceCandidate(Input):
    candidate: Annotated[str, _SafeText, _Length(MAX_CANDIDATE)] = ""
    sdpMid: Annotated[str, _SafeText, _Length(64)] | None = None  # noqa: N815
    sdpMLineIndex: Annotated[int, Field(ge=0, le=64)] | None = None  # noqa: N815


class Candidate(Input):
    type: Literal["candidate"]
    candidate: IceCandidate | None = Field(None, description="null ends the candidates")
    codes = {"candidate": "bad_signal"}


VOICE_MESSAGES: dict[str, type[Input]] = {
    "user_audio": UserAudio,
    "user_text": UserText,
    "ping": Ping,
}
CALL_MESSAGES: dict[str, type[Input]] = {
    "offer": Offer,
    "candidate": Candidate,
    "user_text": UserText,
    "ping": Ping,
    "hangup": Hangup,
}
