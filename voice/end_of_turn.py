"""End of turn: has the candidate finished, or are they only pausing?

A pure synchronous state machine beside the VAD (no I/O, no asyncio). The call tells it
when the candidate's voice was last heard (the end of the last voiced frame, in VAD
milliseconds) and, when a recogniser has something, the words said up to that moment;
`decide(now_ms)` answers:

* WAIT: keep listening. ``unfinished`` says whether the words so far are judged
  unfinished (the page shows "still listening…" then);
* FINISHED: take the turn now;
* CAPPED: take it anyway, the silence has reached the hard cap.

Two modes (``VIVA_END_OF_TURN``):

* ``fixed``: the turn ends after a fixed silence window, whatever was said (the old rule,
  kept for comparison).
* ``adaptive``: nothing ends before ``min_silence_ms``. After that the words decide:
  an answer ending on "and", "so", "because", "um", an article or a preposition, or with a
  list still open, waits (up to the cap); a complete sentence, or a value the collector
  field accepts, ends at once; while the collector asks for a list (the tech stack) not
  before ``list_min_ms``. While a transcript of the pause is on its way the decision waits
  for it: the reply needs it anyway. With no words to judge (nothing transcribed, or words
  that say neither) the turn ends after ``unknown_ms``. Whatever the words, ``cap_ms`` of
  silence always ends the turn.

Words count only for the speech they cover: each transcript carries the voice time it
was made up to, and one made before the candidate went on is ignored.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

from flows.collector_nlu import FIELDS, Intent, read_message
from voice.stt import SpeechHints

MODES = ("fixed", "adaptive")
LIST_FIELDS = frozenset({"techstack"})


class Verdict(enum.Enum):
    WAIT = "wait"
    FINISHED = "finished"
    CAPPED = "finished_anyway"


class Words(enum.Enum):
    """What the words so far say about the turn."""

    FINISHED = "finished"
    UNFINISHED = "unfinished"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    silence_ms: int  # since the last voiced frame
    unfinished: bool = False  # the words say the candidate is not done

    @property
    def done(self) -> bool:
        return self.verdict is not Verdict.WAIT


@dataclass(frozen=True)
class TurnPolicy:
    mode: str = "adaptive"
    fixed_ms: int = 1200  # fixed mode: the silence that ends a turn
    min_silence_ms: int = 250  # adaptive: no turn ends sooner
    unknown_ms: int = 900  # adaptive: the silence that ends a turn the words cannot judge
    cap_ms: int = 3000  # adaptive: the silence that always ends a turn
    list_min_ms: int = 600  # adaptive: the minimum while the collector asks for a list
    # adaptive: transcribe the turn so far after this much silence. Whisper takes ~150 ms
    # of CPU over an answer, so words started at 100 ms are in by about the minimum
    # (README, "Turn-taking"); a dip inside the answer costs one decode that is dropped.
    words_at_ms: int = 100
    # adaptive: finished words whose last word is short (SHORT_WORD letters or fewer) and
    # scored by the recogniser below this are taken as unfinished (`doubt_last_word`);
    # None: not used. The interview uses DOUBTFUL_SHORT_WORD.
    doubt_below: float | None = None
    # adaptive: finished words are taken as unfinished when the recogniser found a reading
    # of the same audio at least this likely beside them that stops unfinished
    # (`doubt_rivals`); None: not used. The interview uses RIVAL_SHARE.
    rival_share: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if not 0 < self.min_silence_ms <= self.unknown_ms <= self.cap_ms:
            raise ValueError("need 0 < min_silence_ms <= unknown_ms <= cap_ms")
        if self.fixed_ms <= 0 or self.words_at_ms <= 0:
            raise ValueError("fixed_ms and words_at_ms must be > 0")

    @property
    def longest_ms(self) -> int:
        """The longest silence any turn can be held open for in this mode."""
        return self.fixed_ms if self.mode == "fixed" else self.cap_ms

    @classmethod
    def for_conversation(
        cls, kind: str, mode: str, fixed_ms: int, words_at_ms: int = 100
    ) -> TurnPolicy:
        """Interview answers get time to think; collector answers are short values.

        A collector value's words are in at about 200 ms of silence (asked for at 100 ms,
        ~100 ms of Whisper for a second of speech), and a value the field accepts is all
        the answer there is: 200 ms is its minimum (250 until 2026-11-30: quiet-machine
        collector values then ended p50 302 ms after the voice, the server waiting 260).
        An answer that turns out to go on is taken back (`voice/call.py`)."""
        if kind == "collector":
            return cls(
                mode, fixed_ms, min_silence_ms=200, unknown_ms=600, cap_ms=2000,
                words_at_ms=words_at_ms,
            )
        return cls(
            mode, fixed_ms, min_silence_ms=250, unknown_ms=900, cap_ms=3000,
            doubt_below=DOUBTFUL_SHORT_WORD, rival_share=RIVAL_SHARE, words_at_ms=words_at_ms,
        )


class EndOfTurn:
    """One candidate turn at a time; `reset()` (or new speech after a decision) starts over."""

    def __init__(
        self,
        policy: TurnPolicy,
        judge: Callable[[str, SpeechHints], Words] | None = None,
    ) -> None:
        self.policy = policy
        self._judge = judge or judge_words
        self.hints = SpeechHints()
        self.reset()

    def reset(self) -> None:
        self._voice_end_ms: int | None = None
        self._words: tuple[int, Words, str] | None = None
        self._pending_ms: int | None = None
        # the speech began over the assistant's reply: an interruption that has only said
        # "Sorry," or "Wait." is unfinished (`only_an_opener`); it waits, up to the cap
        self.over_reply = False

    def expect_words(self, covers_ms: int) -> None:
        """A transcript of the turn up to voice time ``covers_ms`` is being made."""
        self._pending_ms = covers_ms

    def no_words(self, covers_ms: int) -> None:
        """That transcript will not come (the recogniser failed or was cancelled)."""
        if self._pending_ms == covers_ms:
            self._pending_ms = None

    def set_hints(self, hints: SpeechHints) -> None:
        self.hints = hints

    def voice(self, voice_end_ms: int) -> None:
        """The candidate's voice was heard up to ``voice_end_ms``."""
        if self._voice_end_ms is None or voice_end_ms > self._voice_end_ms:
            self._voice_end_ms = voice_end_ms

    def words(
        self,
        text: str,
        covers_ms: int,
        last_word_p: float | None = None,
        rivals: tuple[tuple[str, float], ...] = (),
    ) -> Words:
        """A transcript of the turn so far, made of the audio up to voice time ``covers_ms``;
        ``last_word_p`` is the recogniser's own probability of its last word, if it has one,
        and ``rivals`` its other readings with how likely each is beside this one."""
        judged = self._judge(text, self.hints)
        if self.policy.rival_share is not None:
            judged = doubt_rivals(judged, text, rivals, self.hints, self.policy.rival_share)
        if self.policy.doubt_below is not None:
            words = spoken_words(text)
            judged = doubt_last_word(
                judged, last_word_p, self.hints, self.policy.doubt_below,
                last_word=words[-1] if words else "",
            )
        if self.over_reply and judged is not Words.UNFINISHED and only_an_opener(text):
            # "Sorry?" may ask for the question again, or be Whisper's reading of the "Sorry,"
            # that opens "…could you repeat that?" (seen in the benchmark): it waits as long
            # as words that say nothing do (`unknown_ms`), a comma's pause, not the cap
            judged = Words.UNKNOWN if "?" in text else Words.UNFINISHED
        self._words = (covers_ms, judged, text)
        self.no_words(covers_ms)
        return judged

    @property
    def voice_end_ms(self) -> int | None:
        return self._voice_end_ms

    def current_words(self) -> Words:
        """The verdict of the words when they cover all the speech so far, else UNKNOWN."""
        if self._words is None or self._voice_end_ms is None:
            return Words.UNKNOWN
        covers, judged, _ = self._words
        return judged if covers >= self._voice_end_ms else Words.UNKNOWN

    def decide(self, now_ms: int) -> Decision:
        if self._voice_end_ms is None:
            return Decision(Verdict.WAIT, "no speech yet", 0)
        silence = max(0, now_ms - self._voice_end_ms)
        policy = self.policy
        if policy.mode == "fixed":
            if silence >= policy.fixed_ms:
                return Decision(Verdict.FINISHED, "fixed silence window", silence)
            return Decision(Verdict.WAIT, "fixed silence window", silence)
        if silence >= policy.cap_ms:
            return Decision(Verdict.CAPPED, "silence cap", silence)
        words = self.current_words()
        unfinished = words is Words.UNFINISHED
        # A tech stack is a list: a name is a value, but the candidate may name another.
        least = policy.list_min_ms if self.hints.expected in LIST_FIELDS else policy.min_silence_ms
        if silence < least:
            return Decision(Verdict.WAIT, "short pause", silence, unfinished)
        if words is Words.FINISHED:
            return Decision(Verdict.FINISHED, "words: finished", silence)
        if unfinished:
            return Decision(Verdict.WAIT, "words: unfinished", silence, True)
        if self._words_coming():
            # The reply needs the transcript anyway: ending the turn before it would only
            # risk cutting a thinking pause short.
            return Decision(Verdict.WAIT, "waiting for words", silence)
        if silence >= policy.unknown_ms:
            return Decision(Verdict.FINISHED, "no words to judge", silence)
        return Decision(Verdict.WAIT, "no words yet", silence)

    def _words_coming(self) -> bool:
        return (
            self._pending_ms is not None
            and self._voice_end_ms is not None
            and self._pending_ms >= self._voice_end_ms
        )


