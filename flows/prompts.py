"""Every text Viva sends to a chat model, in one place.

Each builder returns the whole message list for one task (system, then user). The JSON
tasks describe the exact shape the provider validates; `correction` is the follow-up
sent once when a reply did not validate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from flows import coaching
from flows.collector_nlu import INTERVIEW_TYPES, LEVELS, MAX_AMOUNT, MIN_AMOUNT, Intent
from flows.feedback import CATEGORIES
from flows.question_bank import InterviewSetup

Message = dict[str, str]

ACK_MAX_WORDS = 25

_SPOKEN = (
    "Everything you write is read aloud by a text-to-speech voice: plain sentences only, "
    "no markdown, no bullet points, no numbering, no emojis, no code blocks."
)


def _system(text: str) -> Message:
    return {"role": "system", "content": text}


def _user(text: str) -> Message:
    return {"role": "user", "content": text}


def _describe(setup: InterviewSetup) -> str:
    stack = ", ".join(setup.techstack) or "not specified"
    return (
        f"Role: {setup.role}\nInterview type: {setup.interview_type}\n"
        f"Experience level: {setup.level}\nTech stack: {stack}"
    )


# Question generation ----------------------------------------------------------------------


def question_messages(setup: InterviewSetup) -> list[Message]:
    system = (
        "You prepare voice mock interviews. You write interview questions a human "
        "interviewer would ask out loud. " + _SPOKEN + " Reply with a JSON object only."
    )
    user = (
        f"{_describe(setup)}\n\n"
        f"Write exactly {setup.amount} interview questions for this candidate.\n"
        "- Fit the role, the interview type (technical: concepts, design, debugging with "
        "the stack; behavioral: past situations and teamwork; mixed: both) and the level "
        "(harder and broader for senior, fundamentals for intern and junior).\n"
        "- Each question is one or two spoken sentences, self-contained, distinct from the "
        "others, and answerable without a whiteboard or code editor.\n"
        "- No numbering, no prefixes like 'Question 1', no markdown.\n\n"
        f'Reply as JSON: {{"questions": ["...", "..."]}} with exactly {setup.amount} strings.'
    )
    return [_system(system), _user(user)]


# Collector reading ------------------------------------------------------------------------

_FIELD_VALUES: dict[str, str] = {
    "readiness": 'null (intent "answer" means ready to start, "not_ready" means not yet)',
    "role": 'the job role only, not the sentence, e.g. "backend developer"',
    "interview_type": f"one of: {', '.join(INTERVIEW_TYPES)}",
    "level": f"one of: {', '.join(LEVELS)} (entry level is junior, staff or lead is senior)",
    "techstack": 'a list of technology names, e.g. ["Python", "PostgreSQL"]',
    "amount": f"an integer from {MIN_AMOUNT} to {MAX_AMOUNT}",
}

_INTENTS: dict[str, str] = {
    "answer": "the message answers the field being asked",
    "repeat": "the candidate asks to hear the question again",
    "examples": "the candidate asks for examples of valid answers",
    "clarify": "the candidate asks what the question means",
    "not_ready": "the candidate is not ready yet (only while asking about readiness)",
    "correction": "the candidate corrects an EARLIER field; give that field and new value",
    "invalid": "an answer whose value is not allowed, or a message you cannot read",
}


def intent_names() -> list[str]:
    """The intent words the model may use, in the enum's order."""
    return [intent.name.lower() for intent in Intent]


def reading_messages(expected_field: str, text: str) -> list[Message]:
    fields = "\n".join(f'- "{name}": {rule}' for name, rule in _FIELD_VALUES.items())
    intents = "\n".join(
        f'- "{name}": {_INTENTS.get(name, name.replace("_", " "))}' for name in intent_names()
    )
    system = (
        "You read one message from a candidate who is setting up a mock interview by voice "
        "(the text may come from speech recognition and contain small errors). You classify "
        "it and extract the value. Reply with a JSON object only.\n\n"
        f"Fields and their values:\n{fields}\n\nIntents:\n{intents}"
    )
    user = (
        f'The field being asked: "{expected_field}".\n'
        f"The candidate said: {json.dumps(text)}\n\n"
        'Reply as JSON: {"intent": "<intent>", "field": "<field>", "value": <value or null>}. '
        '"field" is the field being asked, except for "correction", where it is the earlier '
        'field being corrected. "value" is null unless the intent is "answer" or "correction".'
    )
    return [_system(system), _user(user)]


