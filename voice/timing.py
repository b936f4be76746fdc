"""Where the speech is in an answer's audio: voiced spans for `flows.delivery`.

webrtcvad decides each 20 ms frame; the spans are its voiced runs, with short dips
bridged. It is C code holding the GIL for microseconds per frame (about 1 ms for a
minute of audio); callers on the event loop run it through `asyncio.to_thread` anyway.
"""

from __future__ import annotations

import webrtcvad

from flows.delivery import spans_from_flags
from voice.audio import Pcm

FRAME_MS = 20
RATE = 16000


def speech_spans(pcm: Pcm, aggressiveness: int = 2) -> tuple[tuple[float, float], ...]:
    """Voiced spans of 16 kHz mono audio, in seconds from its start."""
    if pcm.sample_rate != RATE:
        raise ValueError(f"speech_spans needs {RATE} Hz audio, got {pcm.sample_rate}")
    vad = webrtcvad.Vad(aggressiveness)
    size = RATE * FRAME_MS // 1000 * 2
    data = pcm.data
    flags = [
        vad.is_speech(data[i : i + size], RATE) for i in range(0, len(data) - size + 1, size)
    ]
    return spans_from_flags(flags, FRAME_MS / 1000)
