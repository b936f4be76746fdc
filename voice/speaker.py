"""The assistant's mouth in a call: streamed text in, sentences synthesized and queued.

Reply text arrives piece by piece (chat tokens); `Speaker` cuts it at sentence
boundaries, synthesizes each sentence in order and queues the audio on the playout
track, so the first sentence plays while later ones are still being written. It keeps
what was queued per sentence so that, after a barge-in, `played_text()` says exactly
what the candidate heard.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from flows.providers.base import ProviderError
from voice.playout import PlayoutTrack, Resampler
from voice.sentences import SentenceSplitter
from voice.tts import TextToSpeech

log = logging.getLogger(f"viva.{__name__}")
SentenceCallback = Callable[[str], Awaitable[None]]
# how many letters' worth of time the pause after these characters takes (measured on Piper)
_PAUSE_LETTERS = {",": 5, ";": 5, ":": 5, "\u2014": 8, "\u2013": 8}


@dataclass
class _Sentence:
    text: str
    queued_ms: int = 0
    played_ms: int = 0
    synthesized: bool = False


@dataclass
class SpeakerTimes:
    first_piece: float | None = None
    first_sentence_synthesized: float | None = None
    first_sentence_queued: float | None = None
    first_audio_sent: float | None = None
    stalled_s: float = 0.0  # how long playback ran dry mid-reply, waiting for speech
    gaps: int = 0  # how many times it ran dry
    longest_gap_s: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


class Speaker:
    def __init__(
        self,
        tts: TextToSpeech,
        playout: PlayoutTrack,
        turn: int,
        *,
        streaming: bool = True,
        on_sentence: SentenceCallback | None = None,
    ) -> None:
        self.tts = tts
        self.playout = playout
        self.turn = turn
        self.streaming = streaming
        self.on_sentence = on_sentence
        self.splitter = SentenceSplitter()
        self.sentences: list[_Sentence] = []
        self.times = SpeakerTimes()
        self.interrupted = False
        self._pending: asyncio.Queue[_Sentence | None] = asyncio.Queue()
        self._buffer: list[str] = []
        self._text_closed = False
        self._dry_since: float | None = None
        # set when the candidate starts hearing the reply (its first frame went out), or
        # when they never will (nothing to play, interrupted, dropped): see `Mouth.audible`
        self.audible = asyncio.Event()
        self._worker = asyncio.create_task(self._synthesize_in_order())
        self._worker.add_done_callback(self._synthesis_over)
        # sentences whose first frame went out, announced in order (see on_started)
        self._started: asyncio.Queue[str | None] = asyncio.Queue()
        self._announcer = asyncio.create_task(self._announce())

    async def push(self, piece: str) -> None:
        """A piece of reply text (any size); sentences go to synthesis as they complete."""
        if self.interrupted or not piece:
            return
        if self.times.first_piece is None:
            self.times.first_piece = time.monotonic()
        if not self.streaming:
            self._buffer.append(piece)
            return
        for sentence in self.splitter.push(piece):
            self._add(sentence)

    def close_text(self) -> None:
        """No more text: the rest goes to synthesis (once; later calls do nothing)."""
        if self._text_closed:
            return
        self._text_closed = True
        if not self.streaming:
            text = "".join(self._buffer).strip()
            if text:
                self._add(text)
        else:
            for sentence in self.splitter.flush():
                self._add(sentence)
        self._pending.put_nowait(None)

    async def finish(self) -> None:
        """No more text: synthesize the rest, wait until all of it is queued for playback."""
        self.close_text()
        await asyncio.gather(self._worker, return_exceptions=True)  # cancelled by a barge-in

    def on_played(self, tag: object, ms: int, finished: bool) -> None:
        """PlayoutTrack callback for this speaker's tags: (turn, sentence index, chunk)."""
        if not isinstance(tag, tuple) or tag[0] != self.turn:
            return
        self.sentences[tag[1]].played_ms += ms
        if not finished:
            self.audible.set()  # dropped: nothing more of this reply will be heard
        if finished and not self.playout.is_playing and not self._worker.done():
            self._dry_since = time.monotonic()  # a stall, if more of this reply follows

    def on_started(self, tag: object) -> None:
        """PlayoutTrack callback: the first frame of one of this speaker's items went out.

        The first frame of a sentence is when the candidate starts hearing it: that is when
        `on_sentence` announces it (not when its synthesis starts, 0.3–0.5 s earlier).
        """
        if not isinstance(tag, tuple) or tag[0] != self.turn:
            return
        if self.times.first_audio_sent is None:
            self.times.first_audio_sent = time.monotonic()
            self.audible.set()
        if tag[2] == 0:
            self._started.put_nowait(self.sentences[tag[1]].text)

    @property
    def replying(self) -> bool:
        """The candidate has started hearing this reply and more of it is still to come
        (a sentence still being synthesized counts, even while playback has run dry)."""
        return (
            self.times.first_audio_sent is not None
            and not self.interrupted
            and not self._worker.done()
        )

    async def announced(self) -> None:
        """Wait until every sentence that started playing has been announced."""
        self._started.put_nowait(None)
        await asyncio.gather(self._announcer, return_exceptions=True)

    def interrupt(self) -> None:
        """Barge-in: stop synthesizing; the caller clears the playout queue."""
        self.interrupted = True
        self._worker.cancel()
        self.audible.set()

    async def close(self) -> None:
        self.audible.set()
        self._worker.cancel()
        self._announcer.cancel()
        await asyncio.gather(self._worker, self._announcer, return_exceptions=True)

    def spoken_text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    def played_text(self) -> str:
        """What the candidate heard: whole sentences, then the played share of a cut one."""
        heard: list[str] = []
        for sentence in self.sentences:
            if sentence.queued_ms == 0 or sentence.played_ms == 0:
                break
            if sentence.synthesized and sentence.played_ms >= sentence.queued_ms - 20:
                heard.append(sentence.text)
                continue
            kept = _words_within(sentence.text, sentence.played_ms / max(sentence.queued_ms, 1))
            if kept:
                heard.append(kept + "…")
            break
        return " ".join(heard)

    def _synthesis_over(self, _worker: asyncio.Task[None]) -> None:
        """All sentences are queued (or synthesis stopped): with no audio, none is heard."""
        if not any(sentence.queued_ms for sentence in self.sentences):
            self.audible.set()

    def _add(self, text: str) -> None:
        text = text.strip()
        if text:
            self._pending.put_nowait(_Sentence(text))

    async def _synthesize_in_order(self) -> None:
        while (sentence := await self._pending.get()) is not None:
            index = len(self.sentences)
            self.sentences.append(sentence)
            try:
                await self._play(index, sentence)
            except ProviderError as error:  # the text still goes out as an event
                log.error("speech synthesis failed for a sentence: %s", error)
            sentence.synthesized = True
            if sentence.queued_ms == 0:  # nothing to hear (no speech): announce it now
                self._started.put_nowait(sentence.text)

    async def _announce(self) -> None:
        while (text := await self._started.get()) is not None:
            if self.on_sentence:
                await self.on_sentence(text)

    async def _play(self, index: int, sentence: _Sentence) -> None:
        """Queue a sentence's audio as it streams in, in whole 20 ms frames of its own rate.

        Streamed PCM arrives in arbitrary pieces; queuing each as is would pad every piece
        to a frame and put tiny gaps in the speech, so the remainder waits for the next.
        """
        rest = b""
        rate = 0
        chunk = 0
        resampler: Resampler | None = None  # one filter for the whole sentence
        try:
            async for pcm, rate in self.tts.stream_pcm(sentence.text):
                if self.times.first_sentence_synthesized is None:
                    self.times.first_sentence_synthesized = time.monotonic()
                if resampler is None or resampler.sample_rate != rate:
                    resampler = Resampler(rate)
                data = rest + pcm
                frame_bytes = rate // 50 * 2
                whole = len(data) - len(data) % frame_bytes
                rest = data[whole:]
                if whole:
                    queued = await self._enqueue(
                        data[:whole], resampler, False, (self.turn, index, chunk)
                    )
                    sentence.queued_ms += queued
                    chunk += 1
                    if self.times.first_sentence_queued is None and queued:
                        self.times.first_sentence_queued = time.monotonic()
            if resampler is not None:  # the rest, and what the filter still holds
                sentence.queued_ms += await self._enqueue(
                    rest, resampler, True, (self.turn, index, chunk)
                )
        finally:  # cut off (barge-in, hang-up) or done: the filter's threads go now
            if resampler is not None:
                resampler.close()

    async def _enqueue(
        self, pcm: bytes, resampler: Resampler, last: bool, tag: tuple[int, int, int]
    ) -> int:
        # resampling and Opus encoding of a sentence take milliseconds: not on the loop
        prepared = await asyncio.to_thread(
            self.playout.prepare, pcm, resampler.sample_rate, resampler=resampler, last=last
        )
        if self._dry_since is not None:  # the candidate heard a gap that was not in the text
            stall = time.monotonic() - self._dry_since
            self._dry_since = None
            self.times.stalled_s += stall
            self.times.gaps += 1
            self.times.longest_gap_s = max(self.times.longest_gap_s, stall)
            if stall >= 0.1:
                log.info("turn %d: playback ran dry for %d ms mid-reply", self.turn, stall * 1000)
        return self.playout.enqueue_prepared(prepared, tag)


def _words_within(text: str, share: float) -> str:
    """The words of `text` said in the first `share` of its audio, as far as one can tell.

    The voice gives no word timings, so time is apportioned by letters (long words take
    longer), with the pause at a comma, colon or dash counted as a few letters' worth. On
    Piper this is off by at most about a syllable (0.3 s), where counting words, as this
    used to, kept words up to half a second before they were said.
    """
    words = text.split()
    costs = [len(word) + 1 + _PAUSE_LETTERS.get(word[-1], 0) for word in words]
    budget = sum(costs) * share
    kept: list[str] = []
    used = 0
    for word, cost in zip(words, costs, strict=True):
        if used + len(word) > budget:
            break
        kept.append(word)
        used += cost
    return " ".join(kept)