# A finished-looking transcript whose last word the recogniser itself doubts may be a
# phrase cut off in the middle: Whisper tiny.en closes "Mostly Python and" as "Mostly
# Python N." or "…would be to, um" as "…would be too.". The threshold was chosen on the
# tuning voices of benchmarks/smart_turn_eval.py (README, "Whisper's guessed last word").
DOUBTFUL_LAST_WORD = 0.6
# Its guesses are short words ("end", "too", "it", "up", "N"): doubting only those keeps
# a finished answer whose long last word Whisper spells only thanks to the prompt
# ("…on a queue." at 0.06 through a call) from waiting for the cap. Chosen on the tuning
# voices and phrasings of the turn-taking benchmark, through Opus (README, "Turn-taking"):
# 0.7 caught more cut-off phrases but held "…on a cube." (0.53, for "queue") to the cap.
SHORT_WORD = 4  # letters
DOUBTFUL_SHORT_WORD = 0.5


def doubt_last_word(
    judged: Words,
    last_word_p: float | None,
    hints: SpeechHints,
    below: float = DOUBTFUL_LAST_WORD,
    last_word: str | None = None,
) -> Words:
    """FINISHED words become UNFINISHED when their last word is a doubtful guess.

    With `last_word` given, only a short one (SHORT_WORD letters or fewer) is doubted.
    Only interview answers: a value the collector's field accepts ("Senior.") is finished
    whatever the recogniser thinks of it, and a slow "senior" would otherwise wait for
    the cap."""
    if (
        judged is Words.FINISHED
        and last_word_p is not None
        and last_word_p < below
        and hints.expected not in FIELDS
        and (last_word is None or len(last_word) <= SHORT_WORD)
    ):
        return Words.UNFINISHED
    return judged


