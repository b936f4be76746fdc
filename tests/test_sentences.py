"""SentenceSplitter on token streams cut at awkward places."""

from __future__ import annotations

import random

import pytest

from voice.sentences import SentenceSplitter


def tokens(text: str, seed: int) -> list[str]:
    """Split text into chunks of 1-6 characters, like a chat model's tokens (or worse)."""
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, 6)
        out.append(text[i : i + n])
        i += n
    return out


def split_stream(parts: list[str], splitter: SentenceSplitter | None = None) -> list[str]:
    splitter = splitter or SentenceSplitter()
    out: list[str] = []
    for part in parts:
        out += splitter.push(part)
    return out + splitter.flush()


CASES = [
    (
        "Great answer! Could you tell me more? Let's move on.",
        ["Great answer!", "Could you tell me more?", "Let's move on."],
    ),
    (
        "Tools like Node.js, e.g. Express, are common. Version 3.5 is out. Mr. Smith agrees.",
        ["Tools like Node.js, e.g. Express, are common.", "Version 3.5 is out.",
         "Mr. Smith agrees."],
    ),
    (
        'He said "use a queue." Then he left... Why? I.e. nobody knows.',
        ['He said "use a queue."', "Then he left...", "Why?", "I.e. nobody knows."],
    ),
    (
        "Here are the steps:\n1. Install it.\n2. Run the tests.\n\nDone",
        ["Here are the steps:", "1. Install it.", "2. Run the tests.", "Done"],
    ),
    (
        "We used Postgres, Redis, etc. Then we moved to the U.S. in 2019. It went well.",
        ["We used Postgres, Redis, etc.", "Then we moved to the U.S. in 2019.", "It went well."],
    ),
    (
        "Ask J. R. Doe about apples, pears, etc. and so on. Dr. No. It costs $4.99 (approx.) now!",
        ["Ask J. R. Doe about apples, pears, etc. and so on.", "Dr. No.",
         "It costs $4.99 (approx.) now!"],
    ),
    ("No trailing punctuation", ["No trailing punctuation"]),
    ("   ", []),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_splits_the_same_whatever_the_tokenization(text: str, expected: list[str]) -> None:
    assert split_stream([text]) == expected
    assert split_stream(list(text)) == expected
    for seed in range(20):
        assert split_stream(tokens(text, seed)) == expected


def test_sentence_is_released_as_soon_as_its_end_is_known() -> None:
    splitter = SentenceSplitter()
    assert splitter.push("Thanks for that") == []
    assert splitter.push(".") == []  # could still be "that.js" or a decimal
    assert splitter.push(" Next") == ["Thanks for that."]
    assert splitter.pending == "Next"
    assert splitter.push(" question: what is 3.") == []
    assert splitter.push("5 times two?") == []
    assert splitter.push("\n") == ["Next question: what is 3.5 times two?"]
    assert splitter.flush() == [] and splitter.pending == ""


def test_ambiguous_abbreviation_waits_for_the_next_word() -> None:
    splitter = SentenceSplitter()
    assert splitter.push("I know Java, Go, etc. ") == []
    assert splitter.push("and more.") == []
    assert splitter.push(" Okay") == ["I know Java, Go, etc. and more."]
    assert splitter.flush() == ["Okay"]


def test_long_sentence_is_cut_at_a_comma_early() -> None:
    clause = "the service reads events from the queue and writes them to the database"
    text = f"First, {clause}, then {clause}; after that {clause}, and finally it reports."
    assert len(text) > 250
    splitter = SentenceSplitter(max_chars=120)
    emitted: list[tuple[int, str]] = []
    pos = 0
    for part in tokens(text, seed=1):
        pos += len(part)
        emitted += [(pos, s) for s in splitter.push(part)]
    emitted += [(pos, s) for s in splitter.flush()]
    pieces = [s for _, s in emitted]
    assert " ".join(pieces) == text
    assert all(len(p) <= 120 for p in pieces)
    assert all(p.endswith((",", ";", ".")) for p in pieces)
    assert emitted[0][0] <= 125  # the first piece came out before the sentence ended
    assert not any(len(p) < 20 for p in pieces[:-1])  # no tiny leading fragments


def test_long_text_without_commas_is_cut_at_a_space() -> None:
    text = " ".join(["word"] * 100) + "."
    pieces = split_stream(tokens(text, seed=3), SentenceSplitter(max_chars=100))
    assert " ".join(pieces) == text
    assert all(len(p) <= 100 for p in pieces) and len(pieces) >= 4
    assert all(p == p.strip() for p in pieces)


def test_reset_and_bad_settings() -> None:
    splitter = SentenceSplitter()
    splitter.push("half a sent")
    splitter.reset()
    assert splitter.flush() == []
    with pytest.raises(ValueError):
        SentenceSplitter(max_chars=10, min_chars=10)
