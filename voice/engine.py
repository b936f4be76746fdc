"""The one turn engine behind every voice transport.

A transport (the WebRTC call in `voice/call.py`, the base64 WebSocket in
`api/voice_ws.py`) turns its wire into a `Heard` (typed text, an utterance's audio, or a
transcription already running) and gives the engine a `Mouth`, which turns the reply into
its wire (audio frames and events, or one clip in a JSON message). The engine does the
rest, once for both: speech-to-text with the conversation's hints, where the speech is in
the answer (for delivery coaching), the conversation turn with the reply streamed into
the mouth, the stage timings (exported and stored on the assistant's transcript row) and,
after a barge-in, the revision of that row to what was heard. Turns are counted by the
conversation itself (`voice/conversation.py`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from flows.delivery import VoiceTiming
from flows.transcripts import TranscriptService
from metrics import observe_turn_stages
from voice.audio import Pcm
from voice.conversation import Conversation, Said
from voice.stt import SpeechHints, SpeechToText, Transcription
from voice.timing import speech_spans

CUT_OFF = "…"  # the stored reply when the candidate heard none of it


class NothingHeard(Exception):
    """Speech-to-text found no words (code `nothing_heard`); each transport words it."""

    code = "nothing_heard"


@dataclass(frozen=True)
class Heard:
    """One user turn as a transport hands it over."""

    origin: float  # monotonic moment the stage timings count from
    origin_stage: str  # its name in the stored timings, e.g. "end_of_speech"
    text: str | None = None  # typed text
    pcm: Pcm | None = None  # an utterance's audio, when no transcription is running yet
    transcription: Awaitable[Transcription] | None = None  # started earlier (a call's pause)
    marks: Mapping[str, float] = field(default_factory=dict)  # the transport's own moments
    # delivery coaching: when the question ended, in seconds from the audio's first sample
    question_end: float | None = None
    wait_source: str = "question_end"  # or "recording_start": the wait counts from there


@dataclass(frozen=True)
class Delivered:
    """What a mouth reports once the reply is out: its moments, and figures to store."""

    marks: Mapping[str, float | None] = field(default_factory=dict)
    stored: Mapping[str, float] = field(default_factory=dict)  # stored, not exported


class Mouth(Protocol):
    """How a transport voices one reply (or the prompt)."""

    async def user_text(self, text: str) -> None:
        """The candidate's words, once known (before the reply starts)."""

    async def push(self, piece: str) -> None:
        """A piece of the reply's text, as the conversation writes it."""

    async def audible(self) -> None:
        """The whole reply is written: return once the candidate has begun to hear it.

        The turn is stored after this. A call cancels the turn while it waits here if the
        candidate goes on speaking (the answer was not over); a socket returns at once.
        """

    async def deliver(self, said: Said) -> Delivered:
        """The whole reply is written: send (or queue) the rest of it."""

    async def finish(self, said: Said) -> str | None:
        """Wait until it has been heard; what was heard if it was cut short, else None."""


class TurnEngine:
    """Runs every turn of one conversation on one transport, one turn at a time."""

    def __init__(
        self,
        conversation: Conversation,
        stt: SpeechToText,
        transcripts: TranscriptService,
        path: str,
        vad_aggressiveness: int = 2,
    ) -> None:
        self.conversation = conversation
        self.stt = stt
        self.transcripts = transcripts
        self.path = path  # "websocket" | "webrtc": the stage metrics' label
        self.vad_aggressiveness = vad_aggressiveness  # for the speech spans of an answer

    async def transcribe(self, pcm: Pcm, hints: SpeechHints | None = None) -> Transcription:
        """The words in `pcm`, heard with what the conversation expects next (or `hints`)."""
        hints = hints or await self.conversation.hints()
        heard = await self.stt.transcribe(pcm, hints)
        return replace(heard, text=heard.text.strip())

    async def prompt(self, mouth: Mouth) -> Said:
        """Say where the session stands (not a turn: nothing is stored)."""
        said = await self.conversation.prompt()
        await self.say(said, mouth)
        return said

    async def say(self, said: Said, mouth: Mouth) -> None:
        """Voice an utterance that is not a turn's reply (the prompt)."""
        await mouth.push(said.text)
        await mouth.deliver(said)
        await mouth.finish(said)

    async def take_turn(self, heard: Heard, mouth: Mouth) -> Said:
        """One turn: words, reply, timings, and the row revised to what was heard."""
        marks = dict(heard.marks)
        text, confidence = await self._words(heard, marks)
        await mouth.user_text(text)
        # where the speech is in the answer (delivery coaching) is measured in a thread
        # while the reply is being written: the flow needs it only to store the turn
        voice = asyncio.ensure_future(self._voice(heard))
        try:
            said = await self.conversation.turn(
                text, mouth.push, voice, confidence, gate=mouth.audible
            )
        finally:  # a turn that failed (or needed no delivery) awaits no measurement; one
            # already in its thread runs to its end there, its result dropped
            voice.cancel()
            await asyncio.gather(voice, return_exceptions=True)
        delivered = await mouth.deliver(said)
        entry_id = said.assistant_entry_id
        if entry_id is not None:
            stages = _stages(heard, {**marks, **delivered.marks})
            observe_turn_stages(self.path, stages)
            await self.transcripts.revise(entry_id, timings={**stages, **delivered.stored})
        cut = await mouth.finish(said)
        if entry_id is not None and cut is not None:
            await self.transcripts.revise(entry_id, message=cut or CUT_OFF)
        return said

    async def _words(self, heard: Heard, marks: dict[str, float]) -> tuple[str, float | None]:
        """The turn's words and the recogniser's confidence in them (None: typed, or none
        reported)."""
        if heard.text is not None:
            return heard.text, None
        if heard.transcription is not None:
            result = await heard.transcription
        elif heard.pcm is not None:
            result = await self.transcribe(heard.pcm)
        else:
            raise ValueError("a turn needs text, audio or a transcription")
        marks["transcript"] = time.monotonic()
        if not result.text:
            raise NothingHeard()
        return result.text, result.confidence


    async def _voice(self, heard: Heard) -> VoiceTiming | None:
        """Where the speech is in a spoken interview answer (for delivery coaching); None if
        typed, or in the collector, which coaches nothing."""
        if heard.text is not None or heard.pcm is None or self.conversation.kind != "interview":
            return None
        pcm = heard.pcm
        spans = await asyncio.to_thread(speech_spans, pcm, self.vad_aggressiveness)
        return VoiceTiming(spans, pcm.duration_s, heard.question_end, heard.wait_source)


def _stages(heard: Heard, marks: Mapping[str, float | None]) -> dict[str, float]:
    """Milliseconds from the turn's origin to each stage that happened."""
    relative = {
        name: round((moment - heard.origin) * 1000, 1) for name, moment in marks.items() if moment
    }
    return {heard.origin_stage: 0.0, **relative}
