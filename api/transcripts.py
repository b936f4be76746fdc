"""Transcript endpoints: reading a session's turns, and transcribing an uploaded recording."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.web_protocol import RequestPayloadError

from api import schemas, validation
from api.appkeys import CONVERSATIONS, LIMITER, SETTINGS, STT, TRANSCRIPTS
from api.identity import address, caller
from flows.errors import Conflict, InvalidInput
from voice.audio import AudioError, decode_audio
from voice.stt import SpeechHints

log = logging.getLogger(f"viva.{__name__}")
MAX_FIELD_BYTES = 1024


async def list_transcript(request: web.Request) -> web.Response:
    where = validation.path(request, schemas.TranscriptPath)
    owner = await caller(request, validation.named_user(request))
    entries = await request.app[TRANSCRIPTS].list(where.session_type, where.session_id, owner)
    items = [schemas.TranscriptItem.model_validate(e.to_json()) for e in entries]
    return validation.reply(schemas.Transcript(user_id=owner, items=items))


async def transcribe(request: web.Request) -> web.Response:
    """multipart: audio_file, optional session_type, session_id, user_id.

    When a session is named, speech-to-text is told what that session expects next (the
    collector's field, or an answer to the current question) and the text is stored as
    the user's row in its transcript; the session itself does not advance.
    """
    try:
        return await _transcribe(request)
    except asyncio.CancelledError:  # the client went away (the server cancels its handler)
        log.info("transcription abandoned: the client went away")
        raise


async def _transcribe(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    audio, raw_fields = await _read_form(request, settings.max_audio_bytes)
    fields = validation.validate(schemas.TranscribeForm, raw_fields)
    named_user = validation.named_user(request, fields.user_id)
    owner = await caller(request, named_user, spend="transcribes")
    named = fields.session_id
    kind = fields.session_type if named else None
    if named and kind is None:
        raise InvalidInput("invalid_session_type", "session_type must be collector or interview.")
    hints = SpeechHints()
    if named and kind:  # ownership (404), completion (409) and hints before any audio work
        conversation = request.app[CONVERSATIONS].open(kind, named, owner, "rest")
        if await conversation.completed():  # a row after the end would be an answer to nothing
            raise Conflict("session_completed", f"This {kind} session is already completed.")
        hints = await conversation.hints()
    pcm = await decode_audio(
        audio, max_bytes=settings.max_audio_bytes, max_seconds=settings.max_audio_seconds
    )
    await request.app[LIMITER].spend("audio_seconds", owner, address(request), pcm.duration_s)
    text = (await request.app[STT].transcribe(pcm, hints)).text.strip()
    if named and kind and text:
        await request.app[TRANSCRIPTS].add_user_text(kind, named, owner, text)
    return validation.reply(schemas.Transcribed(text=text, user_id=owner))


async def _read_form(request: web.Request, max_audio: int) -> tuple[bytes, dict[str, str]]:
    """The audio_file part and the short text fields of a multipart upload."""
    if not request.content_type.startswith("multipart/"):
        raise InvalidInput("multipart_required", "Send the recording as multipart/form-data.")
    audio: bytes | None = None
    fields: dict[str, str] = {}
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise InvalidInput(
                    "invalid_multipart", "Nested multipart bodies are not supported."
                )
            if part.name == "audio_file":
                too_large = AudioError(
                    "audio_too_large", f"The recording is larger than {max_audio} bytes."
                )
                audio = await _read_limited(part, max_audio, too_large)
            elif part.name in ("session_type", "session_id", "user_id"):
                too_long = InvalidInput(
                    f"invalid_{part.name}", f"{part.name} is limited to {MAX_FIELD_BYTES} bytes."
                )
                value = await _read_limited(part, MAX_FIELD_BYTES, too_long)
                try:
                    text = value.decode().strip()
                except UnicodeDecodeError:
                    raise InvalidInput(
                        f"invalid_{part.name}", f"{part.name} is not UTF-8 text."
                    ) from None
                if text:  # an empty field is an absent one
                    fields[part.name] = text
    except RequestPayloadError as error:  # a corrupt content encoding, a body cut off
        raise validation.unreadable(
            request, "invalid_multipart", f"The form data is malformed: {error}"
        ) from None
    except (ValueError, BadHttpMessage) as error:  # no boundary, broken part headers
        raise InvalidInput("invalid_multipart", f"The form data is malformed: {error}") from None
    if audio is None:
        raise InvalidInput("audio_file_missing", "The form needs an audio_file part.")
    return audio, fields


async def _read_limited(part: BodyPartReader, limit: int, too_large: Exception) -> bytes:
    """The part's bytes, streamed; `too_large` is raised as soon as `limit` is passed."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
