"""Reading one collector message: its intent, the field it speaks about, and the value.

`read_message(expected_field, text)` tries, in order:

1. an empty message: INVALID;
2. asking to repeat, to clarify or for examples (any field); a bare "I don't know" or
   "not sure" counts as asking for examples, except at readiness;
3. a correction of a field already answered ("sorry, I meant senior", "change the level
   to junior"); a correction that names the field in progress is simply its ANSWER, and one
   that names a field not asked yet is INVALID ("we'll get to that");
4. asking for a moment ("give me a minute", "hold on"): NOT_READY, at any field; at
   readiness every negative answer ("no", "not yet", "I'm not ready") is NOT_READY too;
5. the expected field's own reader.

Every keyword is matched on word boundaries: "now" is not "no", "know" is not "no",
"TypeScript" is not "type".

Amount rule: the number of questions is one whole number from 1 to 30, given as digits or
words ("seven", "twenty-five", "a dozen"). A range ("between 5 and 10", "5 to 10",
"five or six") is not guessed: the reading is INVALID and its problem asks for one number.
Two different numbers in one message are treated the same way.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from flows import vocabulary as vocab

FIELDS: tuple[str, ...] = ("readiness", "role", "interview_type", "level", "techstack", "amount")
INTERVIEW_TYPES = ("technical", "behavioral", "mixed")
LEVELS = ("intern", "junior", "mid", "senior")
MIN_AMOUNT, MAX_AMOUNT = 1, 30
MAX_ROLE_CHARS = 200  # the interviews.role column; a longer role gets a request to shorten it
# a lower-case word after a filler word, in a list that names known technologies, is taken
# as an unknown technology (asked back) when it is close (difflib's ratio) to a known name
# of NAME_LETTERS letters or more, or to the end of a word of one ("into bernities" for
# Kubernetes, "That's script, React" for TypeScript); not an ordinary word ("in general",
# "at scale": a short name, Scala, is not compared whole)
NAME_LETTERS = 6
NAME_CLOSENESS = 0.8

FIELD_LABELS: dict[str, str] = {
    "readiness": "getting started",
    "role": "the role",
    "interview_type": "the interview type",
    "level": "the level",
    "techstack": "the tech stack",
    "amount": "the number of questions",
}

EMPTY_PROBLEM = "I didn't catch anything."
READY_PROBLEM = "Just say yes when you're ready to start, or tell me if you need a moment."
ROLE_PROBLEM = "Tell me the job you're preparing for, for example backend developer."
ROLE_TOO_LONG = (
    f"That role is too long for me to keep; please say it in at most {MAX_ROLE_CHARS} "
    "characters, for example backend developer."
)
TYPE_PROBLEM = "The interview can be technical, behavioral, or mixed."
LEVEL_PROBLEM = "The level can be intern, junior, mid, or senior."
ONE_LEVEL_PROBLEM = "Please pick just one level: intern, junior, mid, or senior."
TECH_PROBLEM = "Name at least one technology, for example Python, React, or PostgreSQL."
RANGE_PROBLEM = "Please pick one number rather than a range, anywhere from 1 to 30."
ONE_NUMBER_PROBLEM = "Please give me just one number, from 1 to 30."
AMOUNT_PROBLEM = "I can prepare anywhere from 1 to 30 questions."


class Intent(StrEnum):
    ANSWER = "answer"
    REPEAT = "repeat"
    EXAMPLES = "examples"
    CLARIFY = "clarify"
    NOT_READY = "not_ready"
    CORRECTION = "correction"
    INVALID = "invalid"
    CONFIRM = "confirm"  # "yes" to "I heard X, is that right?"
    DENY = "deny"  # a bare "no" to it


@dataclass(frozen=True)
class Reading:
    intent: Intent
    field: str
    value: str | int | bool | tuple[str, ...] | None = None
    problem: str | None = None
    # the value was read from a word that only sounds like it ("free questions" → 3): the
    # collector asks back before storing it, however sure speech-to-text was
    guessed: bool = False


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _words(alternatives: Iterable[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


_REPEAT = _any(*vocab.REPEAT_PHRASES)
_CLARIFY = _any(*vocab.CLARIFY_PHRASES)
_EXAMPLES = _any(*vocab.EXAMPLES_PHRASES)
_UNSURE = _any(*vocab.UNSURE_PHRASES)
_HOLD = _any(*vocab.HOLD_PHRASES)
_READY_IDIOMS = _any(*vocab.READY_IDIOMS)
_READY_NO = _any(*vocab.NOT_READY_PHRASES, *vocab.HOLD_PHRASES)
_READY_YES = _words(vocab.READY_WORDS)

# corrections: words that signal one, where the new value starts, and phrases naming a field
_CORRECTION_WORDS = vocab.CORRECTION_WORDS
_TRIGGER = _any(
    rf"\b(?:{_CORRECTION_WORDS}|instead|rather|correction)\b",
    r"^(?:no|nope)\b\s*[,.!]",
    r"\b(?:change|switch|update|correct|fix)\b",
    r"\b(?:make|set)\s+(?:it|that|the|my)\b",
)
_VALUE_START = _any(rf"\b(?:{_CORRECTION_WORDS}|correction)\b[\s,.!:;-]*", r"^(?:no|nope)\b\W*")
_ANY_FIELD = "|".join(vocab.FIELD_WORDS.values())
_VERB = vocab.CHANGE_VERBS
_LINK = vocab.LINK_WORDS
_NAMING = {
    field: _any(
        rf"\b(?:{_VERB})\s+(?:the\s+|my\s+|that\s+|this\s+)?(?:{words})\b",
        rf"\b(?:the|my)\s+(?:{words})\s+(?:{_LINK})\b",
    )
    for field, words in vocab.FIELD_WORDS.items()
}
_NOT_A_VALUE = _any(
    rf"\b(?:{_VERB})\s+(?:the\s+|my\s+|that\s+|this\s+|it\s+)?(?:(?:{_ANY_FIELD})\b)?"
    rf"(?:\s*(?:{_LINK})\b)?",
    rf"\b(?:the|my)\s+(?:{_ANY_FIELD})\s+(?:{_LINK})\b",
    r"\binstead(?:\s+of\s+\w+)?\b",
    r"\brather(?:\s+than\s+\w+)?\b",
    r"\bplease\b",
)

_TYPE_PATTERNS = {name: _words(words) for name, words in vocab.INTERVIEW_TYPE_WORDS.items()}
_DIRECT_MIXED = _words(
    word for word in vocab.INTERVIEW_TYPE_WORDS["mixed"] if word not in vocab.INDIRECT_MIXED_WORDS
)
_LEVEL_PATTERNS = {name: _words(words) for name, words in vocab.LEVEL_WORDS.items()}
_NEGATED = re.compile(
    r"(?:\b(?:not|no|don'?t\s+want|never|without|rather\s+than|instead\s+of|except)\s+"
    r"(?:an?\s+|the\s+|really\s+|too\s+|so\s+|very\s+)?|\bnon[- ]?)$",
    re.IGNORECASE,
)

_TECH_REWRITES = [(re.compile(rf"\b{p}\b", re.IGNORECASE), r) for p, r in vocab.TECH_REWRITES]
_TECH_FILLER = re.compile(r"\b(?:" + "|".join(vocab.TECH_FILLERS) + r")\b", re.IGNORECASE)
_TECH_SPLIT = re.compile(
    r"\s*(?:[,;&/]|\b(?:and|plus|or|with|as well as|along with|then|also)\b)\s*", re.IGNORECASE
)
_TRIM_WORDS = "|".join(sorted(vocab.TECH_ITEM_TRIM, key=len, reverse=True))
_TRIM_LEAD = re.compile(rf"^(?:(?:{_TRIM_WORDS})\b[\s,]*)+", re.IGNORECASE)
_TRIM_TAIL = re.compile(rf"(?:[\s,]*\b(?:{_TRIM_WORDS}))+$", re.IGNORECASE)

_COMPOUND_NUMBER = re.compile(rf"\b({'|'.join(vocab.TENS)})(?:[\s-]+({'|'.join(vocab.UNITS)}))?\b")
_SIMPLE_NUMBER = re.compile(rf"\b({'|'.join([*vocab.TEENS, *vocab.UNITS])})\b")
_RANGE = re.compile(
    r"\bbetween\s+\d+\s+(?:and|to|or)\s+\d+\b|\b\d+\s*(?:-|–|to|or|through|till|until)\s*\d+\b"
)
# a word speech-to-text writes for a number it misheard, where the number would be: before
# "questions" or closing the answer ("Free questions, please.", "Let's do far.")
_SOUNDALIKE = re.compile(
    rf"\b({'|'.join(vocab.SOUNDALIKE_NUMBERS)})\b(?=\s*(?:questions?\b|[.!?]*$))"
)
_ROLE_JOINS = [
    (re.compile(rf"\b{p}\b", re.IGNORECASE), joined)
    for p, joined in ((r"dev[\s-]+ops", "DevOps"), (r"back[\s-]+end", "backend"),
                      (r"front[\s-]+end", "frontend"), (r"dev[\s-]+sec[\s-]+ops", "DevSecOps"))
]
_TOKEN = re.compile(r"\w[\w+#'/&.-]*")


def read_message(expected_field: str, text: str) -> Reading:
    """Understand one user message said while the collector waits for `expected_field`."""
    if expected_field not in FIELDS:
        raise ValueError(f"unknown collector field: {expected_field!r}")
    text = _clean(text)
    if not text:
        return Reading(Intent.INVALID, expected_field, problem=EMPTY_PROBLEM)
    for intent, pattern in (
        (Intent.REPEAT, _REPEAT),
        (Intent.CLARIFY, _CLARIFY),
        (Intent.EXAMPLES, _EXAMPLES),
    ):
        if pattern.search(text):
            return Reading(intent, expected_field)
    if expected_field == "readiness":
        return _read_readiness(text)
    if _UNSURE.search(text):
        return Reading(Intent.EXAMPLES, expected_field)
    correction = _read_correction(expected_field, text)
    if correction is not None:
        return correction
    if _HOLD.search(text):
        return Reading(Intent.NOT_READY, expected_field)
    return _read_field(expected_field, text)


_CONFIRM_YES = re.compile(
    r"^(?:(?:yes|yeah|yep|yup|yea|correct|right|exactly|sure|absolutely|affirmative|ok|okay"
    r"|uh[- ]huh|that'?s (?:right|correct|it)|that is (?:right|correct|it)|it is|you got it"
    r"|spot on|perfect)\b\W*)+",
    re.IGNORECASE,
)
_CONFIRM_NO = re.compile(
    r"^(?:(?:no|nope|nah|not really|not quite|wrong|incorrect|that'?s (?:wrong|not (?:right|it))"
    r"|that is not (?:right|it))\b\W*)+",
    re.IGNORECASE,
)
_CORRECTION_LEAD = re.compile(
    r"^(?:(?:it'?s|it is|i said|i meant|i mean|i say|actually|rather|make it|it should be"
    r"|i want|i'd like|sorry)\b\W*)+",
    re.IGNORECASE,
)


def read_confirmation(field: str, text: str) -> Reading:
    """A reply to "I heard X — is that right?": CONFIRM, DENY, a CORRECTION carrying the
    corrected value ("no, it's data engineer"), or INVALID for anything else."""
    text = _clean(text)
    no = _CONFIRM_NO.match(text)
    if no is None:
        yes = _CONFIRM_YES.match(text)
        if yes is not None and not _READY_NO.search(text[yes.end() :]):
            return Reading(Intent.CONFIRM, field)
        return Reading(Intent.INVALID, field)
    rest = _CORRECTION_LEAD.sub("", text[no.end() :]).strip(" ,.;:!?-")
    if not rest:
        return Reading(Intent.DENY, field)
    corrected = _read_field(field, rest)
    if corrected.intent is Intent.ANSWER and corrected.value not in (None, False):
        return Reading(Intent.CORRECTION, field, corrected.value, guessed=corrected.guessed)
    return Reading(Intent.DENY, field)


def normalize_techstack(text: str) -> tuple[str, ...]:
    """The technologies named in `text`, known ones in their usual spelling, in order."""
    return tuple(name for name, _known in _tech_items(text))


def known_technology(name: str) -> bool:
    """Whether `name` is a technology of Viva's list, in its usual spelling."""
    return vocab.TECH_NAMES.get(vocab.compact(name)) == name


