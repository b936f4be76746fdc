"""Per-answer feedback: key points a strong answer covers, STAR parts, one suggestion.

Offline, nothing here understands an answer. It matches words: a key point counts as
covered when the answer says one of its phrases (compared by crude word stems, with a few
shared synonyms), and a STAR part counts as present when the answer has the kind of
phrase that part is usually told with ("at my last job", "I was responsible for", "I
decided", "as a result"). So it can tell that an answer never mentioned hashing or never
said how things turned out; it cannot tell whether what was said is right, and a point
made in unusual words is missed. `LIMITS` says this in the report itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from flows import bank_data, bank_points
from flows.bank_tech import TECHS

STAR_PARTS = ("situation", "task", "action", "result")
LIMITS = (
    "Offline review: each answer is matched word by word against the key points of a strong "
    "answer to that question and, for behavioural questions, against the usual wording of "
    "Situation, Task, Action and Result. It can tell what an answer mentioned and what it "
    "left out; it cannot tell whether what you said is correct, and a point made in unusual "
    "words may be missed. Questions not from the bundled bank have no key points, so their "
    "answers are judged on length and structure only."
)
DETAILED_WORDS = 60  # words for full marks on detail
THIN_WORDS = 25  # fewer words than this make an answer thin (follow-up material)

_WORD = re.compile(r"[a-z0-9][a-z0-9+#]*")
_SUFFIXES = (
    "ations", "ation", "ions", "ion", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s", "e"
)  # fmt: skip
_SYNONYMS = {
    "db": "database",
    "dbs": "database",
    "k8s": "kubernetes",
    "js": "javascript",
    "ts": "typescript",
    "perf": "performance",
    "config": "configuration",
    "auth": "authentication",
    "authn": "authentication",
    "authz": "authorization",
    "repo": "repository",
    "env": "environment",
    "prod": "production",
    "infra": "infrastructure",
    "deps": "dependencies",
    "ux": "experience",
    "ci/cd": "pipeline",
    "faster": "fast",
    "quicker": "fast",
    "quickly": "fast",
    "slower": "slow",
}
_STAR_PATTERNS: dict[str, re.Pattern[str]] = {
    "situation": re.compile(
        r"\b(?:when i was|at my (?:last|previous|current|old|first) (?:job|company|role|team|"
        r"internship|employer)|in my (?:last|previous|current|first|old) (?:job|role|team|company|"
        r"position|internship)|last (?:year|month|quarter|summer|spring|autumn|winter)|"
        r"(?:a few|two|three|several) (?:years|months|weeks) ago|there was a time|once,|"
        r"our team (?:was|had)|we were (?:building|working|migrating|launching|about)|"
        r"the (?:project|situation|context|company) was|during (?:my|a|the|an|our) |"
        r"while (?:i was|we were|working)|back (?:when|in))"
    ),
    "task": re.compile(
        r"\b(?:my (?:task|job|role|responsibility|goal|aim) (?:was|is)|i was (?:responsible|asked|"
        r"tasked|in charge|supposed|expected)|i (?:had|needed) to|we (?:had|needed) to|"
        r"the (?:goal|task|challenge|problem|deadline|ask) was|it was (?:up to me|my job)|"
        r"i was (?:the|a) (?:lead|owner))"
    ),
    "action": re.compile(
        r"\b(?:i (?:decided|started|built|wrote|created|set up|organi[sz]ed|proposed|talked|spoke|"
        r"met|asked|reached out|scheduled|led|took|made|changed|implemented|introduced|suggested|"
        r"called|sat down|gave|reviewed|rewrote|fixed|designed|prioriti[sz]ed|broke|split|"
        r"focused|researched|practi[cs]ed|automated|added|moved|tested|explained|listened|offered|"
        r"volunteered|pushed|negotiated|documented|paired|mentored|escalated|raised|ran|"
        r"measured|profiled|migrated|planned|drafted|went|contacted|shadowed|coached)|"
        r"so i |then i |first,? i )"
    ),
    "result": re.compile(
        r"\b(?:as a result|in the end|the result|resulted|the outcome|ended up|which meant|"
        r"we (?:shipped|launched|delivered|finished|reduced|cut|saved|increased|improved|met|hit|"
        r"won|got|made it)|(?:reduced|cut|increased|improved|saved|grew|dropped|raised|halved|"
        r"doubled)\b.{0,40}?\b(?:by|to|from)\b|\d+\s?(?:%|percent)|it (?:worked|paid off)|"
        r"since then|i learned|we learned|the lesson|(?:was|got) (?:promoted|praised|recognized)|"
        r"on time|afterwards)"
    ),
}
_STAR_ADVICE = {
    "situation": "Open with the situation: where you were and what was at stake, in one "
    "sentence.",
    "task": "Say what your task was: what you were responsible for or had to achieve.",
    "action": 'Say what you did yourself, with "I": the steps you took and why.',
    "result": "Finish with the result: what changed, ideally with a number, and what you "
    "learned.",
}
_STAR_FOLLOW_UPS = {
    "situation": "Could you set the scene: where was this, and what was going on?",
    "task": "What exactly were you responsible for there?",
    "action": "What did you do yourself, step by step?",
    "result": "How did it turn out in the end?",
}
_BEHAVIORAL_HINTS = re.compile(
    r"\b(?:tell me about a time|describe a (?:time|situation|conflict|goal|strategic)|"
    r"a time (?:you|when)|give an example|share an example|what did you (?:do|learn)|"
    r"how did you|tell me about a (?:project|mistake|group project)|accomplishment)"
)


@dataclass(frozen=True)
class KeyPoint:
    label: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Covered:
    label: str
    covered: bool
    quote: str | None = None  # the candidate's own words that covered it


def stem(word: str) -> str:
    word = _SYNONYMS.get(word, word)
    for _ in range(2):
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        else:
            break
    return word


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("'", "").replace("\u2019", ""))


def parse_points(compact: str) -> tuple[KeyPoint, ...]:
    points = []
    for chunk in compact.split(";"):
        phrases = tuple(p.strip() for p in chunk.split(",") if p.strip())
        if phrases:
            points.append(KeyPoint(phrases[0], phrases))
    return tuple(points)


@cache
def _bank() -> tuple[dict[str, str], tuple[tuple[re.Pattern[str], str], ...], frozenset[str]]:
    """Question -> compact points; templates as patterns; the behavioural questions."""
    exact: dict[str, str] = {}

    def pair(questions: Iterable[str], points: Iterable[str]) -> None:
        exact.update(zip(questions, points, strict=True))

    for domain in bank_data.DOMAINS:
        pair(_tiers(domain.tiers), bank_points.DOMAIN_POINTS[domain.key])
    pair(_tiers(bank_data.GENERAL), bank_points.GENERAL_POINTS)
    for tech in TECHS:
        pair(_tiers(tech.tiers), bank_points.TECH_POINTS[tech.name])
    behavioral = [*bank_data.BEHAVIORAL_COMMON, *_tiers(bank_data.BEHAVIORAL)]
    pair(bank_data.BEHAVIORAL_COMMON, bank_points.BEHAVIORAL_COMMON_POINTS)
    pair(_tiers(bank_data.BEHAVIORAL), _tiers(bank_points.BEHAVIORAL_POINTS))
    patterns = []
    templated = [
        (bank_data.WARMUPS, bank_points.WARMUP_POINTS, "role"),
        (_tiers(bank_data.TECH_TEMPLATES), _tiers(bank_points.TEMPLATE_POINTS), "tech"),
    ]
    for templates, points, name in templated:
        for template, compact in zip(templates, points, strict=True):
            regex = re.escape(template).replace(re.escape("{" + name + "}"), ".+")
            patterns.append((re.compile(f"^{regex}$", re.DOTALL), compact))
    return exact, tuple(patterns), frozenset(behavioral)


def _tiers(tiers: dict[str, tuple[str, ...]]) -> list[str]:
    return [q for tier in ("basic", "mid", "senior") for q in tiers[tier]]


def key_points(question: str) -> tuple[KeyPoint, ...]:
    """The key points of a strong answer to a bank question; () for any other question."""
    exact, patterns, _ = _bank()
    compact = exact.get(question)
    if compact is None:
        compact = next((points for regex, points in patterns if regex.match(question)), "")
    return parse_points(compact)


def is_behavioral(question: str) -> bool:
    """A STAR question: from the bank's behavioural sets, or worded like one."""
    _, _, behavioral = _bank()
    if question in behavioral:
        return True
    if _is_warmup(question) or key_points(question):
        return False
    return bool(_BEHAVIORAL_HINTS.search(question.lower()))


