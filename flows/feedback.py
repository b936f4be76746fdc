"""Interview feedback: the strict shape a model must return, and an offline scorer.

The offline scorer counts, and never judges whether an answer is right:
- coverage: answered out of asked (a skipped or blank answer counts as skipped);
- detail: average words per answer (80 is full marks), answers of 40+ and under 8 words;
- vocabulary: stack items named (name, aliases, signature terms like "goroutine") and the
  role domain's words ("cache", "latency" for backend, "stakeholder" for product);
- structure: reasoning and STAR words (first, then, because, for example, result, ...);
- collaboration: team, users, customers, feedback, learning, ...;
- filler and hedging (um, not sure, I guess) per 100 words; fluency, their absence, is
  credited only as answers approach 25 words.
Each category mixes these into a quality q in 0..1 and scores coverage x (15 + 85 q): all
skipped is 0 and one-word answers stay far below detailed ones. The total is a weighted
mean of the categories, with weights by interview type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flows import coaching
from flows.bank_data import (
    COLLABORATION_WORDS,
    DOMAIN_LABELS,
    FILLER_WORDS,
    STRUCTURE_WORDS,
    VAGUE_ALIASES,
)
from flows.question_bank import InterviewSetup, resolve_stack, role_domain, spoken_role

CATEGORIES = (
    "Communication Skills",
    "Technical Knowledge",
    "Problem Solving",
    "Cultural Fit",
    "Confidence and Clarity",
)
_WEIGHTS: dict[str, tuple[float, ...]] = {  # in CATEGORIES order
    "technical": (0.20, 0.30, 0.25, 0.10, 0.15),
    "behavioral": (0.25, 0.10, 0.20, 0.25, 0.20),
    "mixed": (0.20, 0.20, 0.20, 0.20, 0.20),
}
DETAILED_WORDS = 40
TERSE_WORDS = 8
_BANDS = ((75, "Strong:"), (50, "Good:"), (25, "Developing:"))  # comment prefixes by score


@dataclass(frozen=True)
class CategoryScore:
    name: str
    score: int
    comment: str


@dataclass(frozen=True)
class Feedback:
    total_score: int  # 0..100
    category_scores: tuple[CategoryScore, ...]
    strengths: tuple[str, ...]
    areas_for_improvement: tuple[str, ...]
    final_assessment: str
    answers: tuple[dict[str, Any], ...] = ()  # per answer, see flows.coaching.AnswerFeedback

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_score": self.total_score,
            "category_scores": [
                {"name": c.name, "score": c.score, "comment": c.comment}
                for c in self.category_scores
            ],
            "strengths": list(self.strengths),
            "areas_for_improvement": list(self.areas_for_improvement),
            "final_assessment": self.final_assessment,
            "answers": [dict(answer) for answer in self.answers],
        }

    @classmethod
    def from_dict(
        cls, d: dict[str, Any], pairs: Sequence[tuple[str, str | None]] | None = None
    ) -> Feedback:
        """Validate and build, e.g. from a model's JSON. Raises ValueError on any bad shape:
        every category exactly once (names match case-insensitively), integer scores in
        0..100, non-empty strings, at least one strength and one area. With `pairs` (the
        questions and answers the model was shown) it also needs one `answers` item per
        question (`coaching.validated_answers`); without, stored `answers` are kept."""
        if not isinstance(d, dict):
            raise ValueError("feedback must be a JSON object")
        raw_scores = d.get("category_scores")
        if not isinstance(raw_scores, list):
            raise ValueError('"category_scores" must be a list')
        by_name: dict[str, CategoryScore] = {}
        for raw in raw_scores:
            if not isinstance(raw, dict):
                raise ValueError("each category score must be an object")
            name = _canonical_category(raw.get("name"))
            if name in by_name:
                raise ValueError(f'category "{name}" appears more than once')
            by_name[name] = CategoryScore(
                name, _score(raw.get("score"), name), _text(raw.get("comment"), "comment")
            )
        missing = [name for name in CATEGORIES if name not in by_name]
        if missing:
            raise ValueError(f"missing categories: {', '.join(missing)}")
        return cls(
            total_score=_score(d.get("total_score"), "total_score"),
            category_scores=tuple(by_name[name] for name in CATEGORIES),
            strengths=_texts(d.get("strengths"), "strengths"),
            areas_for_improvement=_texts(d.get("areas_for_improvement"), "areas_for_improvement"),
            final_assessment=_text(d.get("final_assessment"), "final_assessment"),
            answers=_answers(d, pairs),
        )


def _answers(
    d: dict[str, Any], pairs: Sequence[tuple[str, str | None]] | None
) -> tuple[dict[str, Any], ...]:
    if pairs is None:
        stored = d.get("answers") or []
        return tuple(dict(item) for item in stored if isinstance(item, dict))
    checked = coaching.validated_answers(d.get("answers"), [q for q, _ in pairs])
    return tuple(
        {
            "index": index,
            "question": question,
            "answer": answer if answer and answer.strip() else None,
            "kind": "behavioral" if coaching.is_behavioral(question) else "technical",
            **item,
            "quotes": [],
        }
        for index, ((question, answer), item) in enumerate(zip(pairs, checked, strict=True))
    )


def _canonical_category(raw: object) -> str:
    if isinstance(raw, str):
        key = " ".join(raw.split()).casefold()
        for name in CATEGORIES:
            if name.casefold() == key:
                return name
    raise ValueError(f"unknown category {raw!r}; expected one of {', '.join(CATEGORIES)}")


def _score(raw: object, field: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 100:
        raise ValueError(f"{field} must be an integer from 0 to 100, got {raw!r}")
    return raw


def _text(raw: object, field: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"{field} must be a non-empty string")
    return raw.strip()


def _texts(raw: object, field: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{field} must be a non-empty list of strings")
    return tuple(_text(item, field) for item in raw)


# Offline scoring --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signals:
    asked: int
    answered: int
    words: int
    detailed: int
    terse: int
    stack_used: tuple[str, ...]
    stack_unused: tuple[str, ...]
    domain_terms: int
    structure: int
    collaboration: int
    filler: int

    @property
    def average_words(self) -> int:
        return round(self.words / self.answered) if self.answered else 0


def offline_feedback(setup: InterviewSetup, pairs: list[tuple[str, str | None]]) -> Feedback:
    """Heuristic feedback without a model; see the module docstring for the method."""
    domain = role_domain(setup.role)
    answers = [a.replace("\u2019", "'").lower() for _, a in pairs if a and a.strip()]
    text = "\n".join(answers)
    used: list[str] = []
    unused: list[str] = []
    for item in resolve_stack(setup.techstack):
        terms = [item.name.lower()]
        prefixes: Sequence[str] = ()
        if item.tech is not None:
            terms += [a for a in item.tech.aliases if len(a) > 2 and a not in VAGUE_ALIASES]
            prefixes = item.tech.terms
        found = _count(text, terms) + _count(text, prefixes, prefix=True)
        (used if found else unused).append(item.name)
    lengths = [len(a.split()) for a in answers]
    signals = _Signals(
        asked=len(pairs),
        answered=len(answers),
        words=sum(lengths),
        detailed=sum(n >= DETAILED_WORDS for n in lengths),
        terse=sum(n < TERSE_WORDS for n in lengths),
        stack_used=tuple(used),
        stack_unused=tuple(unused),
        domain_terms=_count(text, domain.vocab, prefix=True),
        structure=_count(text, STRUCTURE_WORDS),
        collaboration=_count(text, COLLABORATION_WORDS),
        filler=_count(text, FILLER_WORDS),
    )
    label = DOMAIN_LABELS.get(domain.key, domain.key)
    scores = [round(_coverage(signals) * (15 + 85 * q)) for q in _qualities(signals)]
    comments = _comments(signals, label)
    categories = tuple(
        CategoryScore(name, score, f"{_grade(score, _BANDS, 'Needs work:')} {comment}")
        for name, score, comment in zip(CATEGORIES, scores, comments, strict=True)
    )
    weights = _WEIGHTS[setup.interview_type]
    total = round(sum(w * s for w, s in zip(weights, scores, strict=True)))
    return Feedback(
        total_score=total,
        category_scores=categories,
        strengths=_strengths(signals),
        areas_for_improvement=_areas(signals, setup.interview_type),
        final_assessment=_assessment(setup, signals, total),
        answers=tuple(
            coaching.offline_answer(index, question, answer).to_dict()
            for index, (question, answer) in enumerate(pairs)
        ),
    )


def _count(text: str, terms: Iterable[str], prefix: bool = False) -> int:
    """Occurrences of whole words or phrases; a trailing "*" (or `prefix`) allows endings."""
    total = 0
    for term in terms:
        open_end = prefix or term.endswith("*")
        body = re.escape(term.rstrip("*"))
        tail = "" if open_end else r"(?![\w+#-])"
        total += len(re.findall(rf"(?<![\w+#.-]){body}{tail}", text))
    return total


def _coverage(s: _Signals) -> float:
    return s.answered / s.asked if s.asked else 0.0


def _qualities(s: _Signals) -> tuple[float, ...]:
    """Quality 0..1 per category, in CATEGORIES order."""
    if not s.answered:
        return (0.0,) * len(CATEGORIES)
    detail = min(1.0, s.average_words / 80)
    fluency = (1 - min(1.0, s.filler * 100 / s.words / 6)) * min(1.0, s.average_words / 25)
    structure = min(1.0, s.structure / (2 * s.answered))
    vocab = min(1.0, s.domain_terms / (2 * s.answered))
    collaboration = min(1.0, s.collaboration / (1.5 * s.answered))
    stack_total = len(s.stack_used) + len(s.stack_unused)
    if stack_total:
        technical = 0.4 * detail + 0.3 * len(s.stack_used) / stack_total + 0.3 * vocab
    else:
        technical = 0.5 * detail + 0.5 * vocab
    return (
        0.5 * detail + 0.3 * structure + 0.2 * fluency,
        technical,
        0.45 * structure + 0.35 * detail + 0.2 * vocab,
        0.45 * collaboration + 0.35 * detail + 0.2 * fluency,
        0.45 * fluency + 0.35 * detail + 0.2 * (1 - s.terse / s.answered),
    )


def _comments(s: _Signals, label: str) -> tuple[str, ...]:
    if not s.answered:
        skipped = f"All {s.asked} questions were skipped, so there was nothing to assess"
        return tuple(f"{skipped} for {name.lower()}." for name in CATEGORIES)
    stack_total = len(s.stack_used) + len(s.stack_unused)
    if stack_total:
        stack = f"You named none of your {stack_total} stack items"
        if s.stack_used:
            names = ", ".join(s.stack_used)
            stack = f"You named {len(s.stack_used)} of your {stack_total} stack items ({names})"
    else:
        stack = f"Across {_n(s.answered, 'answer')}"
    return (
        f"You answered {s.answered} of {s.asked} questions, averaging {s.average_words} words "
        f"per answer; {s.detailed} ran {DETAILED_WORDS} words or more and {s.terse} were under "
        f"{TERSE_WORDS} words.",
        f"{stack} and used {_n(s.domain_terms, label + ' term')}.",
        f"Reasoning and structure words such as first, then, because and for example came up "
        f"{_n(s.structure, 'time')} across {_n(s.answered, 'answer')}.",
        f"You mentioned teamwork, users, feedback or learning {_n(s.collaboration, 'time')}.",
        f"Filler and hedging such as um, not sure or I guess came up {_n(s.filler, 'time')} in "
        f"{_n(s.words, 'word')}.",
    )


def _strengths(s: _Signals) -> tuple[str, ...]:
    found: list[str] = []
    if not s.answered:
        return ("You started a practice interview, which is the first step.",)
    if s.answered == s.asked:
        found.append(f"You answered all {s.asked} questions.")
    if s.detailed * 2 >= s.answered:
        found.append(
            f"{s.detailed} of your {s.answered} answers ran {DETAILED_WORDS} words or more."
        )
    if s.stack_used:
        found.append(f"You tied answers to your stack: {', '.join(s.stack_used)}.")
    if s.structure >= s.answered:
        found.append("Your answers had structure, with reasons and examples.")
    if s.average_words >= 25 and s.filler * 100 <= s.words:
        found.append("You spoke fluently, with very little filler or hedging.")
    if s.collaboration >= s.answered:
        found.append("You showed how you work with others and who benefited.")
    fallback = f"You answered {s.answered} of {s.asked} questions and stayed to the end."
    return tuple(found[:4]) or (fallback,)


def _areas(s: _Signals, interview_type: str) -> tuple[str, ...]:
    found: list[str] = []
    if s.answered < s.asked:
        skipped = f"{s.asked - s.answered} of {s.asked}"
        found.append(f"Answer every question: you skipped {skipped}; a partial answer helps.")
    if s.terse:
        short = _n(s.terse, "answer")
        found.append(
            f"Expand short answers ({short} under {TERSE_WORDS} words): give the "
            "situation, what you did and the result."
        )
    if s.answered and s.stack_unused:
        found.append(f"Bring in your stack: you never mentioned {', '.join(s.stack_unused)}.")
    if s.answered and s.structure < s.answered:
        found.append("Structure answers: what you would do first, then why, with an example.")
    if s.filler * 100 > 2 * s.words > 0:
        filler = _n(s.filler, "time")
        found.append(f"Cut filler and hedging (it came up {filler}); a pause sounds surer.")
    if s.answered and interview_type != "technical" and s.collaboration < s.answered:
        found.append("Say who you worked with and how the team or users benefited.")
    return tuple(found[:4]) or ("Keep stretching yourself with a higher level or more questions.",)


def _assessment(setup: InterviewSetup, s: _Signals, total: int) -> str:
    role = spoken_role(setup.role) or "practice"
    context = f"{setup.level} {role} {setup.interview_type} interview"
    if not s.answered:
        verdict = f"No questions were answered in this {context}, so it scores {total} of 100."
    else:
        band = _grade(total, ((80, "excellent"), (65, "solid"), (45, "developing")), "early-stage")
        article = "An" if band[0] in "aeiou" else "A"
        verdict = (
            f"{article} {band} performance in this {context}: {total} of 100, with "
            f"{s.answered} of {s.asked} questions answered."
        )
    return (
        f"{verdict} This offline review counts coverage, detail, vocabulary, structure and "
        "filler words, and checks each answer for the key points of a strong answer by "
        "matching words; it does not check whether the answers were correct."
    )


def _grade(score: int, bands: tuple[tuple[int, str], ...], lowest: str) -> str:
    return next((name for floor, name in bands if score >= floor), lowest)


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
