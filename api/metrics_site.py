"""Where /metrics is served: its own listener (VIVA_METRICS_ADDRESS, loopback by default),
and on the main address only behind a bearer token (VIVA_METRICS_TOKEN)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from api.appkeys import SETTINGS
from api.refusals import unauthorized
from metrics import exposition

log = logging.getLogger(f"viva.{__name__}")


async def metrics(_request: web.Request) -> web.Response:
    body, content_type = exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


async def guarded_metrics(request: web.Request) -> web.Response:
    """GET /metrics on the main address: only with `Authorization: Bearer <metrics token>`."""
    expected = f"Bearer {request.app[SETTINGS].metrics_token}".encode()
    given = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(given, expected):
        raise unauthorized("token_missing", "/metrics needs the metrics bearer token.")
    return await metrics(request)


def metrics_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/metrics", metrics)
    return app


async def serve_metrics(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the metrics listener on VIVA_METRICS_ADDRESS, beside the main one."""
    address = app[SETTINGS].metrics_address
    host, _, port = address.rpartition(":")
    runner = web.AppRunner(metrics_app(), access_log=None)
    await runner.setup()
    workers = app[SETTINGS].workers > 1  # each worker listens; a scrape reaches one of them
    site = web.TCPSite(runner, host.strip("[]") or "127.0.0.1", int(port), reuse_port=workers)
    try:
        await site.start()
    except OSError as error:  # a busy port costs the metrics, not the service
        log.error("no /metrics listener: cannot listen on %s: %s", address, error)
    else:
        log.info("metrics on http://%s/metrics", address)
    yield
    await runner.cleanup()
