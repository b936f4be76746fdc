"""`python -m server` that also logs what the collector heard and how sure it was.

The voice evaluation (benchmarks/voice_eval.py) runs this to list, beside each miss, the
recogniser's words and confidence for every collector turn of the tuning voices.
"""

from __future__ import annotations

import logging

import server

if __name__ == "__main__":
    logging.getLogger("viva.flows.collecting").setLevel(logging.DEBUG)
    server.main()