def _is_warmup(question: str) -> bool:
    return any(question.startswith(t.split("{")[0]) for t in bank_data.WARMUPS)


def check_points(points: Sequence[KeyPoint], answer: str) -> tuple[Covered, ...]:
    words = _words(answer)
    stems = [stem(w) for w in words]
    found = []
    for point in points:
        quote = None
        for phrase in point.phrases:
            at = _find(stems, [stem(w) for w in _words(phrase)])
            if at is not None:
                quote = _quote(words, at)
                break
        found.append(Covered(point.label, quote is not None, quote))
    return tuple(found)


def _find(stems: list[str], target: list[str]) -> int | None:
    if not target:
        return None
    for i in range(len(stems) - len(target) + 1):
        if stems[i : i + len(target)] == target:
            return i
    return None


def _quote(words: list[str], at: int, around: int = 4) -> str:
    return " ".join(words[max(0, at - around) : at + around + 1])


def star(answer: str) -> dict[str, Covered]:
    """Which of Situation, Task, Action, Result a written or spoken answer contains."""
    text = " ".join(answer.lower().replace("\u2019", "'").split())
    parts = {}
    for part in STAR_PARTS:
        match = _STAR_PATTERNS[part].search(text)
        quote = None
        if match:
            start = max(0, text.rfind(" ", 0, max(0, match.start() - 25)) + 1)
            end = text.find(" ", match.end() + 25)
            quote = text[start : end if end != -1 else len(text)].strip(" ,.")
        parts[part] = Covered(part, match is not None, quote)
    return parts


