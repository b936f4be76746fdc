"""The route table: every URL Viva answers, in one place."""

from __future__ import annotations

from aiohttp import web

from api import calls, collector, identity, interviews, tickets, transcripts, voice_ws
from api.appkeys import SETTINGS
from api.metrics_site import guarded_metrics


def add_routes(app: web.Application) -> None:
    if app[SETTINGS].metrics_token:  # else /metrics is only on VIVA_METRICS_ADDRESS
        app.router.add_get("/metrics", guarded_metrics)
    app.router.add_routes(
        [
            web.get("/api/config", identity.config),
            web.post("/api/tickets", tickets.create_ticket),
            web.post("/api/collector/start", collector.start),
            web.post("/api/collector/{session_id}/turn", collector.turn),
            web.get("/api/interviews", interviews.list_interviews),
            web.get("/api/interviews/{interview_id}", interviews.get_interview),
            web.post("/api/interviews/{interview_id}/start", interviews.start),
            web.post("/api/interviews/sessions/{session_id}/turn", interviews.turn),
            web.get("/api/interviews/sessions/{session_id}/feedback", interviews.feedback),
            web.post(
                "/api/interviews/sessions/{session_id}/feedback/regenerate",
                interviews.regenerate_feedback,
            ),
            web.get("/api/users/{user_id}/progress", interviews.progress),
            web.get("/api/transcripts/{session_type}/{session_id}", transcripts.list_transcript),
            web.post("/api/transcripts/voice/transcribe", transcripts.transcribe),
            web.get("/api/interviews/sessions/{session_id}/voice", voice_ws.interview_voice),
            web.get("/api/collector/sessions/{session_id}/voice", voice_ws.collector_voice),
            web.get("/api/interviews/sessions/{session_id}/call", calls.interview_call),
            web.get("/api/collector/sessions/{session_id}/call", calls.collector_call),
        ]
    )
