"""benchmarks/cpu_wait.py: a caller's gap split into the server's CPU wait and the rest."""

from __future__ import annotations

import os
import time

from benchmarks.cpu_wait import CpuWait, gaps, own_gap, this_process


def test_gaps_include_the_window_edges() -> None:
    found = gaps([1.0, 1.02, 1.2, 1.22], start=0.99, end=1.4, over=0.06)
    assert [(round(a, 2), round(n, 2)) for a, n in found] == [(1.02, 0.18), (1.22, 0.18)]
    assert gaps([], 0.0, 1.0, 0.06) == [(0.0, 1.0)]


def test_a_gap_loses_the_longest_wait_booked_around_it() -> None:
    server, callers = CpuWait(os.getpid()), CpuWait(os.getpid())
    # cumulative run-queue wait (ns) at each sample; the wait inside the gap [1.0, 1.3]
    # is booked at the first sample after it, when the thread ran again
    server.times, server.waits = [0.9, 1.0, 1.1, 1.32, 1.5], [0, 0, 0, 250_000_000, 250_000_000]
    callers.times, callers.waits = [0.9, 1.4], [0, 40_000_000]
    assert round(own_gap((1.0, 0.3), server, callers), 3) == 0.05
    assert round(own_gap((1.0, 0.3)), 3) == 0.3  # no waits known: all of it is the server's
    assert own_gap((1.0, 0.1), server) == 0.0  # never below zero


def test_it_reads_this_process_main_thread() -> None:
    with this_process() as watch:
        deadline = time.monotonic() + 0.1
        while time.monotonic() < deadline:
            pass
    assert watch.available and len(watch.times) >= 2
    assert watch.cpus[-1] > watch.cpus[0]  # it ran: the counters move
    assert 0.0 <= watch.share() <= 1.0