# Whisper's beam often holds the phrase as it was cut off beside the sentence it closed:
# at the tuning phrasings' thinking pauses "So the cache sits in front of the database."
# had "…the database and" at 0.97-0.98 of its likelihood, "My approach would be too." had
# "…too, um" at 0.95, "I'd add an index on that." had "…on this." at 0.97; the rivals of
# 30 finished answers (tuning voices, quiet and 30 dB noise) that stopped unfinished
# differed only by their punctuation ("…the worst part..."). Offline, 2026-11-30 (README,
# "Turn-taking"). The collector's rival rule uses the same share (whisper_stt.RIVAL_SHARE).
RIVAL_SHARE = 0.7


def doubt_rivals(
    judged: Words,
    text: str,
    rivals: tuple[tuple[str, float], ...],
    hints: SpeechHints,
    share: float = RIVAL_SHARE,
) -> Words:
    """FINISHED words become UNFINISHED when a reading of the same audio at least `share`
    as likely has other words and stops on an unfinished one ("…the database and").

    Punctuation alone does not count: a rival is read without its closing marks, so that
    "…the worst part..." beside "…the worst part." says nothing. Nor does a rival that
    stops early ("…on a" beside "…on a queue."): it heard less, not more (the collector's
    rival rule skips those too). Interview answers only: a collector value is finished
    when the field accepts it."""
    if judged is not Words.FINISHED or hints.expected in FIELDS:
        return judged
    said = spoken_words(text)
    for rival, likely in rivals:
        words = spoken_words(rival)
        stops_early = words == said[: len(words)]
        if likely >= share and words and not stops_early and _stops_unfinished(words, hints):
            return Words.UNFINISHED
    return judged