# Interview acknowledgement ----------------------------------------------------------------


def acknowledgement_messages(question: str, answer: str, index: int) -> list[Message]:
    system = (
        "You are a warm, professional interviewer in a live voice interview. After each "
        f"answer you say one short, natural sentence of at most {ACK_MAX_WORDS} words that "
        "acknowledges what the candidate said, referring to its content when you can. Do "
        "not ask a question, do not grade or evaluate the answer, do not hint at the "
        "feedback, and do not announce the next question; it is read right after you. "
        + _SPOKEN
    )
    user = (
        f"Question {index + 1}: {question}\n"
        f"Candidate's answer: {answer or '(no answer)'}\n\n"
        "Your one-sentence acknowledgement:"
    )
    return [_system(system), _user(user)]


def follow_up_messages(question: str, answer: str, offline: str) -> list[Message]:
    points = coaching.key_points(question)
    labels = "; ".join(p.label for p in points)
    hint = f"Points a strong answer covers: {labels}.\n" if points else ""
    system = (
        "You are a warm, professional interviewer in a live voice interview. The candidate's "
        "answer was thin. Ask one short follow-up question (at most 20 words) that invites "
        "them to add the most important thing they left out. Do not grade the answer. "
        + _SPOKEN
    )
    user = (
        f"Question: {question}\n{hint}Candidate's answer: {answer}\n"
        f"A rule-based suggestion, for reference: {offline}\n\n"
        'Reply as JSON: {"follow_up": "<the question>"}'
    )
    return [_system(system), _user(user)]


# Feedback ---------------------------------------------------------------------------------


def feedback_messages(
    setup: InterviewSetup, pairs: Sequence[tuple[str, str | None]]
) -> list[Message]:
    transcript = "\n\n".join(
        f"Q{number}: {question}\n{_expectations(question)}A{number}: "
        f"{answer or '(not answered)'}"
        for number, (question, answer) in enumerate(pairs, start=1)
    )
    categories = ", ".join(f'"{name}"' for name in CATEGORIES)
    shape = {
        "total_score": "<integer 0-100>",
        "category_scores": [
            {"name": name, "score": "<integer 0-100>", "comment": "<one or two sentences>"}
            for name in CATEGORIES
        ],
        "strengths": ["<short sentence>", "..."],
        "areas_for_improvement": ["<short sentence>", "..."],
        "final_assessment": "<three to five sentences>",
        "answers": [
            {
                "score": "<integer 0-100 for this answer>",
                "points_covered": ["<key point the answer made>", "..."],
                "points_missed": ["<key point a strong answer makes that this one did not>"],
                "star": "<null for technical questions; for behavioural ones an object "
                '{"situation": bool, "task": bool, "action": bool, "result": bool}>',
                "good": "<what was good, quoting the candidate's own words>",
                "missing": "<what was missing>",
                "suggestion": "<one line the candidate can act on next time>",
            }
        ],
    }
    system = (
        "You are an experienced interviewer writing honest, specific, constructive feedback "
        "on a mock interview. Base every score and comment on the answers given; "
        "unanswered or very short answers score low. Scores are integers from 0 to 100. "
        "Reply with a JSON object only."
    )
    user = (
        f"{_describe(setup)}\n\nTranscript (answers come from speech recognition):\n\n"
        f"{transcript}\n\n"
        f"Score each of these categories exactly once, by name: {categories}. "
        "Give two to four strengths and "
        "two to four areas for improvement. Give one item in \"answers\" per question, in "
        f"order ({len(pairs)} in all): check technical answers against the points a strong "
        "answer covers, and behavioural answers for Situation, Task, Action and Result.\n"
        f"Reply as JSON with exactly this shape:\n{json.dumps(shape, indent=2)}"
    )
    return [_system(system), _user(user)]


def _expectations(question: str) -> str:
    """The bank's key points for a question, as a hint line; empty for other questions."""
    points = coaching.key_points(question)
    if not points:
        return ""
    return f"(Key points of a strong answer: {'; '.join(p.label for p in points)}.)\n"


# Retry ------------------------------------------------------------------------------------


def correction(problem: str) -> Message:
    """The follow-up sent once after a reply that was not valid JSON of the asked shape."""
    return _user(
        f"That reply could not be used: {problem}. Answer the same request again, "
        "following the format exactly, as a single JSON object and nothing else."
    )
