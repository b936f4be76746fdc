"""One WebRTC voice call: the peer connection, its tracks and tasks, and the turn loop.

Inbound: remote audio → 16 kHz mono → VAD segmenter → utterances. Each utterance goes
to speech-to-text (with the conversation's hints), then to the conversation, whose reply
streams into a `Speaker` (sentences synthesized and queued on the `PlayoutTrack` while
the rest is still being written). Speech over the assistant that lasts `barge_in_ms`
stops playback at once; the transcript then keeps only what was played. Everything the
call starts is owned here and cancelled by `close()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from viva.flows.errors import FlowError
from viva.flows.transcripts import TranscriptService
from viva.settings import Settings
from viva.voice.audio import Pcm
from viva.voice.conversation import Conversation, Said
from viva.voice.ice import rtc_configuration
from viva.voice.playout import PlayoutTrack
from viva.voice.speaker import Speaker
from viva.voice.stt import SpeechToText
from viva.voice.tts import TextToSpeech
from viva.voice.vad import SpeechEnd, SpeechStart, VadConfig, VadSegmenter

log = logging.getLogger(__name__)
EventSink = Callable[[dict[str, Any]], Awaitable[None]]
VAD_RATE = 16000


@dataclass(frozen=True)
class Utterance:
    """One user turn for the loop: spoken audio, typed text, or neither (say the prompt)."""

    pcm: Pcm | None = None
    text: str | None = None
    speech_end: float = 0.0  # monotonic time the candidate stopped speaking
    turn_end: float = 0.0  # monotonic time the silence window was met


class Call:
    def __init__(
        self,
        conversation: Conversation,
        settings: Settings,
        stt: SpeechToText,
        tts: TextToSpeech,
        transcripts: TranscriptService,
        send: EventSink,
    ) -> None:
        self.conversation = conversation
        self.settings = settings
        self.stt = stt
        self.tts = tts
        self.transcripts = transcripts
        self.send = send
        self.id = f"{conversation.kind}:{conversation.session_id[:8]}"
        self.pc = RTCPeerConnection(rtc_configuration(settings.ice_servers))
        self.playout = PlayoutTrack(on_played=self._on_played, on_started=self._on_started)
        self.pc.addTrack(self.playout)
        silence = (
            settings.vad_silence_ms_collector
            if conversation.kind == "collector"
            else settings.vad_silence_ms_interview
        )
        self.vad = VadSegmenter(
            VadConfig(
                aggressiveness=settings.vad_aggressiveness,
                pre_speech_ms=settings.vad_pre_speech_ms,
                silence_ms=silence,
                min_utterance_ms=settings.vad_min_utterance_ms,
            )
        )
        self.state = "connecting"
        self.completed = False
        self._utterances: asyncio.Queue[Utterance] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._speaker: Speaker | None = None
        self._turn_number = 0
        self._overlap_start: int | None = None  # VAD ms when speech began over playback
        self._barged = False
        self._greeted = False
        self._closed = False
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_connection_state)

    # -- signaling -------------------------------------------------------------------

    async def answer(self, sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self._spawn(self._turn_loop())
        return self.pc.localDescription.sdp

    async def add_candidate(self, candidate: dict[str, Any] | None) -> None:
        if not candidate or not candidate.get("candidate"):
            return  # end of candidates
        line = str(candidate["candidate"])
        parsed = candidate_from_sdp(
            line.split(":", 1)[1] if line.startswith("candidate:") else line
        )
        parsed.sdpMid = candidate.get("sdpMid")
        parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
        await self.pc.addIceCandidate(parsed)

    async def user_text(self, text: str) -> None:
        """The text fallback: a typed message is a turn like a spoken one."""
        now = time.monotonic()
        self._utterances.put_nowait(Utterance(text=text, speech_end=now, turn_end=now))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._speaker:
            await self._speaker.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.playout.stop()
        await self.pc.close()
        log.info("[%s] call closed", self.id)

    # -- media -----------------------------------------------------------------------

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("[%s] call task failed", self.id, exc_info=task.exception())

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._spawn(self._receive(track))

    async def _on_connection_state(self) -> None:
        state = self.pc.connectionState
        log.info("[%s] connection %s", self.id, state)
        if state == "connected" and not self._greeted:
            self._greeted = True
            self._utterances.put_nowait(Utterance())  # the greeting or resume prompt
        elif state in ("failed", "closed"):
            await self._event({"type": "state", "state": "ended"})

    async def _receive(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=VAD_RATE)
        barge_frames = self.settings.barge_in_ms
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in resampler.resample(frame):
                for event in self.vad.feed(bytes(out.planes[0])[: out.samples * 2]):
                    await self._vad_event(event)
            if (
                self._overlap_start is not None
                and not self._barged
                and self.vad.in_speech
                and self.vad.now_ms - self._overlap_start >= barge_frames
                and self.playout.is_playing
            ):
                await self._barge_in()

    async def _vad_event(self, event: object) -> None:
        if isinstance(event, SpeechStart):
            self._barged = False
            self._overlap_start = event.ms if self.playout.is_playing else None
            await self._event({"type": "speech", "event": "start"})
        elif isinstance(event, SpeechEnd):
            overlapped = self._overlap_start is not None
            self._overlap_start = None
            await self._event({"type": "speech", "event": "end"})
            if overlapped and not self._barged and self.playout.is_playing:
                log.info("[%s] speech under playback ignored (echo or backchannel)", self.id)
                return
            now = time.monotonic()
            speech_end = now - (event.end_ms - event.speech_end_ms) / 1000
            self._utterances.put_nowait(
                Utterance(Pcm(event.audio, VAD_RATE), None, speech_end, now)
            )

    async def _barge_in(self) -> None:
        self._barged = True
        dropped = self.playout.clear()
        if self._speaker:
            self._speaker.interrupt()
        log.info("[%s] barge-in: dropped %d ms of speech", self.id, dropped * 1000 // 48000)
        await self._event({"type": "barge_in"})
        await self._set_state("listening")

    def _on_played(self, tag: object, ms: int, finished: bool) -> None:
        if self._speaker:
            self._speaker.on_played(tag, ms, finished)

    def _on_started(self, tag: object) -> None:
        if self._speaker:
            self._speaker.on_started(tag)

    # -- turns -----------------------------------------------------------------------

    async def _turn_loop(self) -> None:
        while not self.completed:
            utterance = await self._utterances.get()
            try:
                await self._take_turn(utterance)
            except FlowError as error:
                await self._event({"type": "error", "code": error.code, "message": error.message})
                await self._set_state("listening")

    async def _take_turn(self, utterance: Utterance) -> None:
        if utterance.pcm is None and utterance.text is None:
            said = await self.conversation.prompt()
            await self._speak(said.text, said.fields, None, {}, time.monotonic())
            return
        await self._set_state("thinking")
        timings: dict[str, float] = {"end_of_turn": utterance.turn_end}
        text = utterance.text
        if utterance.pcm is not None:
            hints = await self.conversation.hints()
            text = (await self.stt.transcribe(utterance.pcm, hints)).strip()
            timings["transcript"] = time.monotonic()
            if not text:
                await self._event(
                    {"type": "error", "code": "nothing_heard", "message": "I didn't catch that."}
                )
                await self._set_state("listening")
                return
        assert text is not None
        await self._event({"type": "user_transcript", "text": text})
        speaker = self._new_speaker()
        said = await self.conversation.turn(text, speaker.push)
        await self._speak(said.text, said.fields, speaker, timings, utterance.speech_end, said)

    def _new_speaker(self) -> Speaker:
        self._turn_number += 1
        self._speaker = Speaker(
            self.tts,
            self.playout,
            self._turn_number,
            streaming=self.settings.streaming_replies,
            on_sentence=self._sentence_started,
        )
        return self._speaker

    async def _sentence_started(self, text: str) -> None:
        await self._set_state("speaking")
        await self._event({"type": "assistant_text", "text": text})

    async def _speak(
        self,
        text: str,
        fields: dict[str, Any],
        speaker: Speaker | None,
        timings: dict[str, float],
        ended: float,
        said: Said | None = None,
    ) -> None:
        """Finish speaking a reply, then store what was heard and when."""
        if speaker is None:
            speaker = self._new_speaker()
            await speaker.push(text)
        await speaker.finish()
        await self._event({"type": "turn", **fields})
        entry_id = said.assistant_entry_id if said else None
        if entry_id is not None:
            await self.transcripts.revise(entry_id, timings=self._timings(speaker, timings, ended))
        await self.playout.idle.wait()
        heard = speaker.played_text() if speaker.interrupted else speaker.spoken_text()
        await self._event(
            {"type": "assistant_done", "text": heard, "interrupted": speaker.interrupted}
        )
        if entry_id is not None and speaker.interrupted:
            await self.transcripts.revise(entry_id, message=heard)
        if said is not None and said.completed:
            self.completed = True
            await self._event({"type": "completed", **fields})
            await self._set_state("ended")
            return
        await self._set_state("listening")

    @staticmethod
    def _timings(speaker: Speaker, timings: dict[str, float], ended: float) -> dict[str, float]:
        """Milliseconds from the end of the candidate's speech to each stage of the reply."""
        marks = {
            **timings,
            "first_token": speaker.times.first_piece,
            "first_sentence_synthesized": speaker.times.first_sentence_synthesized,
            "first_audio_queued": speaker.times.first_sentence_queued,
            "first_audio_sent": speaker.times.first_audio_sent,
        }
        relative = {
            name: round((moment - ended) * 1000, 1) for name, moment in marks.items() if moment
        }
        return {"end_of_speech": 0.0, **relative}

    async def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            await self._event({"type": "state", "state": state})

    async def _event(self, event: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.send(event)
