"""Offline interview questions: a bundled bank chosen by role, type, level and tech stack.

`bank_questions` is pure and deterministic: the same setup and seed give the same list.
How a set is built:

- technical: about two thirds come from the tech stack, rotating through its items
  (curated questions for known technologies, then generic templates), the rest from the
  role's domain and then general engineering; the two kinds are spread evenly.
- behavioral: a warm-up about the role, then STAR questions, about two thirds written for
  the level (learning and teamwork; ownership; leading, conflict and hiring), a third
  common to all levels.
- mixed: the warm-up, then technical and behavioral questions alternating, half each.

Each pool is read in the level's tier first (intern and junior: basic, then mid; mid:
mid; senior: senior) and falls back to neighbouring tiers only when it runs out. A
template is used at most once per set, so no two questions differ only by a tech name.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

from flows.bank_data import (
    BEHAVIORAL,
    BEHAVIORAL_COMMON,
    DOMAINS,
    GENERAL,
    TECH_TEMPLATES,
    WARMUPS,
    Domain,
    Tiers,
)
from flows.bank_tech import TECHS, Tech

INTERVIEW_TYPES = ("technical", "behavioral", "mixed")
LEVELS = ("intern", "junior", "mid", "senior")
MIN_AMOUNT = 1
MAX_AMOUNT = 30
MAX_NAME_CHARS = 40
MAX_ROLE_CHARS = 60

_TIER_ORDER: dict[str, tuple[str, ...]] = {
    "intern": ("basic", "mid", "senior"),
    "junior": ("basic", "mid", "senior"),
    "mid": ("mid", "senior", "basic"),
    "senior": ("senior", "mid", "basic"),
}
_PRIMARY_SHARE = 2 / 3  # stack questions in a technical set, level questions in behavioral


@dataclass(frozen=True)
class InterviewSetup:
    """What the collector gathered. `interview_type` and `level` are normalized to lower
    case; a value outside the allowed sets, or an amount outside 1..30, is a ValueError."""

    role: str
    interview_type: str  # technical | behavioral | mixed
    level: str  # intern | junior | mid | senior
    techstack: tuple[str, ...]
    amount: int  # 1..30

    def __post_init__(self) -> None:
        kind = str(self.interview_type).strip().lower()
        level = str(self.level).strip().lower()
        if kind not in INTERVIEW_TYPES:
            raise ValueError(f"interview_type must be one of {', '.join(INTERVIEW_TYPES)}")
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}")
        amount = self.amount
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValueError("amount must be an integer")
        if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
            raise ValueError(f"amount must be between {MIN_AMOUNT} and {MAX_AMOUNT}")
        stack = (self.techstack,) if isinstance(self.techstack, str) else self.techstack
        object.__setattr__(self, "role", str(self.role))
        object.__setattr__(self, "interview_type", kind)
        object.__setattr__(self, "level", level)
        object.__setattr__(self, "techstack", tuple(str(item) for item in stack))


@dataclass(frozen=True)
class StackItem:
    name: str  # canonical name for a known technology, the candidate's words otherwise
    tech: Tech | None


def _bounded(phrase: str) -> re.Pattern[str]:
    """A phrase that is not part of a longer word ("c" is not in "c++" or "objective-c")."""
    return re.compile(rf"(?<![\w+#.-]){re.escape(phrase)}(?![\w+#-])")


_ALIASES: dict[str, Tech] = {
    alias: tech for tech in reversed(TECHS) for alias in (tech.name.lower(), *tech.aliases)
}
_ALIAS_PATTERNS: tuple[tuple[re.Pattern[str], Tech], ...] = tuple(
    (_bounded(alias), tech) for alias, tech in sorted(_ALIASES.items(), key=lambda a: -len(a[0]))
)
_DOMAINS_BY_KEY: dict[str, Domain] = {domain.key: domain for domain in DOMAINS}
_ROLE_PATTERNS: tuple[tuple[re.Pattern[str], Domain], ...] = tuple(
    (re.compile(r"\b(?:" + "|".join(map(re.escape, domain.keywords)) + r")\b"), domain)
    for domain in DOMAINS
    if domain.keywords
)


def find_tech(text: str) -> Tech | None:
    """The known technology a name refers to: an exact spelling, else the longest alias
    contained in it ("AWS Lambda" is AWS), else None."""
    key = " ".join(text.lower().split())
    if key in _ALIASES:
        return _ALIASES[key]
    for pattern, tech in _ALIAS_PATTERNS:
        if pattern.search(key):
            return tech
    return None


def resolve_stack(techstack: Iterable[str]) -> tuple[StackItem, ...]:
    """Stack items split on commas, trimmed, capped in length and de-duplicated."""
    items: list[StackItem] = []
    seen: set[str] = set()
    for raw in techstack:
        for part in re.split(r"[,;\n]", raw):
            name = " ".join(part.split())[:MAX_NAME_CHARS].strip()
            if not name:
                continue
            tech = find_tech(name)
            item = StackItem(tech.name if tech else name, tech)
            if item.name.casefold() not in seen:
                seen.add(item.name.casefold())
                items.append(item)
    return tuple(items)


def role_domain(role: str) -> Domain:
    """The domain a role title belongs to: by keyword ("site reliability" is devops), then
    by a technology it names ("Unity developer" is game development), else generic."""
    text = " ".join(role.lower().split())
    for pattern, domain in _ROLE_PATTERNS:
        if pattern.search(text):
            return domain
    tech = find_tech(text) if text else None
    return _DOMAINS_BY_KEY[tech.domain if tech else "generic"]


def spoken_role(role: str) -> str:
    """The role as it reads inside a sentence: one line, no trailing punctuation, short."""
    text = " ".join(role.split()).strip(" .,;:!?\"'")
    if len(text) > MAX_ROLE_CHARS:
        text = text[:MAX_ROLE_CHARS].rsplit(" ", 1)[0]
    return text


def default_seed(setup: InterviewSetup) -> int:
    """A seed from the setup alone, stable across processes (unlike `hash`)."""
    stack = ",".join(item.strip().lower() for item in setup.techstack)
    key = "|".join(
        (setup.role.strip().lower(), setup.interview_type, setup.level, stack, str(setup.amount))
    )
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


def bank_questions(setup: InterviewSetup, seed: int | None = None) -> list[str]:
    """Exactly `setup.amount` distinct spoken questions for the setup (see module doc)."""
    rng = random.Random(default_seed(setup) if seed is None else seed)
    if setup.interview_type == "technical":
        return _technical(setup, rng, setup.amount)
    if setup.interview_type == "behavioral":
        return _behavioral(setup, rng, setup.amount)
    technical_count = max(1, setup.amount // 2)
    technical = _technical(setup, rng, technical_count)
    behavioral = _behavioral(setup, rng, setup.amount - technical_count)
    mixed = [q for pair in zip(behavioral, technical, strict=False) for q in pair]
    shorter = min(len(behavioral), len(technical))
    return mixed + behavioral[shorter:] + technical[shorter:]


def _technical(setup: InterviewSetup, rng: random.Random, count: int) -> list[str]:
    tiers = _TIER_ORDER[setup.level]
    domain = role_domain(setup.role)
    stack = resolve_stack(setup.techstack)
    templates = {tier: iter(_shuffled(rng, TECH_TEMPLATES[tier])) for tier in tiers}
    from_stack = _round_robin([_tech_stream(rng, item, tiers, templates) for item in stack])
    general = _tiered(rng, GENERAL, tiers) if domain.engineering else iter(())
    from_role = chain(_tiered(rng, domain.tiers, tiers), general)
    fallback = chain(
        _tiered(rng, _DOMAINS_BY_KEY["generic"].tiers, tiers), _tiered(rng, GENERAL, tiers)
    )
    stack_share = max(1, round(count * _PRIMARY_SHARE)) if stack else 0
    return _compose(from_stack, from_role, fallback, count, stack_share)


def _behavioral(setup: InterviewSetup, rng: random.Random, count: int) -> list[str]:
    if count <= 0:
        return []
    tiers = _TIER_ORDER[setup.level]
    warmup = rng.choice(WARMUPS).format(role=spoken_role(setup.role) or "open")
    for_level = iter(_shuffled(rng, BEHAVIORAL[tiers[0]]))
    common = iter(_shuffled(rng, BEHAVIORAL_COMMON))
    fallback = _tiered(rng, BEHAVIORAL, tiers[1:])
    rest = count - 1
    return [warmup, *_compose(for_level, common, fallback, rest, round(rest * _PRIMARY_SHARE))]


def _tech_stream(
    rng: random.Random, item: StackItem, tiers: Sequence[str], templates: dict[str, Iterator[str]]
) -> Iterator[str]:
    """Curated questions for the item, tier by tier, each tier topped up from the shared
    templates (shared, so a template serves one stack item only)."""
    for tier in tiers:
        if item.tech is not None:
            yield from _shuffled(rng, item.tech.tiers[tier])
        for template in templates[tier]:
            yield template.format(tech=item.name)


def _compose(
    primary: Iterator[str],
    secondary: Iterator[str],
    fallback: Iterator[str],
    count: int,
    primary_share: int,
) -> list[str]:
    """`count` distinct questions, `primary_share` of them from `primary` when it has
    enough, the rest from `secondary`, each topping up the other, spread evenly."""
    seen: set[str] = set()
    first = _take(primary, primary_share, seen)
    second = _take(secondary, count - len(first), seen)
    first += _take(primary, count - len(first) - len(second), seen)
    second += _take(fallback, count - len(first) - len(second), seen)
    if len(first) + len(second) < count:  # the bank is sized so that this cannot happen
        raise RuntimeError(f"the question bank ran out before {count} questions")
    return _spread(first, second)


def _take(source: Iterator[str], count: int, seen: set[str]) -> list[str]:
    taken: list[str] = []
    while len(taken) < count:
        question = next(source, None)
        if question is None:
            break
        if question.casefold() not in seen:
            seen.add(question.casefold())
            taken.append(question)
    return taken


def _spread(first: list[str], second: list[str]) -> list[str]:
    """Merge, placing `second` at evenly spaced positions (3 of 10 land at 4, 7 and 10)."""
    total = len(first) + len(second)
    merged: list[str] = []
    a = b = 0
    for position in range(1, total + 1):
        if b < len(second) and (a == len(first) or position * len(second) // total > b):
            merged.append(second[b])
            b += 1
        else:
            merged.append(first[a])
            a += 1
    return merged


def _round_robin(streams: list[Iterator[str]]) -> Iterator[str]:
    active = list(streams)
    while active:
        for stream in list(active):
            question = next(stream, None)
            if question is None:
                active.remove(stream)
            else:
                yield question


def _tiered(rng: random.Random, pools: Tiers, tiers: Sequence[str]) -> Iterator[str]:
    for tier in tiers:
        yield from _shuffled(rng, pools[tier])


def _shuffled(rng: random.Random, questions: Sequence[str]) -> list[str]:
    return rng.sample(list(questions), len(questions))
