"""One WebRTC voice call: the peer connection, its tracks and tasks, and the turn loop.

Inbound: remote audio → 16 kHz mono → echo gate → VAD segmenter → utterances. Each
utterance is handed to the turn engine (`voice/engine.py`: speech-to-text with the
conversation's hints, the turn, timings), whose reply streams through `_CallMouth` into a
`Speaker` (sentences synthesized and queued on the `PlayoutTrack` while the rest is still
being written) and out as call events. Typed `user_text` is a turn
like a spoken one; turns run one at a time, in order. Everything the call starts is
owned here; `close()` (idempotent) wraps up a turn in progress and cancels the rest.

Barge-in. Speech over the assistant holds its playback as soon as it has lasted
`barge_in_ms` (from its onset, or from when playback started if the candidate was already
talking; the default is the VAD's own start window). The held speech is transcribed at
its pauses, as a reaction to the reply (`REACTION`): a backchannel or no words at all (a
cough) resume playback where it stopped; more words than a backchannel, other words once
it ends, or 1.5 s of voice interrupt (`barge_in`). A reply that ran dry between two
sentences, its next one still being synthesized, counts as playing. After a barge-in the
assistant's transcript row for that reply is revised to what was played: whole
sentences, then the played share of the cut one by words, ending in "…" (just "…" if not
even a word of it went out). Hanging up mid-reply revises it the same
way. The prompt a call speaks on (re)joining ("Welcome back. Your last answer was saved.
Question 2 of 3: …") is not a turn: it restates where the session stands, is never stored
(like the WebSocket's `assistant_prompt`), so an interrupted prompt revises no row; its
`assistant_done` event still says what was heard.

Echo. A browser's echo cancellation removes most of the assistant's voice from the
microphone, but not all of it, and a residual echo that webrtcvad takes for speech would
interrupt the assistant with its own words. Viva adds two rules of its own:

* Echo gate: while the assistant is speaking (and for ``ECHO_WINDOW_S`` after a sent frame,
  the time its echo may take to come back), an inbound frame quieter than the loudest
  recently sent frame minus ``ECHO_MARGIN_DB`` is fed to the VAD as silence: it is what
  the echo of our own voice would sound like. A candidate speaking over the assistant is
  far louder at their microphone than its residual echo, so their speech still counts;
  the utterance keeps the ungated audio for speech-to-text.
* Speech that starts over playback and ends while playback is still running, without
  having lasted `barge_in_ms`, is ignored (echo the gate let through). Speech that
  outlasts the reply is a turn like any other.

The gate holds a residual echo up to about 15 dB below the assistant's level (measured
with a simulated echo path in tests/test_call.py: -20 and -15 dB held, -10 dB barged in);
the price is that a candidate must speak within ``ECHO_MARGIN_DB`` of the assistant's
level, as heard on the wire, to interrupt it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.exceptions import InvalidStateError
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from flows.errors import FlowError
from flows.transcripts import TranscriptService
from metrics import BARGE_INS, SPECULATIVE_TRANSCRIPTS, TAKEN_BACK
from voice.audio import Pcm
from voice.conversation import Conversation, Said
from voice.end_of_turn import (
    Decision,
    EndOfTurn,
    TurnPolicy,
    Verdict,
    VoiceEnd,
    sounds_like_a_backchannel,
    too_many_for_a_backchannel,
)
from voice.engine import Delivered, Heard, NothingHeard, TurnEngine
from voice.ice import rtc_configuration
from voice.inbound import InboundAudio, is_silence, silence
from voice.playout import PlayoutTrack
from voice.rtp_send import PlayoutSender
from voice.speaker import Speaker
from voice.stt import REACTION, SpeechHints, SpeechToText, Transcription
from voice.tts import TextToSpeech
from voice.vad import (
    SpeechDiscarded,
    SpeechEnd,
    SpeechPause,
    SpeechStart,
    VadConfig,
    VadSegmenter,
)

log = logging.getLogger(f"viva.{__name__}")
EventSink = Callable[[dict[str, Any]], Awaitable[None]]
VAD_RATE = 16000
_BYTES_PER_MS = VAD_RATE * 2 // 1000
ECHO_WINDOW_S = 0.5  # how long after a frame is sent its echo may still arrive
ECHO_MARGIN_DB = 20.0  # inbound this far below the recent outbound level is taken for echo
CLOSE_GRACE_S = 10.0  # how long close() lets a turn in progress finish storing itself
CONFIRM_BARGE_IN_MS = 1500  # speech over held playback this long interrupts, whatever it says
# An answer stays open this long after its reply's first frame went out. Speech the VAD
# reports within it began before the candidate could hear that frame (the VAD's 120 ms
# start window, ~80 ms of inbound jitter buffer), so it goes on with the answer and the
# turn is taken back: "A technical interview, please." with a 300 ms comma pause, its
# reply started in 130 ms, was two turns otherwise. The price: that little of the reply.
ANSWER_OPEN_AFTER_REPLY_S = 0.2


@dataclass(frozen=True)
class Utterance:
    """One user turn for the loop: spoken audio, typed text, or neither (say the prompt)."""

    pcm: Pcm | None = None
    text: str | None = None
    speech_end: float = 0.0  # monotonic time the candidate stopped speaking
    turn_end: float = 0.0  # monotonic time the silence window was met
    early: asyncio.Task[Transcription] | None = None  # started at the pause, if still valid
    audio_start: float = 0.0  # monotonic time of the first sample of `pcm`
    audio_start_ms: int = 0  # the same moment in VAD time, to take the audio again
    vad_speech_end: float | None = None  # monotonic: the VAD's last voiced frame (noise too)


@dataclass
class _Taken:
    """A spoken answer whose turn is taken and whose reply is not heard yet.

    Until the reply's first frame goes out the candidate may still go on: then the turn
    is taken back (`Call._take_back`) and the answer continues.
    """

    utterance: Utterance
    running: bool = False  # the turn loop is on it (else it still waits in the queue)
    shown: str | None = None  # its transcript, once sent as `user_transcript`


@dataclass(frozen=True)
class CallConfig:
    """What a call needs to know; built from the settings by `api/calls.py`."""

    vad: VadConfig  # the segmenter: its silence window is the longest a turn stays open
    turns: TurnPolicy = field(default_factory=TurnPolicy)  # the end-of-turn decision
    ice_servers: Sequence[Mapping[str, object]] = ()  # with this call's TURN credentials
    relay_only: bool = False  # ICE through the TURN relay only
    barge_in_ms: int = 120
    streaming_replies: bool = True
    decode_on_arrival: bool = True  # voice/inbound.py: libopus at 16 kHz in the loop


class Call:
    def __init__(
        self,
        conversation: Conversation,
        config: CallConfig,
        stt: SpeechToText,
        tts: TextToSpeech,
        transcripts: TranscriptService,
        send: EventSink,
        *,
        on_closed: Callable[[Call], None] | None = None,
    ) -> None:
        self.conversation = conversation
        self.config = config
        self.tts = tts
        self.engine = TurnEngine(
            conversation, stt, transcripts, "webrtc", config.vad.aggressiveness
        )
        self.send = send
        self.on_closed = on_closed
        self.id = f"{conversation.kind}:{conversation.session_id[:8]}"
        self.pc = RTCPeerConnection(rtc_configuration(config.ice_servers, config.relay_only))
        self.playout = PlayoutTrack(
            on_played=self._on_played, on_started=self._on_started, opus=True
        )
        # aiortc's sender with a shorter per-packet loop for this track (voice/rtp_send.py)
        PlayoutSender.use_for(self.pc.addTrack(self.playout))
        self.vad = VadSegmenter(config.vad)
        self.inbound: InboundAudio | None = None  # the candidate's audio, once it arrives
        self.end_of_turn = EndOfTurn(config.turns)
        self.voice_end = VoiceEnd()  # the voice's own end, where noise holds the VAD open
        self._adaptive = config.turns.mode == "adaptive"
        self._still_listening = False  # told the page the pause is judged unfinished
        self._window_reason = "silence cap" if self._adaptive else "fixed silence window"
        self._decided = self._window_reason  # why the next SpeechEnd ends the turn
        # speculative transcription: (speech_end_ms it covers, task), see _vad_event
        self._early: tuple[int, asyncio.Task[Transcription]] | None = None
        self.state = "connecting"
        self.completed = False
        self.ended = asyncio.Event()  # the peer connection failed or closed, or close() ran
        self._echo_gate = 10 ** (-ECHO_MARGIN_DB / 20)
        self._heard = bytearray()  # inbound 16 kHz audio, ungated: the utterance in progress
        self._heard_from_ms = 0  # VAD time of self._heard[0]
        # between utterances, enough to cover the padding before the next one's onset
        self._quiet_keep_ms = self.vad.config.pre_speech_ms + 500
        self._utterances: asyncio.Queue[Utterance] = asyncio.Queue()
        self._taken: _Taken | None = None  # the answer taken, its reply not heard yet
        self._carry: Utterance | None = None  # an answer taken back: the next speech joins it
        self._withdrawn: list[Utterance] = []  # taken back while still queued: skipped
        self._tasks: set[asyncio.Task[None]] = set()
        self._turn: asyncio.Task[None] | None = None
        self._speaker: Speaker | None = None
        self._turn_number = 0
        self._overlap_start: int | None = None  # VAD ms when speech and playback overlapped
        self._speech_audio_start_ms = 0  # VAD ms where the utterance in progress begins
        self._started_over_playback = False
        self._barged = False
        self._held = False  # playback held by speech over it, not yet judged an interruption
        self._hold_words: tuple[int, Transcription] | None = None  # that speech so far, heard
        self._onset_ms = 0  # VAD time: the onset of the speech now going on (or last ended)
        self._answered = False
        self._question_ended: float | None = None  # monotonic: our last reply finished playing
        self._connected = asyncio.Event()
        self._closing: asyncio.Task[None] | None = None
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_connection_state)

    # -- signaling -------------------------------------------------------------------

    async def answer(self, sdp: str) -> str:
        if self._answered:
            raise InvalidStateError("this call is already connected; start a new call")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self._answered = True
        self._spawn(self._turn_loop())
        return self.pc.localDescription.sdp

    async def add_candidate(self, candidate: dict[str, Any] | None) -> None:
        if not candidate or not candidate.get("candidate"):
            return  # end of candidates
        line = str(candidate["candidate"])
        try:
            parsed = candidate_from_sdp(
                line.split(":", 1)[1] if line.startswith("candidate:") else line
            )
        except AssertionError:  # aiortc's parser asserts on a short line
            raise ValueError(f"not an ICE candidate: {line[:80]!r}") from None
        parsed.sdpMid = candidate.get("sdpMid")
        parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
        await self.pc.addIceCandidate(parsed)

    async def user_text(self, text: str) -> None:
        """The text fallback: a typed message is a turn like a spoken one, taken in order."""
        if self.completed:
            await self._event(
                {"type": "error", "code": "call_completed", "message": "This call is complete."}
            )
            return
        now = time.monotonic()
        self._utterances.put_nowait(Utterance(text=text, speech_end=now, turn_end=now))

    async def finish_turns(self, limit_seconds: float) -> None:
        """Wait (at most `limit_seconds`) until no turn is running or waiting (draining)."""
        deadline = time.monotonic() + limit_seconds
        while time.monotonic() < deadline and not self.ended.is_set():
            running = self._turn is not None and not self._turn.done()
            if not running and self._utterances.empty():
                return
            await asyncio.sleep(0.05)

    @property
    def closed(self) -> bool:
        """True once close() has finished: tasks ended, peer connection closed."""
        return self._closing is not None and self._closing.done()

    async def close(self) -> None:
        """End the call; every caller waits until it is over. Safe to call any number of times.

        The shutdown is a task of the call's own: a caller cancelled while waiting (a request
        handler whose client vanished) does not stop it half-way.
        """
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._shut_down())
        await asyncio.shield(self._closing)

    async def _shut_down(self) -> None:
        try:
            await self._end_everything()
        finally:
            log.info("[%s] call closed", self.id)
            if self.on_closed is not None:
                self.on_closed(self)

    async def _end_everything(self) -> None:
        self.ended.set()
        turn = self._turn
        if turn is not None and not turn.done():
            # Stop talking, but let the turn store the candidate's message and the reply
            # (revised to what was heard) before the call goes away.
            self._stop_speaking()
            finished, _ = await asyncio.wait([turn], timeout=CLOSE_GRACE_S)
            if not finished:
                log.warning(
                    "[%s] turn still running after %.0f s; cancelled", self.id, CLOSE_GRACE_S
                )
                turn.cancel()
                await asyncio.gather(turn, return_exceptions=True)
        self._drop_early()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._speaker:
            await self._speaker.close()
        self.playout.stop()
        await self.pc.close()
        self._let_go()

    def _let_go(self) -> None:
        """Break the references that tie this call and its peer connection together.

        The peer connection's listeners, the playout track's callbacks and the speaker's
        are bound methods of this call: left in place they make cycles that only the
        garbage collector frees, keeping the call and all it holds alive for minutes.
        Cut here, the call is freed as soon as its handler lets go of it. (aiortc's own
        objects still refer to each other; closed, they hold no thread or socket.)
        """
        self.pc.remove_all_listeners()
        self.playout.detach()
        self._speaker = None
        self._early = None

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
        if state == "connected":
            self._connected.set()
        elif state in ("failed", "closed"):
            await self._event({"type": "state", "state": "ended"})
            self.ended.set()

    async def _receive(self, track: MediaStreamTrack) -> None:
        # 16 kHz mono: decoded by aiortc and resampled, or (decode_on_arrival) by libopus
        # as it arrives, silent frames not decoded at all (voice/inbound.py)
        on_arrival = self.config.decode_on_arrival
        audio = InboundAudio.of(self.pc, track) if on_arrival else InboundAudio(track)
        self.inbound = audio
        try:
            while (pcm := await audio.recv()) is not None:
                await self._hear(pcm)
        finally:
            # the decoder's native state (or the fallback's resampler threads) goes now
            audio.close()

    async def _hear(self, pcm: bytes) -> None:
        """Keep the audio, gate out our own echo, and run the VAD on what is left."""
        self._heard += pcm
        silent = is_silence(pcm)  # a frame with no sound in it was not even decoded
        level = 0.0 if silent else _rms(pcm)
        if not silent:
            echo = self.playout.recent_level(ECHO_WINDOW_S)
            if echo and level < echo * self._echo_gate:
                pcm, silent, level = silence(len(pcm)), True, 0.0
        for event in self.vad.feed(pcm, silent=silent):
            await self._vad_event(event)
        self._note_overlap()
        if self._should_hold():
            await self._hold_playback()
        elif self._held and (why := self._interrupts()):
            await self._barge_in(why)  # before the end of turn is judged: a turn of its own
        if self.vad.in_speech:
            self.voice_end.heard(level, self.vad.voice_end_ms)
        if self._adaptive and self.vad.in_speech:
            await self._judge_turn()
        # forget audio no utterance can start in, a second at a time (but not an answer
        # that may still be taken back and continued)
        if not self.vad.in_speech and self._taken is None and self._carry is None:
            excess_ms = len(self._heard) // _BYTES_PER_MS - self._quiet_keep_ms
            if excess_ms >= 1000:
                del self._heard[: excess_ms * _BYTES_PER_MS]
                self._heard_from_ms += excess_ms

    async def _judge_turn(self) -> None:
        """Adaptive end of turn: let the words so far and the silence decide (each frame).

        The silence counts from the voice's own last sound (`VoiceEnd`), so background
        noise that keeps the VAD "in speech" does not keep the turn open. For the same
        reason the words so far are asked for here as well, once that silence reaches
        `words_at_ms`: a VAD held open by noise never reports the pause.
        """
        voice_end = self.voice_end.end_or(self.vad.voice_end_ms)
        self.end_of_turn.voice(voice_end)
        if self._early is not None and self._early[0] < voice_end:
            # The candidate went on: that transcript is of no use. One still queued in the
            # recogniser's pool never runs, so the next pause's does not wait behind it.
            self._drop_early()
        if self.vad.now_ms - voice_end >= self.config.turns.words_at_ms:
            self._transcribe_so_far(self._speech_audio_start_ms, voice_end)
        decision = self.end_of_turn.decide(self.vad.now_ms)
        if not decision.done and self._only_a_backchannel(voice_end, decision.silence_ms):
            decision = Decision(Verdict.FINISHED, "backchannel over the reply", decision.silence_ms)
        if decision.done:
            log.info("[%s] end of turn: %s after %d ms of silence",
                     self.id, decision.reason, decision.silence_ms)
            self._decided = decision.reason
            for event in self.vad.end_turn():
                await self._vad_event(event)
        elif decision.unfinished != self._still_listening:
            self._still_listening = decision.unfinished
            await self._event({"type": "pause", "unfinished": decision.unfinished})

    def _words_ready(self, task: asyncio.Task[Transcription], covers_ms: int) -> None:
        """A speculative transcript is in: it covers the turn up to voice time `covers_ms`."""
        if task.cancelled() or task.exception() is not None or not self.vad.in_speech:
            self.end_of_turn.no_words(covers_ms)
            return
        heard = task.result()
        if self._held:
            self._hold_words = (covers_ms, heard)
        judged = self.end_of_turn.words(
            heard.text, covers_ms, heard.last_word_p, heard.rivals
        )
        log.info("[%s] words so far %r (last word p %s, rivals %s): %s", self.id, heard.text,
                  heard.last_word_p, heard.rivals[:2], judged.value)

    def _over_reply(self) -> bool:
        """The assistant is speaking: its audio is queued, or the reply has run dry between
        two sentences and more of it is coming (the next one still being synthesized)."""
        speaker = self._speaker
        return self.playout.is_playing or (speaker is not None and speaker.replying)

    def _note_overlap(self) -> None:
        if self.vad.in_speech and self._over_reply() and self._overlap_start is None:
            self._overlap_start = self.vad.now_ms  # playback began while the candidate spoke

    def _overlap_ms(self) -> int:
        if self._overlap_start is None or not self.vad.in_speech:
            return 0
        return self.vad.now_ms - self._overlap_start

    def _voiced_over_playback_ms(self) -> int:
        """From the overlap's start to the last voiced frame (not the silence after it)."""
        if self._overlap_start is None or not self.vad.in_speech:
            return 0
        return self.vad.voice_end_ms - self._overlap_start

    def _should_hold(self) -> bool:
        return (
            not self._barged
            and not self._held
            and self._over_reply()
            and self._overlap_ms() >= self.config.barge_in_ms
        )

    def _interrupts(self) -> str:
        """Why speech holding playback is a real interruption before it ends ("" if it is
        not yet): it has gone on too long (CONFIRM_BARGE_IN_MS of voice), or a transcript
        of it at a pause has more words than a backchannel has ("Sorry, could you…")."""
        words = self._hold_words
        if self._voiced_over_playback_ms() >= CONFIRM_BARGE_IN_MS:
            return "too long for a backchannel"
        if words is not None:
            heard = words[1]
            voice_ms = self._voice_ms(self.voice_end.end_or(self.vad.voice_end_ms))
            if too_many_for_a_backchannel(heard.text, heard.confidence, voice_ms):
                return f"words so far {heard.text!r}, confidence {heard.confidence}"
        return ""

    def _voice_ms(self, voice_end_ms: int) -> int:
        """How long the speech now going on (or last ended) was voiced: from its onset to
        `voice_end_ms`, the voice's end (`VoiceEnd.end_or`)."""
        return voice_end_ms - self._onset_ms

    def _only_a_backchannel(self, voice_end_ms: int, silence_ms: int) -> bool:
        """Speech holding playback has paused, and a transcript of all of it holds no words
        or only a backchannel: its utterance can end now, so that the reply resumes."""
        words = self._hold_words
        return (
            self._held
            and words is not None
            and words[0] >= voice_end_ms
            and silence_ms >= self.config.turns.min_silence_ms
            and (
                not words[1].text.strip()
                or sounds_like_a_backchannel(
                    words[1].text, words[1].confidence, self._voice_ms(voice_end_ms)
                )
            )
        )

    async def _vad_event(self, event: object) -> None:
        """React to the segmenter.

        Early transcription: when the candidate has been quiet for `early_transcript_ms`
        (shorter than the silence window that ends the turn), the utterance so far goes to
        speech-to-text at once. If the turn then ends with no more speech, that transcript
        is the turn's and the silence window has hidden the transcription time; if the
        candidate goes on, it is dropped. The cost is one extra transcription per pause.
        """
        if isinstance(event, SpeechPause):
            self._transcribe_so_far(
                event.audio_start_ms, self.voice_end.end_or(event.speech_end_ms)
            )
            return
        if isinstance(event, SpeechDiscarded):
            if self._held and not self._barged:  # too short to be an utterance: its words decide
                voice_end_ms = self.voice_end.end_or(event.speech_end_ms)
                self._settle_hold(
                    self._speech_audio_start_ms, event.end_ms, voice_end_ms,
                    self._started_over_playback,
                )
            if self._carry is not None:  # it was a noise after all: the answer stands
                self._queue_answer(replace(self._carry, early=None))
                self._carry = None
            return
        if isinstance(event, SpeechStart):
            if self._taken is not None:
                await self._take_back()
            self.end_of_turn.reset()
            self.voice_end.reset()
            self._speech_audio_start_ms = max(
                self._heard_from_ms, event.ms - self.vad.config.pre_speech_ms
            )
            self._barged = False
            self._hold_words = None
            self._onset_ms = event.ms
            self._started_over_playback = self._over_reply()
            self.end_of_turn.over_reply = self._started_over_playback
            self._overlap_start = event.ms if self._started_over_playback else None
            await self._event({"type": "speech", "event": "start", "onset_ms": event.ms})
        elif isinstance(event, SpeechEnd):
            self.end_of_turn.reset()
            if self._still_listening:
                self._still_listening = False
                await self._event({"type": "pause", "unfinished": False})
            held = self._held and not self._barged
            reaction = self._started_over_playback  # not an answer going on over the reply
            ignored = reaction and not self._barged and self._over_reply()
            self._overlap_start = None
            self._started_over_playback = False
            reason, self._decided = self._decided, self._window_reason
            voice_end_ms = self.voice_end.end_or(event.speech_end_ms)
            await self._event(
                {
                    "type": "speech",
                    "event": "end",
                    "silence_ms": event.end_ms - event.speech_end_ms,  # audio time
                    "voice_end_ms": event.speech_end_ms,  # audio time since media started
                    # from the voice's own end: longer when noise held the VAD open
                    "voice_silence_ms": event.end_ms - voice_end_ms,
                    "reason": "cut at the longest utterance" if event.forced else reason,
                }
            )
            if held:
                self._settle_hold(event.audio_start_ms, event.end_ms, voice_end_ms, reaction)
                return
            if ignored:
                log.info("[%s] speech under playback ignored (echo or backchannel)", self.id)
                return
            if self.completed:
                return
            now = time.monotonic()
            # Timings count from the voice's last sound before the decision, not from the
            # VAD's last "voiced" frame, which background noise can hold open.
            speech_end = now - (event.end_ms - voice_end_ms) / 1000
            vad_end = now - (event.end_ms - event.speech_end_ms) / 1000
            carried, self._carry = self._carry, None
            start_ms = carried.audio_start_ms if carried else event.audio_start_ms
            audio = self._heard_between(start_ms, event.end_ms)
            early = None  # a transcript started at a pause, if it holds all of the voice
            if self._early is not None and self._early[0] >= voice_end_ms:
                early = self._early[1]
                self._early = None
                SPECULATIVE_TRANSCRIPTS.labels("used").inc()
            self._drop_early()
            audio_start = now - (event.end_ms - start_ms) / 1000
            self._queue_answer(
                Utterance(
                    Pcm(audio, VAD_RATE),
                    None,
                    speech_end,
                    now,
                    early,
                    audio_start,
                    start_ms,
                    vad_end,
                )
            )

    def _queue_answer(self, utterance: Utterance) -> None:
        """A spoken answer for the turn loop; it may be taken back until its reply is heard."""
        self._taken = _Taken(utterance)
        self._utterances.put_nowait(utterance)

    async def _take_back(self) -> None:
        """The candidate goes on after their turn was taken and before its reply was heard
        (or within ANSWER_OPEN_AFTER_REPLY_S of its first frame: then that much is cut).

        The turn is cancelled where it stands. It has stored nothing: a conversation stores
        a voice turn only once its reply starts to be heard (`Mouth.audible`, the commit
        gate of flows/turns.py), so the session has not moved. Any reply audio already
        queued is dropped unheard, and the answer's audio is carried into the speech now
        starting: the two halves are heard, transcribed and stored as one answer.
        """
        taken, self._taken = self._taken, None
        assert taken is not None
        utterance = taken.utterance
        turn = self._turn
        if taken.running and turn is not None and not turn.done():
            turn.cancel()
            self._stop_speaking()
        else:
            self._withdrawn.append(utterance)  # still queued: the loop skips it
            if utterance.early is not None:
                utterance.early.cancel()
        self._carry = utterance
        TAKEN_BACK.inc()
        log.info("[%s] the candidate went on: turn taken back, the answer continues", self.id)
        await self._event({"type": "continued", "taken_back": taken.shown})
        await self._set_state("listening")

    def _reply_audible(self, utterance: Utterance | None) -> None:
        """The reply to `utterance` has started to be heard: its answer is final."""
        if self._taken is not None and self._taken.utterance is utterance:
            self._taken = None

    def _transcribe_so_far(self, start_ms: int, covers: int) -> None:
        """Start the speculative transcript of the answer so far, which holds its voice up
        to `covers` (VAD ms), unless one that holds that much is already on its way."""
        if self._early is not None and self._early[0] >= covers:
            return
        self._drop_early()
        over_reply = self._started_over_playback and self._over_reply()
        if (over_reply and not self._held) or self.completed:
            return  # (speech holding the reply is transcribed: its words settle the hold)
        start_ms = self._carry.audio_start_ms if self._carry else start_ms
        audio = self._heard_between(start_ms, self.vad.now_ms)
        task = asyncio.ensure_future(self._transcribe(Pcm(audio, VAD_RATE), over_reply))
        SPECULATIVE_TRANSCRIPTS.labels("started").inc()
        self.end_of_turn.expect_words(covers)
        task.add_done_callback(lambda done: self._words_ready(done, covers))
        self._early = (covers, task)

    def _drop_early(self) -> None:
        if self._early is not None:
            self._early[1].cancel()
            self._early = None

    async def _transcribe(self, pcm: Pcm, reaction: bool = False) -> Transcription:
        """The words so far; `reaction`: speech over the reply, heard as such (REACTION)."""
        hints = await self.conversation.hints()  # one session read: the engine's as well
        self.end_of_turn.set_hints(hints)
        return await self.engine.transcribe(pcm, SpeechHints(REACTION) if reaction else hints)

    def _heard_between(self, start_ms: int, end_ms: int) -> bytes:
        start = max(0, (start_ms - self._heard_from_ms) * _BYTES_PER_MS)
        return bytes(self._heard[start : (end_ms - self._heard_from_ms) * _BYTES_PER_MS])

    async def _hold_playback(self) -> None:
        """Speech over the assistant: go quiet at once, but keep the rest of the reply.

        Whether it was an interruption is known when the speech ends (`_settle_hold`) or
        when it outlasts CONFIRM_BARGE_IN_MS.
        """
        self._held = True
        self.playout.hold()
        log.info("[%s] playback held: the candidate speaks over it", self.id)
        await self._event({"type": "playback", "state": "held"})

    def _settle_hold(
        self, audio_start_ms: int, end_ms: int, voice_end_ms: int, reaction: bool
    ) -> None:
        """The speech that held playback is over: a backchannel or a noise resumes it."""
        now = time.monotonic()
        speech_end = now - (end_ms - voice_end_ms) / 1000
        pcm = Pcm(self._heard_between(audio_start_ms, end_ms), VAD_RATE)
        early = self._early[1] if self._early and self._early[0] >= voice_end_ms else None
        self._early = None if early else self._early
        words = early or asyncio.ensure_future(self._transcribe(pcm, reaction))
        audio_start = now - (end_ms - audio_start_ms) / 1000
        utterance = Utterance(pcm, None, speech_end, now, words, audio_start, audio_start_ms)
        self._spawn(self._after_hold(words, utterance, self._voice_ms(voice_end_ms)))

    async def _after_hold(
        self, words: asyncio.Task[Transcription], utterance: Utterance, voice_ms: int
    ) -> None:
        try:
            heard = await words
            text = heard.text
        except Exception:  # the recogniser failed: treat it as speech, the turn reports it
            log.warning("[%s] transcribing speech over playback failed", self.id, exc_info=True)
            heard, text = None, "?"
        if not self._held or self._barged:
            return  # already settled: the speech went on and interrupted for real
        if not text or (
            heard is not None and sounds_like_a_backchannel(text, heard.confidence, voice_ms)
        ):
            if self.vad.in_speech and self._started_over_playback:
                return  # more speech over the held reply already: that speech settles it
            self._held = False
            self.playout.resume()
            log.info("[%s] playback resumed after %r (%d ms of voice, confidence %s)", self.id,
                     text or "a noise", voice_ms, heard.confidence if heard else None)
            await self._event({"type": "playback", "state": "resumed", "heard": text})
            return
        confidence = heard.confidence if heard else None
        await self._barge_in(f"words {text!r}, {voice_ms} ms of voice, confidence {confidence}")
        if not self.completed:
            # an answer like any other: if the candidate goes on before its reply is
            # heard, it is taken back and the two are one answer
            self._queue_answer(utterance)

    async def _barge_in(self, why: str) -> None:
        self._barged = True
        dropped = self._stop_speaking()
        BARGE_INS.inc()
        log.info("[%s] barge-in (%s): dropped %d ms of speech",
                 self.id, why, dropped * 1000 // 48000)
        await self._event({"type": "barge_in"})
        await self._set_state("listening")

    def _stop_speaking(self) -> int:
        """Drop queued speech and stop synthesis; return the samples dropped."""
        dropped = self.playout.clear()
        self._held = False
        if self._speaker:
            self._speaker.interrupt()
        return dropped

    def _on_played(self, tag: object, ms: int, finished: bool) -> None:
        if self._speaker:
            self._speaker.on_played(tag, ms, finished)

    def _on_started(self, tag: object) -> None:
        if self._speaker:
            self._speaker.on_started(tag)

    # -- turns -----------------------------------------------------------------------

    async def _turn_loop(self) -> None:
        """Once media flows: the greeting or resume prompt, then each turn in order."""
        await self._connected.wait()
        utterance = Utterance()
        while not self.completed and self._closing is None:
            # A turn runs as its own task so that close() can let it finish storing.
            self._turn = asyncio.ensure_future(self._run_turn(utterance))
            await asyncio.wait([self._turn])  # cancelled only when taken back (_take_back)
            if not self.completed:
                utterance = await self._next_utterance()

    async def _next_utterance(self) -> Utterance:
        while True:
            utterance = await self._utterances.get()
            if not any(utterance is withdrawn for withdrawn in self._withdrawn):
                return utterance
            self._withdrawn = [u for u in self._withdrawn if u is not utterance]

    async def _run_turn(self, utterance: Utterance) -> None:
        """One turn; a failed turn is reported to the candidate and the call listens on."""
        try:
            await self._take_turn(utterance)
        except FlowError as error:
            self._stop_speaking()
            await self._event({"type": "error", "code": error.code, "message": error.message})
            await self._set_state("listening")
        except Exception:
            log.exception("[%s] turn failed", self.id)
            self._stop_speaking()
            await self._event(
                {
                    "type": "error",
                    "code": "turn_failed",
                    "message": "Something went wrong with that turn. Please say it again.",
                }
            )
            await self._set_state("listening")

    async def _take_turn(self, utterance: Utterance) -> None:
        spoken = utterance if utterance.pcm is not None else None
        if self._taken is not None and self._taken.utterance is spoken:
            self._taken.running = True
        mouth = _CallMouth(self, spoken)
        try:
            if utterance.pcm is None and utterance.text is None:
                said = await self.engine.prompt(mouth)
            else:
                await self._set_state("thinking")
                said = await self.engine.take_turn(self._heard_turn(utterance), mouth)
        except NothingHeard:
            await self._event(
                {"type": "error", "code": "nothing_heard", "message": "I didn't catch that."}
            )
            await self._set_state("listening")
            return
        finally:
            self._reply_audible(spoken)  # over, one way or another: no longer taken back
            await mouth.close()
        if said.completed:
            self.completed = True
            await self._event({"type": "completed", **said.fields})
            await self._set_state("ended")
            return
        await self._set_state("listening")

    def _heard_turn(self, utterance: Utterance) -> Heard:
        ended = self._question_ended  # when the candidate last heard our reply end
        marks = {"end_of_turn": utterance.turn_end}
        if utterance.vad_speech_end is not None:  # after the voice's end when noise held it
            marks["vad_end_of_speech"] = utterance.vad_speech_end
        return Heard(
            origin=utterance.speech_end,
            origin_stage="end_of_speech",
            text=utterance.text,
            pcm=utterance.pcm,
            transcription=utterance.early,
            marks=marks,
            question_end=ended - utterance.audio_start if ended is not None else None,
        )

    def _new_speaker(self) -> Speaker:
        self._turn_number += 1
        self._speaker = Speaker(
            self.tts,
            self.playout,
            self._turn_number,
            streaming=self.config.streaming_replies,
            on_sentence=self._sentence_started,
        )
        if self._closing is not None:
            self._speaker.interrupt()  # the call is ending: store the turn, say nothing
        return self._speaker

    async def _sentence_started(self, text: str) -> None:
        await self._set_state("speaking")
        await self._event({"type": "assistant_text", "text": text})

    async def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            await self._event({"type": "state", "state": state})

    async def _event(self, event: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.send(event)


class _CallMouth:
    """A call's wire for one reply: sentences spoken on the track as they are written,
    and the events that go with them (`user_transcript`, `turn`, `assistant_done`)."""

    def __init__(self, call: Call, answer: Utterance | None = None) -> None:
        self.call = call
        self.answer = answer  # the spoken answer this replies to, if any
        self._speaker: Speaker | None = None

    @property
    def speaker(self) -> Speaker:
        if self._speaker is None:
            self._speaker = self.call._new_speaker()
        return self._speaker

    async def user_text(self, text: str) -> None:
        taken = self.call._taken
        if taken is not None and taken.utterance is self.answer:
            taken.shown = text
        await self.call._event({"type": "user_transcript", "text": text})
        self.speaker  # noqa: B018 - the reply's speaker starts now, ready for its first words

    async def push(self, piece: str) -> None:
        await self.speaker.push(piece)

    async def audible(self) -> None:
        """The commit gate: wait for the reply's first frame, and a moment more for speech
        that began before it could be heard (see `Call._take_back`)."""
        speaker = self.speaker
        speaker.close_text()
        await speaker.audible.wait()
        if self.answer is not None and speaker.times.first_audio_sent is not None:
            await asyncio.sleep(ANSWER_OPEN_AFTER_REPLY_S)
        self.call._reply_audible(self.answer)

    async def deliver(self, said: Said) -> Delivered:
        speaker = self.speaker
        await speaker.finish()
        await self.call._event({"type": "turn", **said.fields})
        times = speaker.times
        return Delivered(
            {
                "first_token": times.first_piece,
                "first_sentence_synthesized": times.first_sentence_synthesized,
                "first_audio_queued": times.first_sentence_queued,
                "first_audio_sent": times.first_audio_sent,
            },
            {
                # gaps the candidate heard between (or inside) sentences of this reply
                "playout_stalled_ms": round(times.stalled_s * 1000, 1),
                "playout_gaps": times.gaps,
                "playout_longest_gap_ms": round(times.longest_gap_s * 1000, 1),
            },
        )

    async def finish(self, said: Said) -> str | None:
        speaker = self.speaker
        await self.call.playout.idle.wait()
        await speaker.announced()
        self.call._question_ended = time.monotonic()
        heard = speaker.played_text() if speaker.interrupted else speaker.spoken_text()
        await self.call._event(
            {"type": "assistant_done", "text": heard, "interrupted": speaker.interrupted}
        )
        return heard if speaker.interrupted else None

    async def close(self) -> None:
        if self._speaker is not None:
            await self._speaker.close()


def _rms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    return float(np.sqrt(samples.dot(samples) / len(samples))) if len(samples) else 0.0