def _stops_unfinished(words: list[str], hints: SpeechHints) -> bool:
    """The bare words (no punctuation) end unfinished: on a word that cannot end a clause,
    on an unfinished phrase, or with a list still open."""
    return judge_words(" ".join(words), hints) is Words.UNFINISHED


# -- the voice ---------------------------------------------------------------------------

VOICE_RANGE_DB = 25.0  # a VAD-voiced stretch this far below the answer's loudest is noise


class VoiceEnd:
    """When the candidate's voice last sounded, told apart from noise that holds the VAD open.

    webrtcvad calls steady background noise "voiced" often enough to keep an utterance
    going: measured from its last voiced frame, a turn taken long after the candidate
    stopped looks quick. Here a stretch the VAD calls voiced counts as voice only within
    ``range_db`` of the loudest stretch of the answer so far. Speech moves within about
    20 dB of its loudest syllables; noise 25-35 dB below the voice falls outside. The
    price: a final consonant much softer than the rest (a trailing "s") may be left out,
    which makes the measured end of turn longer by that much, never shorter.
    """

    def __init__(self, range_db: float = VOICE_RANGE_DB) -> None:
        self._floor = 10 ** (-range_db / 20)
        self.reset()

    def reset(self) -> None:
        """A new utterance starts."""
        self._loudest = 0.0
        self._vad_end_ms: int | None = None
        self.end_ms: int | None = None  # VAD time: the end of the last stretch of voice

    def heard(self, level: float, vad_voice_end_ms: int) -> None:
        """A stretch of audio was fed to the VAD (its RMS, any scale) and the VAD's last
        voiced frame is now at ``vad_voice_end_ms``: if that moved, the stretch was voiced."""
        if vad_voice_end_ms == self._vad_end_ms:
            return
        self._vad_end_ms = vad_voice_end_ms
        self._loudest = max(self._loudest, level)
        if level >= self._loudest * self._floor:
            self.end_ms = vad_voice_end_ms

    def end_or(self, vad_voice_end_ms: int) -> int:
        """The voice's end, or the VAD's when no stretch has been judged yet."""
        if self.end_ms is None:
            return vad_voice_end_ms
        return min(self.end_ms, vad_voice_end_ms)


# -- the words ---------------------------------------------------------------------------

