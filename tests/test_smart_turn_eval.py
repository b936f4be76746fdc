"""The Smart Turn evaluation's own parts: its features, its model guard, its decision points.

The model itself is not loaded here (it is fetched only for the benchmark); what is checked
is what the figures depend on: Whisper-style features of the right shape and bands, a clear
refusal of a missing or foreign model file, and cuts that find the thinking pause and the
end of a generated answer with the words said up to each.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.answers import render
from benchmarks.smart_turn import RATE, SmartTurn, SmartTurnError, log_mel, window
from benchmarks.smart_turn_eval import cuts_of, prefix_by_time


def test_a_short_clip_is_padded_in_front_to_eight_seconds() -> None:
    clip = np.ones(RATE, dtype=np.float32)
    padded = window(clip)
    assert len(padded) == 8 * RATE
    assert not padded[: 7 * RATE].any() and padded[7 * RATE :].all()
    long = np.arange(10 * RATE, dtype=np.float32)
    assert window(long)[0] == 2 * RATE  # the last 8 s are kept


def test_features_put_a_tone_in_its_mel_band_at_the_end_of_the_window() -> None:
    t = np.arange(2 * RATE) / RATE
    low = log_mel(0.3 * np.sin(2 * np.pi * 300 * t).astype(np.float32))
    high = log_mel(0.3 * np.sin(2 * np.pi * 4000 * t).astype(np.float32))
    assert low.shape == (80, 800) and low.dtype == np.float32
    # the tone is in the last 2 s (the last 200 frames); the padding before it is flat
    assert np.ptp(low[:, :500]) < 1e-3
    assert int(np.argmax(low[:, 700])) < 20 < int(np.argmax(high[:, 700]))
    assert low.min() >= low.max() - 2.0 - 1e-6  # log10 clipped 8 below its maximum, / 4


def test_a_missing_or_foreign_model_file_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(SmartTurnError, match="not found.*fetch-smart-turn"):
        SmartTurn(tmp_path / "nothing.onnx")
    other = tmp_path / "smart-turn-v3.2-cpu.onnx"
    other.write_bytes(b"not the model")
    with pytest.raises(SmartTurnError, match="not the pinned Smart Turn"):
        SmartTurn(other)


def test_a_paused_answer_gives_a_thinking_cut_and_an_end() -> None:
    parts = ("We chose Postgres because", "it handles our joins really well.")
    spoken = render("paused", "piper:1.0", parts, 1.5, None, seed=1)
    cuts = cuts_of(spoken)
    thinking = [c for c in cuts if c.where == "thinking"]
    assert len(thinking) == 1 and thinking[0].said == parts[0]
    assert 1400 <= thinking[0].pause_ms <= 1600
    assert cuts[-1].where == "end" and cuts[-1].said == " ".join(parts)
    assert all(c.where == "inside" for c in cuts if c not in (thinking[0], cuts[-1]))


def test_the_same_answer_spoken_as_one_sentence_pauses_at_the_same_words() -> None:
    parts = ("I think the key point is", "keeping the data consistent across services.")
    spoken = render("paused", "piper:1.0", parts, 2.5, 30.0, seed=2, continuous=True)
    thinking = [c for c in cuts_of(spoken) if c.where == "thinking"]
    assert len(thinking) == 1 and thinking[0].said == parts[0]


def test_words_inside_a_phrase_snap_to_a_comma() -> None:
    text = "First I would measure where the time goes, then fix the worst part."
    assert prefix_by_time(text, 0.55) == "First I would measure where the time goes,"
    assert prefix_by_time(text, 0.15) == "First I"