def parse_amount(text: str) -> int | None:
    """The number of questions asked for (1 to 30), or None."""
    value, _problem = _amount(text)
    return value


# --- the field readers --------------------------------------------------------------------


def _read_field(field: str, text: str) -> Reading:
    if field == "readiness":
        return _read_readiness(text)
    if field == "role":
        role = extract_role(text)
        return _answer(field, role) if role else _invalid(field, ROLE_PROBLEM)
    if field == "interview_type":
        kind = _interview_type(text)
        if kind is None:
            return _invalid(field, TYPE_PROBLEM)
        indirect = kind == "mixed" and len(_categories(text, _TYPE_PATTERNS)) == 1 and (
            _DIRECT_MIXED.search(text) is None)
        return Reading(Intent.ANSWER, field, kind, guessed=indirect)
    if field == "level":
        levels = _categories(text, _LEVEL_PATTERNS)
        if len(levels) == 1:
            return _answer(field, levels[0])
        return _invalid(field, ONE_LEVEL_PROBLEM if levels else LEVEL_PROBLEM)
    if field == "techstack":
        stack = normalize_techstack(text)
        return _answer(field, stack) if stack else _invalid(field, TECH_PROBLEM)
    value, problem = _amount(text)
    if value is None and (heard := _SOUNDALIKE.search(text.lower())) is not None:
        return Reading(Intent.ANSWER, field, vocab.SOUNDALIKE_NUMBERS[heard.group(1)],
                       guessed=True)
    return _answer(field, value) if value is not None else _invalid(field, problem)


