"""What a turn-taking benchmark caller does, one case at a time (benchmarks/turn_taking.py).

Three plays, each through a real call and timed on the caller's clock (CLOCK_MONOTONIC,
shared with the server):

* `answer`: an interview answer or a collector value is spoken and its reply awaited:
  how many turns the server made of it, the end of turn (its last voiced frame left the
  microphone → the server's "speech end" event arrived) and the voice to voice delay;
* `overlap`: a short complete answer is given, and while its reply plays the caller says
  a backchannel ("Mm-hm.") or an interruption ("Sorry, could you repeat that?"): was the
  reply held, was it cut (`barge_in`), and for an interruption how long from its first
  voiced frame to the reply going quiet at the caller (and to the server's "held").
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.answers import VOICED_RMS, Spoken
from benchmarks.voice import (
    FRAME,
    FRAME_S,
    RATE,
    Answer,
    BenchCaller,
    is_event,
    opus_packets,
)
from tests.rtc_peer import SILENT_RMS
from voice.audio import resample_pcm

PATIENCE_S = 240  # a busy machine can take minutes over a reply; a stuck one fails the run
TIMELINE_SLACK_MS = 300  # how far the server's last voiced frame may be from the caller's
QUIET_RUN_S = 0.2  # the reply counts as stopped once this much silence arrives in a row
OVERLAP_AFTER_S = 0.6  # how far into the reply's sound the caller speaks over it
HELD_FOR_GOOD_S = 30.0  # a reply held this long with nothing happening is never resumed


@dataclass
class Outcome:
    mode: str
    kind: str  # complete | paused | short | value:<field> | backchannel | interruption
    voice: str
    text: str
    noise_db: float | None
    pause_s: float
    turns: int = 0
    end_of_turn_ms: float | None = None
    voice_to_voice_ms: float | None = None
    heard: list[str] = field(default_factory=list)
    server_silence_ms: float | None = None  # audio time the server waited (its own clock)
    reason: str = ""
    taken_back: int = 0  # turns taken, then taken back when the candidate went on
    vad_silence_ms: float | None = None  # the same, from the VAD's last "voiced" frame
    held: bool = False  # overlaps: playback was held
    barged_in: bool = False  # overlaps: the reply was cut short
    stop_heard_ms: float | None = None  # interruptions: onset → the reply quiet at the caller
    stop_event_ms: float | None = None  # interruptions: onset → the server's "held" event
    held_for_good: bool = False  # overlaps: the reply was held and never resumed nor cut

    @property
    def split(self) -> bool:
        return self.turns > 1


def packets(spoken: Spoken) -> Answer:
    pcm = resample_pcm(spoken.pcm, 16000, RATE)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    frames = samples[: len(samples) // FRAME * FRAME].reshape(-1, FRAME)
    level = np.sqrt((frames**2).mean(axis=1))
    # with noise, "voiced" means clearly above the noise floor of the edges
    floor = max(VOICED_RMS, 4 * float(np.median(level[:10])))
    loud = np.flatnonzero(level > floor)
    return Answer(tuple(opus_packets(pcm)), int(loud[-1]) + 1 if len(loud) else 0)


def onset_frames(spoken: Spoken) -> int:
    """20 ms frames from the start of the answer's audio to its first voiced frame."""
    samples = np.frombuffer(spoken.pcm, dtype="<i2").astype(np.float64)
    frame = 320  # 20 ms at 16 kHz
    level = np.sqrt((samples[: len(samples) // frame * frame].reshape(-1, frame) ** 2).mean(1))
    floor = max(VOICED_RMS, 4 * float(np.median(level[:10])))
    loud = np.flatnonzero(level > floor)
    return int(loud[0]) if len(loud) else 0


def past(caller: BenchCaller, event: dict[str, Any]) -> int:
    return next(i for i, e in enumerate(caller.events) if e is event) + 1


def _is_over(event: dict[str, Any]) -> bool:
    return event["type"] == "state" and event["state"] in ("listening", "ended")


async def _said(caller: BenchCaller, ends: int) -> float:
    """The caller's clock when the answer's last voiced frame left (polled: no event)."""
    while not caller.packet_mic.quiet or len(caller.packet_mic.speech_ends) <= ends:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    return caller.packet_mic.speech_ends[ends]


async def answer(caller: BenchCaller, spoken: Spoken, encoded: Answer, mode: str) -> Outcome:
    """Say one answer (or collector value) and wait until its reply has been played."""
    mark = len(caller.events)
    ends = len(caller.packet_mic.speech_ends)
    caller.packet_mic.say(encoded)
    speech_end = await _said(caller, ends)
    # The answer is over when the server has ended a turn at its last voiced frame (on the
    # audio timeline, which a busy machine's lag does not shift) and replied to it.
    # The two timelines start apart (the first packets go out before the connection is
    # up): the server's onset of this answer against the caller's aligns them.
    start = await caller.wait_for(is_event("speech", event="start"), PATIENCE_S, after=mark)
    said_ms = caller.packet_mic.said_ms[-1] + onset_frames(spoken) * 20
    voiced_end_ms = caller.packet_mic.speech_end_ms[ends] + start["onset_ms"] - said_ms
    final = await caller.wait_for(
        lambda e: e["type"] == "speech"
        and e["event"] == "end"
        and e.get("voice_end_ms", 0) >= voiced_end_ms - TIMELINE_SLACK_MS,
        PATIENCE_S,
        after=mark,
    )
    after = past(caller, final)
    await caller.wait_for(
        lambda e: e["type"] in ("assistant_done", "error", "completed"), PATIENCE_S, after=after
    )
    await caller.wait_for(_is_over, PATIENCE_S, after=after)
    heard = [e["text"] for e in caller.of_type("user_transcript", after=mark)]
    continued = caller.of_type("continued", after=mark)
    withdrawn = sum(1 for e in continued if e.get("taken_back"))  # lines shown, then withdrawn
    reply = caller.first_loud_after(speech_end)
    return Outcome(
        mode,
        spoken.kind,
        spoken.voice,
        spoken.text,
        spoken.noise_db,
        spoken.pause_s,
        turns=len(heard) - withdrawn,
        end_of_turn_ms=(final["_at"] - speech_end) * 1000,
        voice_to_voice_ms=(reply - speech_end) * 1000 if reply else None,
        heard=heard,
        server_silence_ms=final.get("voice_silence_ms", final.get("silence_ms")),
        reason=final.get("reason", ""),
        taken_back=len(continued),
        vad_silence_ms=final.get("silence_ms"),
    )


def _quiet_from(caller: BenchCaller, moment: float) -> float | None:
    """Arrival of the first received frame after `moment` that starts QUIET_RUN_S of silence."""
    run_start: float | None = None
    for at, rms in caller.frames:
        if at < moment:
            continue
        if rms > SILENT_RMS:
            run_start = None
        elif run_start is None:
            run_start = at
        elif at - run_start >= QUIET_RUN_S - FRAME_S / 2:
            return run_start
    return None


async def overlap(
    caller: BenchCaller,
    trigger: tuple[Spoken, Answer],
    over: tuple[Spoken, Answer],
    mode: str,
) -> Outcome:
    """Give `trigger` (a complete answer); say `over` while its reply plays."""
    spoken, encoded = over
    mark = len(caller.events)
    ends = len(caller.packet_mic.speech_ends)
    caller.packet_mic.say(trigger[1])
    speech_end = await _said(caller, ends)
    while (reply := caller.first_loud_after(speech_end)) is None:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
        if caller.of_type("error", after=mark):
            raise RuntimeError(f"the trigger answer failed: {caller.of_type('error', after=mark)}")
    await asyncio.sleep(max(0.0, reply + OVERLAP_AFTER_S - time.monotonic()))
    during = len(caller.events)
    said = len(caller.packet_mic.speaking)
    caller.packet_mic.say(encoded)
    await _said(caller, ends + 1)
    onset = caller.packet_mic.speaking[said][0] + onset_frames(spoken) * FRAME_S
    outcome = Outcome(mode, spoken.kind, spoken.voice, spoken.text, None, 0.0)
    if spoken.kind == "interruption":
        try:
            await caller.wait_for(is_event("barge_in"), 10, after=during)
        except TimeoutError:
            pass  # not caught: counted as such
        held = caller.of_type("playback", after=during)
        outcome.stop_event_ms = (held[0]["_at"] - onset) * 1000 if held else None
        quiet = _quiet_from(caller, onset)
        outcome.stop_heard_ms = (quiet - onset) * 1000 if quiet is not None else None
    outcome.held_for_good = not await _reply_over(caller, mark, during)
    if not outcome.held_for_good:
        await settled(caller)
    playback = [e["state"] for e in caller.of_type("playback", after=during)]
    outcome.held = "held" in playback
    outcome.barged_in = bool(caller.of_type("barge_in", after=during))
    outcome.heard = [e["text"] for e in caller.of_type("user_transcript", after=during)]
    outcome.turns = len(outcome.heard)
    return outcome


async def _reply_over(caller: BenchCaller, mark: int, during: int) -> bool:
    """Wait for the reply's end; False when it stays held with nothing happening (a stall
    the call never leaves: the caller hangs up and goes on in a new call)."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        if caller.of_type("assistant_done", after=mark):
            return True
        playback = caller.of_type("playback", after=during)
        last = caller.events[-1]["_at"] if caller.events else 0.0
        quiet_s = time.monotonic() - last
        if playback and playback[-1]["state"] == "held" and quiet_s > HELD_FOR_GOOD_S:
            return False
        await asyncio.sleep(0.5)
    raise TimeoutError("the reply never ended")


async def settled(caller: BenchCaller, quiet_s: float = 1.5) -> None:
    """Wait until the call listens and no event has arrived for `quiet_s` (every reply to
    whatever was said is over)."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        count = len(caller.events)
        await asyncio.sleep(quiet_s)
        states = caller.of_type("state")
        if len(caller.events) == count and states and _is_over(states[-1]):
            return
    raise TimeoutError("the call never settled")
