"""What else a misheard collector answer may have said: the same words, with its value
replaced by each of the field's other values (Whisper then scores them on the audio).

tiny.en hears the robotic test voices' "DevOps engineer" as "game up engineer" and "a
behavioral interview" as "a bit in your little interview", and the candidate's "No, it's
DevOps engineer." as "No, it's them up, engineer.". The words around the value are mostly
right; only the value is not. `value_choices(field, text)` splits such a reading into the
words before the value, the value's place and the words after it, and lists the field's
values that could go there:

    value_choices("role", "I want to prepare for a game up engineer position.")
    → Choices("I want to prepare for a", "position.", ("DevOps engineer", …))

The place of the value: the words between the leading filler ("Let's do a", "No, it's")
and the word that follows a value ("interview" for the type; for a role, its noun
"engineer", which the title replaces with up to three words before it). A type heard
without "interview" needs one of its words ("Technical." at a low confidence): "Let me
check out." for "A mix of both." has no place, and neither has a role without its noun.

Whether to look at all is the collector's rule (`flows.collector.answer_choices` and
`correction_choices`): only a reading that would not be stored as it is (not understood,
or to be asked back), of a field with few values (the interview type) or a job title.
Level, readiness and the amount are read right on every test voice, and a stack is a
list, not one value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows import vocabulary as vocab
from flows.collector_nlu import INTERVIEW_TYPES
from flows.job_titles import GENERIC_TITLES, ROLE_NOUNS, TITLES, cased_title

FIELDS_WITH_CHOICES = ("role", "interview_type")
# Words a spoken answer starts with before its value ("Let's do a …", "I want to prepare
# for a …", "No, it's …"): kept as they were heard around every choice.
LEAD_WORDS = frozenset(
    """
    let's lets let us do i i'd i'm id im i'll like want wanna would to prepare practise
    practice practicing practising train for a an the it's its it is no nope so well okay ok
    yeah yes um uh just go with have be please maybe think as my me for be become
    """.split()
)
TRAILING = frozenset({"please", "role", "position", "job", "interview", "one", "thanks"})
ROLE_WORDS_BEFORE_NOUN = 3  # a title's words before its noun that a choice replaces
_TYPE_WORD = re.compile(
    r"\b(?:" + "|".join(w for words in vocab.INTERVIEW_TYPE_WORDS.values() for w in words)
    + r")\b", re.IGNORECASE)
_WORD = re.compile(r"[\w'+#/-]+(?:\.\w+)*|[^\w\s]")


@dataclass(frozen=True)
class Choices:
    """A reading with one place open: `before` + one of `options` + `after`."""

    before: str
    after: str
    options: tuple[str, ...]
    closed: bool = False  # the options are every value the field has (the interview type)
    article: bool = False  # an article goes before the option ("a behavioral interview")

    def sentence(self, option: str) -> str:
        before = self.before
        if self.article:
            option = f"{_article(option)} {option}"
        article = re.search(r"(?:^|\s)(an?)$", before, re.IGNORECASE)
        if article is not None:  # "Let's do an annual …" → "Let's do a behavioral …"
            fitting = _article(option)
            if article.group(1)[0].isupper():
                fitting = fitting.capitalize()
            before = before[: article.start(1)] + fitting
        if not before:
            option = option[:1].upper() + option[1:]
        return _join([part for part in (before, option, self.after) if part])


def value_choices(field: str, text: str, exclude: str | None = None) -> Choices | None:
    """The reading `text` of an answer to `field` with its value's place open, and the
    field's values for it. `exclude`: a value the candidate has just said no to; its
    correction ("No, it's …") is the place, without a word of the field. None for a field
    without choices or words without a place for a value."""
    words = _WORD.findall(text)
    if field not in FIELDS_WITH_CHOICES or not words:
        return None
    lower = [word.lower() for word in words]
    lead = 0
    while lead < len(words) and (lower[lead] in LEAD_WORDS or not lower[lead][0].isalnum()):
        lead += 1
    end = len(words)
    while end > lead and (lower[end - 1] in TRAILING or not lower[end - 1][0].isalnum()):
        end -= 1
    article = False
    if field == "role":
        role = _role_place(lower, lead, end)
        if role is None:
            return None
        start, stop, options = role
    else:
        kind = _type_place(text, lower, lead, end, exclude is not None)
        if kind is None:
            return None
        start, stop = kind
        options = tuple(INTERVIEW_TYPES)
        while stop < len(lower) and lower[stop] != "interview" and start > 0 and (
                lower[start - 1] in ("a", "an", "the")):
            start -= 1  # "No, it's the same, you know." → "No, it's behavioral."
        # before "interview", a value without its article ("Let's do everything in your
        # own interview.") is said with one; after "the" it keeps "the"
        article = stop < len(lower) and lower[stop] == "interview" and (
            start == 0 or lower[start - 1] not in ("a", "an", "the"))
    if start >= stop:
        return None
    options = tuple(o for o in options if exclude is None or o.lower() != exclude.lower())
    if not options:
        return None
    return Choices(_join(words[:start]), _join(words[stop:]), options, field != "role", article)


def _article(option: str) -> str:
    """"a" or "an" before a value, as it is said: "an MLOps engineer", "a DevOps engineer"."""
    first = option.split()[0] if option.split() else option
    letters = "aefhilmnorsx" if first[:2].isupper() else "aeiou"
    return "an" if first[:1].lower() in letters else "a"


def titles_for(noun: str) -> tuple[str, ...]:
    """The listed titles a misheard role may be: those with the heard noun ("engineer"),
    never the bare noun (what is left when the rest was not understood)."""
    return tuple(cased_title(t) for t in TITLES
                 if t not in GENERIC_TITLES and len(t.split()) > 1 and t.split()[-1] == noun)


def _role_place(
    lower: list[str], lead: int, end: int
) -> tuple[int, int, tuple[str, ...]] | None:
    nouns = [(i, noun) for i in range(lead, end) if (noun := _noun(lower[i])) is not None]
    if not nouns:
        return None
    head, noun = nouns[-1]
    start = max(lead, head - ROLE_WORDS_BEFORE_NOUN)
    return start, head + 1, titles_for(noun)


def _noun(word: str) -> str | None:
    """The role noun a word is: one that ends listed titles (`job_titles.ROLE_NOUNS`, so
    there are titles to choose from) and that the collector's reader takes for the end of
    a role (`vocabulary.ROLE_NOUNS`; not "intern", a level, nor "expert")."""
    for noun in (word, word.rstrip("s")):
        if noun in ROLE_NOUNS and noun in vocab.ROLE_NOUNS:
            return noun
    return None


def _type_place(
    text: str, lower: list[str], lead: int, end: int, correction: bool
) -> tuple[int, int] | None:
    if "interview" in lower[lead:]:
        return lead, lower.index("interview", lead)
    if not correction and _TYPE_WORD.search(text) is None:
        return None  # no word of the field: not heard as an answer to it at all
    return lead, end


def _join(words: list[str]) -> str:
    """Words as one text, punctuation against the word before it."""
    return re.sub(r"\s+([.,!?;:])", r"\1", " ".join(words))