def _read_readiness(text: str) -> Reading:
    if _READY_IDIOMS.search(text):
        return _answer("readiness", True)
    if _READY_NO.search(text):
        return Reading(Intent.NOT_READY, "readiness")
    if _READY_YES.search(text):
        return _answer("readiness", True)
    return _invalid("readiness", READY_PROBLEM)


def extract_role(text: str) -> str | None:
    """The job title in a sentence: "I'd like to train for backend developer" -> its role."""
    for pattern, joined in _ROLE_JOINS:  # Whisper's "dev ops", "back end": one word
        text = pattern.sub(joined, text)
    words = [token.rstrip(".'-&/") for token in _TOKEN.findall(text)]
    words = [word for word in words if word]
    lower = [word.lower() for word in words]
    head = _role_head(lower)
    if head is not None:
        end = head + 1
        while end < len(lower) and lower[end] in vocab.ROLE_NOUNS and not _stop(lower[end]):
            end += 1
        start = head
        while start > 0 and head - start < 5 and not _stop(lower[start - 1], allow_tech=True):
            start -= 1
        chosen = words[start:end]
    else:
        start = next((i for i, word in enumerate(lower) if not _stop(word)), len(lower))
        end = next((i for i in range(start, len(lower)) if _stop(lower[i])), len(lower))
        chosen = words[start : min(end, start + 6)]
    return " ".join(_role_casing(word) for word in chosen) or None


