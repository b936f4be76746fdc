"""Delivery of a spoken answer, from its words and its voice timings. Pure: no I/O.

The voice paths measure where speech is in an answer's audio (`VoiceTiming`: voiced
spans from the VAD, in seconds from the start of the audio) and how long the candidate
waited after the question ended; this module turns that and the transcript into figures:

- answer length: first voiced moment to last;
- long pauses: silences of `LONG_PAUSE_S` or more between voiced spans (count, longest);
- words per minute: transcript words over the answer length minus its long pauses (an
  articulation rate that does not punish thinking pauses twice), against 120-160;
- fillers per minute: filler words in the transcript over the answer length. Recognisers
  drop most fillers ("um", "uh"): pocketsphinx almost always, OpenAI's models often, so
  this counts only the fillers the recogniser kept and is a lower bound;
- time to first word: from the end of the question to the first voiced moment, when the
  transport knows when the question ended (WebRTC: when its audio finished playing; the
  WebSocket: from the start of the recording, the closest thing it has).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

LONG_PAUSE_S = 0.7
COMFORTABLE_WPM = (120, 160)
_WORD = re.compile(r"[a-z0-9']+")
# "like" counts only where it cannot be a verb or a comparison: after these words it can.
_LIKE_NOT_FILLER = frozenset(
    "i you we they would feel feels felt looks look looked seems sounds something things "
    "just not don't didn't do does did much more most really also is was be".split()
)
_FILLERS = ("um", "umm", "uh", "uhh", "er", "erm", "ah", "hmm", "mm")
_FILLER_PHRASES = ("you know", "sort of", "kind of", "i mean")


@dataclass(frozen=True)
class VoiceTiming:
    """Where speech is in one answer's audio; times in seconds from the audio's start."""

    spans: tuple[tuple[float, float], ...]
    audio_seconds: float
    question_end: float | None = None  # when the question ended, on the same clock
    wait_source: str = "question_end"  # or "recording_start" (WebSocket)


# A turn's voice timing, or the measurement still running: a voice turn starts its reply
# while the answer's audio is measured, and awaits it only once the reply is written.
VoiceSource = VoiceTiming | Awaitable[VoiceTiming | None]


def count_fillers(text: str) -> int:
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    count = sum(word in _FILLERS for word in words)
    joined = " ".join(words)
    count += sum(len(re.findall(rf"\b{phrase}\b", joined)) for phrase in _FILLER_PHRASES)
    for i, word in enumerate(words):
        if word == "like" and (i == 0 or words[i - 1] not in _LIKE_NOT_FILLER):
            count += 1
    return count


def measure(text: str, timing: VoiceTiming) -> dict[str, Any] | None:
    """The delivery figures of one spoken answer; None when no speech was found."""
    spans = sorted(timing.spans)
    if not spans:
        return None
    start, end = spans[0][0], spans[-1][1]
    length = max(end - start, 0.001)
    gaps = [b[0] - a[1] for a, b in zip(spans, spans[1:], strict=False)]
    pauses = [gap for gap in gaps if gap >= LONG_PAUSE_S]
    speaking = max(length - sum(pauses), 0.001)
    words = len(_WORD.findall(text.lower()))
    fillers = count_fillers(text)
    wait = None
    if timing.question_end is not None:
        wait = round(max(0.0, start - timing.question_end), 2)
    return {
        "words": words,
        "answer_seconds": round(length, 2),
        "speaking_seconds": round(speaking, 2),
        "words_per_minute": round(words / speaking * 60, 1),
        "pace": pace(words / speaking * 60),
        "fillers": fillers,
        "fillers_per_minute": round(fillers / length * 60, 1),
        "long_pauses": len(pauses),
        "longest_pause_seconds": round(max(pauses), 2) if pauses else 0.0,
        "time_to_first_word_seconds": wait,
        "time_to_first_word_from": timing.wait_source if wait is not None else None,
    }


def pace(wpm: float) -> str:
    low, high = COMFORTABLE_WPM
    return "slow" if wpm < low else "fast" if wpm > high else "comfortable"


def combine(parts: Iterable[dict[str, Any] | None]) -> dict[str, Any] | None:
    """Figures over several spoken answers (or turns of one answer); None if none."""
    measured = [p for p in parts if p]
    if not measured:
        return None
    words = sum(p["words"] for p in measured)
    length = sum(p["answer_seconds"] for p in measured)
    speaking = sum(p["speaking_seconds"] for p in measured)
    fillers = sum(p["fillers"] for p in measured)
    waits = [p["time_to_first_word_seconds"] for p in measured]
    known = [w for w in waits if w is not None]
    wpm = words / speaking * 60 if speaking else 0.0
    return {
        "answers": len(measured),
        "words": words,
        "answer_seconds": round(length, 2),
        "speaking_seconds": round(speaking, 2),
        "words_per_minute": round(wpm, 1),
        "pace": pace(wpm),
        "fillers": fillers,
        "fillers_per_minute": round(fillers / length * 60, 1) if length else 0.0,
        "long_pauses": sum(p["long_pauses"] for p in measured),
        "longest_pause_seconds": max(p["longest_pause_seconds"] for p in measured),
        "time_to_first_word_seconds": round(sum(known) / len(known), 2) if known else None,
    }


def advice(figures: dict[str, Any]) -> str:
    """One line on the delivery figures."""
    low, high = COMFORTABLE_WPM
    wpm = figures["words_per_minute"]
    if wpm > high:
        return f"You spoke fast ({wpm:.0f} words a minute): slow down toward {high}."
    if wpm < low:
        return f"You spoke slowly ({wpm:.0f} words a minute): aim for {low} to {high}."
    if figures["fillers_per_minute"] > 4:
        return "Swap filler words for a short silent pause; it sounds more confident."
    if figures["long_pauses"] > 2:
        return "Several long pauses: outline your answer in one sentence before the details."
    return f"A comfortable pace ({wpm:.0f} words a minute) with few fillers."


def spans_from_flags(
    flags: Sequence[bool], frame_seconds: float, bridge_seconds: float = 0.2
) -> tuple[tuple[float, float], ...]:
    """Voiced spans from per-frame VAD decisions; gaps under `bridge_seconds` are bridged
    (stop consonants and short dips inside a word are not pauses)."""
    spans: list[list[float]] = []
    for i, voiced in enumerate(flags):
        if not voiced:
            continue
        start, end = i * frame_seconds, (i + 1) * frame_seconds
        if spans and start - spans[-1][1] < bridge_seconds:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return tuple((round(a, 3), round(b, 3)) for a, b in spans)
