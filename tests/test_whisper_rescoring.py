"""Whisper as its own grammar: a near miss of a collector value is rescored on the same
audio with the field's values in its place (`voice.whisper_stt._rescored`).

Real speech: espeak-ng's en-us voice (a tuning voice of benchmarks/voice_eval.py), which
tiny.en mishears as below on this machine kind. Each case is recognised as the collector's
voice socket does, once without the choices (the miss) and once with them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from functools import partial

import pytest

from benchmarks.voice_eval import spoken
from flows.collector import (
    CONFIRM_BELOW,
    answer_choices,
    confirmation_understood,
    confirmation_value,
    correction_choices,
    heard_value,
    understood,
)
from flows.value_choices import Choices
from voice.stt import SpeechHints
from voice.whisper_stt import (
    ALTERNATIVE_CONFIDENCE,
    RESCORE_MARGIN,
    WhisperConfig,
    WhisperSpeechToText,
    _accepted,
    _best_choice,
    _Heard,
    whisper_prompt,
)


@pytest.fixture(scope="module")
def whisper() -> WhisperSpeechToText:
    # without the wall-time budget: which sentence wins must not depend on the machine's
    # load (the budget has its own test, below)
    return WhisperSpeechToText(WhisperConfig(rescore_budget_s=None))


def answer_hints(field: str, rescore: bool) -> SpeechHints:
    return SpeechHints(expected=field, accepts=partial(understood, field),
                       value_of=partial(heard_value, field),
                       choices=partial(answer_choices, field) if rescore else None)


def correction_hints(field: str, pending: str, rescore: bool) -> SpeechHints:
    return SpeechHints(expected=field, confirming=pending,
                       accepts=partial(confirmation_understood, field),
                       value_of=partial(confirmation_value, field, pending),
                       choices=partial(correction_choices, field, pending) if rescore else None)


def test_a_misheard_type_is_rescored_and_asked_back(whisper: WhisperSpeechToText) -> None:
    """"Let's do a behavioral interview." at speed 0.85: "Let's do a bit in your little
    interview." (no type at all); rescored, "behavioral" wins, and is asked back."""
    pcm = spoken("Let's do a behavioral interview.", "espeak-us", 0.85, None, 0)
    missed = whisper.recognize(pcm, answer_hints("interview_type", rescore=False))
    assert heard_value("interview_type", missed.text) != ("interview_type", "behavioral")
    heard = whisper.recognize(pcm, answer_hints("interview_type", rescore=True))
    assert heard_value("interview_type", heard.text) == ("interview_type", "behavioral")
    assert heard.confidence is not None and heard.confidence <= ALTERNATIVE_CONFIDENCE


def test_a_misheard_correction_is_rescored(whisper: WhisperSpeechToText) -> None:
    """"No, it's DevOps engineer." at speed 0.85: "No, it's them up, engineer."; among the
    "engineer" titles (the one said no to left out), DevOps engineer wins clearly."""
    pcm = spoken("No, it's DevOps engineer.", "espeak-us", 0.85, None, 0)
    missed = whisper.recognize(pcm, correction_hints("role", "MLOps engineer", rescore=False))
    assert confirmation_value("role", "MLOps engineer", missed.text) != "devops engineer"
    heard = whisper.recognize(pcm, correction_hints("role", "MLOps engineer", rescore=True))
    assert confirmation_value("role", "MLOps engineer", heard.text) == "devops engineer"
    # the candidate's own correction: as sure as its words were heard
    assert heard.confidence == missed.confidence


def test_a_value_said_plainly_is_not_rescored(whisper: WhisperSpeechToText) -> None:
    pcm = spoken("A technical interview, please.", "espeak-us", 1.0, None, 0)
    heard = whisper.recognize(pcm, answer_hints("interview_type", rescore=True))
    assert heard_value("interview_type", heard.text) == ("interview_type", "technical")
    assert heard.confidence is not None and heard.confidence >= CONFIRM_BELOW
    # stored as heard, so there is nothing to rescore
    assert answer_choices("interview_type", heard.text, heard.confidence) is None


def test_an_unusual_title_is_not_replaced_by_a_listed_one(whisper: WhisperSpeechToText) -> None:
    """A role that is no listed title stays as heard (and is asked back as it is): the
    listed titles in its place score far below the words Whisper heard."""
    pcm = spoken("I want to prepare for a lighthouse engineer position.", "espeak-us", 1.0,
                 None, 0)
    heard = whisper.recognize(pcm, answer_hints("role", rescore=True))
    assert "lighthouse" in heard.text.lower()


def test_the_best_sentence_wins_only_by_the_margin(whisper: WhisperSpeechToText) -> None:
    """Scored on the same audio, the sentence that was said beats one far from it by more
    than the margin, and a sentence with another value by at least the margin."""
    pcm = spoken("Let's do a mixed interview.", "espeak-us", 1.0, None, 0)
    decoded = _decoded(whisper, pcm)
    far = Choices("Let's do a", "interview.", ("mixed", "purple elephant"), closed=True)
    picked, note, _ = _best_choice(whisper._model(), decoded, far,
                                partial(heard_value, "interview_type"))
    assert picked == "Let's do a mixed interview.", note
    values = Choices("Let's do a", "interview.", ("technical", "mixed"), closed=True)
    picked, note, _ = _best_choice(whisper._model(), decoded, values,
                                partial(heard_value, "interview_type"))
    assert picked == "Let's do a mixed interview.", note
    assert _lead(note) >= RESCORE_MARGIN, note


