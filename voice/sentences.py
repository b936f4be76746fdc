"""Cut a stream of chat tokens into sentences, so speech can start before the reply ends.

A sentence ends at ``.``, ``!``, ``?`` or ``…`` (plus closing quotes or brackets) followed by
whitespace, or at a line break. A period does not end a sentence inside abbreviations
("e.g.", "Mr.", "U.S."), initials, decimals ("3.5"), names like "Node.js", or after a list
number at the start of a line ("1. First"). Because a token may stop right after a period,
the splitter waits for the next character before deciding. A sentence that grows past
``max_chars`` with no end in sight is cut at a comma, semicolon or colon (or, failing that,
at a space) so the first audio is not held back by one long sentence.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "approx",
        "e.g", "i.e", "cf", "fig", "no", "vol", "inc", "ltd", "co", "corp", "dept", "est",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    }
)  # fmt: skip
# Abbreviations that often end a sentence too (as do dotted ones like "U.S."): they end one
# when a capital letter follows.
_AMBIGUOUS = frozenset({"etc", "inc", "ltd", "co", "corp", "no", "est"})

_END = re.compile(r"(?:[.!?\u2026]+)[\"'\u201d\u2019)\]]*(?=\s)|\n")
_SOFT = re.compile(r"[,;:](?=\s)")
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]?")  # U.S, e.g, i.e, a.m
_OPENERS = "\"'(\u201c\u2018["


class SentenceSplitter:
    def __init__(self, max_chars: int = 200, min_chars: int = 20) -> None:
        if not 0 < min_chars < max_chars:
            raise ValueError("need 0 < min_chars < max_chars")
        self.max_chars = max_chars
        self.min_chars = min_chars
        self._buf = ""

    @property
    def pending(self) -> str:
        """Text received but not yet returned as a sentence."""
        return self._buf

    def push(self, text: str) -> list[str]:
        """Add streamed text; return the sentences it completed, in order."""
        self._buf += text
        out: list[str] = []
        while (cut := self._find_cut()) is not None:
            sentence, self._buf = self._buf[:cut].strip(), self._buf[cut:].lstrip()
            if sentence:
                out.append(sentence)
        return out

    def flush(self) -> list[str]:
        """End of the stream: return what is left."""
        out = self.push(" ")
        rest, self._buf = self._buf.strip(), ""
        if rest:
            out.append(rest)
        return out

    def reset(self) -> None:
        self._buf = ""

    def _find_cut(self) -> int | None:
        buf = self._buf
        for match in _END.finditer(buf):
            if match.group() == "\n":
                if buf[: match.start()].strip():
                    return match.end()
                continue
            verdict = self._ends_sentence(buf, match.start(), match.end())
            if verdict is None:  # cannot tell before more text arrives
                return None
            if verdict:
                return match.end()
        if len(buf) > self.max_chars:
            return self._soft_cut(buf)
        return None

    def _ends_sentence(self, buf: str, start: int, end: int) -> bool | None:
        if buf[start:end].rstrip("\"'\u201d\u2019)]") != ".":
            return True  # ! ? … and runs like "?!" or "..."
        word_start = start
        while word_start > 0 and not buf[word_start - 1].isspace():
            word_start -= 1
        word = buf[word_start:start].lstrip(_OPENERS)
        lower = word.lower()
        if word.isdigit():
            return bool(buf[:word_start].strip())  # "1. " opening a line is a list number
        if len(word) == 1 and word.isupper():
            return False  # an initial: "J. Smith"
        dotted = _DOTTED.fullmatch(word) is not None and lower not in ("e.g", "i.e")
        if lower in ABBREVIATIONS or dotted:
            if lower not in _AMBIGUOUS and not dotted:
                return False
            following = buf[end:].lstrip()
            if not following:
                return None
            return following[0].isupper()
        return True

    def _soft_cut(self, buf: str) -> int | None:
        limit = self.max_chars
        soft = [m.end() for m in _SOFT.finditer(buf) if self.min_chars <= m.end() <= limit]
        if soft:
            return soft[-1]
        window = buf[:limit]
        if len(buf) > self.max_chars * 3 // 2:
            space = window.rfind(" ", self.min_chars)
            return space if space > 0 else self.max_chars
        return None
