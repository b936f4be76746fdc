"""Which Whisper decoding options hear interview answers best, and at what CPU cost?

The interview answers of `benchmarks/voice_eval.py`, spoken at run time in its voice
families and conditions (speeds 0.85/1.0/1.25, white noise 20 and 10 dB below the voice),
are decoded in this process (one CPU thread, as the server's recogniser does) with each
option set, with the hints the server gives an answer: the interview's question (from the
question bank, for the collector script that voice and condition get) and the
candidate's stack. Every clip is decoded by every option set in turn, so the sets are
compared at the same moment on a shared machine.

Printed per option set: answer word error rate per voice family, on the espeak voices
together, without noise, at 20 dB and at 10 dB SNR, and over all; CPU seconds per audio
second; and the CPU of one decode of voice_eval's ~8 s latency utterance (Piper at three
speeds and espeak en-us, twice each; p50/p95). Option sets (`--options`, default all):

* viva: what the server runs (beam 5, no timestamps, no fallback, whole upload, no 3-gram
  repeated in an answer: adopted 2026-11-29 from this benchmark);
* beam1/beam2/beam3: a smaller beam;
* answer-window, answer-window-5: the encoder window of an interview answer padded to the
  audio plus 1 s, or to at least 5 s, instead of at least 10 s; answer-window+beam3 and
  +beam2 with a smaller beam too;
* fallback: faster-whisper's temperature fallback (sample best of 5 at 0.2 … 1.0 while the
  reading loops or is unlikely);
* trim: the audio cut to its voiced span (webrtcvad) plus 0.3 s;
* timestamps: decoded with timestamp tokens (Whisper's default);
* no-prompt / question-only: without the question and stack, or without the stack;
* repeats-allowed / no-repeat-4: without the answers' loop guard, or with 4-grams;
* repetition-penalty: tokens already generated scored down (1.1);
* denoise / denoise-strong / denoise-below-25: voice/denoise.py's spectral subtraction
  (gain floor 0.3 / 0.1) on an utterance whose estimated SNR is under 15 dB (25 dB);
* and combinations of these;
* condition_on_previous_text only joins the 30 s pieces of one upload: answers here are
  shorter than one piece, so it changes nothing and is not a set.

Only the tuning voices are decoded unless `--held-out` is given (then only the held-out
ones): options are chosen on the tuning voices.

Run: python -m benchmarks.whisper_options [--options viva beam2 …] [--held-out] [--noisy-speeds]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections import defaultdict
from typing import Any

from benchmarks.common import percentile, report
from benchmarks.voice_eval import (
    ANSWERS,
    CONDITIONS,
    FAMILIES,
    HELD_OUT_FAMILIES,
    LATENCY_TEXTS,
    SCRIPTS,
    spoken,
    word_error_rate,
)
from flows.question_bank import InterviewSetup, bank_questions
from voice.stt import SpeechHints
from voice.whisper_stt import WhisperConfig, WhisperSpeechToText

TUNING = tuple(f for f in FAMILIES if f not in HELD_OUT_FAMILIES)
# the conditions' columns: no noise (speeds 0.85/1.0/1.25), 20 dB and 10 dB SNR
CONDITION_LABELS = {None: "clean", 20.0: "20 dB", 10.0: "10 dB"}
# --noisy-speeds: voice_eval has 15 answers at 10 dB on the tuning voices, too few to
# tell 0.02 of WER apart; these add the same answers at two more speeds
NOISY_SPEEDS = (0.85, 1.25)
NOISY_LABEL = "10 dB at 0.85/1.25"
ESPEAK = ("espeak-us", "espeak-female", "espeak-gb", "espeak-m3")
VIVA = WhisperConfig()
OPTIONS: dict[str, tuple[WhisperConfig, str]] = {
    # name: (config, which hints: "full" | "question" | "none")
    "viva": (VIVA, "full"),
    "beam1": (dataclasses.replace(VIVA, beam_size=1), "full"),
    "beam2": (dataclasses.replace(VIVA, beam_size=2), "full"),
    "beam3": (dataclasses.replace(VIVA, beam_size=3), "full"),
    "fallback": (dataclasses.replace(VIVA, fallback=(0.2, 0.4, 0.6, 0.8, 1.0)), "full"),
    "trim": (dataclasses.replace(VIVA, trim_margin_s=0.3), "full"),
    "timestamps": (dataclasses.replace(VIVA, timestamps=True), "full"),
    "no-prompt": (VIVA, "none"),
    "question-only": (VIVA, "question"),
    "repeats-allowed": (dataclasses.replace(VIVA, answer_no_repeat_ngram_size=0), "full"),
    "no-repeat-4": (dataclasses.replace(VIVA, answer_no_repeat_ngram_size=4), "full"),
    "repetition-penalty": (dataclasses.replace(VIVA, repetition_penalty=1.1), "full"),
    "no-prompt+repetition-penalty": (dataclasses.replace(VIVA, repetition_penalty=1.1), "none"),
    # interview answers only: the encoder window padded to the audio plus 1 s (no 10 s
    # floor), or to at least 5 s; with a smaller beam
    "answer-window": (dataclasses.replace(VIVA, answer_min_window_s=0.0), "full"),
    "answer-window-5": (dataclasses.replace(VIVA, answer_min_window_s=5.0), "full"),
    "answer-window+beam3": (
        dataclasses.replace(VIVA, answer_min_window_s=0.0, answer_beam_size=3), "full"
    ),
    "answer-window+beam2": (
        dataclasses.replace(VIVA, answer_min_window_s=0.0, answer_beam_size=2), "full"
    ),
    "timestamps+beam3": (dataclasses.replace(VIVA, timestamps=True, beam_size=3), "full"),
    # voice/denoise.py before decoding, only when the utterance's SNR is under the bound:
    # 15 dB takes the 10 dB clips (estimated 6-11 dB) and leaves the 20 dB ones (16-19)
    "denoise": (dataclasses.replace(VIVA, denoise_below_snr_db=15.0), "full"),
    "denoise-strong": (
        dataclasses.replace(VIVA, denoise_below_snr_db=15.0, denoise_floor=0.1),
        "full",
    ),
    "denoise-below-25": (dataclasses.replace(VIVA, denoise_below_snr_db=25.0), "full"),
}


@dataclasses.dataclass(frozen=True)
class Clip:
    family: str
    noise_db: float | None
    text: str
    hints: SpeechHints
    pcm: Any
    speed: float = 1.0


def clips(
    families: tuple[str, ...], per_condition: int, noisy_speeds: tuple[float, ...] = ()
) -> list[Clip]:
    """The answers a voice_eval run plays, with the hints the server would give them;
    with `noisy_speeds`, the 10 dB answers again at those speeds (other noise seeds)."""
    made: list[Clip] = []
    for family in families:
        for index, (speed, noise) in enumerate(CONDITIONS):
            number = FAMILIES.index(family) * len(CONDITIONS) + index
            script = SCRIPTS[number % len(SCRIPTS)]
            setup = InterviewSetup(
                script.role[1], script.interview_type[1], script.level[1],
                script.techstack[1], 5,
            )
            questions = bank_questions(setup)
            for i in range(per_condition):
                text = ANSWERS[(number + i) % len(ANSWERS)]
                hints = SpeechHints(expected="answer", question=questions[i],
                                    vocabulary=script.techstack[1])
                pcm = spoken(text, family, speed, noise, number * 10 + i)
                made.append(Clip(family, noise, text, hints, pcm))
                for k, other in enumerate(noisy_speeds if noise == 10.0 else ()):
                    pcm = spoken(text, family, other, noise, 7000 + number * 10 + i * 3 + k)
                    made.append(Clip(family, noise, text, hints, pcm, other))
    return made


def long_clips() -> list[Any]:
    """The ~8 s utterance of voice_eval's latency figures, in four voices and speeds."""
    text = LATENCY_TEXTS[8]
    return [spoken(text, "piper-joe", speed, None, 0) for speed in (0.9, 1.0, 1.1)] + [
        spoken(text, "espeak-us", 1.0, None, 0)
    ]