def _role_head(lower: list[str]) -> int | None:
    """Where the role's noun is ("engineer"); "lead" only counts after a non-level word."""
    for i, word in enumerate(lower):
        if word not in vocab.ROLE_NOUNS or _stop(word):
            continue
        if word == "lead" and (
            i == 0 or _stop(lower[i - 1]) or _categories(lower[i - 1], _LEVEL_PATTERNS)
        ):
            continue
        return i
    return None


def _stop(word: str, allow_tech: bool = False) -> bool:
    if allow_tech and vocab.compact(word) in vocab.TECH_NAMES:
        return False
    return word in vocab.ROLE_STOP_WORDS or "'" in word


def _role_casing(word: str) -> str:
    lower = word.lower()
    if lower in vocab.ROLE_WORD_CASING:
        return vocab.ROLE_WORD_CASING[lower]
    if "/" in word:
        return "/".join(_role_casing(part) for part in word.split("/"))
    tech = vocab.TECH_NAMES.get(vocab.compact(word))
    if tech and vocab.compact(tech) == vocab.compact(word):
        return tech
    if (word.isupper() and len(word) > 1) or any(c.isupper() for c in word[1:]):
        return word
    return lower


def _interview_type(text: str) -> str | None:
    kinds = _categories(text, _TYPE_PATTERNS)
    if "mixed" in kinds or {"technical", "behavioral"} <= set(kinds):
        return "mixed"
    return kinds[0] if kinds else None


