"""What the offline interviewer says: the opening, acknowledgements and the closing.

Pure functions. An acknowledgement is one short sentence chosen by the kind of answer
(unsure, very short, ordinary, long and detailed) and by the question index, so that two
consecutive answers never get the same sentence; the caller appends the next question.
"""

from __future__ import annotations

import random
import re

from flows.question_bank import spoken_role

SHORT_ANSWER_WORDS = 8  # fewer words than this is a very short answer
LONG_ANSWER_WORDS = 60  # at least this many is a long, detailed answer

_UNSURE = re.compile(
    r"\b(?:i\s+(?:do\s*n[o']?t|dont)\s+know|not\s+(?:really\s+)?sure|no\s+idea"
    r"|(?:can\s*not|can't|cannot)\s+remember|never\s+(?:used|done|heard))\b",
    re.IGNORECASE,
)

_UNSURE_REPLIES = (
    "That's okay, not every question lands; let's keep going.",
    "No problem at all, thanks for being honest about it.",
    "That's fine, that one was a tricky question.",
    "No worries, we can move on from that one.",
)
_SHORT_REPLIES = (
    "Thanks — feel free to expand a little more next time.",
    "Got it; next time, try adding an example or two.",
    "Okay, thank you — a bit more detail would help on the next one.",
    "Noted, and don't hesitate to walk me through your thinking next time.",
)
_REPLIES = (
    "Thanks, that makes sense.",
    "Great, thank you for walking me through that.",
    "Got it, thanks for explaining.",
    "Good, I appreciate the clear answer.",
    "Thank you, that's helpful context.",
    "Okay, I can see where you're coming from.",
    "Nice, thanks for sharing that.",
    "Understood, thank you.",
)
_LONG_REPLIES = (
    "That's a thorough answer, thank you.",
    "Thanks for the detailed walkthrough.",
    "That was a thorough answer with a lot of useful detail.",
    "Great depth there, thank you.",
    "Thank you, that was a very complete answer.",
)


def acknowledge(answer: str, question_index: int, seed: int | None = None) -> str:
    """One sentence (under 90 characters) acknowledging an answer.

    Each kind of answer has its own sentences, visited in a seeded order by question
    index, so consecutive indices never repeat a sentence whatever the answers were.
    """
    answer = answer.replace("\u2019", "'")
    words = len(answer.split())
    replies: tuple[str, ...]
    if _UNSURE.search(answer) and words < LONG_ANSWER_WORDS:
        replies = _UNSURE_REPLIES
    elif words < SHORT_ANSWER_WORDS:
        replies = _SHORT_REPLIES
    elif words >= LONG_ANSWER_WORDS:
        replies = _LONG_REPLIES
    else:
        replies = _REPLIES
    order = random.Random(seed or 0).sample(range(len(replies)), len(replies))
    return replies[order[question_index % len(replies)]]


def opening(role: str, amount: int) -> str:
    """The welcome; the caller appends "First question: …"."""
    name = spoken_role(role)
    interview = f"your {name} practice interview" if name else "your practice interview"
    questions = "one question" if amount == 1 else f"{amount} questions"
    return (
        f"Welcome to {interview}. I'll ask you {questions}, one at a time. Take your time, "
        "and feel free to ask me to repeat or skip a question."
    )


def closing() -> str:
    """The last thing the interviewer says."""
    return (
        "Thank you for your time — that completes the interview, and your feedback is "
        "ready for you now."
    )
