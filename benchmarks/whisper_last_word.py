"""What Whisper's last-word probability costs (voice/whisper_stt.py, `last_word_probability`).

The end-of-turn rule doubts a finished-looking transcript whose last word Whisper itself
finds unlikely. That probability comes from one extra decoder pass over the decoded text
(CTranslate2's alignment, as faster-whisper's word timestamps use), run after every
decode. This times, for a ~2 s and a ~8 s answer spoken by Piper, the whole recognition
(`recognize`: features, encoder, beam search, the extra pass), the same without the pass
(the server's configuration), and the extra pass alone on
the same encoder output, on one CPU thread as in a call.

Run: python -m benchmarks.whisper_last_word [--runs 20]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np

from benchmarks.common import percentile
from tests.speech_samples import speak
from voice.audio import TARGET_RATE
from voice.stt import SpeechHints
from voice.whisper_stt import (
    FRAMES_PER_SECOND,
    TAIL_S,
    WhisperConfig,
    WhisperSpeechToText,
    last_word_probability,
)

HINTS = SpeechHints(expected="answer", question="How would you make a slow service faster?")
ANSWERS = {
    "~2 s": "Mostly Python and some Go.",
    "~8 s": "I would put the slow work on a queue, retry it later, and watch the metrics "
    "around the time it broke before I change anything else.",
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    ears = WhisperSpeechToText(WhisperConfig(last_word=True))
    server = WhisperSpeechToText()  # the server's configuration: no extra pass
    model = ears._model()
    whisper, tokenizer = model.whisper, model.tokenizer
    for name, sentence in ANSWERS.items():
        pcm = speak(sentence)
        seconds = len(pcm.data) / 2 / TARGET_RATE
        whole: list[float] = []
        plain: list[float] = []
        for _ in range(args.runs):  # with and without the pass, interleaved
            started = time.perf_counter()
            heard = ears.recognize(pcm, HINTS)
            whole.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            server.recognize(pcm, HINTS)
            plain.append((time.perf_counter() - started) * 1000)
        audio = np.frombuffer(pcm.data, dtype="<i2").astype(np.float32) / 32768.0
        features = whisper.feature_extractor(audio)
        frames = features.shape[-1]
        window = int(max(ears.config.min_window_s, frames / FRAMES_PER_SECOND + TAIL_S) * 100)
        padded = np.pad(features[:, :window], ((0, 0), (0, max(0, window - frames))))
        encoded = whisper.encode(padded)
        tokens = tokenizer.encode(" " + heard.text)
        extra: list[float] = []
        for _ in range(args.runs):
            started = time.perf_counter()
            last_word_probability(model, encoded, tokens, frames)
            extra.append((time.perf_counter() - started) * 1000)
        print(
            f"{name} ({seconds:.1f} s, {heard.text!r}, last word p {heard.last_word_p}): "
            f"recognize p50 {percentile(whole, 50):.0f} p95 {percentile(whole, 95):.0f} ms "
            f"(without the pass p50 {percentile(plain, 50):.0f} p95 {percentile(plain, 95):.0f}); "
            f"of which the last-word pass p50 {percentile(extra, 50):.1f} "
            f"p95 {percentile(extra, 95):.1f} ms "
            f"({percentile(extra, 50) / percentile(whole, 50):.0%} of the p50)"
        )


if __name__ == "__main__":
    main()
