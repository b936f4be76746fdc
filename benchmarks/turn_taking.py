"""Turn-taking: does Viva wait out thinking pauses and take finished answers quickly?

An aiortc caller (this process, core 1; loopback only, no STUN) plays generated speech
(benchmarks/answers.py) into real calls of a server (core 0) running the offline
providers: Whisper tiny.en speech-to-text, the rule-based interviewer, Piper speech. The
same speech is played in each mode, one mode after the other (`--modes fixed adaptive`;
`adaptive:200` is the adaptive mode with the words asked for after 200 ms of silence,
VIVA_WORDS_AT_MS, to compare).

Sections (`--sections`):

* interview: complete answers (in pairs: quiet, and the same with noise 25-35 dB below
  the voice), answers with a 1.5 s or 2.5 s thinking pause after an unfinished phrase,
  short answers with a 0.8 s pause;
* collector: collector calls given their values ("Yes, I'm ready.", "Senior.", "Ten.");
* overlap: while a reply plays, a backchannel ("Mm-hm.", "Okay.", "Right.", "Yeah.") or
  an interruption ("Sorry, could you repeat that?").

Per answer, from the caller's clock (CLOCK_MONOTONIC, shared with the server):

* split: the server stored more than one answer from it (a turn taken and then taken
  back because the candidate went on before the reply was heard is merged, not split:
  it is counted apart, as "taken back");
* end of turn: the last voiced frame of the answer left the microphone → the server's
  "speech end" event arrived (includes ~80 ms of aiortc's inbound jitter buffer and the
  event's trip back);
* voice to voice: the same start → the first audible frame of the reply arrived;
* overlaps (benchmarks/turn_cases.py): held, cut (barge-in), and for interruptions the
  time from their first voiced frame to the reply going quiet at the caller.

It also reads the server's speculative transcripts (started, used) and its CPU per
interview answer, and times the decision itself (EndOfTurn.decide per 20 ms frame plus
judge_words per pause, in this process) as a share of one core per call.

Run: python -m benchmarks.turn_taking [--complete 12 --paused 24 --short 4]
     [--modes fixed adaptive] [--held-out]  (the held-out voice and phrasings only)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.answers import (
    BACKCHANNELS,
    COLLECTOR_VALUES,
    COMPLETE,
    HELD_OUT,
    INTERRUPTIONS,
    TUNING_VOICES,
    VALUE_FIELDS,
    Spoken,
    espeak_available,
    planned_set,
    spoken_value,
)
from benchmarks.common import (
    METRICS_AUTH,
    RESULTS,
    ServerProcess,
    cpu_seconds,
    percentile,
    pin_to_core,
    report,
)
from benchmarks.turn_cases import PATIENCE_S, Outcome, answer, overlap, packets, settled
from benchmarks.voice import (
    Answer,
    BenchCaller,
    OtherLoad,
    call_url,
    fmt,
    greeted,
    silence_packet,
    start_interview,
)
from voice.end_of_turn import EndOfTurn, TurnPolicy, judge_words
from voice.stt import SpeechHints

OVERLAP_KINDS = ("backchannel", "interruption")
ANSWERS_PER_CALL = 12  # an interview has at most 30 questions; splits use some up
Said = tuple[Spoken, Answer]


def encode(spoken: Sequence[Spoken]) -> list[Said]:
    return [(s, packets(s)) for s in spoken]


def mode_env(mode: str) -> dict[str, str]:
    """`fixed`, `adaptive`, or `adaptive:<words_at_ms>`."""
    name, _, words_at = mode.partition(":")
    env = {"VIVA_END_OF_TURN": name}
    if words_at:
        env["VIVA_WORDS_AT_MS"] = words_at
    return env


async def speculative(http: aiohttp.ClientSession, base: str) -> dict[str, float]:
    """The server's viva_speculative_transcripts_total, by outcome."""
    async with http.get(f"{base}/metrics", headers=METRICS_AUTH) as response:
        text = await response.text()
    counts: dict[str, float] = {}
    for outcome, value in re.findall(
        r'^viva_speculative_transcripts_total\{[^}]*outcome="(\w+)"[^}]*\} (\S+)$', text, re.M
    ):
        counts[outcome] = counts.get(outcome, 0.0) + float(value)
    return counts


