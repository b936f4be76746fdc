"""A steady tone is nothing heard, judged per voiced span (`voice.timing.voiced_beyond_tone`,
used by `voice.stt.has_speech` for Whisper and pocketsphinx): words next to a beep are
still heard, and the work stays bounded however long the audio is."""

from __future__ import annotations

import tracemalloc

import numpy as np

from tests.speech_samples import speak, tone
from voice.audio import Pcm
from voice.stt import has_speech
from voice.timing import speech_spans

WORDS = speak("Yes, I am ready to start the interview now.")


def joined(*parts: Pcm) -> Pcm:
    return Pcm(b"".join(part.data for part in parts), 16000)


def test_a_beep_alone_is_nothing_heard() -> None:
    for hz in (220, 440, 1000, 3000):
        beep = tone(2.0, hz)
        assert speech_spans(beep, 1), hz  # webrtcvad calls it voice
        assert not has_speech(beep), hz
        assert not has_speech(joined(beep, Pcm(bytes(16000), 16000), tone(0.5, hz))), hz


def test_words_before_or_after_a_beep_are_heard() -> None:
    beep = tone(2.0, 440)
    assert has_speech(WORDS)
    assert has_speech(joined(beep, WORDS))
    assert has_speech(joined(WORDS, beep))
    assert has_speech(joined(beep, WORDS, beep))
    # no room between the beep and the words: one voiced span, judged in parts
    pad = int(0.25 * 16000) * 2
    bare = Pcm(WORDS.data[pad:-pad], 16000)
    assert len(speech_spans(joined(beep, bare, beep), 1)) == 1
    assert has_speech(joined(beep, bare, beep))


def test_a_long_input_is_judged_in_bounded_memory() -> None:
    """A minute of tone before the words: every 30 ms frame through one float64 FFT took
    tens of megabytes at once (gigabytes at an hour); a bounded number per span does not."""
    long_beep = tone(60.0, 440)
    for pcm, heard in ((long_beep, False), (joined(long_beep, WORDS), True)):
        tracemalloc.start()
        try:
            assert has_speech(pcm) is heard
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        audio = np.frombuffer(pcm.data, dtype="<i2").nbytes
        assert peak < audio + 4_000_000, (peak, audio)
