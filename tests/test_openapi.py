"""The OpenAPI document: it describes every REST route, its page renders, and Schemathesis,
fuzzing the served document against a running server on Postgres, finds no 5xx and no
response outside the schema."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from api.routes import REST, SOCKETS

SEED = 1111  # a failure is reproduced with the same seed (printed in the summary)
EXAMPLES = 100  # at least, per operation
MAX_EXAMPLES = 120  # asked of the fuzzer: it may draw a few duplicates, which count once
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance,negative_data_rejection"
)


async def test_document_describes_every_rest_route(client: TestClient) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"] == "3.1.0"
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    sockets = {("get", s.path) for s, _ in SOCKETS} | {("get", "/api/openapi.json"),
                                                       ("get", "/api/docs")}
    assert documented == served - sockets
    assert set(document["x-websockets"]) == {s.path for s, _ in SOCKETS}
    schemas = document["components"]["schemas"]
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document))
    assert refs and all(name in schemas for name in refs)
    assert len(documented) == len(REST)


async def test_the_reference_page_is_served(client: TestClient) -> None:
    page = await client.get("/api/docs")
    assert page.status == 200 and "/static/openapi.js" in await page.text()
    script = await client.get("/static/openapi.js")
    assert script.status == 200 and "/api/openapi.json" in await script.text()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(postgres_url: str, tmp_path: Path) -> Iterator[str]:
    """The real server in its own process on 127.0.0.1, on this run's Postgres."""
    port = _free_port()
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")
    } | {
        "DATABASE_URL": postgres_url,
        "VIVA_PROVIDERS": "offline",
        "VIVA_TTS": "false",
        "VIVA_DATA_DIR": str(tmp_path),
    }
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                with urllib.request.urlopen(f"{base}/api/openapi.json", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start in 120 s"
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.mark.postgres
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    served: str, tmp_path: Path
) -> None:
    report = tmp_path / "report.ndjson"
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "run", f"{served}/api/openapi.json",
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--checks", CHECKS,
        "--phases", "coverage,fuzzing", "--no-shrink", "--no-color",
        "--report", "ndjson", "--report-ndjson-path", str(report),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    summary = run.stdout[run.stdout.find("SUMMARY") - 40 :]
    print(summary)  # the figures for the closing note: operations, cases, failures
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    cases, statuses = _tally(report)
    print("cases per operation:", cases)
    print("responses by status:", dict(sorted(statuses.items())))
    assert len(cases) == len(REST)
    # GET /api/config takes no input at all: there are only a handful of distinct cases
    varied = {label: n for label, n in cases.items() if label != "GET /api/config"}
    short = {label: n for label, n in varied.items() if n < EXAMPLES}
    assert not short, short
    assert statuses and not [status for status in statuses if status >= 500], statuses


def _tally(report: Path) -> tuple[dict[str, int], Counter[int]]:
    """Cases per operation and responses by status, from the NDJSON event stream."""
    cases: dict[str, int] = {}
    statuses: Counter[int] = Counter()
    for line in report.read_text().splitlines():
        event: dict[str, Any] = json.loads(line)
        recorder = event.get("ScenarioFinished", {}).get("recorder", {})
        if label := recorder.get("label"):
            cases[label] = cases.get(label, 0) + len(recorder.get("cases", {}))
        for interaction in recorder.get("interactions", {}).values():
            if response := interaction.get("response"):
                statuses[int(response["status_code"])] += 1
    return cases, statuses
