"""Spoken replies for REST and WebSocket responses. A TTS failure never fails a turn."""

from __future__ import annotations

import base64
import logging

from aiohttp import web

from api.appkeys import SETTINGS, TTS
from flows.providers.base import ProviderError

log = logging.getLogger(f"viva.{__name__}")


async def spoken(app: web.Application, text: str) -> tuple[str | None, str | None]:
    """(base64 audio, content type) for text, or (None, None) when speech is off or failed."""
    if not app[SETTINGS].tts_enabled or not text:
        return None, None
    try:
        speech = await app[TTS].synthesize(text)
    except (ProviderError, RuntimeError, OSError, ValueError) as error:
        log.error("speech synthesis failed, sending text only: %s", error)
        return None, None
    return base64.b64encode(speech.audio).decode("ascii"), speech.content_type
