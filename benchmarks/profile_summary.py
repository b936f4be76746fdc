"""Where the server's CPU went: per-thread CPU from /proc, split by a py-spy raw profile.

The thread split is measured (utime + stime of each thread over the window); py-spy
(`record --threads -f raw --nonblocking`) then splits each kind of thread by part of the
pipeline. A sample is charged to the innermost frame that names a part, walking from the
leaf towards the root, so helpers (fractions, numpy, struct) count for whoever called
them and a C extension counts for the Python line that called it. Samples of the event
loop thread with no Python frame above `run_app` are uvloop's own C code: polling, timers,
waking up for other threads' results, UDP system calls.

    python -m benchmarks.profile_summary bench-results/capacity-profile-15.txt [CPU CALLS]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path

WAITING = "waiting (queue, GIL, poll)"
IDLE_LEAVES = ("epoll_pwait", "epoll_wait", "futex", "uv__io_poll", "clock_nanosleep")
# (part, substrings of a frame that identify it), most specific first
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Opus encode", ("OpusEncoder", "patch_send")),
    ("Opus decode", ("OpusDecoder", "_DecodeHere")),
    (
        WAITING,
        ("concurrent/futures/thread.py", "Condition.wait", "Queue.get", "_queue_SimpleQueue_get"),
    ),
    ("thread→loop hand-off (run_coroutine_threadsafe)", ("run_coroutine_threadsafe",)),
    ("SRTP (pylibsrtp)", ("pylibsrtp",)),
    (
        "resample + VAD (Call._receive)",
        ("viva/voice/vad.py", "Call._receive", "viva/voice/audio.py"),
    ),
    ("playout frame building (PlayoutTrack.recv)", ("PlayoutTrack.recv", "_next_chunk")),
    ("speech queuing (to_playout_pcm, enqueue)", ("viva/voice/playout.py",)),
    (
        "executor hand-off (run_in_executor)",
        ("run_in_executor", "_chain_future", "_copy_future_state", "concurrent/futures/"),
    ),
    (
        "RTP send (aiortc sender, audio level)",
        ("rtcrtpsender.py", "aiortc/rtp.py", "aiortc/clock.py"),
    ),
    (
        "RTP receive (aiortc receiver, jitter buffer)",
        ("rtcrtpreceiver.py", "jitterbuffer.py", "aiortc/codecs/__init__.py"),
    ),
    (
        "DTLS/ICE transport (aiortc, aioice)",
        ("rtcdtlstransport.py", "aioice/", "rtcicetransport.py"),
    ),
    ("track plumbing (aiortc mediastreams)", ("mediastreams.py",)),
    (
        "provider HTTP (openai SDK, httpx, anyio)",
        ("openai/", "httpx", "httpcore", "anyio/", "sniffio"),
    ),
    ("database (SQLAlchemy, aiosqlite, asyncpg)", ("sqlalchemy/", "aiosqlite", "asyncpg")),
    ("turn logic (viva flows, speaker, call)", ("viva/",)),
    ("garbage collection", ("gc_collect",)),
    ("aiohttp (signalling, WebSocket)", ("aiohttp/",)),
)
ROOT = (
    "<frozen runpy>",
    "<module> (benchmarks/prototype.py",
    "main (benchmarks/prototype.py",
    "viva/server.py",
    "aiohttp/web.py:",
    "Thread._bootstrap",
    "Thread.run (threading.py",
)
EVENT_LOOP = "no Python frame: uvloop + asyncio in C (polling, timers, task steps, UDP I/O)"
OTHER = "other Python"
_LIBC_ADDRESS = re.compile(r"0x[0-9a-f]+ \(libc\.so")
_THREAD = re.compile(r"thread \((\d+)\)(?::\s*(.*))?")


def part_of(frames: list[str]) -> str:
    inner = [f for f in frames if not any(root in f for root in ROOT)]
    for frame in reversed(inner):
        for part, needles in PARTS:
            if any(needle in frame for needle in needles):
                return part
    return OTHER if inner else EVENT_LOOP


def group_of(name: str) -> str:
    if name == "MainThread":
        return "event loop thread"
    if name == "audio-decoder":
        return "Opus decoder threads (aiortc, one per call)"
    if name.startswith(("uvloop_", "ThreadPoolExecutor", "asyncio_")):
        return "executor threads (run_in_executor)"
    if "_connection_worker_thread" in name:
        return "database threads (aiosqlite)"
    return "other threads"


def _idle_leaf(frame: str) -> bool:
    """A blocked system call: a known one, or an unnamed libc address (futex, in practice)."""
    return any(name in frame for name in IDLE_LEAVES) or bool(_LIBC_ADDRESS.match(frame))


class Profile:
    def __init__(self, path: Path) -> None:
        self.names: dict[int, str] = {}
        self.parts: defaultdict[str, Counter[str]] = defaultdict(Counter)  # group → part
        self.leaves: Counter[str] = Counter()
        self.waiting = 0
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = stack.split(";")
            group = "other threads"
            match = _THREAD.fullmatch(frames[0].strip())
            if match:
                frames = frames[1:]
                tid, name = int(match.group(1)), (match.group(2) or "").strip()
                if name:
                    self.names[tid] = name
                group = group_of(self.names.get(tid, name))
            part = part_of(frames)
            if part == WAITING or (frames and _idle_leaf(frames[-1])):
                self.waiting += int(count)  # not CPU: `--native` samples blocked threads too
                continue
            self.parts[group][part] += int(count)
            self.leaves[frames[-1] if frames else "?"] += int(count)

    def group_shares(self, thread_shares: Mapping[int, float] | None) -> dict[str, float]:
        """CPU share per group: measured per thread when given, else from samples (0..1)."""
        if thread_shares:
            shares: defaultdict[str, float] = defaultdict(float)
            for tid, share in thread_shares.items():
                shares[group_of(self.names.get(tid, ""))] += share
            return dict(shares)
        total = sum(sum(c.values()) for c in self.parts.values()) or 1
        return {group: sum(c.values()) / total for group, c in self.parts.items()}


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def summarize(
    path: Path,
    cpu_share: float | None = None,
    calls: int | None = None,
    thread_shares: Mapping[int, float] | None = None,
    top: int = 12,
) -> None:
    """Print CPU by thread group and part (as % of a core, and per call when `calls`)."""
    profile = Profile(path)
    groups = profile.group_shares(thread_shares)
    if cpu_share and not thread_shares:  # sample shares → the measured total
        groups = {g: s * cpu_share for g, s in groups.items()}
    per = calls or 1
    rows: list[list[str]] = []
    for group, share in sorted(groups.items(), key=lambda item: -item[1]):
        samples = profile.parts.get(group, Counter())
        total = sum(samples.values())
        rows.append([group, "", f"{share * 100:.2f}", f"{share * 100 / per:.3f}"])
        if not total:
            rows.append(["", "(no sample attributed: C code py-spy cannot unwind)", "", ""])
        for part, count in samples.most_common():
            if count / max(total, 1) < 0.02:
                continue
            value = share * count / total * 100
            rows.append(["", part, f"{value:.2f}", f"{value / per:.3f}"])
    _table(
        [
            "thread group",
            "part (py-spy samples within the group)",
            "% of a core",
            "per call" if calls else "(no N)",
        ],
        rows,
    )
    print(f"\ntop {top} innermost frames across all threads:")
    total = sum(profile.leaves.values()) or 1
    for frame, count in profile.leaves.most_common(top):
        print(f"  {count / total * 100:5.1f} %  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("profile", type=Path)
    parser.add_argument("cpu_share", type=float, nargs="?", help="server CPU, 0..1 of a core")
    parser.add_argument("calls", type=int, nargs="?")
    args = parser.parse_args()
    summarize(args.profile, args.cpu_share, args.calls)


if __name__ == "__main__":
    main()
