"""Voice activity segmentation: PCM bytes in, utterance events out.

A pure synchronous state machine around webrtcvad (no I/O, no asyncio). Audio is fed in
chunks of any size; it is cut into fixed frames, each frame is classified voiced or not,
and the segmenter moves between two states:

* QUIET: the last ``pre_speech_ms`` of audio is kept as padding. Speech starts when at least
  ``start_ms`` worth of frames in a ~200 ms window are voiced.
* SPEECH: audio is collected. A voiced frame only counts as "still speaking" when most of the
  last ~100 ms is voiced too, so isolated noise blips do not hold the turn open. The turn ends
  when ``silence_ms`` has passed since the last such frame, or is forced at
  ``max_utterance_ms``. Utterances with less than ``min_utterance_ms`` of speech are dropped.

All times are milliseconds of audio fed since creation or the last ``reset()``.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

import webrtcvad

_START_WINDOW_MS = 200
_CONFIRM_WINDOW_MS = 100


@dataclass(frozen=True)
class VadConfig:
    aggressiveness: int = 2
    frame_ms: int = 20
    pre_speech_ms: int = 300
    start_ms: int = 120
    silence_ms: int = 800
    min_utterance_ms: int = 300
    max_utterance_ms: int = 60000
    sample_rate: int = 16000
    pause_ms: int | None = None  # emit SpeechPause after this much silence (< silence_ms)

    def __post_init__(self) -> None:
        if self.aggressiveness not in (0, 1, 2, 3):
            raise ValueError("aggressiveness must be 0, 1, 2 or 3")
        if self.frame_ms not in (10, 20, 30):
            raise ValueError("frame_ms must be 10, 20 or 30")
        if self.sample_rate not in (8000, 16000, 32000, 48000):
            raise ValueError("sample_rate must be 8000, 16000, 32000 or 48000")
        if not 0 < self.start_ms <= max(self.frame_ms, _START_WINDOW_MS):
            raise ValueError(f"start_ms must be within 1..{_START_WINDOW_MS}")
        if min(self.pre_speech_ms, self.min_utterance_ms) < 0 or self.silence_ms <= 0:
            raise ValueError("pre_speech_ms/min_utterance_ms must be >= 0, silence_ms > 0")
        if self.max_utterance_ms <= self.start_ms:
            raise ValueError("max_utterance_ms must be greater than start_ms")


@dataclass(frozen=True)
class SpeechStart:
    ms: int  # onset: start of the first voiced frame of the utterance
    detected_ms: int  # when the start window was met (the moment of this event)


@dataclass(frozen=True)
class SpeechEnd:
    audio: bytes  # padding before ``start_ms`` + speech + trailing silence up to ``end_ms``
    start_ms: int  # speech onset
    end_ms: int  # end of turn: the silence window was met (or forced / flushed)
    speech_end_ms: int  # end of the last voiced frame: when the speaker actually stopped
    audio_start_ms: int  # where ``audio`` begins (``start_ms`` minus the padding kept)
    forced: bool = False  # True when cut at max_utterance_ms or by flush()

    def __repr__(self) -> str:  # keep logs and assertion output readable
        return (
            f"SpeechEnd(start_ms={self.start_ms}, speech_end_ms={self.speech_end_ms}, "
            f"end_ms={self.end_ms}, audio_start_ms={self.audio_start_ms}, "
            f"audio={len(self.audio)} bytes, forced={self.forced})"
        )


@dataclass(frozen=True)
class SpeechPause:
    """The speaker has been silent for ``pause_ms``: the turn may be ending.

    A caller can start work on ``audio`` early (speculative transcription); if the turn
    then ends with the same ``speech_end_ms`` the work is still valid, and if speech
    resumes it is simply discarded.
    """

    audio: bytes
    start_ms: int
    speech_end_ms: int
    ms: int  # when the pause was noticed
    audio_start_ms: int  # where ``audio`` begins

    def __repr__(self) -> str:
        return f"SpeechPause(start_ms={self.start_ms}, speech_end_ms={self.speech_end_ms})"


@dataclass(frozen=True)
class SpeechDiscarded:
    start_ms: int
    end_ms: int
    speech_end_ms: int


VadEvent = SpeechStart | SpeechPause | SpeechEnd | SpeechDiscarded


class VadState(enum.Enum):
    QUIET = "quiet"
    SPEECH = "speech"


class VadSegmenter:
    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        c = self.config
        self._vad = webrtcvad.Vad(c.aggressiveness)
        self._frame_bytes = c.sample_rate * c.frame_ms // 1000 * 2
        self._pre_frames = c.pre_speech_ms // c.frame_ms
        self._window_frames = max(1, _START_WINDOW_MS // c.frame_ms)
        self._start_frames = -(-c.start_ms // c.frame_ms)
        confirm = max(1, _CONFIRM_WINDOW_MS // c.frame_ms)
        self._confirm_frames = confirm
        self._confirm_needed = confirm // 2 + 1
        self._silence_ms = c.silence_ms
        self.reset()

    def reset(self) -> None:
        """Forget all audio and state; time starts again at 0."""
        self._pending = bytearray()
        self._frame_index = 0
        self._enter_quiet()

    def set_silence_ms(self, ms: int) -> None:
        """Change the silence window that ends a turn; applies to the utterance in progress."""
        if ms <= 0:
            raise ValueError("silence_ms must be > 0")
        self._silence_ms = ms

    @property
    def silence_ms(self) -> int:
        return self._silence_ms

    @property
    def state(self) -> VadState:
        return self._state

    @property
    def in_speech(self) -> bool:
        return self._state is VadState.SPEECH

    @property
    def now_ms(self) -> int:
        return self._frame_index * self.config.frame_ms

    @property
    def voice_end_ms(self) -> int:
        """End of the last voiced frame of the utterance in progress (0 when QUIET)."""
        return self._last_voiced_end_ms

    def end_turn(self) -> list[VadEvent]:
        """End the utterance in progress now, as if the silence window had been met.

        For a caller that decides the end of a turn itself (voice/end_of_turn.py) and runs
        the segmenter with a long silence window as the hard cap.
        """
        events: list[VadEvent] = []
        if self._state is VadState.SPEECH:
            self._finish(self.now_ms, forced=False, events=events)
        return events

    def feed(self, pcm: bytes, *, silent: bool = False) -> list[VadEvent]:
        """Feed mono s16 PCM at ``config.sample_rate``; return the events it completed.

        ``silent=True`` says the caller knows it is silence (a frame that was not decoded,
        or one the echo gate zeroed): webrtcvad is not asked, the frames count unvoiced.
        """
        events: list[VadEvent] = []
        pending = self._pending
        size = self._frame_bytes
        if not pending and len(pcm) == size:  # one whole frame, the usual case: no copies
            voiced = not silent and self._vad.is_speech(pcm, self.config.sample_rate)
            self._frame(pcm, voiced, events)
            return events
        pending += pcm
        usable = len(pending) - len(pending) % size
        if usable == 0:
            return events
        view = bytes(pending[:usable])
        del pending[:usable]
        for offset in range(0, usable, size):
            frame = view[offset : offset + size]
            voiced = not silent and self._vad.is_speech(frame, self.config.sample_rate)
            self._frame(frame, voiced, events)
        return events

    def _frame(self, frame: bytes, voiced: bool, events: list[VadEvent]) -> None:
        if self._state is VadState.QUIET:
            self._quiet_frame(frame, voiced, events)
        else:
            self._speech_frame(frame, voiced, events)
        self._frame_index += 1

    def flush(self) -> list[VadEvent]:
        """End the utterance in progress (if any) now. A trailing partial frame is dropped."""
        self._pending.clear()
        events: list[VadEvent] = []
        if self._state is VadState.SPEECH:
            self._finish(self.now_ms, forced=True, events=events)
        else:
            self._enter_quiet()
        return events

    # -- state machine -------------------------------------------------------------------

    def _enter_quiet(self) -> None:
        self._state = VadState.QUIET
        self._ring: deque[tuple[bytes, bool]] = deque(maxlen=self._pre_frames + self._window_frames)
        self._window: deque[bool] = deque(maxlen=self._window_frames)
        self._window_voiced = 0
        self._frames: list[bytes] = []
        self._recent: deque[bool] = deque(maxlen=self._confirm_frames)
        self._recent_voiced = 0
        self._audio_start_ms = self._onset_ms = self._last_voiced_end_ms = 0
        self._paused_at = -1

    def _quiet_frame(self, frame: bytes, voiced: bool, events: list[VadEvent]) -> None:
        self._ring.append((frame, voiced))
        if len(self._window) == self._window.maxlen:
            self._window_voiced -= self._window[0]
        self._window.append(voiced)
        self._window_voiced += voiced
        if self._window_voiced < self._start_frames:
            return
        # Speech starts at the first voiced frame of the window; keep padding before it.
        ring = list(self._ring)
        first_in_ring = self._frame_index - len(ring) + 1
        window_start = len(ring) - len(self._window)
        onset = next(i for i in range(window_start, len(ring)) if ring[i][1])
        last_voiced = max(i for i in range(window_start, len(ring)) if ring[i][1])
        audio_from = max(0, onset - self._pre_frames)
        f = self.config.frame_ms
        self._state = VadState.SPEECH
        self._frames = [chunk for chunk, _ in ring[audio_from:]]
        self._audio_start_ms = (first_in_ring + audio_from) * f
        self._onset_ms = (first_in_ring + onset) * f
        self._last_voiced_end_ms = (first_in_ring + last_voiced + 1) * f
        self._recent.clear()
        self._recent.extend(flag for _, flag in ring[-self._confirm_frames :])
        self._recent_voiced = sum(self._recent)
        events.append(SpeechStart(ms=self._onset_ms, detected_ms=self.now_ms + f))

    def _speech_frame(self, frame: bytes, voiced: bool, events: list[VadEvent]) -> None:
        self._frames.append(frame)
        if len(self._recent) == self._recent.maxlen:
            self._recent_voiced -= self._recent[0]
        self._recent.append(voiced)
        self._recent_voiced += voiced
        end_ms = self.now_ms + self.config.frame_ms
        if voiced and self._recent_voiced >= self._confirm_needed:
            self._last_voiced_end_ms = end_ms
        if end_ms - self._onset_ms >= self.config.max_utterance_ms:
            self._finish(end_ms, forced=True, events=events)
        elif end_ms - self._last_voiced_end_ms >= self._silence_ms:
            self._finish(end_ms, forced=False, events=events)
        elif self._pause_due(end_ms):
            self._paused_at = self._last_voiced_end_ms
            events.append(
                SpeechPause(
                    b"".join(self._frames),
                    self._onset_ms,
                    self._last_voiced_end_ms,
                    end_ms,
                    self._audio_start_ms,
                )
            )

    def _pause_due(self, end_ms: int) -> bool:
        pause = self.config.pause_ms
        return (
            pause is not None
            and self._paused_at != self._last_voiced_end_ms
            and end_ms - self._last_voiced_end_ms >= pause
            and self._last_voiced_end_ms - self._onset_ms >= self.config.min_utterance_ms
        )

    def _finish(self, end_ms: int, forced: bool, events: list[VadEvent]) -> None:
        speech_end = min(self._last_voiced_end_ms, end_ms)
        if speech_end - self._onset_ms < self.config.min_utterance_ms:
            events.append(SpeechDiscarded(self._onset_ms, end_ms, speech_end))
        else:
            events.append(
                SpeechEnd(
                    audio=b"".join(self._frames),
                    start_ms=self._onset_ms,
                    end_ms=end_ms,
                    speech_end_ms=speech_end,
                    audio_start_ms=self._audio_start_ms,
                    forced=forced,
                )
            )
        self._enter_quiet()