def _categories(text: str, patterns: dict[str, re.Pattern[str]]) -> list[str]:
    """Categories mentioned and not negated ("not technical"), in order of mention."""
    found: list[tuple[int, str]] = []
    for name, pattern in patterns.items():
        for match in pattern.finditer(text):
            if not _NEGATED.search(text[max(0, match.start() - 30) : match.start()]):
                found.append((match.start(), name))
    ordered: list[str] = []
    for _position, name in sorted(found):
        if name not in ordered:
            ordered.append(name)
    return ordered


def _tech_items(text: str) -> list[tuple[str, bool]]:
    """(name, known) for every technology in `text`, deduplicated, in order."""
    for pattern, replacement in _TECH_REWRITES:
        text = pattern.sub(replacement, text)
    text = _TECH_FILLER.sub(" ", text)
    items: list[tuple[str, bool]] = []
    seen: set[str] = set()
    parts = [_trim(part) for part in _TECH_SPLIT.split(text)]
    listed = any(vocab.TECH_NAMES.get(vocab.compact(part)) for part in parts if part)
    for part in parts:
        for name, known in _tech_names(part, listed):
            key = vocab.compact(name)
            if key and key not in seen:
                seen.add(key)
                items.append((name, known))
    return items


def _trim(part: str) -> str:
    part = part.strip().rstrip('.!?,;:"').lstrip('!?,;:" ')
    previous = None
    while previous != part:
        previous = part
        part = _TRIM_TAIL.sub("", _TRIM_LEAD.sub("", part)).strip()
    return " ".join(part.split())


def _tech_names(part: str, listed: bool = False) -> list[tuple[str, bool]]:
    """One list item: a known name, several known names said without commas, or one unknown.
    `listed`: the list names known technologies too."""
    if not part or part.lower() in vocab.NO_TECH:
        return []
    known = vocab.TECH_NAMES.get(vocab.compact(part))
    if known:
        return [(known, True)]
    tokens = part.split()
    names: list[tuple[str, bool]] = []
    i = 0
    while i < len(tokens):
        # "React in Kubernetes", and "…, in Kafka" ("and" heard as "in" after a comma)
        if (names or len(tokens) > 1) and tokens[i].lower() in vocab.TECH_JOINERS:
            i += 1
            continue
        for j in range(min(len(tokens), i + 4), i, -1):
            name = vocab.TECH_NAMES.get(vocab.compact(" ".join(tokens[i:j])))
            if name:
                names.append((name, True))
                i = j
                break
        else:
            break
    if i == len(tokens):
        return names
    if len(tokens) > 4 or _stop(tokens[0].lower()):
        # a sentence or filler, not a technology; but a name after a filler word ("into
        # Bernities" for "Kubernetes"; in lower case only in a list of known names:
        # "That's script, React, and Kubernetes.") is one, unknown and so asked back
        # rather than dropped without a word
        named = [token for token in tokens if not _stop(token.lower())]
        if len(tokens) <= 3 and 1 <= len(named) <= 2 and tokens[-1] == named[-1] and (
            named[0][:1].isupper() or (listed and _like_a_name(named[0]))
        ) and named[0] != "I":
            return [(" ".join(token[:1].upper() + token[1:] for token in named), False)]
        return []
    if any(c.isupper() for c in part):
        return [(part, False)]
    return [(" ".join(token[:1].upper() + token[1:] for token in tokens), False)]


_NAME_SHAPES = sorted(
    {vocab.compact(name) for name in vocab.TECH_NAMES.values()
     if len(vocab.compact(name)) >= NAME_LETTERS}
    | {word.lower()[i:] for name in vocab.TECH_NAMES.values() for word in name.split()
       for i in range(1, len(word) - NAME_LETTERS + 1)}
)


def _like_a_name(word: str) -> bool:
    """Whether a lower-case word may be a known name misheard: close to a long one, or to
    the end of one whose start went into the word before ("into bernities")."""
    return bool(difflib.get_close_matches(word.lower(), _NAME_SHAPES, n=1,
                                          cutoff=NAME_CLOSENESS))


