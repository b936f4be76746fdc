"""Turn-taking: does Viva wait out thinking pauses and take finished answers quickly?

An aiortc caller (this process, core 1; loopback only, no STUN) plays generated answers
(benchmarks/answers.py: complete, paused 1.5 s / 2.5 s after an unfinished phrase, short
with a 0.8 s pause; Piper joe at 0.9–1.2 and espeak-ng voices; a third with noise 25–35 dB
below the voice) into real interview calls of a server (core 0) running the offline
providers: pocketsphinx speech-to-text, the rule-based interviewer, Piper speech. The same
answers are played with VIVA_END_OF_TURN=fixed and =adaptive, one after the other.

Per answer, from the caller's clock (CLOCK_MONOTONIC, shared with the server):

* split: the server stored more than one answer from it (a turn taken and then taken
  back because the candidate went on before the reply was heard is merged, not split:
  it is counted apart, as "taken back");
* end of turn: the last voiced frame of the answer left the microphone → the server's
  "speech end" event arrived (includes ~80 ms of aiortc's inbound jitter buffer and the
  event's trip back);
* voice to voice: the same start → the first audible frame of the reply arrived.

It also times the decision itself (EndOfTurn.decide per 20 ms frame plus judge_words per
pause, in this process) as a share of one core per call.

Run: python -m benchmarks.turn_taking [--answers 15] [--modes fixed adaptive]
     [--held-out-share 1.0 --seed 11]  (answers in the held-out voice only)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp
import numpy as np

from benchmarks.answers import HELD_OUT, Spoken, answer_set
from benchmarks.common import RESULTS, ServerProcess, percentile, pin_to_core, report
from benchmarks.voice import (
    FRAME,
    RATE,
    VOICED_RMS,
    Answer,
    BenchCaller,
    OtherLoad,
    call_url,
    fmt,
    greeted,
    is_event,
    opus_packets,
    silence_packet,
    start_interview,
)
from voice.audio import resample_pcm
from voice.end_of_turn import EndOfTurn, TurnPolicy, judge_words
from voice.stt import SpeechHints

ANSWERS_PER_CALL = 12  # an interview has at most 30 questions; splits use some up
PATIENCE_S = 240  # a busy machine can take minutes over a reply; a stuck one fails the run
TIMELINE_SLACK_MS = 300  # how far the server's last voiced frame may be from the caller's


@dataclass
class Outcome:
    mode: str
    kind: str
    voice: str
    noise_db: float | None
    pause_s: float
    turns: int
    end_of_turn_ms: float | None
    voice_to_voice_ms: float | None
    heard: list[str]
    server_silence_ms: float | None = None  # audio time the server waited (its own clock)
    reason: str = ""
    taken_back: int = 0  # turns taken, then taken back when the candidate went on
    vad_silence_ms: float | None = None  # the same, from the VAD's last "voiced" frame

    @property
    def split(self) -> bool:
        return self.turns > 1


def packets(spoken: Spoken) -> Answer:
    pcm = resample_pcm(spoken.pcm, 16000, RATE)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    frames = samples[: len(samples) // FRAME * FRAME].reshape(-1, FRAME)
    level = np.sqrt((frames**2).mean(axis=1))
    # with noise, "voiced" means clearly above the noise floor of the edges
    floor = max(VOICED_RMS, 4 * float(np.median(level[:10])))
    loud = np.flatnonzero(level > floor)
    return Answer(tuple(opus_packets(pcm)), int(loud[-1]) + 1 if len(loud) else 0)


def onset_frames(spoken: Spoken) -> int:
    """20 ms frames from the start of the answer's audio to its first voiced frame."""
    samples = np.frombuffer(spoken.pcm, dtype="<i2").astype(np.float64)
    frame = 320  # 20 ms at 16 kHz
    level = np.sqrt((samples[: len(samples) // frame * frame].reshape(-1, frame) ** 2).mean(1))
    floor = max(VOICED_RMS, 4 * float(np.median(level[:10])))
    loud = np.flatnonzero(level > floor)
    return int(loud[0]) if len(loud) else 0


def past(caller: BenchCaller, event: dict[str, Any]) -> int:
    return next(i for i, e in enumerate(caller.events) if e is event) + 1


async def play(caller: BenchCaller, spoken: Spoken, answer: Answer, mode: str) -> Outcome:
    mark = len(caller.events)
    ends = len(caller.packet_mic.speech_ends)
    caller.packet_mic.say(answer)
    # PacketMic has no event for "sent"; it is polled at the frame rate
    while not caller.packet_mic.quiet or len(caller.packet_mic.speech_ends) <= ends:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    speech_end = caller.packet_mic.speech_ends[ends]
    # The answer is over when the server has ended a turn at its last voiced frame (on the
    # audio timeline, which a busy machine's lag does not shift) and replied to it.
    # The two timelines start apart (the first packets go out before the connection is
    # up): the server's onset of this answer against the caller's aligns them.
    start = await caller.wait_for(is_event("speech", event="start"), PATIENCE_S, after=mark)
    said_ms = caller.packet_mic.said_ms[-1] + onset_frames(spoken) * 20
    voiced_end_ms = caller.packet_mic.speech_end_ms[ends] + start["onset_ms"] - said_ms
    final = await caller.wait_for(
        lambda e: e["type"] == "speech"
        and e["event"] == "end"
        and e.get("voice_end_ms", 0) >= voiced_end_ms - TIMELINE_SLACK_MS,
        PATIENCE_S,
        after=mark,
    )
    after = past(caller, final)
    await caller.wait_for(
        lambda e: e["type"] in ("assistant_done", "error", "completed"), PATIENCE_S, after=after
    )
    await caller.wait_for(lambda e: e["type"] == "state" and e["state"] == "listening", PATIENCE_S,
                          after=after)
    heard = [e["text"] for e in caller.of_type("user_transcript", after=mark)]
    continued = caller.of_type("continued", after=mark)
    taken_back = len(continued)
    withdrawn = sum(1 for e in continued if e.get("taken_back"))  # lines shown, then withdrawn
    reply = caller.first_loud_after(speech_end)
    return Outcome(
        mode,
        spoken.kind,
        spoken.voice,
        spoken.noise_db,
        spoken.pause_s,
        len(heard) - withdrawn,
        (final["_at"] - speech_end) * 1000,
        (reply - speech_end) * 1000 if reply else None,
        heard,
        final.get("voice_silence_ms", final.get("silence_ms")),
        final.get("reason", ""),
        taken_back,
        final.get("silence_ms"),
    )


async def run_mode(mode: str, spoken: list[Spoken], encoded: list[Answer]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="viva-bench-turns-") as folder:
        env = {
            "VIVA_PROVIDERS": "offline",
            "VIVA_END_OF_TURN": mode,
            "VIVA_RTC_HOST_ADDRESSES": "127.0.0.1",
            "VIVA_DATA_DIR": folder,
            "DATABASE_URL": "",
        }
        log_path = RESULTS / f"turn_taking-{mode}-server.log"
        async with ServerProcess(env, log_path=log_path) as server, aiohttp.ClientSession() as http:
            with OtherLoad(server.pid) as other:
                for first in range(0, len(spoken), ANSWERS_PER_CALL):
                    chunk = slice(first, first + ANSWERS_PER_CALL)
                    outcomes += await one_call(
                        http, server.base, mode, spoken[chunk], encoded[chunk]
                    )
            print(f"  other load during {mode}: {other.share * 100:.0f} % of a core")
    return outcomes


async def one_call(
    http: aiohttp.ClientSession, base: str, mode: str, spoken: list[Spoken], encoded: list[Answer]
) -> list[Outcome]:
    user = f"bench-turns-{random.randrange(1 << 30)}"
    session = await start_interview(http, base, user, 30)
    caller = BenchCaller(http, call_url(base, session, user), silence_packet())
    outcomes: list[Outcome] = []
    try:
        await greeted(caller, PATIENCE_S)
        for said, answer in zip(spoken, encoded, strict=True):
            await asyncio.sleep(0.5)
            outcome = await play(caller, said, answer, mode)
            outcomes.append(outcome)
            print(
                f"  {mode:8} {outcome.kind:8} {outcome.voice:18} turns={outcome.turns} "
                f"taken back={outcome.taken_back} "
                f"eot={fmt(outcome.end_of_turn_ms)} ms (server waited "
                f"{fmt(outcome.server_silence_ms)} ms: {outcome.reason})  {outcome.heard}",
                flush=True,
            )
    finally:
        await caller.hang_up()
    return outcomes


def decision_cpu_share(seconds: float = 20.0) -> float:
    """CPU of the decision for one call, as a share of a core: 50 decide() calls per second
    of audio and a judge_words() per pause (one every 2 s)."""
    turn = EndOfTurn(TurnPolicy.for_conversation("interview", "adaptive", 1200))
    hints = SpeechHints(expected="answer", question="How would you design a rate limiter?")
    turn.set_hints(hints)
    frames = int(seconds * 50)
    start = time.process_time()
    for frame in range(frames):
        now = frame * 20
        if frame % 100 < 70:
            turn.voice(now + 20)
        if frame % 100 == 80:
            turn.words("so the cache sits in front of the database and", now - 200)
            judge_words("I would put the slow work on a queue.", hints)
        if turn.decide(now).done:
            turn.reset()
    return (time.process_time() - start) / seconds


def summary_rows(outcomes: list[Outcome], modes: list[str]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    groups: list[tuple[str, Any]] = [
        ("complete", lambda o: o.kind == "complete"),
        ("complete, quiet", lambda o: o.kind == "complete" and o.noise_db is None),
        ("complete, noise 25–35 dB", lambda o: o.kind == "complete" and o.noise_db is not None),
        ("paused 1.5 / 2.5 s", lambda o: o.kind == "paused"),
        ("short, 0.8 s pause", lambda o: o.kind == "short"),
        (f"held-out voice ({HELD_OUT})", lambda o: o.voice == HELD_OUT),
        ("all", lambda o: True),
    ]
    for mode in modes:
        for name, chosen in groups:
            group = [o for o in outcomes if o.mode == mode and chosen(o)]
            if not group:
                continue
            eot = [o.end_of_turn_ms for o in group if o.end_of_turn_ms is not None]
            v2v = [o.voice_to_voice_ms for o in group if o.voice_to_voice_ms is not None]
            waited = [o.server_silence_ms for o in group if o.server_silence_ms is not None]
            splits = sum(o.split for o in group)
            taken_back = sum(o.taken_back > 0 for o in group)
            rows.append(
                [
                    mode,
                    name,
                    len(group),
                    f"{splits} ({splits / len(group) * 100:.0f} %)",
                    taken_back,
                    fmt(percentile(eot, 50)),
                    fmt(percentile(eot, 90)),
                    f"{fmt(percentile(waited, 50))} / {fmt(percentile(waited, 90))}",
                    fmt(percentile(v2v, 50)),
                ]
            )
    return rows


async def run(args: argparse.Namespace) -> None:
    pin_to_core(1)
    random.seed(3)
    print("generating answers…", flush=True)
    spoken = answer_set(args.answers, seed=args.seed, held_out_share=args.held_out_share)
    encoded = [packets(s) for s in spoken]
    outcomes: list[Outcome] = []
    for mode in args.modes:
        outcomes += await run_mode(mode, spoken, encoded)
    cpu = decision_cpu_share()
    print(
        "\nTurn-taking, offline providers (pocketsphinx, rule-based interviewer, Piper); "
        "end of turn = caller's last voiced frame → server's end of turn\n"
    )
    report(
        "turn_taking" if args.held_out_share < 1 else "turn_taking-held_out",
        [
            "mode",
            "answers",
            "n",
            "split",
            "taken back",
            "end of turn p50 ms",
            "p90 ms",
            "server's wait from the voice's end p50 / p90 ms",
            "voice to voice p50 ms",
        ],
        summary_rows(outcomes, args.modes),
        {
            "decision_cpu_share": cpu,
            "answers": [
                {k: v for k, v in asdict(s).items() if k != "pcm"} for s in spoken
            ],
            "outcomes": [asdict(o) for o in outcomes],
        },
    )
    print(f"\nthe decision itself: {cpu * 100:.3f} % of a core per call")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--answers", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--held-out-share", type=float, default=0.25,
        help="share of answers in the held-out voice (1.0: a held-out-only run)",
    )
    parser.add_argument(
        "--modes", nargs="+", choices=("fixed", "adaptive"), default=["fixed", "adaptive"]
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