async def run_mode(
    mode: str,
    sets: dict[str, Any],
    extra: dict[str, str],
    name: str = "turn_taking",
    server_tree: Path | None = None,
) -> tuple[list[Outcome], dict[str, Any]]:
    outcomes: list[Outcome] = []
    costs: dict[str, Any] = {"mode": mode}
    with tempfile.TemporaryDirectory(prefix="viva-bench-turns-") as folder:
        env = {
            "VIVA_PROVIDERS": "offline",
            "VIVA_RTC_HOST_ADDRESSES": "127.0.0.1",
            "VIVA_DATA_DIR": folder,
            "DATABASE_URL": "",
            **mode_env(mode),
            **extra,
        }
        log_path = RESULTS / f"{name}-{mode.replace(':', '-')}-server.log"
        server_process = ServerProcess(env, log_path=log_path, cwd=server_tree)
        async with server_process as server, aiohttp.ClientSession() as http:
            with OtherLoad(server.pid) as other:
                interview: list[Said] = sets["interview"]
                cpu = cpu_seconds(server.pid)
                for first in range(0, len(interview), ANSWERS_PER_CALL):
                    chunk = interview[first : first + ANSWERS_PER_CALL]
                    outcomes += await interview_call(http, server.base, mode, chunk)
                if interview:
                    costs["cpu_s_per_answer"] = (cpu_seconds(server.pid) - cpu) / len(interview)
                    costs["speculative"] = await speculative(http, server.base)
                    costs["answers"] = len(interview)
                for values in sets["collector"]:
                    outcomes += await collector_call(http, server.base, mode, values)
                overlaps: list[tuple[Said, Said]] = sets["overlap"]
                for first in range(0, len(overlaps), ANSWERS_PER_CALL):
                    chunk_overlaps = overlaps[first : first + ANSWERS_PER_CALL]
                    outcomes += await overlap_call(http, server.base, mode, chunk_overlaps)
            costs["other_load"] = other.share
            print(f"  other load during {mode}: {other.share * 100:.0f} % of a core")
    return outcomes, costs


def show(outcome: Outcome) -> None:
    extra = ""
    if outcome.kind in ("backchannel", "interruption"):
        extra = (f"held={outcome.held} cut={outcome.barged_in} "
                 f"{'HELD FOR GOOD ' if outcome.held_for_good else ''}"
                 f"stop heard={fmt(outcome.stop_heard_ms)} ms ")
    print(
        f"  {outcome.mode:12} {outcome.kind:16} {outcome.voice:18} turns={outcome.turns} "
        f"taken back={outcome.taken_back} {extra}"
        f"eot={fmt(outcome.end_of_turn_ms)} ms (server waited "
        f"{fmt(outcome.server_silence_ms)} ms: {outcome.reason})  {outcome.heard}",
        flush=True,
    )


async def interview_call(
    http: aiohttp.ClientSession, base: str, mode: str, said: list[Said]
) -> list[Outcome]:
    user = f"bench-turns-{random.randrange(1 << 30)}"
    session = await start_interview(http, base, user, 30)
    caller = BenchCaller(http, call_url(base, session, user), silence_packet())
    outcomes: list[Outcome] = []
    try:
        await greeted(caller, PATIENCE_S)
        for spoken, encoded in said:
            await asyncio.sleep(0.5)
            outcome = await answer(caller, spoken, encoded, mode)
            outcomes.append(outcome)
            show(outcome)
    finally:
        await caller.hang_up()
    return outcomes


async def collector_call(
    http: aiohttp.ClientSession, base: str, mode: str, values: dict[str, Said]
) -> list[Outcome]:
    """One collector, given the value of whichever field it asks for (and "Yes." when it
    asks to confirm one it heard), until it completes."""
    user = f"bench-turns-{random.randrange(1 << 30)}"
    async with http.post(f"{base}/api/collector/start", json={"user_id": user}) as response:
        session = (await response.json())["collector_session_id"]
    url = f"{base.replace('http', 'ws', 1)}/api/collector/sessions/{session}/call?user_id={user}"
    caller = BenchCaller(http, url, silence_packet())
    outcomes: list[Outcome] = []
    try:
        await greeted(caller, PATIENCE_S)
        expected, asked = "readiness", ""
        for _ in range(2 * len(values)):
            said = values["confirmation" if asked.startswith("I heard") else expected]
            await asyncio.sleep(0.5)
            outcome = await answer(caller, *said, mode)
            outcomes.append(outcome)
            show(outcome)
            if caller.of_type("completed"):
                break
            turns = caller.of_type("turn")
            expected = (turns[-1].get("expected_field") if turns else None) or expected
            done = caller.of_type("assistant_done")
            asked = done[-1]["text"] if done else ""
    finally:
        await caller.hang_up()
    return outcomes


