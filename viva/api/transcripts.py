"""Transcript endpoints: reading a session's turns, and transcribing an uploaded recording."""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from viva.api.parsing import checked_user_id, user_id
from viva.appkeys import SETTINGS, STT, TRANSCRIPTS
from viva.flows.errors import InvalidInput
from viva.flows.transcripts import SESSION_TYPES
from viva.voice.audio import AudioError, decode_audio
from viva.voice.stt import SpeechHints

MAX_FIELD_BYTES = 1024


def session_type(value: str | None) -> str:
    if value not in SESSION_TYPES:
        raise InvalidInput("invalid_session_type", "session_type must be collector or interview.")
    return value


async def list_transcript(request: web.Request) -> web.Response:
    kind = session_type(request.match_info["session_type"])
    owner = user_id(request)
    entries = await request.app[TRANSCRIPTS].list(kind, request.match_info["session_id"], owner)
    return web.json_response({"user_id": owner, "items": [e.to_json() for e in entries]})


async def transcribe(request: web.Request) -> web.Response:
    """multipart: audio_file, optional session_type, session_id, user_id."""
    settings = request.app[SETTINGS]
    if not request.content_type.startswith("multipart/"):
        raise InvalidInput("multipart_required", "Send the recording as multipart/form-data.")
    audio: bytes | None = None
    fields: dict[str, str] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise InvalidInput("invalid_multipart", "Nested multipart bodies are not supported.")
        if part.name == "audio_file":
            audio = await _read_limited(part, settings.max_audio_bytes)
        elif part.name in ("session_type", "session_id", "user_id"):
            fields[part.name] = (await _read_limited(part, MAX_FIELD_BYTES)).decode(
                errors="replace"
            )
    if audio is None:
        raise InvalidInput("audio_file_missing", "The form needs an audio_file part.")
    owner = checked_user_id(fields["user_id"]) if fields.get("user_id") else user_id(request)
    named = fields.get("session_id")
    kind = session_type(fields.get("session_type")) if named else None
    transcripts = request.app[TRANSCRIPTS]
    if named and kind:
        await transcripts.owned(kind, named, owner)  # 404 before any work
    pcm = await decode_audio(
        audio, max_bytes=settings.max_audio_bytes, max_seconds=settings.max_audio_seconds
    )
    text = (await request.app[STT].transcribe(pcm, SpeechHints())).strip()
    if named and kind and text:
        await transcripts.add_user_text(kind, named, owner, text)
    return web.json_response({"text": text, "user_id": owner})


async def _read_limited(part: BodyPartReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise AudioError("audio_too_large", f"The upload is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)