def _amount(text: str) -> tuple[int | None, str]:
    """(value, "") for one number from 1 to 30, else (None, the problem to tell the user)."""
    spoken = text.lower()
    for idiom, value in vocab.QUANTITY_IDIOMS:
        spoken = re.sub(rf"\b{idiom}\b", f" {value} ", spoken)
    spoken = _COMPOUND_NUMBER.sub(_compound_number, spoken)
    spoken = _SIMPLE_NUMBER.sub(_simple_number, spoken)
    if _RANGE.search(spoken):
        return None, RANGE_PROBLEM
    numbers = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", spoken)}
    if len(numbers) > 1:
        return None, ONE_NUMBER_PROBLEM
    if len(numbers) == 1:
        (number,) = numbers
        if number.is_integer() and MIN_AMOUNT <= number <= MAX_AMOUNT:
            return int(number), ""
    return None, AMOUNT_PROBLEM


def _compound_number(match: re.Match[str]) -> str:
    units = vocab.UNITS[match.group(2)] if match.group(2) else 0
    return f" {vocab.TENS[match.group(1)] + units} "


def _simple_number(match: re.Match[str]) -> str:
    word = match.group(1)
    return f" {vocab.TEENS.get(word, vocab.UNITS.get(word, 0))} "


# --- corrections --------------------------------------------------------------------------


def _read_correction(expected_field: str, text: str) -> Reading | None:
    """A correction, or the current field's answer said with a correction word; else None."""
    if not _TRIGGER.search(text):
        return None
    starts = list(_VALUE_START.finditer(text))
    tail = text[starts[-1].end() :] if starts else text
    value = _value_text(tail)
    if not value:
        return None
    named = _named_field(tail) or _named_field(text)
    allowed = FIELDS[1 : FIELDS.index(expected_field) + 1]
    target = named or _guess_field(value, allowed)
    if target is None and "amount" not in allowed and parse_amount(value) is not None:
        target = "amount"  # a number is no role, type, level or technology
    if target is None:
        if _HOLD.search(text):
            return None
        target = expected_field  # "actually, backend": the answer, said with a correction word
    if FIELDS.index(target) > FIELDS.index(expected_field):
        problem = f"We'll get to {FIELD_LABELS[target]} in a moment."
        return _invalid(expected_field, problem)
    if target == expected_field:
        whole = _value_text(_VALUE_START.sub(" ", text))
        return _read_field(target, whole if target == "techstack" else value)
    reading = _read_field(target, value)
    if reading.intent is Intent.ANSWER:
        return Reading(Intent.CORRECTION, target, reading.value, guessed=reading.guessed)
    return reading


def _value_text(text: str) -> str:
    return " ".join(_NOT_A_VALUE.sub(" ", text).split()).strip(" ,.;:!?-")


def _named_field(text: str) -> str | None:
    """The field a correction names ("change the level to…"), the earliest if several."""
    found = [(m.start(), f) for f, p in _NAMING.items() if (m := p.search(text)) is not None]
    return min(found)[1] if found else None


def _guess_field(value: str, allowed: tuple[str, ...]) -> str | None:
    """The answered field a short corrected value belongs to ("senior" -> level)."""
    size = len(value.split())
    if "role" in allowed and size <= 6 and _role_head(value.lower().split()) is not None:
        return "role"
    if "level" in allowed and size <= 5 and len(_categories(value, _LEVEL_PATTERNS)) == 1:
        return "level"
    if "interview_type" in allowed and size <= 6 and _interview_type(value):
        return "interview_type"
    if "amount" in allowed and size <= 5 and parse_amount(value) is not None:
        return "amount"
    items = _tech_items(value)
    if "techstack" in allowed and items and all(known for _name, known in items):
        return "techstack"
    return None


def _clean(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    return " ".join(text.replace("\u201d", '"').split())


def _answer(field: str, value: str | int | bool | tuple[str, ...]) -> Reading:
    return Reading(Intent.ANSWER, field, value)


def _invalid(field: str, problem: str) -> Reading:
    return Reading(Intent.INVALID, field, problem=problem)
