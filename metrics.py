"""Prometheus metrics, exported at GET /metrics.

Metrics live in prometheus-client's default registry, which is per process like the
figures they count; every sample is exported with a `viva_instance` label (the instance
id), so a Prometheus scraping several instances can add them up or tell them apart.
Voice turn stages are observed as seconds from the end of the
candidate's speech (WebRTC) or from the arrival of the message (WebSocket).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import Metric

STAGE_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

TURN_STAGES = Histogram(
    "viva_turn_stage_seconds",
    "Time from the end of the candidate's speech to each stage of a voice turn",
    ["path", "stage"],
    buckets=STAGE_BUCKETS,
)
TURNS = Counter("viva_turns_total", "Conversation turns taken", ["path", "conversation"])
ACTIVE_CALLS = Gauge("viva_active_calls", "WebRTC calls in progress")
ACTIVE_SOCKETS = Gauge("viva_active_voice_sockets", "Base64 voice WebSockets open")
PROVIDER_ERRORS = Counter(
    "viva_provider_errors_total",
    "Provider calls that failed after retries (then fell back), by capability and kind",
    ["capability", "kind"],
)
BARGE_INS = Counter("viva_barge_ins_total", "Assistant replies cut short by the candidate")
TAKEN_BACK = Counter(
    "viva_turns_taken_back_total",
    "Answers the candidate went on with after the turn was taken, before its reply was heard",
)
SPECULATIVE_TRANSCRIPTS = Counter(
    "viva_speculative_transcripts_total",
    "Transcripts of a call's answer so far started at a pause (started), and those that "
    "became the turn's words (used); the rest were dropped because the candidate went on",
    ["outcome"],
)
DRAINING = Gauge("viva_draining", "1 while this instance drains after SIGTERM")
GC_FROZEN = Gauge(
    "viva_gc_frozen_objects",
    "Objects built at startup and frozen out of the garbage collector's full collections",
)
# 20 and 60 ms are bounds of their own: issue 9's targets (p99 ≤ 20 ms, max ≤ 60 ms)
LOOP_LAG_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.04, 0.06, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)
LOOP_LAG = Histogram(
    "viva_event_loop_lag_seconds",
    "How late the event loop woke a task that slept 100 ms (sampled every ~100 ms): "
    "how long something held the loop or the GIL",
    buckets=LOOP_LAG_BUCKETS,
)
LOOP_LAG_INTERVAL = 0.1


async def sample_loop_lag(interval: float = LOOP_LAG_INTERVAL) -> None:
    """Observe the event loop's lag into LOOP_LAG until cancelled."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time()
        await asyncio.sleep(interval)
        LOOP_LAG.observe(max(0.0, loop.time() - asked - interval))


def observe_turn_stages(path: str, stages_ms: Mapping[str, float]) -> None:
    """Record a voice turn's stage offsets (milliseconds from end of speech)."""
    for stage, ms in stages_ms.items():
        if ms and ms > 0:
            TURN_STAGES.labels(path, stage).observe(ms / 1000)


class _Labelled:
    """The default registry's metrics with one more label on every sample."""

    def __init__(self, label: str, value: str) -> None:
        self.label = label
        self.value = value

    def collect(self) -> Iterator[Metric]:
        for family in REGISTRY.collect():
            family.samples = [
                sample._replace(labels={**sample.labels, self.label: self.value})
                for sample in family.samples
            ]
            yield family


_instance = {"id": ""}  # this process's instance id, like the registry: one per process


def label_instance(instance_id: str) -> None:
    """Label every exported sample with this instance id (set once, by create_app)."""
    _instance["id"] = instance_id


def exposition() -> tuple[bytes, str]:
    if not _instance["id"]:
        return generate_latest(), CONTENT_TYPE_LATEST
    labelled = _Labelled("viva_instance", _instance["id"])
    return generate_latest(labelled), CONTENT_TYPE_LATEST  # type: ignore[arg-type]
