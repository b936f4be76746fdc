"""The feedback report and the progress history, assembled from stored records. Pure.

The report keeps the seed's fields (total_score, category_scores, strengths,
areas_for_improvement, final_assessment, source) and adds `answers[]` (one per question,
with its follow-up and delivery) and `delivery` (over every spoken answer, or null when
every answer was typed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flows import coaching, delivery
from flows.feedback import Feedback
from storage.records import Interview, InterviewSession, TranscriptEntry, iso

FILLER_NOTE = (
    "Fillers are counted in the transcript, and speech recognisers drop most of them, so "
    "the count is a lower bound."
)


@dataclass(frozen=True)
class Exchange:
    index: int
    question: str
    answer: str | None
    follow_up: dict[str, Any] | None  # {question, answer}


def exchanges(questions: Sequence[str], session: InterviewSession) -> list[Exchange]:
    follow = {f["index"]: f for f in session.follow_ups or ()}
    return [
        Exchange(
            index,
            question,
            answer,
            (
                {"question": follow[index]["question"], "answer": follow[index]["answer"] or None}
                if index in follow
                else None
            ),
        )
        for index, (question, answer) in enumerate(zip(questions, session.answers, strict=False))
    ]


def pairs(found: Sequence[Exchange]) -> list[tuple[str, str | None]]:
    """What the scorer reads: each answer, with its follow-up answer appended."""
    combined = []
    for exchange in found:
        answer = exchange.answer
        extra = (exchange.follow_up or {}).get("answer")
        if answer and extra:
            answer = f"{answer} {extra}"
        combined.append((exchange.question, answer))
    return combined


def payload(
    feedback: Feedback, source: str, found: Sequence[Exchange], rows: Sequence[TranscriptEntry]
) -> dict[str, Any]:
    spoken: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if row.speaker == "user" and row.delivery and "question_index" in row.delivery:
            spoken.setdefault(int(row.delivery["question_index"]), []).append(row.delivery)
    answers = []
    for exchange, item in zip(found, feedback.answers, strict=False):
        figures = delivery.combine(spoken.get(exchange.index, ()))
        if figures is not None:
            figures["advice"] = delivery.advice(figures)
        own = {"answer": exchange.answer, "follow_up": exchange.follow_up, "delivery": figures}
        answers.append({**item, **own})
    total = delivery.combine(d for ds in spoken.values() for d in ds)
    if total is not None:
        total |= {"advice": delivery.advice(total), "note": FILLER_NOTE}
    result = {**feedback.to_dict(), "source": source, "answers": answers, "delivery": total}
    if source == "offline":
        result["limits"] = coaching.LIMITS
    return result


def progress(user_id: str, found: Sequence[tuple[InterviewSession, Interview]]) -> dict[str, Any]:
    items = []
    for session, interview in found:
        feedback = session.feedback or {}
        spoken = feedback.get("delivery") or None
        items.append(
            {
                "interview_session_id": session.id,
                "interview_id": interview.id,
                "role": interview.role,
                "interview_type": interview.interview_type,
                "level": interview.level,
                "date": iso(session.updated_at or session.created_at),
                "total_score": feedback.get("total_score"),
                "category_scores": {
                    c["name"]: c["score"] for c in feedback.get("category_scores", ())
                },
                "source": feedback.get("source"),
                "delivery": (
                    {key: spoken.get(key) for key in _TREND_FIELDS} if spoken else None
                ),
            }
        )
    return {"user_id": user_id, "interviews": items, "trend": _trend(items)}


_TREND_FIELDS = (
    "words_per_minute",
    "fillers_per_minute",
    "long_pauses",
    "longest_pause_seconds",
    "time_to_first_word_seconds",
    "answer_seconds",
)


def _trend(items: list[dict[str, Any]]) -> dict[str, Any]:
    """First and latest values and the change, for the total and each delivery figure."""
    trend: dict[str, Any] = {}
    scored = [i["total_score"] for i in items if i["total_score"] is not None]
    if scored:
        trend["total_score"] = _change(scored[0], scored[-1])
    voiced = [i["delivery"] for i in items if i["delivery"]]
    for key in _TREND_FIELDS:
        values = [d[key] for d in voiced if d.get(key) is not None]
        if values:
            trend[key] = _change(values[0], values[-1])
    return trend


def _change(first: float, latest: float) -> dict[str, float]:
    return {"first": first, "latest": latest, "change": round(latest - first, 2)}