def hints_for(clip: Clip, kind: str) -> SpeechHints:
    if kind == "none":
        return SpeechHints(expected="answer")
    if kind == "question":
        return dataclasses.replace(clip.hints, vocabulary=())
    return clip.hints


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--options", nargs="*", choices=OPTIONS, default=list(OPTIONS))
    parser.add_argument("--held-out", action="store_true", help="the held-out voices only")
    parser.add_argument("--answers", type=int, default=5, help="answers per condition")
    parser.add_argument("--show", action="store_true", help="print every misheard answer")
    parser.add_argument(
        "--noisy-speeds",
        action="store_true",
        help="the 10 dB answers also at speeds 0.85 and 1.25: 45 noisy clips, not 15 "
        "(their own column; 'all' and the voices' columns include them)",
    )
    args = parser.parse_args()
    families = HELD_OUT_FAMILIES if args.held_out else TUNING
    chosen = {name: OPTIONS[name] for name in args.options}
    recognisers = {name: WhisperSpeechToText(config) for name, (config, _) in chosen.items()}
    made = clips(families, args.answers, NOISY_SPEEDS if args.noisy_speeds else ())
    for recogniser in recognisers.values():
        recogniser.recognize(made[0].pcm, made[0].hints)  # load and warm
    wers: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    cpu: dict[str, float] = defaultdict(float)
    long_cpu: dict[str, list[float]] = defaultdict(list)
    audio = 0.0
    for pcm in long_clips():
        for name in chosen:
            for _ in range(2):
                started = time.process_time()
                recognisers[name].recognize(pcm, SpeechHints(expected="answer"))
                long_cpu[name].append(time.process_time() - started)
    for clip in made:
        audio += clip.pcm.duration_s
        for name, (_config, kind) in chosen.items():
            started = time.process_time()
            text = recognisers[name].recognize(clip.pcm, hints_for(clip, kind)).text
            spent = time.process_time() - started
            cpu[name] += spent
            wer = word_error_rate(clip.text, text)
            if args.show and wer > 0:
                print(f"{name} | {clip.family} {clip.noise_db} | {wer:.2f} | {text}")
            condition = CONDITION_LABELS[clip.noise_db]
            if clip.speed != 1.0:
                condition = NOISY_LABEL
            groups = [clip.family, "all", condition]
            groups += ["espeak"] if clip.family in ESPEAK else []
            for group in groups:
                wers[name][group].append(wer)
    labels = [*families, "espeak", *CONDITION_LABELS.values()]
    labels += [NOISY_LABEL] if args.noisy_speeds else []
    labels.append("all")
    rows: list[list[Any]] = []
    for name in chosen:
        by = wers[name]
        rows.append([
            name,
            *(f"{sum(by[g]) / len(by[g]):.3f}" if by[g] else "-" for g in labels),
            f"{cpu[name] / audio:.3f}",
            f"{percentile(long_cpu[name], 50):.2f} / {percentile(long_cpu[name], 95):.2f}"
            if long_cpu[name] else "-",
        ])
    print(f"\nAnswer WER by decoding option, {len(made)} clips ({audio:.0f} s of speech)\n")
    report("whisper-options", ["options", *labels, "CPU s per audio s",
                               "~8 s clip CPU p50 / p95 (s)"], rows,
           {"rows": rows, "clips": len(made), "audio_s": audio})


if __name__ == "__main__":
    main()
