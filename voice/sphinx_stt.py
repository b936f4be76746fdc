"""Offline speech-to-text with pocketsphinx (VIVA_OFFLINE_STT=pocketsphinx), in a process.

A grammar per collector field (`voice/grammars.py`), the general language model for
everything else. pocketsphinx holds the GIL while it decodes, so decoding happens in one
spawned worker process (`voice/sphinx_worker.py`), never in the server's threads. A
grammar that finds nothing in real speech falls back to the open model in the same
worker: `nothing_heard` is for silence only.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from voice import sphinx_worker
from voice.audio import TARGET_RATE, Pcm, resample_pcm
from voice.stt import SpeechHints, SpeechToText, Transcription, speech_to_hear


class PocketsphinxSpeechToText(SpeechToText):
    name = "pocketsphinx"

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def warm_up(self) -> None:
        """Start the worker process and build its decoders."""
        await asyncio.wrap_future(self._workers().submit(sphinx_worker.warm_up))

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def _transcribe(self, pcm: Pcm, hints: SpeechHints) -> Transcription:
        data = pcm.data
        if pcm.sample_rate != TARGET_RATE:
            data = await asyncio.to_thread(resample_pcm, data, pcm.sample_rate, TARGET_RATE)
        heard = await asyncio.to_thread(speech_to_hear, Pcm(data, TARGET_RATE))
        if heard is None:
            return Transcription("", None, self.name)
        future = self._workers().submit(sphinx_worker.recognize, heard.data, hints.expected)
        text, _search = await asyncio.wrap_future(future)
        return Transcription(text, None, self.name)

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, multiprocessing.get_context("spawn"))
        return self._pool
