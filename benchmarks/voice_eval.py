"""How well does Viva hear? Whole collectors and interview answers, by voice, offline.

Speech is generated at run time, in four voice families:

* piper-joe: Piper's joe (the voice the tests and the prompts were tuned on);
* espeak-us: espeak-ng en-us; espeak-female: espeak-ng en-us+f3;
* espeak-gb: espeak-ng en-gb, HELD OUT: never heard while tuning the prompts, the
  confidence or the decoding window; reported on its own line.

Each family is heard at speeds 0.85, 1.0 and 1.25 and, at speed 1.0, with white noise
20 dB and 10 dB below the voice. For every (voice, condition) a server (its own process,
not pinned, offline providers, `VIVA_OFFLINE_STT` as chosen) gets one whole collector over
the voice WebSocket (`/api/collector/sessions/{id}/voice`, recordings as wav/webm/ogg),
then the interview's answers over the interview socket. The caller behaves like a
person: when the collector asks back ('I heard "x". Is that …?') it says "Yes." if x is
what it said and "No, it's <value>." otherwise; when not understood it repeats itself
once, then types the answer so the remaining fields are still measured.

Printed, per voice family:

* fields right: the stored interview has the value spoken, taken directly or after one
  confirmation (per field: readiness, role, type, level, stack, amount);
* unconfirmed garbage: a wrong value stored without asking back;
* answer WER: word error rate of the interview answers (case and punctuation ignored);
* nothing_heard: replies of `nothing_heard` to recordings that all contain speech.

The server's log gives how many spoken collector turns Whisper rescored (a near miss
scored again with the field's values in its place) and that rescoring's CPU, per
rescoring and per spoken collector turn.

Then recognition latency (upload → text, `/api/transcripts/voice/transcribe`, for ~2 s
and ~8 s utterances, p50/p95), the server's CPU seconds per second of audio recognised,
and the server's event-loop lag during those decodes (`viva_event_loop_lag_seconds`,
from /metrics: bucket upper bounds).

Run: python -m benchmarks.voice_eval [--stt whisper|pocketsphinx] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import math
import re
import subprocess
import tempfile
import time
import wave
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import aiohttp
import numpy as np

from benchmarks.common import (
    METRICS_AUTH,
    RESULTS,
    ServerProcess,
    cpu_seconds,
    percentile,
    report,
)
from flows.collector import ASK_AGAIN, Value
from flows.collector import spoken_value as collector_spoken
from tests.speech_samples import encode, plain, speak
from voice.audio import TARGET_RATE, Pcm, resample_pcm
from voice.whisper_stt import SPOKEN

HELD_OUT = "espeak-gb"
# a second held-out voice, added 2026-11-29 (session 3): espeak-ng's en-us with the m3
# variant's timbre, never heard while tuning either
HELD_OUT_2 = "espeak-m3"
HELD_OUT_FAMILIES = (HELD_OUT, HELD_OUT_2)
FAMILIES = ("piper-joe", "espeak-us", "espeak-female", HELD_OUT, HELD_OUT_2)
ESPEAK_VOICES = {"espeak-us": "en-us", "espeak-female": "en-us+f3", "espeak-gb": "en-gb",
                 "espeak-m3": "en-us+m3"}
ESPEAK_WPM = 165
# (speed, noise dB below the voice or None)
CONDITIONS = ((1.0, None), (0.85, None), (1.25, None), (1.0, 20.0), (1.0, 10.0))
FORMATS = ("wav", "webm", "ogg")
PATIENCE_S = 120


@dataclass(frozen=True)
class Script:
    """One candidate's collector answers: (field, spoken, expected stored value, typed)."""

    readiness: str
    role: tuple[str, str]
    interview_type: tuple[str, str]
    level: tuple[str, str]
    techstack: tuple[str, tuple[str, ...]]
    amount: tuple[str, int]


