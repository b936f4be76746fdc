"""Turn-taking in real calls: aiortc callers on loopback, real speech, the real app.

The adaptive end of turn (the default) on the cases it exists for: a thinking pause after
"and then" is waited out, a finished answer is taken on its words, and speech over the
assistant that is a backchannel or a noise does not stop the reply for good. Assertions
are on the order of events and on what is stored, never on times.
"""

from __future__ import annotations

import asyncio
import io
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp.test_utils import TestClient

from server import create_app
from settings import Settings
from tests.conftest import MakeClient, user
from tests.fake_openai import (
    CHAT,
    SPEECH,
    TRANSCRIPTIONS,
    FakeOpenAI,
    Received,
    Reply,
    default_speech,
)
from tests.rtc_peer import Caller
from tests.speech_samples import plain, speak
from tests.test_call import (
    _voiced,
    call_path,
    interview_session,
    next_reply,
    past,
    rows,
    with_pause,
)
from voice.audio import TARGET_RATE, Pcm
from voice.end_of_turn import is_backchannel


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        providers="offline",
        tts_enabled=True,
        rtc_host_addresses=("127.0.0.1",),
        end_of_turn="adaptive",
    )


@pytest.fixture
async def client(aiohttp_client: MakeClient, settings: Settings) -> TestClient:
    return await aiohttp_client(create_app(settings))


def cough(seconds: float = 0.5, seed: int = 1) -> Pcm:
    """A cough-like burst: low-passed noise, sharp attack, fast decay, loud; no words."""
    rng = np.random.default_rng(seed)
    count = int(seconds * TARGET_RATE)
    noise = np.convolve(rng.normal(0.0, 1.0, count), np.ones(6) / 6, mode="same")
    ramp = np.arange(count)
    envelope = np.minimum(1.0, ramp / (0.02 * TARGET_RATE)) * np.exp(-ramp / (0.25 * TARGET_RATE))
    burst = noise * envelope
    burst *= 4000 / float(np.sqrt(np.mean(burst**2)))
    edge = np.zeros(int(0.2 * TARGET_RATE))
    samples = np.clip(np.concatenate([edge, burst, edge]), -32768, 32767).astype("<i2")
    return Pcm(samples.tobytes(), TARGET_RATE)


async def answered(client: TestClient) -> tuple[str, str, Caller]:
    """An interview call whose opening prompt has been spoken: (owner, session, caller)."""
    owner = user()
    session_id, _questions = await interview_session(client, owner, "two questions")
    caller = Caller(client, call_path("interview", session_id, owner))
    await caller.connect()
    await next_reply(caller, 0)
    await caller.wait_for(lambda e: e["type"] == "state" and e["state"] == "listening")
    return owner, session_id, caller


async def reply_playing(caller: Caller) -> dict[str, Any]:
    """Answer, and return once the reply has played for 0.6 s: its first `assistant_text`."""
    mark = len(caller.events)
    caller.mic.say(speak("I would put the slow work on a queue."), then_silence_s=0.5)
    start = await caller.wait_for(lambda e: e["type"] == "assistant_text", after=mark)
    await asyncio.sleep(0.6)
    return start


async def test_a_thinking_pause_is_waited_out_and_a_finished_answer_taken_on_its_words(
    client: TestClient,
) -> None:
    owner, session_id, caller = await answered(client)
    paused = with_pause(
        "First I would put a queue in front and then", "add more workers when it grows.", 2.5
    )
    try:
        # 1. A 2.5 s thinking pause after "and then": one turn.
        mark = len(caller.events)
        caller.mic.say(paused, then_silence_s=1.0)
        first = await next_reply(caller, mark)
        speech = caller.of_type("speech", after=mark)
        assert [e["event"] for e in speech] == ["start", "end"]
        heard = caller.of_type("user_transcript", after=mark)
        assert len(heard) == 1
        # while it waited, the page was told the answer sounded unfinished, then that it was over
        pauses = [e["unfinished"] for e in caller.of_type("pause", after=mark)]
        assert pauses[:1] == [True] and pauses[-1] is False
        assert [t["question_index"] for t in caller.of_type("turn", after=mark)] == [1]
        await caller.wait_for(lambda e: e["type"] == "state" and e["state"] == "listening",
                              after=past(caller, first.done) - 1)

        # 2. A finished sentence: taken on its words, in this order.
        mark = len(caller.events)
        caller.mic.say(speak("I would put the slow work on a queue."), then_silence_s=1.0)
        last = await next_reply(caller, mark)
        order = [
            e["type"] if e["type"] != "speech" else f"speech {e['event']}"
            for e in caller.events[mark : past(caller, last.done)]
            if e["type"] in ("speech", "user_transcript", "turn", "assistant_done")
        ]
        assert order == ["speech start", "speech end", "user_transcript", "turn", "assistant_done"]
        end = caller.of_type("speech", after=mark)[1]
        assert end["reason"] == "words: finished"  # not the cap, not a silence window
        second = caller.of_type("user_transcript", after=mark)[0]["text"]
    finally:
        await caller.hang_up()
    items = await rows(client, "interview", session_id, owner)
    answers = [i["message"] for i in items if i["speaker"] == "user"]
    assert answers == [heard[0]["text"], second]  # one stored answer per question
    words = plain(heard[0]["text"]).split()
    assert "then" in words and len(words) > 9  # both halves