def structure_count(answer: str) -> int:
    text = answer.lower()
    return sum(
        len(re.findall(rf"\b{re.escape(w.rstrip('*'))}", text)) for w in bank_data.STRUCTURE_WORDS
    )


# Offline per-answer feedback -------------------------------------------------------------


@dataclass(frozen=True)
class AnswerFeedback:
    """The feedback on one question: what the contract's `answers[]` items hold."""

    index: int
    question: str
    answer: str | None
    kind: str  # technical | behavioral
    score: int  # 0..100
    points_covered: tuple[str, ...]
    points_missed: tuple[str, ...]
    star: dict[str, bool] | None  # behavioural questions only
    good: str
    missing: str
    suggestion: str
    quotes: tuple[str, ...] = ()  # the candidate's words behind what was credited

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "question": self.question,
            "answer": self.answer,
            "kind": self.kind,
            "score": self.score,
            "points_covered": list(self.points_covered),
            "points_missed": list(self.points_missed),
            "star": self.star,
            "good": self.good,
            "missing": self.missing,
            "suggestion": self.suggestion,
            "quotes": list(self.quotes),
        }


def offline_answer(index: int, question: str, answer: str | None) -> AnswerFeedback:
    """Score one answer against its key points (and STAR when behavioural), 0..100."""
    behavioral = is_behavioral(question)
    kind = "behavioral" if behavioral else "technical"
    points = key_points(question)
    text = (answer or "").strip()
    if not text:
        return AnswerFeedback(
            index, question, None, kind, 0, (), tuple(p.label for p in points),
            dict.fromkeys(STAR_PARTS, False) if behavioral else None,
            "Nothing to credit: this question was not answered.",
            "No answer was given.",
            "Even a partial answer helps: say how you would start and what you would check.",
        )  # fmt: skip
    checks = check_points(points, text)
    covered = [c for c in checks if c.covered]
    missed = [c.label for c in checks if not c.covered]
    words = len(_words(text))
    detail = min(1.0, words / DETAILED_WORDS)
    structure = min(1.0, structure_count(text) / 2)
    coverage = len(covered) / len(checks) if checks else None
    parts = star(text) if behavioral else None
    quotes = [c.quote for c in covered if c.quote]
    if parts is not None:
        present = sum(p.covered for p in parts.values())
        quotes += [p.quote for p in parts.values() if p.quote]
        base = 0.5 * present / 4 + 0.3 * detail
        quality = base + 0.2 * (coverage if coverage is not None else structure)
    elif coverage is not None:
        quality = 0.65 * coverage + 0.25 * detail + 0.10 * structure
    else:
        quality = 0.7 * detail + 0.3 * structure
    good, missing, suggestion = _wording(covered, missed, parts, words, points)
    return AnswerFeedback(
        index,
        question,
        text,
        kind,
        round(100 * quality),
        tuple(c.label for c in covered),
        tuple(missed),
        {k: v.covered for k, v in parts.items()} if parts is not None else None,
        good,
        missing,
        suggestion,
        tuple(dict.fromkeys(quotes)),
    )


