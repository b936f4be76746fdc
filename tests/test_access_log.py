"""Viva's access log writes the line aiohttp's own access logger writes, for less CPU."""

from __future__ import annotations

import logging
import time

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_log import AccessLogger

from api.access_log import AccessLog


async def _logged_line(
    logger_class: type[AccessLogger] | type[AccessLog], caplog: pytest.LogCaptureFixture
) -> str:
    async def answer(_request: web.Request) -> web.Response:
        return web.Response(text='{"interviews": []}', status=201)

    app = web.Application()
    app.router.add_get("/api/interviews", answer)
    caplog.clear()
    server = TestServer(app, access_log_class=logger_class)
    async with TestClient(server) as client:
        response = await client.get(
            "/api/interviews?user_id=ada%20lovelace",
            headers={"Referer": "http://127.0.0.1/page", "User-Agent": "viva-test/1.0"},
        )
        assert response.status == 201
    (record,) = [r for r in caplog.records if r.name == "aiohttp.access"]
    return record.getMessage()


async def test_the_line_is_aiohttps_default_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    for _ in range(3):  # both requests within one second, so both carry the same time
        second = int(time.time())
        theirs = await _logged_line(AccessLogger, caplog)
        ours = await _logged_line(AccessLog, caplog)
        if int(time.time()) == second:
            break
    assert ours == theirs
    assert '"GET /api/interviews?user_id=ada%20lovelace HTTP/1.1" 201 ' in ours
    assert ours.endswith('"http://127.0.0.1/page" "viva-test/1.0"')


async def test_nothing_is_logged_when_the_access_logger_is_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="aiohttp.access")
    assert not AccessLog(logging.getLogger("aiohttp.access"), "").enabled