async def overlap_call(
    http: aiohttp.ClientSession, base: str, mode: str, overlaps: list[tuple[Said, Said]]
) -> list[Outcome]:
    user = f"bench-turns-{random.randrange(1 << 30)}"
    session = await start_interview(http, base, user, 30)
    caller = BenchCaller(http, call_url(base, session, user), silence_packet())
    outcomes: list[Outcome] = []
    try:
        await greeted(caller, PATIENCE_S)
        for index, (trigger, over) in enumerate(overlaps):
            await asyncio.sleep(0.5)
            outcome = await overlap(caller, trigger, over, mode)
            outcomes.append(outcome)
            show(outcome)
            if outcome.held_for_good:  # this call is stuck: the rest in a new one
                await caller.hang_up()
                return outcomes + await overlap_call(http, base, mode, overlaps[index + 1 :])
            await settled(caller)
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


TURN_GROUPS: list[tuple[str, Callable[[Outcome], bool]]] = [
    ("complete", lambda o: o.kind == "complete"),
    ("complete, quiet", lambda o: o.kind == "complete" and o.noise_db is None),
    ("complete, noise 25–35 dB", lambda o: o.kind == "complete" and o.noise_db is not None),
    ("paused 1.5 s", lambda o: o.kind == "paused" and o.pause_s == 1.5),
    ("paused 2.5 s", lambda o: o.kind == "paused" and o.pause_s == 2.5),
    ("paused, all", lambda o: o.kind == "paused"),
    ("short, 0.8 s pause", lambda o: o.kind == "short"),
    ("collector values", lambda o: o.kind.removeprefix("value:") in VALUE_FIELDS),
    ("collector role, stack", lambda o: o.kind in ("value:role", "value:techstack")),
]


