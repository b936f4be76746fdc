"""What the collector expects to hear, as pocketsphinx JSGF grammars with their pronunciations.

Knowing the expected answer turns pocketsphinx from unusable (open language model) into
near-perfect (0–5 % word error): each collector field gets a small grammar of its answers,
optional carrier phrases ("I'd say", "let's do", "questions") and the requests a candidate
makes at any field (repeat, examples, "sorry, I meant senior"), so those are heard as
what they are instead of being forced into a value.

Tokens are lowercase dictionary words; a few tech names are tokens with a written form
(`c_plus_plus` → "C++"), applied by `written()` to the recognised text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pocketsphinx import get_model_path

CMUDICT = Path(get_model_path("en-us/cmudict-en-us.dict"))
EXTRA_WORDS = Path(__file__).with_name("extra_words.dict")

NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
NUMBERS = (
    *NUMBER_WORDS,
    *(f"twenty {unit}" for unit in NUMBER_WORDS[:9]),
    "thirty",
)

# Spoken token → how it is written in the transcript.
WRITTEN = {
    "c_plus_plus": "C++",
    "c_sharp": "C#",
    "dot_net": ".NET",
    "node_js": "Node.js",
    "next_js": "Next.js",
}

TECH_NAMES = (
    "python", "java", "javascript", "typescript", "go", "golang", "rust", "ruby",
    "ruby on rails", "rails", "php", "kotlin", "swift", "scala", "c_plus_plus", "c_sharp",
    "dot_net", "django", "flask", "fastapi", "spring", "spring boot", "react", "angular",
    "vue", "node", "node_js", "express", "next_js", "postgres", "postgresql", "mysql",
    "sqlite", "mongodb", "mongo", "redis", "sql", "graphql", "docker", "kubernetes", "aws",
    "azure", "gcp", "google cloud", "terraform", "linux", "git", "kafka", "html", "css",
    "tensorflow", "pytorch", "pandas", "numpy", "spark", "elasticsearch", "rest",
    "microservices", "frontend", "backend", "devops", "android", "ios", "flutter", "laravel",
)

LEVELS = (
    "intern", "internship", "junior", "entry level", "beginner", "mid", "mid level",
    "middle", "intermediate", "senior", "staff", "principal", "lead",
)
INTERVIEW_TYPES = (
    "technical", "behavioral", "behavioural", "mixed", "a mix", "mix", "both",
    "a bit of both", "a mixture", "a mix of both",
)

# Requests a candidate may make at any field; the collector answers them and keeps the field.
_INTENTS = (
    "repeat", "repeat that", "repeat the question", "can you repeat the question",
    "could you repeat that", "say that again", "what was the question", "pardon",
    "give me examples", "give me some examples", "what are the options", "what are my options",
    "examples please", "what do you mean", "i don't understand", "what does that mean",
    "i don't know", "help",
)
_CORRECTION = (
    "(sorry | actually | no | wait) [i meant | make that | change that to | make it] "
    "(<level> | <kind>) [level | interview]"
)

_FIELDS: dict[str, tuple[str, str, str]] = {
    # field: (before, core, after) JSGF fragments; before and after are optional.
    "readiness": (
        "yes | yeah | yep | sure | okay | ok | absolutely | definitely | of course | no | nope",
        "yes | yeah | yep | yup | sure | okay | ok | absolutely | definitely | of course"
        " | ready | i'm ready | i am ready | i'm ready to start | let's go | let's start"
        " | let's begin | let's do it | go ahead | sounds good | i think so | i guess"
        " | no | nope | not yet | not really | not now | i'm not ready | i am not ready"
        " | wait | hold on | one moment | give me a minute | give me a moment | later",
        "thanks | thank you | please | let's go | let's start | i'm ready",
    ),
    "interview_type": (
        "i'd like | i would like | i want | let's do | let's go with | make it | i'd say"
        " | i think | probably | maybe | i'd prefer | i prefer | [i'd like] a | an",
        "<kind>",
        "interview | questions | one | please | interview please | i think | i guess",
    ),
    "level": (
        "i'm | i am | i'm a | i am a | i'm an | i am an | i'd say | i would say | i think"
        " | probably | maybe | let's do | let's go with | make it | a | an | at | it's"
        " | i'm at | my level is",
        "<level>",
        "level | engineer | developer | position | role | please | level please"
        " | level engineer | level developer | i think | i guess",
    ),
    "amount": (
        "let's do | let's go with | i want | i'd like | i would like | give me | maybe"
        " | about | around | i'd say | how about | just | make it | only | let's say",
        "<number> | between <number> and <number>",
        "questions | question | please | questions please | i think | i guess",
    ),
    "techstack": (
        "i use | i work with | i mostly use | i mainly use | mostly | mainly | my stack is"
        " | i'd say | we use | i know | i'm using | i work mostly with",
        "<tech> ( [and] <tech> )*",
        "mostly | please",
    ),
}
FIELDS = tuple(_FIELDS)


@dataclass(frozen=True)
class Grammar:
    name: str
    jsgf: str
    words: frozenset[str]


def _alternatives(items: Iterable[str]) -> str:
    return " | ".join(items)


@cache
def grammar_for(field: str) -> Grammar | None:
    """The grammar for a collector field, or None when the answer is open (role, answers)."""
    if field not in _FIELDS:
        return None
    before, core, after = _FIELDS[field]
    rules = {
        "utterance": f"[{before}] ({core}) [{after}] | <intent> | {_CORRECTION}",
        "intent": _alternatives(_INTENTS),
        "level": _alternatives(LEVELS),
        "kind": _alternatives(INTERVIEW_TYPES),
        "number": _alternatives(NUMBERS),
        "tech": _alternatives(TECH_NAMES),
    }
    used = {name for name in rules if f"<{name}>" in rules["utterance"]}
    rules = {name: body for name, body in rules.items() if name == "utterance" or name in used}
    lines = ["#JSGF V1.0;", f"grammar {field};"]
    for name, body in rules.items():
        visibility = "public " if name == "utterance" else ""
        lines.append(f"{visibility}<{name}> = {body};")
    jsgf = "\n".join(lines) + "\n"
    return Grammar(field, jsgf, _tokens(rules.values()))


def _tokens(bodies: Iterable[str]) -> frozenset[str]:
    text = " ".join(bodies)
    text = re.sub(r"<[^>]+>", " ", text)
    return frozenset(re.findall(r"[a-z_']+", text))


def pronunciations(words: Iterable[str]) -> str:
    """A pocketsphinx dictionary (text) for `words`: extra_words.dict first, then cmudict.

    Raises LookupError naming every word that has no pronunciation, because a grammar
    with an unknown word fails to load.
    """
    wanted = set(words)
    entries = _lookup(EXTRA_WORDS, frozenset(wanted))
    found = {_base(line.split(maxsplit=1)[0]) for line in entries}
    cmu = _lookup(CMUDICT, frozenset(wanted - found))
    found |= {_base(line.split(maxsplit=1)[0]) for line in cmu}
    missing = wanted - found
    if missing:
        raise LookupError(f"no pronunciation for: {', '.join(sorted(missing))}")
    return "\n".join(cmu + entries) + "\n"


@cache
def _lookup(path: Path, words: frozenset[str]) -> list[str]:
    """Lines of a cmudict-format file whose word (alternates included) is in `words`."""
    lines: list[str] = []
    with path.open(encoding="utf-8") as dictionary:
        for line in dictionary:
            word = line.split(maxsplit=1)[0] if line.strip() else ""
            if word and not word.startswith("#") and _base(word) in words:
                lines.append(line.strip())
    return lines


def _base(word: str) -> str:
    """cmudict marks alternate pronunciations as word(2)."""
    return word.split("(", 1)[0]


_TECH_PHRASES = sorted((tuple(name.split()) for name in TECH_NAMES), key=len, reverse=True)


def written(hypothesis: str, field: str | None = None) -> str:
    """Recognised tokens as a transcript: written forms ("C++"), and for a tech stack the
    commas a listener hears between names ("python django and postgres" →
    "python, django and postgres")."""
    tokens = hypothesis.split()
    if field != "techstack":
        return " ".join(WRITTEN.get(token, token) for token in tokens)
    words: list[str] = []
    after_tech = False
    index = 0
    while index < len(tokens):
        phrase = next(
            (p for p in _TECH_PHRASES if tuple(tokens[index : index + len(p)]) == p), None
        )
        if phrase is None:
            words.append(tokens[index])
            index += 1
            after_tech = False
            continue
        if after_tech:
            words[-1] += ","
        words.extend(WRITTEN.get(token, token) for token in phrase)
        index += len(phrase)
        after_tech = True
    return " ".join(words)