def _wording(
    covered: list[Covered],
    missed: list[str],
    parts: dict[str, Covered] | None,
    words: int,
    points: Sequence[KeyPoint],
) -> tuple[str, str, str]:
    good_bits = []
    if covered:
        first = covered[0]
        labels = ", ".join(c.label for c in covered)
        good_bits.append(f'You covered {labels} ("{first.quote}").')
    if parts is not None:
        present = [k for k, v in parts.items() if v.covered]
        if present:
            example = parts[present[0]].quote
            good_bits.append(f'STAR parts present: {", ".join(present)} ("{example}").')
    if words >= DETAILED_WORDS:
        good_bits.append(f"A full answer ({words} words).")
    good = " ".join(good_bits) or f"You gave an answer ({words} words) to build on."
    missing_bits = []
    if missed:
        missing_bits.append(f"Not mentioned: {', '.join(missed)}.")
    absent = [k for k, v in (parts or {}).items() if not v.covered]
    if absent:
        missing_bits.append(f"STAR parts missing: {', '.join(absent)}.")
    if words < THIN_WORDS:
        missing_bits.append(f"Short answer ({words} words).")
    missing = " ".join(missing_bits) or "Nothing obvious is missing."
    if absent:
        suggestion = _STAR_ADVICE[absent[0]]
    elif missed:
        point = next(p for p in points if p.label == missed[0])
        hint = f" (for example, mention {point.phrases[1]})" if len(point.phrases) > 1 else ""
        suggestion = f"Next time, also cover {missed[0]}{hint}."
    elif words < THIN_WORDS:
        suggestion = "Add a concrete example and say why: aim for 40 to 90 seconds."
    elif not points and parts is None:
        suggestion = "Tie the answer to an example from your own work, and give your reason."
    else:
        suggestion = "Keep this shape; add a number or a result to make it memorable."
    return good, missing, suggestion


def follow_up_for(question: str, answer: str) -> str | None:
    """One short follow-up for a thin answer, from what it missed; None if not thin."""
    if is_behavioral(question):
        absent = [k for k, v in star(answer).items() if not v.covered]
        if absent and (len(absent) >= 2 or len(_words(answer)) < THIN_WORDS):
            return _STAR_FOLLOW_UPS[absent[-1] if "result" in absent else absent[0]]
        return None
    checks = check_points(key_points(question), answer)
    missed = [c.label for c in checks if not c.covered]
    thin = len(_words(answer)) < THIN_WORDS or (checks and len(missed) * 2 > len(checks))
    if not thin:
        return None
    if missed:
        return f"Before we move on, could you say a little about {missed[0]}?"
    return "Could you give a concrete example of that?"


def validated_answers(raw: object, questions: Sequence[str]) -> list[dict[str, Any]]:
    """A model's `answers` list, checked: one object per question, in order, with the
    contract's fields and types. Raises ValueError on any bad shape."""
    if not isinstance(raw, list) or len(raw) != len(questions):
        raise ValueError(f'"answers" must be a list of exactly {len(questions)} objects')
    checked = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"answers[{number}] must be an object")
        score = item.get("score")
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
            raise ValueError(f"answers[{number}].score must be an integer from 0 to 100")
        entry: dict[str, Any] = {"score": score}
        for field in ("good", "missing", "suggestion"):
            value = item.get(field)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"answers[{number}].{field} must be a non-empty string")
            entry[field] = value.strip()
        for field in ("points_covered", "points_missed"):
            value = item.get(field)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"answers[{number}].{field} must be a list of strings")
            entry[field] = [v.strip() for v in value if v.strip()]
        parts = item.get("star")
        if parts is not None:
            if not isinstance(parts, dict) or set(parts) != set(STAR_PARTS) or not all(
                isinstance(v, bool) for v in parts.values()
            ):
                raise ValueError(
                    f"answers[{number}].star must be null or an object of four booleans: "
                    + ", ".join(STAR_PARTS)
                )
            parts = {k: parts[k] for k in STAR_PARTS}
        entry["star"] = parts
        checked.append(entry)
    return checked
