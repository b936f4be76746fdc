"""Job titles: normalising what a candidate calls their role, and knowing a title when heard.

`normalize_role("back end dev")` → `RoleTitle("backend developer", known=True)`. A title is
known when, after spelling variants and abbreviations are unified, it is one of the
titles below, or a role noun ("engineer", "developer", "manager"…) led only by words that
titles are made of ("senior python backend developer"). A near miss ("back in developer")
comes back as the closest title but not known, and anything else ("oath", "a friend hand
engine your position") as said: the collector stores neither without asking.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from flows import vocabulary as vocab

# Spoken and written variants → one spelling, applied to whole words in this order.
_VARIANTS: tuple[tuple[str, str], ...] = (
    (r"back[\s-]+end", "backend"),
    (r"front[\s-]+end", "frontend"),
    (r"full[\s-]*stack", "full stack"),
    (r"dev[\s-]*ops", "devops"),
    (r"dev[\s-]*sec[\s-]*ops", "devsecops"),
    (r"ml[\s-]*ops", "mlops"),
    (r"data[\s-]*base", "database"),
    (r"web[\s-]*site", "website"),
    (r"i\.?\s?o\.?\s?s", "ios"),
    (r"u\.?\s?x", "ux"),
    (r"u\.?\s?i", "ui"),
    (r"q\.?\s?a", "qa"),
    (r"a\.?\s?i", "ai"),
    (r"devs?", "developer"),
    (r"eng(?:ineer)?s?", "engineer"),
    (r"engineers", "engineer"),
    (r"developers", "developer"),
    (r"programmers?", "programmer"),
    (r"mgr|manager", "manager"),
    (r"sw", "software"),
)

ROLE_NOUNS = frozenset(
    "engineer developer programmer manager scientist analyst architect designer "
    "administrator admin tester consultant specialist lead owner master researcher "
    "technician officer director coordinator strategist writer intern expert "
    "representative recruiter accountant marketer".split()
)
# Words a title may be built from, before its noun.
TITLE_WORDS = frozenset(
    """
    software backend frontend full stack web mobile ios android cloud data database
    machine learning ml ai deep nlp computer vision devops devsecops mlops site reliability
    platform infrastructure systems system network security cyber cybersecurity application
    applications embedded firmware hardware game games graphics qa quality assurance test
    automation release build support solutions solution sales technical product project
    program engineering business ux ui user experience interface interaction visual
    graphic content marketing growth seo digital it information technology operations
    research scientific analytics bi intelligence blockchain smart contract robotics
    electrical mechanical civil chemical biomedical aerospace java python javascript
    typescript react angular vue node ruby rails php go golang rust c++ c# .net dotnet
    kotlin swift scala django spring salesforce sap sql etl big integration api
    distributed performance reliability observability monitoring linux unix windows
    microsoft aws azure gcp kubernetes senior junior mid principal staff lead chief head
    associate intern graduate entry level first second third of and for the computational
    quantitative quant financial finance fintech healthcare analytics-engineering
    scrum agile delivery customer success account hr human resources people talent
    technical writer documentation developer relations advocate evangelist it
    service desk help cloud-native site architecture enterprise
    """.split()
)

TITLES: tuple[str, ...] = (
    "software engineer", "software developer", "backend developer", "backend engineer",
    "frontend developer", "frontend engineer", "full stack developer", "full stack engineer",
    "web developer", "mobile developer", "ios developer", "android developer",
    "game developer", "embedded software engineer", "firmware engineer",
    "data scientist", "data engineer", "data analyst", "business analyst",
    "business intelligence analyst", "analytics engineer", "machine learning engineer",
    "ai engineer", "research scientist", "research engineer", "applied scientist",
    "devops engineer", "site reliability engineer", "platform engineer", "cloud engineer",
    "cloud architect", "infrastructure engineer", "systems engineer", "systems administrator",
    "network engineer", "network administrator", "database administrator",
    "security engineer", "security analyst", "cybersecurity analyst", "penetration tester",
    "qa engineer", "test engineer", "software tester", "test automation engineer",
    "quality assurance engineer", "software architect", "solutions architect",
    "enterprise architect", "technical lead", "tech lead", "engineering manager",
    "product manager", "project manager", "program manager", "technical program manager",
    "product owner", "scrum master", "product designer", "ux designer", "ui designer",
    "ux researcher", "graphic designer", "technical writer", "developer advocate",
    "support engineer", "technical support engineer", "it support specialist",
    "solutions engineer", "sales engineer", "release engineer", "build engineer",
    "blockchain developer", "smart contract developer", "robotics engineer",
    "computer vision engineer", "nlp engineer", "mlops engineer", "data architect",
    "etl developer", "bi developer", "salesforce developer", "sap consultant",
    "java developer", "python developer", "javascript developer", "react developer",
    "node developer", "ruby on rails developer", "php developer", "golang developer",
    "rust developer", ".net developer", "c++ developer", "ios engineer", "android engineer",
    "cto", "chief technology officer", "vp of engineering", "head of engineering",
    "marketing manager", "account manager", "customer success manager", "recruiter",
    "accountant", "financial analyst", "quantitative analyst", "quant developer",
    "electrical engineer", "mechanical engineer", "civil engineer", "chemical engineer",
    "hardware engineer", "performance engineer", "integration engineer", "api developer",
    "programmer", "developer", "engineer", "consultant", "intern", "sre", "swe", "sde", "pm",
    "qa", "qa tester",
)
_TITLE_SET = frozenset(TITLES)
# Words that say how senior a title is, around its core ("senior", "lead", "principal").
SENIORITY = frozenset(
    "senior junior mid principal staff lead chief head associate intern graduate entry level "
    "first second third".split()
)
# Titles that are only a role noun: what is left of "DevOps engineer" when the first word
# was not understood, so they are confirmed before they are stored.
GENERIC_TITLES = frozenset(
    {"developer", "engineer", "programmer", "consultant", "manager", "analyst", "designer",
     "architect", "scientist", "specialist", "lead"}
)
FUZZY_CUTOFF = 0.85  # "back in developer" comes out as "backend developer", to confirm


@dataclass(frozen=True)
class RoleTitle:
    title: str
    known: bool


def normalize_role(role: str) -> RoleTitle:
    """The role in Viva's spelling, and whether it is a recognisable job title."""
    text = _unify(role)
    if not text:
        return RoleTitle(role.strip(), False)
    if text in _TITLE_SET or _core(text) in _TITLE_SET:
        return RoleTitle(cased_title(text), True)
    words = text.split()
    if words[-1] in ROLE_NOUNS and all(word in TITLE_WORDS for word in words[:-1]):
        return RoleTitle(cased_title(text), False)  # made of title words, not listed: confirmed
    close = difflib.get_close_matches(text, TITLES, n=1, cutoff=FUZZY_CUTOFF)
    if close:  # probably a title misheard ("back in developer"): worth a confirmation
        return RoleTitle(cased_title(close[0]), False)
    return RoleTitle(_display(role), False)


