"""Whose gap was it: time a process's main thread spent runnable but waiting for a CPU.

On a shared machine a caller's gap in the server's audio is, most of the time, the server
waiting for its core: its event-loop thread is runnable (state R) while other processes
run there. The kernel counts that time per thread (`/proc/PID/task/TID/schedstat`, second
field, nanoseconds on the run queue). `CpuWait` samples it from a thread of its own, so a
gap can be split into what the process was kept waiting for and what is left: the part
its own work (a long callback, a lock, a pause) would have to explain.

The kernel books waiting when the thread is next scheduled in, so a wait inside a gap
shows up at the sample after the gap ends; `waited(a, b)` reads the samples around the
interval (and `margin` beyond it) for that reason. It can only over-attribute by the
waits in that margin.

Used by benchmarks.capacity: `python -m benchmarks.capacity` prints, beside the largest
gap, the largest gap left once the server's and the callers' CPU waits are taken out.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from pathlib import Path

PERIOD_S = 0.005


def _schedstat(pid: int, tid: int) -> tuple[int, int] | None:
    try:
        running, waiting, _ = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
    except (OSError, ValueError):
        return None
    return int(running), int(waiting)


class CpuWait:
    """Run-queue wait of one thread (default: the process's main thread), sampled."""

    def __init__(self, pid: int, tid: int | None = None, period: float = PERIOD_S) -> None:
        self.pid = pid
        self.tid = pid if tid is None else tid
        self.period = period
        self.times: list[float] = []  # monotonic
        self.waits: list[int] = []  # cumulative run-queue wait, ns
        self.cpus: list[int] = []  # cumulative CPU, ns
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def available(self) -> bool:
        return _schedstat(self.pid, self.tid) is not None

    def _sample(self) -> None:
        while not self._stop.is_set():
            read = _schedstat(self.pid, self.tid)
            if read is None:
                return
            self.times.append(time.monotonic())
            self.cpus.append(read[0])
            self.waits.append(read[1])
            self._stop.wait(self.period)

    def __enter__(self) -> CpuWait:
        self._thread = threading.Thread(target=self._sample, name="cpu-wait", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def waited(self, start: float, end: float, margin: float = 0.02) -> float:
        """Seconds of run-queue wait booked between the samples around [start, end]."""
        if len(self.times) < 2:
            return 0.0
        first = max(0, bisect.bisect_right(self.times, start) - 1)
        last = min(len(self.times) - 1, bisect.bisect_left(self.times, end + margin))
        return (self.waits[last] - self.waits[first]) / 1e9

    def share(self) -> float:
        """Share of the sampled time the thread spent waiting for a CPU."""
        if len(self.times) < 2:
            return 0.0
        return (self.waits[-1] - self.waits[0]) / 1e9 / (self.times[-1] - self.times[0])


def gaps(times: list[float], start: float, end: float, over: float) -> list[tuple[float, float]]:
    """(start, length) of every interval between `times` (and the window's edges) > `over`."""
    edges = [start, *times, end]
    return [(a, b - a) for a, b in zip(edges, edges[1:], strict=False) if b - a > over]


def own_gap(gap: tuple[float, float], *waits: CpuWait) -> float:
    """What is left of a gap once the longest CPU wait of the given threads is taken out."""
    at, length = gap
    kept_waiting = max((w.waited(at, at + length) for w in waits), default=0.0)
    return max(0.0, length - kept_waiting)


def this_process() -> CpuWait:
    return CpuWait(os.getpid())
