"""Prometheus metrics, exported at GET /metrics.

Metrics live in prometheus-client's default registry, which is per process like the
figures they count. Voice turn stages are observed as seconds from the end of the
candidate's speech (WebRTC) or from the arrival of the message (WebSocket).
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

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


def observe_turn_stages(path: str, stages_ms: Mapping[str, float]) -> None:
    """Record a voice turn's stage offsets (milliseconds from end of speech)."""
    for stage, ms in stages_ms.items():
        if ms and ms > 0:
            TURN_STAGES.labels(path, stage).observe(ms / 1000)


def exposition() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
