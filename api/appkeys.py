"""Every piece of application state, as typed aiohttp AppKeys, declared in one place."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from api.limits import Limiter
    from api.tickets import TicketStore
    from api.tokens import TokenVerifier
    from flows.collecting import CollectorService
    from flows.interviewing import InterviewService
    from flows.transcripts import TranscriptService
    from settings import Settings
    from storage.shared import CallRegistry
    from voice.call import Call
    from voice.conversation import Conversations
    from voice.stt import SpeechToText
    from voice.tts import TextToSpeech

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
COLLECTOR: web.AppKey[CollectorService] = web.AppKey("collector")
INTERVIEWS: web.AppKey[InterviewService] = web.AppKey("interviews")
TRANSCRIPTS: web.AppKey[TranscriptService] = web.AppKey("transcripts")
CONVERSATIONS: web.AppKey[Conversations] = web.AppKey("conversations")
STT: web.AppKey[SpeechToText] = web.AppKey("stt")
TTS: web.AppKey[TextToSpeech] = web.AppKey("tts")
# live voice sockets and calls, closed on shutdown
VOICE_SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("voice_sockets")
CALLS: web.AppKey[set[Call]] = web.AppKey("calls")
# REDIS_URL's one client (values decoded as text), None when Viva runs as one instance;
# shared by everything that keeps cluster-wide state: turn locks, call claims, the question
# cache (storage/shared.py, storage/cache.py), tickets and limits (api/identity.py)
REDIS: web.AppKey[Redis | None] = web.AppKey("redis")
VERIFIER: web.AppKey[TokenVerifier] = web.AppKey("verifier")
TICKETS: web.AppKey[TicketStore] = web.AppKey("tickets")
LIMITER: web.AppKey[Limiter] = web.AppKey("limiter")
# which sessions are in a call, here and (with Redis) on every instance
CALL_REGISTRY: web.AppKey[CallRegistry] = web.AppKey("call_registry")