async def test_a_backchannel_and_a_cough_do_not_stop_the_reply(client: TestClient) -> None:
    owner, session_id, caller = await answered(client)
    try:
        mark = len(caller.events)
        start = await reply_playing(caller)
        # "Yeah, okay." lasts about a second: long enough to hold playback, then resume it
        during = len(caller.events)
        caller.mic.say(speak("Yeah, okay."), then_silence_s=0.3)
        backchannel = await caller.wait_for(
            lambda e: e["type"] == "playback" and e["state"] == "resumed", after=during
        )
        await asyncio.sleep(0.4)
        caller.mic.say(cough(), then_silence_s=0.3)
        noise = await caller.wait_for(
            lambda e: e["type"] == "playback" and e["state"] == "resumed",
            after=past(caller, backchannel),
        )
        reply = await next_reply(caller, past(caller, start) - 1)
        assert not reply.done["interrupted"]
        assert reply.done["text"] == reply.text
        # each burst holds playback and resumes it (a burst's tail may hold it once more)
        playback = [e["state"] for e in caller.of_type("playback", after=during)]
        assert len(playback) >= 4 and playback == ["held", "resumed"] * (len(playback) // 2)
        # no words in a cough (heard as a reaction, tiny.en may write "Uh-huh." for it)
        assert noise["heard"] == "" or is_backchannel(noise["heard"])
        # the reply went on after the burst: audible frames arrived after "resumed"
        assert caller.speech_frames(noise["_at"], reply.done["_at"] + 0.4) > 0.3
        assert not caller.of_type("barge_in", after=mark)
        assert len(caller.of_type("user_transcript", after=mark)) == 1
    finally:
        await caller.hang_up()
    items = await rows(client, "interview", session_id, owner)
    assert [i["speaker"] for i in items] == ["assistant", "user", "assistant"]
    assert items[2]["message"] == reply.text


async def test_a_noise_too_short_to_be_an_utterance_resumes_the_reply(client: TestClient) -> None:
    # A burst long enough to hold playback, too short for an utterance (the VAD discards
    # it): it used to leave the reply held for good.
    owner, session_id, caller = await answered(client)
    try:
        mark = len(caller.events)
        start = await reply_playing(caller)
        during = len(caller.events)
        caller.mic.say(cough(0.15), then_silence_s=0.3)
        resumed = await caller.wait_for(
            lambda e: e["type"] == "playback" and e["state"] == "resumed", after=during
        )
        reply = await next_reply(caller, past(caller, start) - 1)
        assert not reply.done["interrupted"]
        assert [e["state"] for e in caller.of_type("playback", after=during)] == [
            "held",
            "resumed",
        ]
        speech = [e["event"] for e in caller.of_type("speech", after=during)]
        assert speech == ["start"]  # no utterance came of it
        assert resumed["heard"] == "" or is_backchannel(resumed["heard"])
        assert caller.speech_frames(resumed["_at"], reply.done["_at"] + 0.4) > 0.3
        assert not caller.of_type("barge_in", after=mark)
    finally:
        await caller.hang_up()
    items = await rows(client, "interview", session_id, owner)
    assert [i["speaker"] for i in items] == ["assistant", "user", "assistant"]


FIRST, SECOND = "Sorry, but what if the", "whole service goes down?"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (FIRST, SECOND),  # unfinished words: more than a backchannel, they stop the reply
        ("Sorry.", "What if the whole service goes down?"),  # a lone opener, a finished sentence
    ],
)
async def test_an_interruption_with_a_pause_in_it_stops_the_reply_and_is_one_answer(
    client: TestClient, first: str, second: str
) -> None:
    # The speech holding playback is transcribed at its pauses: more words than a
    # backchannel stop the reply. Its first words alone ("Sorry.") are an interruption that
    # has not said what it wants yet: they wait out the 2 s pause, up to the cap, so the
    # whole interruption is one answer (on a quiet machine, until 2026-11-30, "Sorry." was
    # taken at 250 ms of silence and stored alone).
    owner, session_id, caller = await answered(client)
    # the first half quick enough (~1.1 s) not to be cut as too long for a backchannel
    edge, gap = np.zeros(int(0.3 * TARGET_RATE)), np.zeros(int(2.0 * TARGET_RATE))
    halves = [_voiced(speak(t, length_scale=s)) for t, s in ((first, 0.8), (second, 1.0))]
    interruption = Pcm(
        np.concatenate([edge, halves[0], gap, halves[1], edge]).astype("<i2").tobytes(),
        TARGET_RATE,
    )
    try:
        await reply_playing(caller)
        during = len(caller.events)
        caller.mic.say(interruption, then_silence_s=1.0)
        onset = await caller.wait_for(lambda e: e["type"] == "speech", after=during)
        # (the answer before it is stored, its `turn` sent, once its reply is heard)
        during = past(caller, onset) - 1
        barge = await caller.wait_for(lambda e: e["type"] == "barge_in", after=during)
        turn = await caller.wait_for(lambda e: e["type"] == "turn", after=past(caller, barge))
        done = await caller.wait_for(
            lambda e: e["type"] == "assistant_done", after=past(caller, turn)
        )
        order = [
            f"speech {e['event']}" if e["type"] == "speech" else e["type"]
            for e in caller.events[during : past(caller, done)]
            if e["type"] in ("speech", "barge_in", "user_transcript", "turn")
        ]
        # stopped by the words, before the answer was taken; whatever was shown of the
        # first half alone was taken back (`continued`) before its reply was heard
        assert order[0] == "speech start" and "barge_in" in order[:3], order
        assert order.index("barge_in") < order.index("user_transcript"), order
        last_shown = len(order) - 1 - order[::-1].index("user_transcript")
        assert "turn" in order[last_shown:], order  # the answer is stored once, after it
        assert not [e for e in order[last_shown:] if e.startswith("speech")], order
        assert caller.of_type("playback", after=during)[0]["state"] == "held"
        shown = caller.of_type("user_transcript", after=during)
        taken_back = caller.of_type("continued", after=during)
        assert len(shown) == 1 + len(taken_back), (shown, taken_back)
    finally:
        await caller.hang_up()
    last = plain(shown[-1]["text"]).split()
    assert "sorry" in last and ("down" in last or "service" in last), last
    items = await rows(client, "interview", session_id, owner)
    stored = [plain(i["message"]) for i in items if i["speaker"] == "user"][1:]
    assert len(stored) == 1, stored  # one answer, both halves
    assert stored[0].split() == last


