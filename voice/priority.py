"""Model inference runs at a lower CPU priority than the event loop.

Whisper and Piper release the GIL while they compute, so the loop is free to run, but on
a full core they still take the CPU from it: with ten offline calls on one core the
loop's lag reached 100 ms and callers fell out of real time. Linux schedules each thread
on its own, with its own nice value, so the threads that run the models are made nicer
than the loop (`INFERENCE_NICE`). When the core is free they run at full speed; when the
loop and a decode both want it, the loop (media, end of turn, sending) goes first and the
decode takes longer. Threads started by such a thread (CTranslate2's workers, created
when the model loads) inherit its nice value.

Raising one's own nice value needs no privilege. Where the platform has no per-thread
priority (not Linux), this does nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(f"viva.{__name__}")

INFERENCE_NICE = 10  # settings: VIVA_INFERENCE_NICE (0 runs the models at the loop's priority)


def lower_this_thread(nice: int) -> None:
    """Make the calling thread `nice` steps nicer than the process started (0: no change)."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    thread = threading.get_native_id()
    try:
        # on Linux PRIO_PROCESS with a thread id reads and sets that one thread's nice value
        lowered = min(19, os.getpriority(os.PRIO_PROCESS, thread) + nice)
        os.setpriority(os.PRIO_PROCESS, thread, lowered)
    except OSError as error:  # e.g. a sandbox that forbids it: the models run unlowered
        log.warning("could not lower an inference thread's priority: %s", error)


def inference_pool(workers: int, name: str, nice: int) -> ThreadPoolExecutor:
    """A thread pool whose threads run `nice` steps nicer than the event loop."""
    return ThreadPoolExecutor(workers, name, initializer=lower_this_thread, initargs=(nice,))
