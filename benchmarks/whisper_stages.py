"""Where one speculative decode of an interview answer spends its time, stage by stage.

The decode Viva starts at a pause (`WhisperSpeechToText.recognize`, voice/whisper_stt.py)
runs: the voiced-frame check (webrtcvad over the whole answer), Whisper's log-mel
features, the encoder over the padded window, the beam search, and the last-word pass.
Here each stage is timed on its own (the process's CPU: CTranslate2 computes in a thread
of its own, with one CPU thread as the server's pool runs it) for the turn-taking
benchmark's complete answers in the tuning voices, with the question as prompt, under
variants of the two settings that set most of the cost:

* the encoder window: padded to at least 10 s (`min_window_s`, what Viva runs) or to the
  audio plus 1 s;
* the beam: 5 (Viva's), 3, 2 or 1 (greedy).

Printed per variant: each stage's p50 / p90 in ms and the whole decode's, and how many
answers' words differ from the 10 s, beam 5 reading (the transcript itself, not its
WER: benchmarks/whisper_options.py scores that).

Run: python -m benchmarks.whisper_stages [--repeats 3] [--held-out]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from benchmarks.answers import COMPLETE, HELD_OUT, TUNING_VOICES, espeak_available, render
from benchmarks.common import percentile, pin_to_core, report
from voice.audio import TARGET_RATE, Pcm
from voice.stt import SpeechHints, has_speech
from voice.whisper_stt import (
    FRAMES_PER_SECOND,
    MAX_PROMPT_TOKENS,
    MIN_TOKENS,
    TAIL_S,
    TOKENS_PER_SECOND,
    WhisperConfig,
    WhisperSpeechToText,
    last_word_probability,
    whisper_prompt,
)

QUESTION = "How would you keep a slow report from blocking the web requests?"
SILENCE_S = 0.1  # the decode starts at 100 ms of silence (VIVA_WORDS_AT_MS)
VARIANTS = {  # name: (min_window_s, beam_size)
    "10 s window, beam 5": (10.0, 5),
    "audio + 1 s, beam 5": (0.0, 5),
    "10 s window, beam 2": (10.0, 2),
    "audio + 1 s, beam 3": (0.0, 3),
    "audio + 1 s, beam 2": (0.0, 2),
    "audio + 1 s, beam 1": (0.0, 1),
}
STAGES = ("voiced check", "features", "encoder", "beam search", "last word", "decode")


def clips(held_out: bool) -> list[Pcm]:
    """Each complete answer as the server has it at the pause: 0.25 s before the voice,
    the answer, 100 ms of silence."""
    voices = [HELD_OUT] if held_out else [
        v for v in TUNING_VOICES if v.startswith("piper") or espeak_available()
    ]
    made = []
    for index, text in enumerate(COMPLETE):
        for voice in voices:
            spoken = render("complete", voice, (text,), 0.0, None, index)
            keep = len(spoken.pcm) - int((0.25 - SILENCE_S) * TARGET_RATE) * 2
            made.append(Pcm(spoken.pcm[:keep], TARGET_RATE))
    return made


def decode(
    ears: WhisperSpeechToText, pcm: Pcm, hints: SpeechHints, window_s: float, beam: int
) -> tuple[dict[str, float], str]:
    """The stages of `WhisperSpeechToText.recognize` for one short answer, each timed
    (process CPU, ms)."""
    spent: dict[str, float] = {}

    def timed(stage: str, started: float) -> float:
        now = time.process_time()
        spent[stage] = (now - started) * 1000
        return now

    model = ears._model()
    whisper, tokenizer = model.whisper, model.tokenizer
    started = time.process_time()
    assert has_speech(pcm)
    mark = timed("voiced check", started)
    audio = np.frombuffer(pcm.data, dtype="<i2").astype(np.float32) / 32768.0
    features = whisper.feature_extractor(audio)
    frames = features.shape[-1]
    window = int(max(window_s, frames / FRAMES_PER_SECOND + TAIL_S) * FRAMES_PER_SECOND)
    features = np.pad(features[:, :window], ((0, 0), (0, max(0, window - frames))))
    mark = timed("features", mark)
    encoded = whisper.encode(features)
    mark = timed("encoder", mark)
    context = whisper_prompt(hints)
    previous = tokenizer.encode(" " + context)[-MAX_PROMPT_TOKENS:]
    prompt = whisper.get_prompt(tokenizer, previous, without_timestamps=True)
    result = whisper.model.generate(
        encoded, [prompt], beam_size=beam,
        max_length=len(prompt) + int(len(audio) / TARGET_RATE * TOKENS_PER_SECOND) + MIN_TOKENS,
        return_scores=True, return_no_speech_prob=True, suppress_blank=True,
        suppress_tokens=model.suppress, no_repeat_ngram_size=3,
    )[0]
    tokens = result.sequences_ids[0]
    mark = timed("beam search", mark)
    last_word_probability(model, encoded, tokens, frames)
    timed("last word", mark)
    spent["decode"] = (time.process_time() - started) * 1000
    return spent, tokenizer.decode(tokens).strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--held-out", action="store_true", help="the held-out voice only")
    args = parser.parse_args()
    pin_to_core(1)
    ears = WhisperSpeechToText(WhisperConfig(last_word=True))
    made = clips(args.held_out)
    hints = SpeechHints(expected="answer", question=QUESTION)
    ears.recognize(made[0], hints)  # load and warm
    times: dict[str, dict[str, list[float]]] = {v: {s: [] for s in STAGES} for v in VARIANTS}
    texts: dict[str, list[str]] = {v: [] for v in VARIANTS}
    for repeat in range(args.repeats):
        for pcm in made:
            for name, (window_s, beam) in VARIANTS.items():  # interleaved
                spent, text = decode(ears, pcm, hints, window_s, beam)
                for stage, ms in spent.items():
                    times[name][stage].append(ms)
                if repeat == 0:
                    texts[name].append(text)
    reference = texts[next(iter(VARIANTS))]
    rows: list[list[Any]] = []
    for name in VARIANTS:
        differ = sum(a != b for a, b in zip(texts[name], reference, strict=True))
        rows.append([
            name,
            *(f"{percentile(times[name][s], 50):.1f} / {percentile(times[name][s], 90):.1f}"
              for s in STAGES),
            f"{differ} of {len(reference)}",
        ])
    seconds = [pcm.duration_s for pcm in made]
    print(f"\n{len(made)} answers, {min(seconds):.1f}-{max(seconds):.1f} s of audio each, "
          f"{args.repeats} repeats; process CPU per stage, p50 / p90 ms\n")
    report("whisper-stages" + ("-held_out" if args.held_out else ""),
           ["variant", *STAGES, "words differ from the first"], rows,
           {"rows": rows, "texts": texts})


if __name__ == "__main__":
    main()