def _core(text: str) -> str:
    """A title without the seniority and technology words around its listed core:
    "senior python backend developer" → "backend developer", "django developer" →
    "developer". Only words titles are made of may be dropped; "mechanical developer"
    stays as it is (no listed title: confirmed before it is stored)."""
    words = text.split()
    *before, noun = words
    if noun not in ROLE_NOUNS or not all(word in TITLE_WORDS for word in before):
        return text
    kept = [w for w in before if w not in SENIORITY and vocab.compact(w) not in vocab.TECH_NAMES]
    return " ".join([*kept, words[-1]])


def _unify(role: str) -> str:
    text = role.lower().replace("’", "'")
    text = re.sub(r"[^\w+#.' -]", " ", text)
    text = re.sub(r"\b(?:an?|the|my|role|position|job|as)\b", " ", text)
    for pattern, replacement in _VARIANTS:
        text = re.sub(rf"(?<![\w.]){pattern}(?![\w])", replacement, text)
    return " ".join(text.split()).rstrip(" .'").lstrip(" '")


def cased_title(title: str) -> str:
    """Acronyms and product names in their usual spelling ("iOS developer", "QA")."""
    words = []
    for word in title.split():
        tech = vocab.TECH_NAMES.get(vocab.compact(word))
        if word in vocab.ROLE_WORD_CASING:
            words.append(vocab.ROLE_WORD_CASING[word])
        elif tech and vocab.compact(tech) == vocab.compact(word):
            words.append(tech)
        else:
            words.append(word)
    return " ".join(words)


def _display(role: str) -> str:
    return " ".join(role.strip().strip(".,!?").split())