SCRIPTS = (
    Script(
        "Yeah, I'm ready to go.",
        ("I'd like to practise for a backend developer role.", "backend developer"),
        ("A technical interview, please.", "technical"),
        ("I'm a senior engineer.", "senior"),
        ("Python, Django and Postgres.", ("Python", "Django", "PostgreSQL")),
        ("Three questions, please.", 3),
    ),
    Script(
        "Yes, let's start.",
        ("Data engineer.", "data engineer"),
        ("Let's do a behavioral interview.", "behavioral"),
        ("Junior, I think.", "junior"),
        ("Java and Spring Boot.", ("Java", "Spring Boot")),
        ("Five questions.", 5),
    ),
    Script(
        "Sure, I'm ready.",
        ("Frontend developer, please.", "frontend developer"),
        ("A mix of both.", "mixed"),
        ("Mid level.", "mid"),
        ("TypeScript, React and Kubernetes.", ("TypeScript", "React", "Kubernetes")),
        ("Let's do four.", 4),
    ),
    Script(
        "Okay, I am ready.",
        ("I want to prepare for a DevOps engineer position.", "DevOps engineer"),
        ("Technical.", "technical"),
        ("Senior.", "senior"),
        ("Go, Docker and Kubernetes.", ("Go", "Docker", "Kubernetes")),
        ("Two questions.", 2),
    ),
)
ANSWERS = (
    "I would put a cache in front of the database and measure the latency before and after.",
    "In my last project I moved our deployments to Kubernetes and wrote the health checks.",
    "First I reproduce the bug with a failing test, then I fix it and keep the test.",
    "We used Postgres for the orders and Redis for the sessions, behind a small Django service.",
    "I led a team of four engineers and we shipped the new billing system in three months.",
)
LATENCY_TEXTS = {
    2: "I would use a queue for that.",
    8: (
        "I would start by measuring where the time goes, then put a cache in front of the "
        "slowest queries and check the latency again after the change."
    ),
}


# -- speech ---------------------------------------------------------------------------


def espeak(text: str, voice: str, speed: float) -> Pcm:
    done = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(round(ESPEAK_WPM * speed)), "--stdout", text],
        capture_output=True, check=True,
    )
    with wave.open(io.BytesIO(done.stdout)) as wav:
        raw = wav.readframes(wav.getnframes())
        return Pcm(resample_pcm(raw, wav.getframerate(), TARGET_RATE), TARGET_RATE)