def turn_rows(outcomes: list[Outcome], modes: list[str]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for mode in modes:
        for name, chosen in TURN_GROUPS:
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
        shift = noise_shift(outcomes, mode)
        if shift:
            rows.append([mode, "noise − quiet, same answer (paired)", len(shift), "", "",
                         fmt(percentile(shift, 50)), fmt(percentile(shift, 90)), "", ""])
    return rows


def noise_shift(outcomes: list[Outcome], mode: str) -> list[float]:
    """End of turn with noise minus without, for each complete answer played both ways."""
    quiet = {(o.voice, o.text): o for o in outcomes
             if o.mode == mode and o.kind == "complete" and o.noise_db is None}
    return [
        o.end_of_turn_ms - quiet[(o.voice, o.text)].end_of_turn_ms  # type: ignore[operator]
        for o in outcomes
        if o.mode == mode and o.kind == "complete" and o.noise_db is not None
        and (o.voice, o.text) in quiet and o.end_of_turn_ms is not None
        and quiet[(o.voice, o.text)].end_of_turn_ms is not None
    ]


def overlap_rows(outcomes: list[Outcome], modes: list[str]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for mode in modes:
        backchannels = [o for o in outcomes if o.mode == mode and o.kind == "backchannel"]
        if backchannels:
            cut = sum(o.barged_in for o in backchannels)
            share = f"{cut} ({cut / len(backchannels) * 100:.0f} %)"
            held = sum(o.held for o in backchannels)
            stuck = sum(o.held_for_good for o in backchannels)
            rows.append([mode, "backchannel", len(backchannels), held, share, stuck, "", "", ""])
        stops = [o for o in outcomes if o.mode == mode and o.kind == "interruption"]
        if stops:
            cut = sum(o.barged_in for o in stops)
            heard = [o.stop_heard_ms for o in stops if o.barged_in and o.stop_heard_ms is not None]
            event = [o.stop_event_ms for o in stops if o.stop_event_ms is not None]
            within = sum(1 for o in stops if o.barged_in and (o.stop_heard_ms or 1e9) <= 400)
            rows.append([mode, "interruption", len(stops), sum(o.held for o in stops),
                         f"{cut} ({cut / len(stops) * 100:.0f} %)",
                         sum(o.held_for_good for o in stops),
                         f"{within} ({within / len(stops) * 100:.0f} %)",
                         f"{fmt(percentile(heard, 50))} / {fmt(percentile(heard, 90))}",
                         fmt(percentile(event, 50))])
    return rows


def build_sets(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    voices = [v for v in TUNING_VOICES if v.startswith("piper") or espeak_available()]
    if args.held_out and espeak_available():
        voices = [HELD_OUT]
    sets: dict[str, Any] = {"interview": [], "collector": [], "overlap": []}
    if "interview" in args.sections:
        sets["interview"] = encode(
            planned_set(args.complete, args.paused, args.short, args.seed, args.held_out)
        )
    if "collector" in args.sections:
        for number in range(args.collectors):
            voice = voices[number % len(voices)]
            said = encode([
                spoken_value(f"value:{name}", text, voice, args.seed + number)
                for name, text in COLLECTOR_VALUES
            ])
            sets["collector"].append(
                {name: one for (name, _), one in zip(COLLECTOR_VALUES, said, strict=True)}
            )
    if "overlap" in args.sections:
        says = [("backchannel", t) for t in BACKCHANNELS] * args.overlap_rounds
        says += [("interruption", t) for t in INTERRUPTIONS] * args.overlap_rounds
        rng.shuffle(says)
        for index, (kind, text) in enumerate(says):
            voice = rng.choice(voices)
            trigger = spoken_value("complete", COMPLETE[index % len(COMPLETE)], voice)
            sets["overlap"].append(
                (encode([trigger])[0], encode([spoken_value(kind, text, voice, index)])[0])
            )
    return sets


async def run(args: argparse.Namespace) -> None:
    pin_to_core(1)
    random.seed(3)
    print("generating speech…", flush=True)
    sets = build_sets(args)
    outcomes: list[Outcome] = []
    costs: list[dict[str, Any]] = []
    name = "turn_taking-held_out" if args.held_out else "turn_taking"
    name = "-".join([name, *args.tag, *(setting.lower() for setting in args.env)])
    for mode in args.modes:
        extra = dict(setting.split("=", 1) for setting in args.env)
        tree = Path(args.server_tree) if args.server_tree else None
        found, cost = await run_mode(mode, sets, extra, name, tree)
        outcomes += found
        costs.append(cost)
    cpu = decision_cpu_share()
    print(
        "\nTurn-taking, offline providers (Whisper tiny.en, rule-based interviewer, Piper); "
        "end of turn = caller's last voiced frame → server's end of turn\n"
    )
    rows = turn_rows(outcomes, args.modes)
    if rows:
        report(
            name,
            ["mode", "answers", "n", "split", "taken back", "end of turn p50 ms", "p90 ms",
             "server's wait from the voice's end p50 / p90 ms", "voice to voice p50 ms"],
            rows,
            {
                "decision_cpu_share": cpu,
                "costs": costs,
                "outcomes": [asdict(o) for o in outcomes],
            },
        )
    if sets["overlap"]:
        print()
        report(
            f"{name}-overlap",
            ["mode", "said over the reply", "n", "held", "cut (barge-in)", "held for good",
             "cut within 400 ms", "onset → reply quiet p50 / p90 ms", "onset → held event p50 ms"],
            overlap_rows(outcomes, args.modes),
            {"outcomes": [asdict(o) for o in outcomes if o.kind in OVERLAP_KINDS]},
        )
    for cost in costs:
        if "speculative" in cost:
            started = cost["speculative"].get("started", 0.0)
            used = cost["speculative"].get("used", 0.0)
            print(f"  {cost['mode']}: server CPU {cost['cpu_s_per_answer'] * 1000:.0f} ms per "
                  f"interview answer; speculative transcripts {started / cost['answers']:.2f} per "
                  f"answer, {used / cost['answers']:.2f} used")
    print(f"\nthe decision itself: {cpu * 100:.3f} % of a core per call")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--complete", type=int, default=12, help="complete answers (pairs)")
    parser.add_argument("--paused", type=int, default=24)
    parser.add_argument("--short", type=int, default=4)
    parser.add_argument("--collectors", type=int, default=3, help="collector calls")
    parser.add_argument("--overlap-rounds", type=int, default=2,
                        help="each backchannel and interruption this many times")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--held-out", action="store_true",
                        help="the held-out voice and the held-out phrasings only")
    parser.add_argument("--sections", nargs="+", choices=("interview", "collector", "overlap"),
                        default=["interview", "collector", "overlap"])
    parser.add_argument("--tag", nargs="*", default=[], help="added to the results' file names")
    parser.add_argument("--env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="more server settings for every mode (VIVA_BARGE_IN_MS=250)")
    parser.add_argument("--server-tree", help="run another checkout's server (A/B pairs)")
    parser.add_argument("--modes", nargs="+", default=["fixed", "adaptive"],
                        help="fixed, adaptive, or adaptive:<VIVA_WORDS_AT_MS>")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
