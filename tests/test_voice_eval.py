"""The voice evaluation (benchmarks/voice_eval.py) runs end to end on a small slice.

One whole collector and one interview answer in the tuning voice and in the held-out
voice, over the voice WebSocket of a real server process, then one recognition-latency
upload of each length. What is asserted is that every stage produced its figures, not
what they are: the figures belong to the benchmark's printout (README).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from benchmarks.voice_eval import HELD_OUT, Heard, evaluate, summarise, wilson_interval
from tests.conftest import IN_CI

FIELDS = {"readiness", "role", "interview_type", "level", "techstack", "amount"}


async def test_the_voice_evaluation_runs_end_to_end(tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None:
        if IN_CI:
            pytest.fail("espeak-ng is required in CI (scripts/install-espeak)")
        pytest.skip("espeak-ng not installed (scripts/install-espeak)")
    result = await evaluate(
        "whisper", ("piper-joe", HELD_OUT), ((1.0, None),), answers=1, latency_repeats=1,
        data_dir=tmp_path,
    )
    figures = result["figures"]
    assert set(figures) == {"piper-joe", "all tuning voices", f"{HELD_OUT} (held out)"}
    for label, family in figures.items():
        assert set(family["per_field"]) == FIELDS, label
        assert all(count.endswith("/1") for count in family["per_field"].values()), label
        heard, utterances = map(int, family["nothing_heard"].split("/"))
        assert utterances >= len(FIELDS) + 1 and 0 <= heard <= utterances, label
        assert 0.0 <= family["fields_right"] <= 1.0 and math.isfinite(family["answer_wer"])
    timing = result["latency"]
    for length in ("2s", "8s"):
        assert timing[length]["p50_ms"] > 0 and timing[length]["audio_s"] > 1
    assert timing["8s"]["audio_s"] > timing["2s"]["audio_s"]
    assert timing["cpu_per_audio_second"] > 0
    assert timing["loop_lag_max_ms_at_most"] >= timing["loop_lag_p99_ms_at_most"] > 0
    assert len(result["rows"]) == 3


def test_the_spread_is_reported_by_pairing_with_an_interval() -> None:
    """Each rotation of the scripts over the conditions is scored on its own, and the
    whole figure gets a 95 % interval: how far one run's figure can move."""
    names = ("readiness", "role", "interview_type", "level", "techstack", "amount")
    runs = [Heard("piper-joe", "speed 1.0", fields=dict.fromkeys(names, True), pairing=0),
            Heard("piper-joe", "speed 1.0", fields={**dict.fromkeys(names, True), "role": False},
                  pairing=1)]
    _rows, figures = summarise(runs)
    joe = figures["piper-joe"]
    assert joe["pairings"] == [1.0, round(5 / 6, 3)] and joe["fields"] == 12
    low, high = joe["interval_95"]
    assert low < 11 / 12 < high <= 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(30, 30)[0] < 1.0 == wilson_interval(30, 30)[1]