def spoken(text: str, family: str, speed: float, noise_db: float | None, seed: int) -> Pcm:
    """`text` in a family's voice at `speed` (>1 faster), with 0.25 s of room around it."""
    if family == "piper-joe":
        pcm = speak(text, length_scale=1 / speed)
    else:
        pcm = espeak(text, ESPEAK_VOICES[family], speed)
        edge = b"\x00\x00" * (TARGET_RATE // 4)
        pcm = Pcm(edge + pcm.data + edge, TARGET_RATE)
    if noise_db is None:
        return pcm
    samples = np.frombuffer(pcm.data, dtype="<i2").astype(np.float64)
    voiced = samples[np.abs(samples) > 100]
    level = float(np.sqrt(np.mean(voiced**2))) / 10 ** (noise_db / 20) if len(voiced) else 0.0
    samples = samples + np.random.default_rng(seed).normal(0.0, level, len(samples))
    return Pcm(np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes(), TARGET_RATE)


def word_error_rate(reference: str, heard: str) -> float:
    ref, hyp = plain(reference).split(), plain(heard).split()
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[len(hyp)] / max(1, len(ref))


# -- one caller -----------------------------------------------------------------------


@dataclass
class Heard:
    """What one (voice, condition) run produced."""

    family: str
    condition: str
    fields: dict[str, bool] = field(default_factory=dict)  # right, directly or confirmed once
    asked: dict[str, int] = field(default_factory=dict)  # confirmations asked, per field
    garbage: int = 0  # wrong values stored without a confirmation
    confirmations: int = 0
    utterances: int = 0
    nothing_heard: int = 0
    wers: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    collector: str = ""  # the collector session's id
    pairing: int = 0  # which rotation of the scripts over the conditions


class Voice:
    """A candidate with a voice: turns text into a recording message."""

    def __init__(self, family: str, speed: float, noise_db: float | None) -> None:
        self.family, self.speed, self.noise_db = family, speed, noise_db
        self.count = 0

    def message(self, text: str) -> dict[str, Any]:
        self.count += 1
        fmt = FORMATS[self.count % len(FORMATS)]
        pcm = spoken(text, self.family, self.speed, self.noise_db, self.count)
        data = encode(pcm, fmt)
        return {"type": "user_audio", "audio_base64": base64.b64encode(data).decode(),
                "filename": f"speech.{fmt}"}


async def exchange(ws: aiohttp.ClientWebSocketResponse, message: dict[str, Any]) -> dict[str, Any]:
    await ws.send_json(message)
    while True:
        reply = await asyncio.wait_for(ws.receive_json(), PATIENCE_S)
        if reply["type"] in ("assistant_turn", "error"):
            return reply


QUOTED = re.compile(r'^I heard "([^"]*)"')


def said_as(name: str, value: Value) -> str:
    """A value as the collector says it back, and as the candidate says it ("Python,
    Django and Postgres", "3 questions", "mid-level")."""
    if name == "techstack" and isinstance(value, tuple):
        value = tuple(SPOKEN.get(item, item) for item in value)
    return collector_spoken(name, value)


async def say_field(
    ws: aiohttp.ClientWebSocketResponse, voice: Voice, heard: Heard, name: str, text: str,
    expected: object,
) -> dict[str, Any]:
    """One field, as a person answers it; records whether it went right."""
    confirmed = 0
    attempts = 0
    pending = False  # the collector is asking back
    reply = ""  # the candidate's last answer to a confirmation question
    message = voice.message(text)
    for _ in range(8):
        heard.utterances += message["type"] == "user_audio"
        turn = await exchange(ws, message)
        if turn["type"] == "error":
            if turn.get("code") == "nothing_heard":
                heard.nothing_heard += 1
            attempts += 1
        elif turn["expected_field"] != name or turn["completed"]:
            heard.fields[name] = heard.fields.get(name, True) and confirmed <= 1 and attempts == 0
            return turn
        elif pending and turn["assistant_text"].startswith(ASK_AGAIN):
            # the yes/no was not understood: a person says it again (one more attempt)
            attempts += 1
            heard.misses.append(f"{name}: said {reply!r}, asked for a yes or a no")
            if attempts < 2:
                message = voice.message(reply)
                continue
        elif (quoted := QUOTED.match(turn["assistant_text"])) is not None:
            confirmed += 1
            pending = True
            heard.confirmations += 1
            heard.asked[name] = confirmed
            # the candidate compares what it hears with what it meant, as a person would
            right = plain(collector_spoken(name, cast(Value, expected))) == plain(quoted.group(1))
            heard.misses.append(f"{name}: said {text!r}, asked back about {quoted.group(1)!r}")
            if confirmed < 2:
                reply = "Yes." if right else f"No, it's {said_as(name, cast(Value, expected))}."
                message = voice.message(reply)
                continue
            attempts += 2  # asked back twice: a person would type it now
        else:
            attempts += 1
            heard.misses.append(f"{name}: said {text!r}, heard {turn['user_text']!r}")
        if attempts >= 2:  # type it, so the rest of the collector is still measured
            heard.fields[name] = False
            typed = ", ".join(expected) if isinstance(expected, tuple) else str(expected)
            if name == "readiness":
                typed = "yes"
            message = {"type": "user_text", "text": f"no, it's {typed}" if pending else typed}
        else:
            message = voice.message(text)
    raise RuntimeError(f"the collector never took {name} ({text!r}): {heard.misses[-3:]}")


async def run_one(
    http: aiohttp.ClientSession, base: str, family: str, speed: float, noise: float | None,
    script: Script, answers: Sequence[str], user: str, pairing: int = 0,
) -> Heard:
    condition = f"speed {speed}" + (f", noise {noise:.0f} dB" if noise is not None else "")
    heard = Heard(family, condition, pairing=pairing)
    voice = Voice(family, speed, noise)
    async with http.post(f"{base}/api/collector/start", json={"user_id": user}) as response:
        collector = (await response.json())["collector_session_id"]
    heard.collector = collector
    url = f"{base.replace('http', 'ws')}/api/collector/sessions/{collector}/voice?user_id={user}"
    async with http.ws_connect(url, max_msg_size=0) as ws:
        await asyncio.wait_for(ws.receive_json(), PATIENCE_S)  # the prompt
        await say_field(ws, voice, heard, "readiness", script.readiness, True)
        for name in ("role", "interview_type", "level", "techstack", "amount"):
            text, expected = getattr(script, name)
            turn = await say_field(ws, voice, heard, name, text, expected)
        interview_id = turn["interview_id"]
    async with http.get(f"{base}/api/interviews/{interview_id}", params={"user_id": user}) as r:
        stored = await r.json()
    for name in ("role", "interview_type", "level", "techstack", "amount"):
        expected = getattr(script, name)[1]
        value = stored[name]
        value = tuple(value) if isinstance(value, list) else value
        same = plain(str(value)) == plain(str(expected)) if name == "role" else value == expected
        if not same:
            heard.misses.append(f"{name}: stored {value!r}, said {expected!r}")
            if not heard.asked.get(name):
                heard.garbage += 1
        heard.fields[name] = heard.fields.get(name, False) and same
    if not answers:
        return heard
    async with http.post(f"{base}/api/interviews/{interview_id}/start",
                         json={"user_id": user}) as response:
        session = (await response.json())["interview_session_id"]
    url = f"{base.replace('http', 'ws')}/api/interviews/sessions/{session}/voice?user_id={user}"
    async with http.ws_connect(url, max_msg_size=0) as ws:
        await asyncio.wait_for(ws.receive_json(), PATIENCE_S)
        for answer in answers[: script.amount[1]]:
            heard.utterances += 1
            turn = await exchange(ws, voice.message(answer))
            if turn["type"] == "error":
                heard.nothing_heard += turn.get("code") == "nothing_heard"
                heard.wers.append(1.0)
                continue
            heard.wers.append(word_error_rate(answer, turn["user_text"]))
    return heard


HEARD_LINE = re.compile(r"collector (\S+): (.*)$", re.MULTILINE)
RESCORED_LINE = re.compile(r"rescored .* \((\d+) ms CPU\)$", re.MULTILINE)


def rescoring_cost(log: str) -> dict[str, Any]:
    """Whisper's rescoring of near misses (voice/whisper_stt.py) in the server's log: how
    many collector turns it ran on, and its CPU (the process's, while it ran), per
    rescoring and spread over every spoken collector turn."""
    turns = len(re.findall(r"collector \S+: .*, heard .*, confidence (?!1\.000)", log))
    costs = [int(ms) for ms in RESCORED_LINE.findall(log)]
    return {"collector_turns": turns, "rescored": len(costs),
            "cpu_ms_per_rescoring_p50": percentile(costs, 50) if costs else 0,
            "cpu_ms_per_rescoring_max": max(costs, default=0),
            "cpu_ms_per_collector_turn": round(sum(costs) / turns, 1) if turns else 0.0}


def collector_lines(log: str) -> dict[str, list[str]]:
    """The server's debug lines per collector session: field, words heard, confidence."""
    lines: dict[str, list[str]] = defaultdict(list)
    for session, line in HEARD_LINE.findall(log):
        lines[session].append(line)
    return lines


# -- latency, CPU and loop lag -------------------------------------------------------


def lag_buckets(metrics: str) -> dict[float, float]:
    found = re.findall(r'^viva_event_loop_lag_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$',
                       metrics, re.MULTILINE)
    return {float(le): float(count) for le, count in found}


async def scrape(http: aiohttp.ClientSession, base: str) -> str:
    async with http.get(f"{base}/metrics", headers=METRICS_AUTH) as response:
        return await response.text()


def lag_summary(before: dict[float, float], after: dict[float, float]) -> tuple[float, float]:
    """(p99 upper bound, max upper bound) in ms of the samples between two scrapes."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    p99 = next((b for b, c in zip(bounds, counts, strict=True) if c >= 0.99 * total), bounds[-1])
    top = next((b for b, c in zip(bounds, counts, strict=True) if c >= total), bounds[-1])
    return p99 * 1000, top * 1000


async def latency(
    http: aiohttp.ClientSession, server: ServerProcess, repeats: int
) -> dict[str, Any]:
    base = server.base
    results: dict[str, Any] = {}
    lag_before = lag_buckets(await scrape(http, base))
    cpu_before, audio_seconds = cpu_seconds(server.pid), 0.0
    for seconds, text in LATENCY_TEXTS.items():
        times: list[float] = []
        durations: list[float] = []
        for index in range(repeats):
            pcm = spoken(text, "piper-joe", (0.9, 1.0, 1.1)[index % 3], None, index)
            data = encode(pcm, "wav")
            form = aiohttp.FormData()
            form.add_field("audio_file", data, filename="a.wav", content_type="audio/wav")
            started = time.perf_counter()
            async with http.post(f"{base}/api/transcripts/voice/transcribe", data=form) as r:
                assert r.status == 200, await r.text()
                await r.json()
            times.append(time.perf_counter() - started)
            durations.append(pcm.duration_s)
            audio_seconds += pcm.duration_s
        results[f"{seconds}s"] = {
            "audio_s": round(sum(durations) / len(durations), 2),
            "p50_ms": round(percentile(times, 50) * 1000),
            "p95_ms": round(percentile(times, 95) * 1000),
        }
    cpu = cpu_seconds(server.pid) - cpu_before
    results["cpu_per_audio_second"] = round(cpu / audio_seconds, 3)
    p99, top = lag_summary(lag_before, lag_buckets(await scrape(http, base)))
    results["loop_lag_p99_ms_at_most"], results["loop_lag_max_ms_at_most"] = p99, top
    return results


def window_costs(repeats: int = 3) -> list[list[Any]]:
    """CPU seconds of one Whisper decode (this process, one thread) by encoder window:
    the audio plus 1 s, at least 10 s (Viva's default), and faster-whisper's 30 s."""
    from voice.stt import SpeechHints
    from voice.whisper_stt import WhisperConfig, WhisperSpeechToText

    rows: list[list[Any]] = []
    clips = {s: spoken(text, "piper-joe", 1.0, None, 0) for s, text in LATENCY_TEXTS.items()}
    for label, window in (("audio + 1 s", 0.0), ("≥ 10 s (default)", 10.0), ("30 s", 30.0)):
        stt = WhisperSpeechToText(WhisperConfig(min_window_s=window))
        row: list[Any] = [label]
        for clip in clips.values():
            stt.recognize(clip, SpeechHints(expected="answer"))  # warm
            started = time.process_time()
            for _ in range(repeats):
                text = stt.recognize(clip, SpeechHints(expected="answer")).text
            row.append(f"{(time.process_time() - started) / repeats:.2f} s")
        row.append(text)
        rows.append(row)
    return rows


# -- the whole run ---------------------------------------------------------------------


def wilson_interval(right: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % (Wilson score) interval of a proportion `right` of `total`."""
    if total == 0:
        return 0.0, 1.0
    share = right / total
    middle = share + z * z / (2 * total)
    spread = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    scale = 1 + z * z / total
    return max(0.0, (middle - spread) / scale), min(1.0, (middle + spread) / scale)


def summarise(runs: Sequence[Heard]) -> tuple[list[list[Any]], dict[str, Any]]:
    by_family: dict[str, list[Heard]] = defaultdict(list)
    for run in runs:
        by_family[run.family].append(run)
    names = ("readiness", "role", "interview_type", "level", "techstack", "amount")
    rows: list[list[Any]] = []
    data: dict[str, Any] = {}
    groups = [(f, by_family[f]) for f in FAMILIES if f in by_family
              and f not in HELD_OUT_FAMILIES]
    tuning = [run for _f, group in groups for run in group]
    groups.append(("all tuning voices", tuning))
    for family in HELD_OUT_FAMILIES:
        if family in by_family:
            groups.append((f"{family} (held out)", by_family[family]))
    for label, group in groups:
        if not group:
            continue
        fields = [run.fields.get(n, False) for run in group for n in names]
        per_field = {n: sum(run.fields.get(n, False) for run in group) for n in names}
        wers = [w for run in group for w in run.wers]
        utterances = sum(run.utterances for run in group)
        nothing = sum(run.nothing_heard for run in group)
        by_pairing: dict[int, list[bool]] = defaultdict(list)
        for run in group:
            by_pairing[run.pairing].extend(run.fields.get(n, False) for n in names)
        pairings = [sum(right) / len(right) for _k, right in sorted(by_pairing.items())]
        low, high = wilson_interval(sum(fields), len(fields))
        figures = {
            "fields_right": sum(fields) / len(fields),
            "fields": len(fields),
            # each pairing of the scripts with the conditions on its own, and the 95 %
            # interval of the whole: how far one run's figure can move
            "pairings": [round(p, 3) for p in pairings],
            "interval_95": [round(low, 3), round(high, 3)],
            "per_field": {n: f"{c}/{len(group)}" for n, c in per_field.items()},
            "garbage_unconfirmed": sum(run.garbage for run in group),
            "confirmations": sum(run.confirmations for run in group),
            "answer_wer": sum(wers) / len(wers) if wers else float("nan"),
            "nothing_heard": f"{nothing}/{utterances}",
        }
        data[label] = figures
        rows.append([
            label, f"{figures['fields_right']:.1%} of {len(fields)}",
            f"{min(pairings):.1%}–{max(pairings):.1%} ({len(pairings)})",
            f"{low:.1%}–{high:.1%}",
            " ".join(f"{n[:5]} {c}/{len(group)}" for n, c in per_field.items()),
            figures["garbage_unconfirmed"], figures["confirmations"],
            f"{figures['answer_wer']:.3f}", figures["nothing_heard"],
        ])
    return rows, data


async def evaluate(
    stt: str, families: Sequence[str], conditions: Sequence[tuple[float, float | None]],
    answers: int, latency_repeats: int, data_dir: Path, pairings: int = 1, parallel: int = 1,
    server_tree: Path | None = None, label: str = "",
) -> dict[str, Any]:
    env = {"VIVA_PROVIDERS": "offline", "VIVA_OFFLINE_STT": stt, "VIVA_TTS": "false",
           "VIVA_DATA_DIR": str(data_dir), "DATABASE_URL": ""}
    # not pinned: what is measured is hearing, and other benchmarks pin their servers to
    # core 0 of this shared machine
    # `server_tree`: another checkout's server (a before/after pair run at the same moment)
    log_path = RESULTS / f"server-voice-eval{'-' + label if label else ''}.log"
    async with ServerProcess(env, core=None, module="benchmarks.logged_server", cwd=server_tree,
                             log_path=log_path) as server:
        async with aiohttp.ClientSession() as http:
            gate = asyncio.Semaphore(parallel)

            async def one(family: str, index: int, pairing: int) -> Heard:
                speed, noise = conditions[index]
                # which script a (voice, condition) gets depends on neither the other
                # families chosen nor their order: `--families` repeats a full run's
                # pairing. Pairing k shifts every script k places, so `--pairings 4`
                # plays every script in every condition (20 collectors a family)
                number = FAMILIES.index(family) * len(conditions) + index
                script = SCRIPTS[(number + pairing) % len(SCRIPTS)]
                # interview answers are heard in the first pairing only
                chosen = [ANSWERS[(number + i) % len(ANSWERS)]
                          for i in range(answers if pairing == 0 else 0)]
                async with gate:
                    return await run_one(
                        http, server.base, family, speed, noise, script, chosen,
                        f"eval-{number}-{pairing}-{time.time_ns()}", pairing,
                    )

            runs = list(await asyncio.gather(*(
                one(family, index, pairing)
                for pairing in range(pairings) for family in families
                for index in range(len(conditions))
            )))
            timing = await latency(http, server, latency_repeats) if latency_repeats else {}
    server_log = server.log_path.read_text(errors="replace")
    heard_lines = collector_lines(server_log)
    for run in runs:
        run.misses.extend(f"heard: {line}" for line in heard_lines.get(run.collector, ()))
    rows, data = summarise(runs)
    return {"rows": rows, "figures": data, "latency": timing,
            "rescoring": rescoring_cost(server_log),
            "misses": [f"{r.family}, {r.condition}, pairing {r.pairing}: {m}"
                       for r in runs for m in r.misses]}


async def run(args: argparse.Namespace) -> None:
    families = args.families or FAMILIES
    conditions: Sequence[tuple[float, float | None]] = CONDITIONS
    answers, repeats = 5, 10
    if args.quick:
        conditions, answers, repeats = ((1.0, None), (1.0, 10.0)), 3, 4
    if args.fields_only:
        repeats = 0
    if args.answers is not None:
        answers = args.answers
    with tempfile.TemporaryDirectory(prefix="viva-voice-eval-") as folder:
        result = await evaluate(args.stt, families, conditions, answers, repeats, Path(folder),
                                args.pairings, args.parallel, args.server_tree, args.label)
    print(f"\nVoice evaluation, offline recogniser {args.stt}; {len(conditions)} conditions "
          f"per voice family (speed 0.85/1.0/1.25, noise 20/10 dB)\n")
    report(f"voice-eval-{args.stt}{'-' + args.label if args.label else ''}",
           ["voices", "fields right", "by pairing (min–max)", "95 % interval", "per field",
            "garbage stored unasked", "confirmations", "answer WER", "nothing_heard"],
           result["rows"], result)
    cost = result["rescoring"]
    print(f"\nrescoring near misses: {cost['rescored']} of {cost['collector_turns']} spoken "
          f"collector turns, CPU p50 {cost['cpu_ms_per_rescoring_p50']:.0f} ms / max "
          f"{cost['cpu_ms_per_rescoring_max']} ms each, {cost['cpu_ms_per_collector_turn']} ms "
          "per collector turn")
    timing = result["latency"]
    if timing:
        print(f"\nrecognition (upload → text): ~{timing['2s']['audio_s']} s utterance p50 "
              f"{timing['2s']['p50_ms']} ms, p95 {timing['2s']['p95_ms']} ms; "
              f"~{timing['8s']['audio_s']} s utterance p50 {timing['8s']['p50_ms']} ms, "
              f"p95 {timing['8s']['p95_ms']} ms; server CPU "
              f"{timing['cpu_per_audio_second']} s per audio second; loop lag p99 ≤ "
              f"{timing['loop_lag_p99_ms_at_most']:g} ms, max ≤ "
              f"{timing['loop_lag_max_ms_at_most']:g} ms")
    if args.stt == "whisper" and not args.quick and not args.fields_only:
        print("\nWhisper decode CPU by encoder window (in this process, one thread):\n")
        lengths = [f"~{timing['2s']['audio_s']} s clip", f"~{timing['8s']['audio_s']} s clip"]
        rows = window_costs()
        report("voice-eval-windows", ["window", *lengths, "8 s clip heard as"], rows, rows)
    if args.misses:  # the held-out voices' misses stay unseen unless asked for
        shown = [m for m in result["misses"]
                 if args.held_out_misses or not m.startswith(HELD_OUT_FAMILIES)]
        print("\n".join(shown))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stt", choices=("whisper", "pocketsphinx"), default="whisper")
    parser.add_argument("--quick", action="store_true", help="2 conditions, fewer answers")
    parser.add_argument("--misses", action="store_true", help="list what was misheard")
    parser.add_argument("--fields-only", action="store_true",
                        help="no latency, CPU or encoder-window figures")
    parser.add_argument("--held-out-misses", action="store_true",
                        help="list the held-out voices' misses too (never while tuning)")
    parser.add_argument("--families", nargs="*", choices=FAMILIES, help="voice families")
    parser.add_argument("--pairings", type=int, default=1, choices=range(1, len(SCRIPTS) + 1),
                        help="script rotations per (voice, condition); 4: every script in "
                        "every condition, 20 collectors a family")
    parser.add_argument("--answers", type=int, help="interview answers per collector "
                        "(first pairing only; default 5, --quick 3)")
    parser.add_argument("--server-tree", type=Path,
                        help="run another checkout's server (a before/after pair)")
    parser.add_argument("--label", default="", help="names the result file and server log")
    parser.add_argument("--parallel", type=int, default=1,
                        help="collectors in flight at once (the server decodes one at a time)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
