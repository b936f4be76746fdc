"""The end-of-turn decision on scripted sequences: voice, words and silence in, verdicts out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from voice.end_of_turn import (
    DOUBTFUL_LAST_WORD,
    RIVAL_SHARE,
    Decision,
    EndOfTurn,
    TurnPolicy,
    Verdict,
    VoiceEnd,
    Words,
    doubt_last_word,
    doubt_rivals,
    is_backchannel,
    judge_words,
    only_an_opener,
    sounds_like_a_backchannel,
    too_many_for_a_backchannel,
)
from voice.stt import SpeechHints

ANSWER = SpeechHints(expected="answer", question="How would you design a rate limiter?")
YES_NO = SpeechHints(expected="answer", question="Have you used Kafka in production?")


def interview(mode: str = "adaptive") -> EndOfTurn:
    return EndOfTurn(TurnPolicy.for_conversation("interview", mode, fixed_ms=1200))


def collector(field: str) -> EndOfTurn:
    turn = EndOfTurn(TurnPolicy.for_conversation("collector", "adaptive", fixed_ms=700))
    turn.set_hints(SpeechHints(expected=field))
    return turn


def first_done(turn: EndOfTurn, start_ms: int, step_ms: int = 20) -> Decision:
    """Step the clock from start_ms until the decision is not WAIT."""
    now = start_ms
    while True:
        decision = turn.decide(now)
        if decision.done:
            return decision
        now += step_ms
        assert now < start_ms + 60_000, "never decided"


@pytest.mark.parametrize(
    "text",
    [
        "i think the key point is",
        "first i would put a queue in front and then",
        "so the cache sits in front of the database and",
        "it depends on the, um",
        "we used a token bucket because",
        "I would start with the...",
        "There are two things: the queue,",
        "First, I'd gather the requirements.",
        "i would store the counters in",
        "Well.",
        "So, um, well",
        "I'm not sure. Well,",
        "The main problem was that.",  # "that" opening a clause Whisper closed
        "What I like about it is that",
    ],
)
def test_unfinished_endings(text: str) -> None:
    assert judge_words(text, ANSWER) is Words.UNFINISHED


@pytest.mark.parametrize(
    "text",
    [
        "I would put the slow work on a queue.",
        "i would put the slow work on a queue",
        "First I'd gather requirements, then I'd sketch the API.",
        "we measured it under load and it held",
        "We chose Postgres because it handles our joins really well.",
        "it handles our joins really well",
        "I'd do that.",
        "The first thing I'd check is whether the disk is full.",  # an ordinal, not a list
        # a list opened by "first" and closed by "and" (Whisper's "…, then" is often "and")
        "First I would measure where the time goes and fix the worst part.",
    ],
)
def test_finished_sentences(text: str) -> None:
    assert judge_words(text, ANSWER) is Words.FINISHED


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("level", "Senior.", Words.FINISHED),
        ("level", "i'd say mid level", Words.FINISHED),
        ("amount", "ten", Words.FINISHED),
        ("readiness", "Yes, I'm ready.", Words.FINISHED),
        ("techstack", "python django and", Words.UNFINISHED),
        ("techstack", "python django and postgres", Words.FINISHED),
        ("level", "i think i'm a", Words.UNFINISHED),
        ("level", "purple", Words.UNKNOWN),  # not a value: the silence decides
        ("amount", "could you repeat that", Words.FINISHED),  # a request the collector answers
        ("amount", "10.", Words.FINISHED),  # Whisper's digits
        ("amount", "I'd like 12", Words.FINISHED),
        ("level", "Yes.", Words.FINISHED),  # the reply to a confirmation ("I heard senior…")
        ("techstack", "No.", Words.FINISHED),
        ("role", "Backend developer,", Words.FINISHED),  # Whisper's comma after a value
        ("techstack", "Python, Postgres,", Words.UNFINISHED),  # a list may go on
        ("role", "I'd like to train for a,", Words.UNFINISHED),
    ],
)
def test_collector_values(field: str, text: str, expected: Words) -> None:
    assert judge_words(text, SpeechHints(expected=field)) is expected


def test_short_answers_need_a_yes_no_question() -> None:
    assert judge_words("Yes.", YES_NO) is Words.FINISHED
    assert judge_words("yes", YES_NO) is Words.FINISHED
    assert judge_words("yes", ANSWER) is Words.UNKNOWN
    assert judge_words("", ANSWER) is Words.UNKNOWN


def test_a_finished_answer_is_taken_at_the_minimum_silence() -> None:
    turn = interview()
    turn.set_hints(ANSWER)
    turn.voice(5000)
    assert turn.decide(5100).verdict is Verdict.WAIT
    turn.words("I would put the slow work on a queue.", covers_ms=5000)
    decision = first_done(turn, 5000, step_ms=10)
    assert decision.verdict is Verdict.FINISHED
    assert decision.silence_ms == turn.policy.min_silence_ms


def test_words_arriving_late_decide_when_they_arrive() -> None:
    turn = interview()
    turn.voice(5000)
    turn.expect_words(5000)
    assert turn.decide(5600) == Decision(Verdict.WAIT, "waiting for words", 600)
    assert turn.decide(6500).verdict is Verdict.WAIT  # past unknown_ms: the words are coming
    turn.words("we measured it under load and it held", covers_ms=5000)
    assert turn.decide(5620).verdict is Verdict.FINISHED


def test_a_thinking_pause_after_and_then_waits_then_the_answer_goes_on() -> None:
    turn = interview()
    turn.set_hints(ANSWER)
    turn.voice(4000)
    turn.words("first i would put a queue in front and then", covers_ms=4000)
    for now in range(4000, 6520, 20):  # a 2.5 s thinking pause
        decision = turn.decide(now)
        assert decision.verdict is Verdict.WAIT, now
    assert decision.unfinished  # the page says "still listening…"
    turn.voice(7800)  # the candidate goes on; the old words no longer cover the speech
    assert turn.current_words() is Words.UNKNOWN
    turn.words("first i would put a queue in front and then scale the workers.", covers_ms=7800)
    assert first_done(turn, 7800).verdict is Verdict.FINISHED


def test_the_cap_ends_any_turn() -> None:
    turn = interview()
    turn.voice(1000)
    turn.words("and so um", covers_ms=1000)
    decision = first_done(turn, 1000)
    assert decision.verdict is Verdict.CAPPED
    assert decision.silence_ms == 3000
    short = collector("level")
    short.voice(1000)
    short.words("i'd say the", covers_ms=1000)
    assert first_done(short, 1000).silence_ms == 2000


def test_a_sentence_whose_last_word_is_a_guess_waits_like_an_unfinished_one() -> None:
    # Whisper closing "mostly python and" (then silence) as a sentence with a guessed word
    turn = doubting(interview())
    turn.set_hints(ANSWER)
    turn.voice(2000)
    assert turn.words("Mostly Python N.", covers_ms=2000, last_word_p=0.12) is Words.UNFINISHED
    for now in range(2000, 4500, 20):  # a 2.5 s thinking pause stays one turn
        decision = turn.decide(now)
        assert decision.verdict is Verdict.WAIT, now
    assert decision == Decision(Verdict.WAIT, "words: unfinished", 2480, True)
    turn.voice(5400)  # the answer goes on and ends on a word Whisper is sure of
    turn.words("Mostly Python and some Go.", covers_ms=5400, last_word_p=0.93)
    decision = first_done(turn, 5400, step_ms=10)
    assert (decision.verdict, decision.silence_ms) == (Verdict.FINISHED, 250)


def test_only_a_finished_verdict_is_doubted_and_only_in_the_interview() -> None:
    sure = DOUBTFUL_LAST_WORD
    assert doubt_last_word(Words.FINISHED, sure - 0.01, ANSWER) is Words.UNFINISHED
    assert doubt_last_word(Words.FINISHED, sure, ANSWER) is Words.FINISHED
    assert doubt_last_word(Words.FINISHED, None, ANSWER) is Words.FINISHED  # no such measure
    assert doubt_last_word(Words.UNKNOWN, 0.1, ANSWER) is Words.UNKNOWN
    assert doubt_last_word(Words.UNFINISHED, 0.99, ANSWER) is Words.UNFINISHED
    # a value the collector's field accepts is taken however unsure the recogniser was
    turn = doubting(collector("level"))
    turn.voice(2000)
    assert turn.words("Senior.", covers_ms=2000, last_word_p=0.2) is Words.FINISHED
    assert first_done(turn, 2000, step_ms=10).silence_ms == 200  # the collector's minimum


def test_the_interview_doubts_only_a_short_last_word() -> None:
    # Whisper's guesses at a cut-off word are short ("end", "too", "it", "N"); a long last
    # word it is unsure of ("…on a queue." heard through a call) is not doubted
    turn = interview()
    turn.set_hints(ANSWER)
    turn.voice(2000)
    assert turn.words("So the cache sits in front of the database end.", covers_ms=2000,
                      last_word_p=0.37) is Words.UNFINISHED
    assert turn.words("My approach would be too.", covers_ms=2000,
                      last_word_p=0.48) is Words.UNFINISHED
    assert turn.words("I would put the slow work on a queue.", covers_ms=2000,
                      last_word_p=0.06) is Words.FINISHED
    # a short word misheard but not doubted much (0.53 through a call, for "queue")
    assert turn.words("I would put the slow work on a cube.", covers_ms=2000,
                      last_word_p=0.53) is Words.FINISHED
    assert turn.words("Yes, I would do it.", covers_ms=2000, last_word_p=0.95) is Words.FINISHED
    assert first_done(turn, 2000, step_ms=10).silence_ms == 250
    assert doubt_last_word(Words.FINISHED, 0.2, ANSWER, last_word="queue") is Words.FINISHED
    assert doubt_last_word(Words.FINISHED, 0.2, ANSWER, last_word="end") is Words.UNFINISHED


def test_a_closed_sentence_whose_rival_reading_goes_on_waits() -> None:
    # Whisper closed "So the cache sits in front of the database and" (then a thinking
    # pause) as a sentence, its beam also read it going on, nearly as likely
    turn = interview()
    turn.set_hints(ANSWER)
    turn.voice(2000)
    closed = "So the cache sits in front of the database."
    rivals = (("So the cache sits in front of the database", 0.98),
              ("So the cache sits in front of the database and", 0.97))
    assert turn.words(closed, covers_ms=2000, last_word_p=0.92, rivals=rivals) is (
        Words.UNFINISHED)
    for now in range(2000, 4500, 20):  # a 2.5 s thinking pause stays one turn
        assert turn.decide(now).verdict is Verdict.WAIT, now
    # a rival that differs only by its punctuation says nothing ("…the worst part...")
    done = "First I would measure where the time goes, then fix the worst part."
    assert turn.words(done, covers_ms=2000, rivals=(
        ("First I would measure where the time goes, then fix the worst part...", 0.82),
        ("First, I would measure where the time goes, then fix the worst part.", 0.92),
    )) is Words.FINISHED
    # nor one that stops early: it heard less than the reading chosen, not more
    assert turn.words("I would put the slow work on a queue.", covers_ms=2000, rivals=(
        ("I would put the slow work on a", 0.9),
    )) is Words.FINISHED
    # nor one much less likely than the reading chosen
    assert turn.words(closed, covers_ms=2000, rivals=(
        ("So the cache sits in front of the database and", RIVAL_SHARE - 0.01),
    )) is Words.FINISHED
    assert first_done(turn, 2000, step_ms=10).silence_ms == 250


def test_rival_readings_count_only_for_a_finished_interview_answer() -> None:
    going_on = (("Backend developer and", 0.95),)
    assert doubt_rivals(Words.UNKNOWN, "Backend", going_on, ANSWER) is Words.UNKNOWN
    assert doubt_rivals(Words.FINISHED, "Backend developer.", going_on, ANSWER) is (
        Words.UNFINISHED)
    # a value the collector's field accepts is taken whatever else the beam heard
    level = collector("level")
    assert doubt_rivals(Words.FINISHED, "Senior.", (("Senior and", 0.99),), level.hints) is (
        Words.FINISHED)
    # and the collector's policy does not read rivals at all
    assert level.policy.rival_share is None
    level.voice(2000)
    assert level.words("Senior.", covers_ms=2000, rivals=(("Senior and", 0.99),)) is (
        Words.FINISHED)
    # nor the interview's, without the setting
    plain = EndOfTurn(replace(interview().policy, rival_share=None))
    plain.set_hints(ANSWER)
    plain.voice(2000)
    assert plain.words("So the cache sits in front of the database.", covers_ms=2000,
                       rivals=(("So the cache sits in front of the database and", 0.97),)
                       ) is Words.FINISHED


def test_the_last_word_is_not_doubted_unless_the_policy_says_so() -> None:
    turn = EndOfTurn(replace(interview().policy, doubt_below=None))
    turn.voice(2000)
    assert turn.words("Mostly Python N.", covers_ms=2000, last_word_p=0.12) is Words.FINISHED
    assert first_done(turn, 2000, step_ms=10).silence_ms == 250


def doubting(turn: EndOfTurn) -> EndOfTurn:
    doubting = EndOfTurn(replace(turn.policy, doubt_below=DOUBTFUL_LAST_WORD))
    doubting.set_hints(turn.hints)
    return doubting


def test_stale_words_do_not_count() -> None:
    turn = interview()
    turn.voice(3000)
    turn.words("I would use a queue.", covers_ms=2500)  # made before the last word was said
    assert turn.current_words() is Words.UNKNOWN
    decision = first_done(turn, 3000)
    assert decision == Decision(Verdict.FINISHED, "no words to judge", 900)


def test_collector_value_is_taken_fast_and_nonsense_waits_longer() -> None:
    turn = collector("level")
    turn.voice(2000)
    turn.words("Senior.", covers_ms=2000)
    assert first_done(turn, 2000, step_ms=10).silence_ms == 200  # the interview waits 250
    other = collector("level")
    other.voice(2000)
    other.words("purple", covers_ms=2000)
    assert first_done(other, 2000).silence_ms == 600


def test_fixed_mode_ignores_the_words() -> None:
    turn = interview("fixed")
    turn.voice(1000)
    turn.words("I would put the slow work on a queue.", covers_ms=1000)
    assert first_done(turn, 1000) == Decision(Verdict.FINISHED, "fixed silence window", 1200)
    turn.reset()
    turn.voice(9000)
    turn.words("and then", covers_ms=9000)
    assert first_done(turn, 9000).silence_ms == 1200


def test_nothing_is_decided_before_speech() -> None:
    assert interview().decide(10_000).verdict is Verdict.WAIT


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        TurnPolicy(mode="eager")
    with pytest.raises(ValueError):
        TurnPolicy(min_silence_ms=1000, unknown_ms=500)


def test_a_transcript_on_its_way_is_waited_for_up_to_the_cap() -> None:
    turn = interview()
    turn.voice(1000)
    turn.expect_words(1000)
    assert turn.decide(2500) == Decision(Verdict.WAIT, "waiting for words", 1500)
    turn.no_words(1000)  # the recogniser failed: the silence decides
    assert turn.decide(2500).verdict is Verdict.FINISHED
    turn.reset()
    turn.voice(1000)
    turn.expect_words(1000)
    assert first_done(turn, 1000).verdict is Verdict.CAPPED


def test_a_pending_transcript_of_earlier_speech_is_not_waited_for() -> None:
    turn = interview()
    turn.voice(1000)
    turn.expect_words(1000)
    turn.voice(2000)  # the candidate went on
    assert first_done(turn, 2000).reason == "no words to judge"


def test_a_tech_list_gets_longer_to_go_on() -> None:
    turn = collector("techstack")
    turn.voice(1000)
    turn.words("java", covers_ms=1000)
    decision = first_done(turn, 1000)
    assert decision.verdict is Verdict.FINISHED and decision.silence_ms == 600


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mm-hm", True),
        ("Mm-hmm.", True),
        ("okay", True),
        ("Yeah, right.", True),
        ("got it", True),
        ("m m h m right", True),  # pocketsphinx's spelling of "Mm-hm, right."
        ("MMHN.", True),  # Whisper's spellings of a hum
        ("M&HM.", True),
        ("Mmmmm", True),
        ("Uh-huh.", True),
        ("Mm-hm, okay, right.", True),
        # a hum has no vowel, only m, n and h (one stray letter in four): any spelling
        ("M-H-N.", True),
        ("mm-huh", True),
        ("Hmm.", True),
        # with a hum in it, the lead-in Whisper writes before it says nothing
        ("And the MHCM.", True),
        ("in the m-h-m.", True),
        ("And then, hm.", True),
        ("Wow.", True),
        ("no", False),
        ("And the HTML.", False),  # not a hum's letters
        ("Hmm, what do you mean?", False),
        ("Mm, sorry.", False),
        ("", False),
        ("sorry, could you repeat that?", False),
        ("yeah but what about the cache", False),
    ],
)
def test_backchannels(text: str, expected: bool) -> None:
    assert is_backchannel(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mm-hm, okay, right.", False),
        ("Sorry,", False),  # a pause after the first word: wait for more
        ("Sorry, could you repeat that?", True),
        ("Yeah, yeah, okay, right.", True),  # four words: no longer a backchannel
    ],
)
def test_more_words_than_a_backchannel(text: str, expected: bool) -> None:
    assert too_many_for_a_backchannel(text) is expected


# Whisper's readings through Opus of Piper's "Mm-hm." over 0.7-0.8 s of voice, and of
# requests said over a reply (their confidence and voice as measured, 2026-11-30).
@pytest.mark.parametrize(
    ("text", "confidence", "voice_ms", "expected"),
    [
        ("And then make them.", 0.52, 760, True),
        ("and the may chant.", 0.56, 700, True),
        ("And then make 10.", 0.65, 700, True),
        ("and make them.", 0.43, 640, True),
        # the same words, but Whisper sure of them, or over more voice than a hum has
        ("And then make them.", 0.8, 760, False),
        ("And then make them.", 0.52, 1200, False),
        # requests: not opening on a lead-in, however unsure or short
        ("Hang on a second.", 0.43, 980, False),
        ("Wait, what do you mean?", 0.70, 880, False),
        ("Sorry?", 0.42, 380, False),
        ("What?", 0.28, 260, False),
        ("And what about the cash?", 0.70, 1180, False),
        # no confidence or no length known: only the words decide
        ("And then make them.", None, 760, False),
        ("And then make them.", 0.5, None, False),
    ],
)
def test_a_hum_written_as_words(
    text: str, confidence: float | None, voice_ms: int | None, expected: bool
) -> None:
    assert sounds_like_a_backchannel(text, confidence, voice_ms) is expected
    if len(text.split()) > 3:
        assert too_many_for_a_backchannel(text, confidence, voice_ms) is not expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sorry.", True),
        ("Sorry,", True),
        ("Wait.", True),
        ("Excuse me.", True),
        ("Hang on.", True),
        ("Um, sorry.", True),
        ("Sorry?", True),  # a request to repeat, or the opener of one
        ("Pardon?", True),
        ("Sorry, could you repeat that?", False),
        ("No.", False),
        ("", False),
    ],
)
def test_an_interruption_that_has_said_nothing_yet(text: str, expected: bool) -> None:
    assert only_an_opener(text) is expected


def test_an_opener_over_the_reply_waits_up_to_the_cap() -> None:
    # "Sorry." is a finished sentence as an answer; said over the assistant's reply it
    # opens an interruption ("Sorry, but what if the … whole service goes down?")
    over = interview()
    over.set_hints(ANSWER)
    over.over_reply = True
    over.voice(1000)
    assert over.words("Sorry.", covers_ms=1000) is Words.UNFINISHED
    decision = first_done(over, 1000)
    assert decision.verdict is Verdict.CAPPED
    # "Sorry?" may ask for the question again, or open "…could you repeat that?": it waits
    # as long as words that say nothing do, not the cap
    over.reset()
    over.over_reply = True
    over.voice(5000)
    assert over.words("Sorry?", covers_ms=5000) is Words.UNKNOWN
    decision = first_done(over, 5000)
    assert decision.verdict is Verdict.FINISHED
    assert decision.silence_ms == over.policy.unknown_ms
    # the same "Sorry." as an answer, not over a reply: finished
    answer = interview()
    answer.set_hints(ANSWER)
    answer.voice(1000)
    assert answer.words("Sorry.", covers_ms=1000) is Words.FINISHED
    # a new utterance starts as an answer again
    over.reset()
    assert over.over_reply is False


# -- the voice's own end -----------------------------------------------------------------


def test_noise_that_holds_the_vad_open_is_not_taken_for_the_voice() -> None:
    """Frames the VAD calls voiced count as voice only near the answer's loudest level."""
    end = VoiceEnd()
    assert end.end_or(400) == 400  # nothing judged yet: the VAD's end
    ms = 0
    for level in (3000.0, 4000.0, 2500.0, 400.0):  # speech, a softer last syllable (-20 dB)
        ms += 20
        end.heard(level, ms)
    assert end.end_ms == 80
    for _ in range(30):  # noise 34 dB below the loudest, which the VAD keeps calling voiced
        ms += 20
        end.heard(80.0, ms)
    assert end.end_ms == 80 and end.end_or(ms) == 80
    end.heard(90.0, ms)  # the VAD's end did not move: nothing new was voiced
    ms += 20
    end.heard(3500.0, ms)  # the voice again
    assert end.end_ms == ms
    end.reset()
    assert end.end_ms is None and end.end_or(1234) == 1234
