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
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData, WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestClient

from api.routes import OPENAPI, REST, SOCKETS
from server import create_app
from settings import Settings
from tests.auth_helpers import SECRET, bearer, hs256
from tests.conftest import MakeClient, user

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


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def requests_naming_nothing(
    path: str, operation: dict[str, Any], owner: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Well-formed requests for a documented operation, built from the document alone,
    that name what nobody has: fresh ids, another user's progress (one per enum value)."""
    missing = str(uuid.uuid4())
    paths = [path]
    for parameter in operation["parameters"]:
        if parameter["in"] != "path":
            continue
        name, schema = parameter["name"], parameter["schema"]
        values = schema.get("enum") or [user() if name == "user_id" else missing]
        paths = [p.replace(f"{{{name}}}", value) for p in paths for value in values]
    fields = {"user_id": owner, "user_message": "hello", "session_type": "interview",
              "session_id": missing}
    content = operation.get("requestBody", {}).get("content", {})
    for url in paths:
        request: dict[str, Any] = {"params": {"user_id": owner}}
        if "application/json" in content:
            request["json"] = fields
        elif "multipart/form-data" in content:
            form = FormData(default_to_multipart=True)
            form.add_field("audio_file", b"RIFF", filename="a.wav", content_type="audio/wav")
            named = content["multipart/form-data"]["schema"]["properties"]
            for name, value in fields.items():
                if name in named:
                    form.add_field(name, value)
            request["data"] = form
        yield url, request


async def test_every_404_is_not_found(client: TestClient) -> None:
    """Every operation that documents a 404 answers one, code `not_found`, for what is not
    there; so do an unknown URL and the sockets (close 1008, reason `not_found`)."""
    owner, answered = user(), 0
    document = await (await client.get("/api/openapi.json")).json()
    for method, path, operation in operations(document):
        if "404" not in operation["responses"]:
            continue
        assert operation["responses"]["404"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/NotFoundError"
        }
        for url, request in requests_naming_nothing(path, operation, owner):
            response = await client.request(method, url, **request)
            body = await response.json()
            assert (response.status, body["code"]) == (404, "not_found"), (method, url, body)
            assert set(body) == {"detail", "code"} and body["detail"].startswith("No such")
            answered += 1
    assert answered >= 10  # every session, interview and user route
    unknown = await client.get("/api/no-such-route")
    assert (unknown.status, (await unknown.json())["code"]) == (404, "not_found")
    for route in document["x-websockets"]:
        url = route.replace("{session_id}", str(uuid.uuid4())) + f"?user_id={owner}"
        ws = await client.ws_connect(url)
        closed = await ws.receive(timeout=10)
        assert closed.type == WSMsgType.CLOSE and ws.close_code == 1008, (route, closed)
        assert closed.extra == "not_found", (route, closed)


@pytest.mark.parametrize(
    ("auth", "bearer"),
    [("jwt", [{"bearer_auth": []}]), ("none", [{"bearer_auth": []}, {}])],
)
def test_every_operation_that_knows_its_caller_declares_its_security(
    auth: str, bearer: list[dict[str, list[str]]]
) -> None:
    """Walks the document: an operation that may answer 401 declares bearer_auth (optional
    with VIVA_AUTH=none), one that cannot declares nothing; every scheme named exists."""
    document = OPENAPI[auth]
    schemes = document["components"]["securitySchemes"]
    assert (schemes["bearer_auth"]["type"], schemes["bearer_auth"]["scheme"]) == ("http", "bearer")
    public, named = [], set()
    for method, path, operation in operations(document):
        if "401" in operation["responses"]:
            assert operation.get("security") == bearer, (method, path)
        else:
            assert "security" not in operation, (method, path)
            public.append(f"{method} {path}")
        named |= {name for requirement in operation.get("security", []) for name in requirement}
    assert public == ["GET /api/config"]
    for path, described in document["x-websockets"].items():
        assert described["security"] == [{"socket_ticket": []}, *bearer], path
        named |= {name for requirement in described["security"] for name in requirement}
    assert named == set(schemes)


@pytest.mark.parametrize("auth", ["jwt", "none"])
async def test_the_declared_security_is_what_the_server_asks(
    aiohttp_client: MakeClient, settings: Settings, auth: str
) -> None:
    """Every operation of the served document, called without a token, answers 401 exactly
    when its security has no anonymous alternative, and never 401 with a valid token (or,
    in development, a user_id); the sockets likewise, before the upgrade."""
    client = await aiohttp_client(create_app(settings.replace(auth=auth, jwt_secret=SECRET)))
    document = await (await client.get("/api/openapi.json")).json()
    owner = user()
    token = bearer(hs256(owner))
    for method, path, operation in operations(document):
        required = bool(operation.get("security")) and {} not in operation["security"]
        for url, request in requests_naming_nothing(path, operation, owner):
            anonymous = await client.request(method, url, **request)
            assert (anonymous.status == 401) == required, (method, url, anonymous.status)
        for url, request in requests_naming_nothing(path, operation, owner):
            signed_in = await client.request(method, url, headers=token, **request)
            assert signed_in.status != 401, (method, url, await signed_in.text())
    for route, described in document["x-websockets"].items():
        url = route.replace("{session_id}", str(uuid.uuid4()))
        if {} in described["security"]:  # opens, then closes: no such session
            ws = await client.ws_connect(url)
            assert (await ws.receive(timeout=10)).type == WSMsgType.CLOSE
            continue
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect(url)
        assert refused.value.status == 401, route


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