def test_a_close_call_is_no_choice(whisper: WhisperSpeechToText) -> None:
    """Two sentences the audio cannot tell apart ("MLOps" and "ML Ops", counted here as
    two values) are within the margin of each other: neither is chosen."""
    pcm = spoken("I want to prepare for an MLOps engineer position.", "espeak-us", 1.0,
                 None, 0)
    decoded = _decoded(whisper, pcm)
    close = Choices("I want to prepare for an", "position.",
                    ("MLOps engineer", "ML Ops engineer"))
    picked, note, _ = _best_choice(whisper._model(), decoded, close, lambda sentence: sentence)
    assert picked is None, note
    assert 0 <= _lead(note) < RESCORE_MARGIN, note


def test_rescoring_stops_at_its_wall_time_budget(whisper: WhisperSpeechToText) -> None:
    """"No, it's them up, engineer." needs a second batch of titles to decide (DevOps wins
    after 8 sentences); with no time left after the first batch, nothing is chosen."""
    pcm = spoken("No, it's DevOps engineer.", "espeak-us", 0.85, None, 0)
    decoded = _decoded(whisper, pcm, whisper_prompt(
        correction_hints("role", "MLOps engineer", rescore=False)))
    place = correction_choices("role", "MLOps engineer", decoded.text, decoded.confidence)
    assert place is not None, decoded.text
    value_of = partial(confirmation_value, "role", "MLOps engineer")
    picked, note, _ = _best_choice(whisper._model(), decoded, place, value_of)
    assert picked == "No, it's DevOps engineer.", note
    picked, note, _ = _best_choice(whisper._model(), decoded, place, value_of, budget_s=0.0)
    assert picked is None and note.startswith("out of time after 4 sentences"), note


def _lead(note: str) -> float:
    """By how much the best sentence beat every other value, as `_best_choice` noted it."""
    found = re.search(r"lead (-?[\d.]+|inf)", note)
    assert found is not None, note
    return float(found.group(1))


def _decoded(whisper: WhisperSpeechToText, pcm: object, prompt: str = "") -> _Heard:
    """The decoder's reading of `pcm` with its encoder output (what rescoring reuses)."""
    import numpy as np

    from voice.whisper_stt import _decode

    audio = np.frombuffer(pcm.data, dtype="<i2").astype(np.float32) / 32768.0  # type: ignore[attr-defined]
    return _decode(whisper._model(), audio, prompt, WhisperConfig())


def test_a_no_whisper_never_heard_as_a_correction_is_asked_back(
        whisper: WhisperSpeechToText) -> None:
    """"No, not really." while "mixed" is confirmed: tiny.en hears "No, that's really.",
    no value at all; rescored, "No, behavioral." wins among the other types, though it
    scores far below what was heard. It was taken as the candidate's correction, as sure as
    the words (0.70), and "behavioral" stored without a question: a correction the reading
    never had is a guess, asked back."""
    pcm = spoken("No, not really.", "espeak-us", 1.0, None, 0)
    missed = whisper.recognize(pcm, correction_hints("interview_type", "mixed", rescore=False))
    assert confirmation_value("interview_type", "mixed", missed.text) is None
    heard = whisper.recognize(pcm, correction_hints("interview_type", "mixed", rescore=True))
    assert confirmation_value("interview_type", "mixed", heard.text) == "behavioral"
    assert heard.confidence is not None and heard.confidence <= ALTERNATIVE_CONFIDENCE
    assert heard.confidence < CONFIRM_BELOW


def test_a_rescoring_failure_keeps_what_was_heard(
        whisper: WhisperSpeechToText, caplog: pytest.LogCaptureFixture) -> None:
    """Rescoring is optional: when CTranslate2 fails on it (here, sentences longer than
    Whisper's 448 positions), the decode that succeeded is the answer, and the failure is
    logged; before, the whole utterance was lost (ProviderError)."""
    pcm = spoken("Let's do a behavioral interview.", "espeak-us", 0.85, None, 0)
    missed = whisper.recognize(pcm, answer_hints("interview_type", rescore=False))
    too_long = Choices("Let's do a " + "very " * 600, "interview.",
                       ("technical", "behavioral", "mixed"), closed=True)
    hints = replace(answer_hints("interview_type", rescore=True),
                    choices=lambda text, confidence: too_long)
    with caplog.at_level(logging.ERROR, logger="viva.voice.whisper_stt"):
        heard = whisper.recognize(pcm, hints)
    assert (heard.text, heard.confidence) == (missed.text, missed.confidence)
    assert any("rescoring" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_beam_reading_taken_instead_has_no_last_word_probability() -> None:
    """The first reading's probability of its last word says nothing of another reading's."""
    heard = _Heard("Let's do a bit in your linter view.", 0.8, last_word_p=0.9,
                   alternatives=(("Let's do a behavioral interview.", 0.6),))
    chosen = _accepted(heard, answer_hints("interview_type", rescore=False))
    assert chosen.text == "Let's do a behavioral interview."
    assert chosen.last_word_p is None
