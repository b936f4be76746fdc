"""`python -m server` that also logs what the collector heard and how sure it was.

The voice evaluation (benchmarks/voice_eval.py) runs this to list, beside each miss, the
recogniser's words and confidence for every collector turn of the tuning voices, and
Whisper's debug lines (its readings, and what rescoring a near miss chose and cost).
"""

from __future__ import annotations

import logging

import server

if __name__ == "__main__":
    logging.getLogger("viva.flows.collecting").setLevel(logging.DEBUG)
    # what Whisper's rescoring of near misses chose, and its CPU (voice_eval sums it)
    logging.getLogger("viva.voice.whisper_stt").setLevel(logging.DEBUG)
    server.main()
