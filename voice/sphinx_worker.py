"""The pocketsphinx side of `voice/sphinx_stt.py`, run in a worker process.

pocketsphinx holds the GIL while it decodes (a 16 s answer stalled the event loop 3.7 s
from a thread), so it never runs in the server's process. This module is what the
worker imports: pocketsphinx and the grammars, nothing of the server. Its decoders are
built once per worker process, on first use or by `warm_up`, and kept in `_DECODERS`
(the worker's own state: one process serves one decode at a time).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pocketsphinx import Decoder

from voice.grammars import FIELDS, Grammar, grammar_for, pronunciations, written

# Word insertion penalty for grammar search (pocketsphinx default 0.65). Lower penalises
# extra words more: background noise after a tech list no longer becomes "..., rust".
GRAMMAR_WIP = 0.05

_DECODERS: dict[str, Decoder] = {}


def warm_up() -> None:
    """Build every decoder now (the open one and one per collector field)."""
    _decoder(None)
    for field in FIELDS:
        _decoder(grammar_for(field))


def recognize(data: bytes, expected: str | None) -> tuple[str, str]:
    """(words, "grammar" | "open") for 16 kHz s16 `data`, which holds speech (the caller
    checked: `voice.stt.speech_to_hear`).

    With a grammar for `expected`, the grammar decodes first; when it finds nothing, the
    open language model decodes the same audio: a grammar miss on real speech is not
    silence.
    """
    grammar = grammar_for(expected) if expected else None
    if grammar is not None:
        heard = written(_decode(_decoder(grammar), data), expected)
        if heard:
            return heard, "grammar"
    return _decode(_decoder(None), data), "open"


def _decode(decoder: Decoder, data: bytes) -> str:
    decoder.start_utt()
    decoder.process_raw(data, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis is not None else ""


def _decoder(grammar: Grammar | None) -> Decoder:
    key = grammar.name if grammar else ""
    decoder = _DECODERS.get(key)
    if decoder is None:
        decoder = _DECODERS[key] = _grammar_decoder(grammar) if grammar else _open_decoder()
    return decoder


def _open_decoder() -> Decoder:
    return Decoder(loglevel="FATAL")


def _grammar_decoder(grammar: Grammar) -> Decoder:
    with tempfile.TemporaryDirectory(prefix="viva-stt-") as folder:
        dictionary = Path(folder) / f"{grammar.name}.dict"
        dictionary.write_text(pronunciations(grammar.words), encoding="utf-8")
        decoder = Decoder(lm=None, dict=str(dictionary), wip=GRAMMAR_WIP, loglevel="FATAL")
    decoder.add_jsgf_string(grammar.name, grammar.jsgf)
    decoder.activate_search(grammar.name)
    return decoder