# An answer that stops on one of these is not over.
_CONJUNCTIONS = (
    "and", "or", "but", "so", "because", "since", "although", "though", "if", "when",
    "while", "whereas", "unless", "until", "than", "which", "whether",
    "plus", "also", "then", "like", "cause", "cuz",
)
_FILLERS = ("um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "hmm", "mm")
_ARTICLES = ("a", "an", "the", "this", "these", "those", "my", "our", "your", "their", "its")
_PREPOSITIONS = (
    "of", "to", "in", "on", "at", "for", "with", "from", "by", "about", "into", "onto",
    "over", "under", "between", "through", "during", "without", "within", "across",
    "towards", "toward", "via", "per", "as",
)
_OPENERS = (  # words that start a clause and cannot end one
    "i", "we", "you", "they", "he", "she", "it's", "i'm", "we're", "there's", "is", "are",
    "was", "were", "would", "will", "can", "could", "should", "might", "must", "have", "has",
    "had", "do", "does", "did", "be", "been", "being", "i'd", "i'll", "we'd", "we'll",
    "very", "really", "any", "each", "every", "such", "firstly", "secondly", "finally",
    "kind", "sort", "maybe",
)
_UNFINISHED_LAST = frozenset((*_CONJUNCTIONS, *_FILLERS, *_ARTICLES, *_PREPOSITIONS, *_OPENERS))
_UNFINISHED_TAIL = re.compile(
    r"(?:,|;|:|-|–|—|\.\.\.|…)\s*$|\b(?:such as|for example|for instance|and then|"
    r"as well as|in order to|rather than|the first|the second)\s*[.!?]?\s*$"
    # "the problem is that": "that" opening a clause, not a demonstrative ("I'd do that.")
    r"|\b(?:is|was|be|are|were|means?|think|thought|said|says)\s+that\s*[.!?]?\s*$"
    # "well" opening a clause is a filler ("Well…", "um, well"); "it went really well." is not
    r"|(?:^|[,.;:!?]|\b(?:um|uh|oh|so|and|but))\s*well\s*[.!?]?\s*$",
    re.IGNORECASE,
)
# A list announced ("two things", "first…") and not yet closed ("second", "finally").
_LIST_OPENED = re.compile(  # not "the first thing", "at first": an ordinal, not a list
    r"\b(?<!the )(?<!at )(?:first(?:ly)?|"
    r"(?:two|three|four|a few|several) (?:things|reasons|ways|steps|points))\b",
    re.IGNORECASE,
)
_LIST_CLOSED = re.compile(  # "and": Whisper often hears "…, then fix it" as "… and fix it"
    r"\b(?:second(?:ly)?|then|third(?:ly)?|finally|lastly|last|also|another|and)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?]\s*$")
_WORD = re.compile(r"[a-z0-9][a-z0-9']*")  # Whisper writes numbers in digits ("10.")


def spoken_words(text: str) -> list[str]:
    """The words of a transcript as the rules here read them: lower case, no punctuation."""
    return _WORD.findall(text.lower())
_YES_NO_QUESTION = re.compile(
    r"^\s*(?:\w+[,:]\s+)?(?:do|did|does|have|has|are|is|were|was|can|could|would|will)\b",
    re.IGNORECASE,
)
_SHORT_ANSWERS = frozenset(
    "yes yeah yep no nope sure okay ok right exactly correct absolutely definitely".split()
)
MIN_SENTENCE_WORDS = 4  # an unpunctuated answer this long, ending well, is taken as a sentence


def judge_words(text: str, hints: SpeechHints) -> Words:
    """Do these words (a transcript of the turn so far) end a turn?

    Recognisers differ: Whisper punctuates ("I'd say senior." / "and then,"), pocketsphinx
    gives bare lowercase words. Both are read the same way: unfinished endings first, then
    a value the collector field accepts, then a complete sentence.
    """
    words = spoken_words(text)
    if not words:
        return Words.UNKNOWN
    if words[-1] in _UNFINISHED_LAST:
        return Words.UNFINISHED
    if _UNFINISHED_TAIL.search(text) and not _value_with_a_comma(text, hints):
        return Words.UNFINISHED
    if hints.expected in FIELDS:
        if all(word in _SHORT_ANSWERS for word in words):  # "Yes." to "I heard senior. Right?"
            return Words.FINISHED
        reading = read_message(hints.expected, text)
        return Words.UNKNOWN if reading.intent is Intent.INVALID else Words.FINISHED
    if _list_open(text):
        return Words.UNFINISHED
    if _SENTENCE_END.search(text):
        return Words.FINISHED
    if len(words) >= MIN_SENTENCE_WORDS:
        return Words.FINISHED
    if hints.question and _YES_NO_QUESTION.search(hints.question) and words[0] in _SHORT_ANSWERS:
        return Words.FINISHED
    return Words.UNKNOWN


def _value_with_a_comma(text: str, hints: SpeechHints) -> bool:
    """Whisper's trailing comma after a value the collector's field takes ("Backend
    developer,"): the value is given. Not for a list (the stack), which may go on."""
    if hints.expected not in FIELDS or hints.expected in LIST_FIELDS:
        return False
    bare = text.rstrip().rstrip(",;:")
    return bare != text.rstrip() and read_message(hints.expected, bare).intent is not Intent.INVALID


def _list_open(text: str) -> bool:
    opened = _LIST_OPENED.search(text)
    return opened is not None and _LIST_CLOSED.search(text, opened.end()) is None


# What a listener says to show they are following, not to take the turn.
_BACKCHANNEL_WORDS = frozenset(
    "uh huh okay ok right yeah yes yep yup sure alright all got it i see "
    "cool great exactly good fine oh ah aha true wow".split()
)
MAX_BACKCHANNEL_WORDS = 3
# A hum is a closed-mouth sound: recognisers spell it in the letters m, n and h ("mm-hm",
# "MMHN", "M-H-N", "m m h m"), now and then with one stray consonant ("MHCM"), never with a
# vowel. A word of that shape is a hum, whatever its exact spelling.
_HUM_LETTERS = frozenset("mnh")
_SPELLED = re.compile(r"\b[b-df-hj-np-tv-xz]+(?:[-&][b-df-hj-np-tv-xz]+)+\b")  # "m-h-n"
# Words Whisper puts before a sound it cannot read as words, continuing its prompt ("And
# the MHCM.", "in the m-h-m", "And then make them."): they open a clause and say nothing.
_LEAD_INS = frozenset((*_CONJUNCTIONS, *_ARTICLES, *_PREPOSITIONS))
# Apologies and calls for attention that open an interruption and say nothing yet.
_OPENERS_OVER_REPLY = frozenset(
    "sorry wait excuse me pardon hang hold on one sec second moment actually well so "
    "um umm uh uhh er erm hmm mm oh".split()
)
# A hum Whisper wrote as dictionary words: unsure of them, over voice as short as a hum.
# Through Opus, Piper's "Mm-hm." came out as "And then make them." / "and the may chant." at
# confidence 0.43-0.65 over 0.7-0.8 s of voice; requests said over a reply ("Sorry, could
# you repeat that?", "What do you mean?", "Hang on a second.") never opened on a lead-in,
# and "And what about the cache?" took 1.1 s or more (README, "Voice calls", 2026-11-30).
UNSURE_BELOW = 0.67  # the recogniser's confidence (Whisper: mean token p × speech p)
HUM_MS = 900  # voice no longer than this, onset to last voiced frame


def _is_hum(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    if not letters or len(letters) != len(word) or set(word) & set("aeiouy"):
        return False
    hummed = sum(c in _HUM_LETTERS for c in letters)
    return hummed * 4 >= len(letters) * 3  # at most one other letter in four


def _sounds(text: str) -> list[str]:
    """The words of `text`, a spelled hum ("m-h-n", "M&HM") joined into one."""
    lowered = _SPELLED.sub(lambda spelled: re.sub("[-&]", "", spelled.group()), text.lower())
    return _WORD.findall(lowered)


def is_backchannel(text: str) -> bool:
    """"mm-hm", "okay", "right", "yeah", "got it": said over the assistant, not a turn.

    Hums count in any spelling (`_is_hum`), also after the lead-in Whisper writes before a
    sound it cannot read ("And the MHCM."): with a hum in it, the rest may be lead-ins."""
    words = _sounds(text)
    hummed = any(_is_hum(w) for w in words)
    said = [w for w in words if not _is_hum(w) and not (hummed and w in _LEAD_INS)]
    return (
        (hummed or bool(said))
        and len(said) <= MAX_BACKCHANNEL_WORDS
        and all(w in _BACKCHANNEL_WORDS for w in said)
    )


def sounds_like_a_backchannel(
    text: str, confidence: float | None = None, voice_ms: int | None = None
) -> bool:
    """Speech over the assistant heard as `text`, with the recogniser's `confidence`, over
    `voice_ms` of voice: a backchannel, or a hum the recogniser wrote as words it doubts,
    opening on a lead-in, over no more voice than a hum has (HUM_MS)."""
    if is_backchannel(text):
        return True
    words = _sounds(text)
    return (
        bool(words)
        and words[0] in _LEAD_INS
        and confidence is not None
        and confidence < UNSURE_BELOW
        and voice_ms is not None
        and voice_ms <= HUM_MS
    )


def too_many_for_a_backchannel(
    text: str, confidence: float | None = None, voice_ms: int | None = None
) -> bool:
    """Words said over the assistant that are more than any backchannel: a real interruption."""
    return len(_sounds(text)) > MAX_BACKCHANNEL_WORDS and not sounds_like_a_backchannel(
        text, confidence, voice_ms
    )


def only_an_opener(text: str) -> bool:
    """An interruption that has not said what it wants yet: "Sorry,", "Wait.", "Excuse me",
    "Hang on" (with a question mark it may be a request: "Sorry?", "Pardon?")."""
    words = spoken_words(text)
    return bool(words) and all(w in _OPENERS_OVER_REPLY for w in words)