# -- an answer that goes on after the turn was taken ---------------------------------------

FIRST_HALF = "I would put the slow work on a queue."
SECOND_HALF = "And retry it later with a backoff."
BOTH_HALVES = "I would put the slow work on a queue and retry it later with a backoff."


def seconds_of(upload: object) -> float:
    """How long the WAV the server sent for transcription is."""
    assert isinstance(upload, bytes)
    with wave.open(io.BytesIO(upload)) as wav:
        return wav.getnframes() / wav.getframerate()


async def test_an_answer_continued_before_the_reply_is_heard_is_one_answer(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    """The candidate goes on after the turn was taken, while its reply is still being
    written (the model is slow to start): the reply is cancelled unheard, and both halves
    are stored as one answer, the session moving on once. The speech providers are the
    fake OpenAI ones here (the only thing faked): its transcription answers by how long
    the audio is, so the stored words say which audio was transcribed; its chat is slow
    for the first reply only, which gives the candidate time to go on; its speech takes
    a second over the second sentence of the reply, a gap the stored timings must count.
    """
    setup = await aiohttp_client(create_app(settings))  # offline: the interview is set up
    owner = user()
    session_id, questions = await interview_session(setup, owner, "two questions")
    await setup.close()
    first, second = speak(FIRST_HALF), speak(SECOND_HALF)
    first_s = len(first.data) / 2 / first.sample_rate

    def transcribe(request: Received) -> Reply:
        long = seconds_of(request.form.get("file")) > first_s + 0.5
        return Reply(json={"text": BOTH_HALVES if long else FIRST_HALF})

    def synthesize(request: Received) -> Reply:
        reply = default_speech(request)  # half a second of tone
        text = str((request.json or {}).get("input", ""))
        return Reply(chunks=reply.chunks, content_type=reply.content_type,
                     delay=1.0 if text.startswith("Next question") else None)  # fmt: skip

    async with FakeOpenAI() as fake:
        fake.set_default(TRANSCRIPTIONS, transcribe)
        fake.set_default(SPEECH, synthesize)
        fake.script(CHAT, Reply.stream(["Thank you, ", "that is clear."], delay=5.0))
        openai = settings.replace(
            providers="openai", openai_api_key="test-key", openai_base_url=fake.base_url
        )
        client = await aiohttp_client(create_app(openai))
        caller = Caller(client, call_path("interview", session_id, owner))
        try:
            await caller.connect()
            await next_reply(caller, 0)
            await caller.wait_for(lambda e: e["type"] == "state" and e["state"] == "listening")
            mark = len(caller.events)
            caller.mic.say(first)
            taken = await caller.wait_for(lambda e: e["type"] == "user_transcript", after=mark)
            caller.mic.say(second, then_silence_s=1.0)  # while the model is still thinking
            continued = await caller.wait_for(lambda e: e["type"] == "continued", after=mark)
            reply = await next_reply(caller, past(caller, continued))
            turns = caller.of_type("turn", after=mark)
            heard = [e["text"] for e in caller.of_type("user_transcript", after=mark)]
            assert continued["taken_back"] == taken["text"] == FIRST_HALF
            order = [e["type"] for e in caller.events[mark:] if e["type"] in
                     ("user_transcript", "continued", "turn", "assistant_done")]  # fmt: skip
            assert order == ["user_transcript", "continued", "user_transcript", "turn",
                             "assistant_done"]  # fmt: skip
            assert heard == [FIRST_HALF, BOTH_HALVES]
            assert [t["question_index"] for t in turns] == [1]  # moved on once
            assert not reply.done["interrupted"]
            assert questions[1] in reply.text
            # the cancelled reply never reached the candidate's ears
            assert not [e for e in caller.events[mark : past(caller, continued)]
                        if e["type"] == "assistant_text"]  # fmt: skip
        finally:
            await caller.hang_up()
        uploads = [seconds_of(r.form.get("file")) for r in fake.requests_to(TRANSCRIPTIONS)]
        # one recording of both halves: the first half's, and all of the second's voice
        voiced = [len(_voiced(half)) / half.sample_rate for half in (first, second)]
        assert max(uploads) >= min(uploads) + voiced[1]
        assert len(fake.requests_to(CHAT)) == 2  # the first reply was cancelled
    items = await rows(client, "interview", session_id, owner)
    assert [(i["speaker"], i["message"]) for i in items[1:]] == [
        ("user", BOTH_HALVES),
        ("assistant", reply.text),
    ]
    delivery = items[1]["delivery"]
    assert delivery["answer_seconds"] >= sum(voiced)  # both halves and the pause between
    timings = items[2]["timings"]
    # the second sentence's speech came a second late: the candidate heard a gap
    assert timings["playout_gaps"] >= 1 and timings["playout_stalled_ms"] > 0
    assert timings["playout_longest_gap_ms"] <= timings["playout_stalled_ms"]
    # the end of turn counts from the voice's end, which is not after the VAD's; with the
    # words in early the turn can be taken while the VAD still hears the voice's soft tail
    assert timings["end_of_speech"] == 0 <= timings["vad_end_of_speech"] <= timings["end_of_turn"]


def with_noise_after(pcm: Pcm, db_below: float, seconds: float, seed: int = 3) -> Pcm:
    """`pcm`, then `seconds` more, with steady white noise `db_below` the voice throughout."""
    voice = np.frombuffer(pcm.data, dtype="<i2").astype(np.float64)
    loud = voice[np.abs(voice) > 300]
    level = float(np.sqrt(np.mean(loud**2))) / 10 ** (db_below / 20)
    signal = np.concatenate([voice, np.zeros(int(seconds * TARGET_RATE))])
    signal += np.random.default_rng(seed).normal(0.0, level, len(signal))
    return Pcm(np.clip(np.round(signal), -32768, 32767).astype("<i2").tobytes(), TARGET_RATE)


async def test_background_noise_does_not_hold_a_finished_answer_open(
    client: TestClient,
) -> None:
    """Steady noise 30 dB below the voice, going on after the answer: the turn is taken on
    the answer's words, counted from the voice's end, not at the silence cap."""
    owner, session_id, caller = await answered(client)
    try:
        mark = len(caller.events)
        noisy = with_noise_after(speak("I would put the slow work on a queue."), 25, 4.0)
        caller.mic.say(noisy)
        reply = await next_reply(caller, mark)
        (end,) = [e for e in caller.of_type("speech", after=mark) if e["event"] == "end"]
        print(f"\nnoisy answer: {end}")
        assert end["reason"] == "words: finished"
        assert end["voice_silence_ms"] >= end["silence_ms"]
    finally:
        await caller.hang_up()
    items = await rows(client, "interview", session_id, owner)
    assert [i["speaker"] for i in items] == ["assistant", "user", "assistant"]
    assert items[2]["message"] == reply.text
    timings = items[2]["timings"]
    assert timings["end_of_speech"] == 0 <= timings["vad_end_of_speech"] < timings["end_of_turn"]
