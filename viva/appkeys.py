"""Every piece of application state, as typed aiohttp AppKeys, declared in one place."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from viva.flows.collecting import CollectorService
    from viva.flows.interviewing import InterviewService
    from viva.flows.transcripts import TranscriptService
    from viva.settings import Settings
    from viva.voice.call import Call
    from viva.voice.stt import SpeechToText
    from viva.voice.tts import TextToSpeech

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
COLLECTOR: web.AppKey[CollectorService] = web.AppKey("collector")
INTERVIEWS: web.AppKey[InterviewService] = web.AppKey("interviews")
TRANSCRIPTS: web.AppKey[TranscriptService] = web.AppKey("transcripts")
STT: web.AppKey[SpeechToText] = web.AppKey("stt")
TTS: web.AppKey[TextToSpeech] = web.AppKey("tts")
# live voice sockets and calls, closed on shutdown
VOICE_SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("voice_sockets")
CALLS: web.AppKey[set[Call]] = web.AppKey("calls")
