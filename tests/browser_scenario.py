"""A whole voice interview in real headless Chromium against the real app, on loopback only.

Run by tests/test_browser.py inside a private network namespace that has only `lo`
(`unshare -n bash -c 'ip link set lo up && python -m tests.browser_scenario --artifacts DIR'`):
Chromium offers 127.0.0.1 candidates with --allow-loopback-in-peer-connection and the
server gathers only 127.0.0.1 (`rtc_host_addresses`), so the call never leaves `lo`.

The microphone is Chromium's fake capture device playing one WAV generated here with
Piper (`MIC_SCRIPT`). The file starts when the page calls getUserMedia and the page keeps
that stream from the collector call into the interview call, so the WAV is one timeline:
each answer sits after the silence the assistant needs to finish its prompt, plus slack.
An answer that still comes early barges in, which cuts the prompt and keeps the order.
The role is typed into the text fallback (open recognition of a job title is poor); every
other answer is spoken.

Auth is on (VIVA_AUTH=jwt, an HS256 token for USER): the page gets its token in the URL
fragment, uses a ticket for each call socket, and no URL it requests names the token or
the user. A second check frames the page in a "host app" on another loopback origin that
hands the token over by postMessage.

With `--base URL` it drives a Viva that is already running there instead of starting one,
for example the load balancer of `scripts/cluster`, which must run with VIVA_AUTH=jwt,
VIVA_JWT_SECRET set to tests/auth_helpers.py's SECRET and VIVA_CORS_ORIGINS naming the host
page (`--host-port`, default 8090). Each such run signs in as a new user.

Prints one JSON line (what was seen, timings, problems) and exits 0 when every check held.
Screenshots and the WAV go to the artifacts folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
import uuid
import wave
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web
from playwright.async_api import BrowserContext, Page, async_playwright

from server import create_app
from settings import Settings
from tests.auth_helpers import SECRET, bearer, hs256
from tests.rtc_peer import heard_answers
from tests.speech_samples import speak
from voice.audio import TARGET_RATE

CHROMIUM = "/usr/bin/chromium"
USER = "browser-tester"
ROLE = "backend developer"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]

# (seconds of silence before, what the candidate says). Silences are the assistant's
# prompt (measured with Piper's voice) + the end-of-turn window + 2.5–4 s of slack.
MIC_SCRIPT: tuple[tuple[float, str], ...] = (
    # greeting "Hi Ada! I'm Viva. … Are you ready to begin?" ends ~6.9 s after the call
    (9.5, "Yes, I'm ready."),
    # reply ~3.7 s, the role typed, its reply ~4.5 s
    (12.0, "A technical interview, please."),
    (9.0, "Senior level."),  # "Technical it is. What level … senior?" ~5.7 s
    (8.0, "I use Python."),  # "… Which technologies should the questions cover?" ~4.4 s
    (7.5, "Two questions, please."),  # "… How many questions would you like …" ~4.0 s
    # the wrap-up (~8 s), the click on "Start the interview", the interview call's
    # "Welcome! First question: …" (~7–9 s)
    (
        21.0,
        "I would split the code into modules with clear owners and small public "
        "interfaces, and review every change that crosses a boundary.",
    ),
    # the 1.2 s interview turn window, ~2 s of open recognition, then the acknowledgement
    # and "Next question: …" (~9 s)
    (
        15.5,
        "I would write each change to a local table with an outbox, publish the "
        "events from there, and make every consumer safe to retry.",
    ),
    # a spare, heard only if an earlier answer was lost
    (15.5, "I would measure first, then add caching where the profile shows it helps."),
)
SECOND_ANSWERS = (
    "First I would agree module boundaries with clear owners, because a large codebase stays "
    "healthy when every change has a reviewer who owns that part; for example we added "
    "codeowners, type checks in CI and small public interfaces between packages.",
    "I would use the outbox pattern: write the change and an event in one transaction, then "
    "publish the events, and make consumers idempotent so retries are safe.",
)
TRAILING_SILENCE_S = 60.0  # Chromium loops the file; the run ends long before it wraps
STEP_TIMEOUT_MS = 45_000


def write_mic_wav(path: Path) -> list[dict[str, Any]]:
    """The whole spoken script as one 16 kHz mono WAV; returns when each answer starts."""
    pieces: list[bytes] = []
    at = 0.0
    cues = []
    for silence, text in MIC_SCRIPT:
        pieces.append(bytes(int(silence * TARGET_RATE) * 2))
        at += silence
        speech = speak(text).data
        cues.append({"at_s": round(at, 2), "text": text, "seconds": len(speech) / 2 / TARGET_RATE})
        pieces.append(speech)
        at += len(speech) / 2 / TARGET_RATE
    pieces.append(bytes(int(TRAILING_SILENCE_S * TARGET_RATE) * 2))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(TARGET_RATE)
        out.writeframes(b"".join(pieces))
    return cues


class Scenario:
    def __init__(self, page: Page, base: str, artifacts: Path) -> None:
        self.page = page
        self.base = base
        self.artifacts = artifacts
        self.result: dict[str, Any] = {"screenshots": [], "problems": [], "calls": {}}
        self.started = time.monotonic()
        self.token = hs256(USER)
        self.urls: list[str] = []  # every URL the page requested, sockets included
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("websocket", lambda ws: self.urls.append(ws.url))

    def check(self, ok: bool, problem: str) -> None:
        if not ok:
            self.result["problems"].append(problem)

    async def shot(self, name: str) -> None:
        path = self.artifacts / f"{len(self.result['screenshots']) + 1:02d}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        self.result["screenshots"].append(str(path))

    async def wait(self, expression: str, what: str, limit_ms: int = STEP_TIMEOUT_MS) -> None:
        """Poll `expression` from outside the page: the page's CSP forbids the string
        evaluation that Playwright's wait_for_function does inside it."""
        deadline = time.monotonic() + limit_ms / 1000
        while time.monotonic() < deadline:
            if await self.page.evaluate(f"Boolean({expression})"):
                return
            await asyncio.sleep(0.1)
        raise StepFailed(f"timed out waiting for {what}")

    async def debug(self) -> dict[str, Any]:
        return dict(await self.page.evaluate("JSON.parse(JSON.stringify(window.vivaDebug))"))

    def mark(self, name: str) -> None:
        self.result.setdefault("at_s", {})[name] = round(time.monotonic() - self.started, 1)

    async def run(self) -> None:
        page = self.page
        await page.goto(f"{self.base}/#access_token={self.token}")  # the host app's hand-off
        await page.wait_for_selector("#interviews-empty", state="visible")
        self.check(self.token not in page.url, "the token stayed in the address bar")
        self.check(await page.is_hidden("#user-id"), "the user id field shows with auth on")
        await self.shot("dashboard-empty")

        # -- the collector, by voice (and the role typed) ------------------------------
        await page.fill("#candidate-name", "Ada")
        await page.click("#new-interview")
        self.mark("collector_call")
        await self.wait("vivaDebug.connection === 'connected'", "the collector call to connect")
        await self.wait(
            "vivaDebug.state === 'listening' && "
            "document.querySelector('#call-progress').dataset.field === 'role'",
            "the collector to ask for the role (after a spoken yes)",
        )
        await page.fill("#text-input", ROLE)
        await page.click("#text-send")
        await self.wait("vivaDebug.micLevel > 0.02", "the candidate to speak again")
        await self.shot("collector-call")
        await self.wait(
            "!document.querySelector('#start-interview').closest('[hidden]')",
            "the collector to complete",
            limit_ms=90_000,
        )
        self.mark("collector_completed")
        collector = await self.debug()
        await self.shot("collector-completed")
        self.record_call("collector", collector)

        # -- the interview, by voice --------------------------------------------------
        await page.click("#start-interview")
        await self.wait(
            "vivaDebug.kind === 'interview' && vivaDebug.connection === 'connected'",
            "the interview call to connect",
        )
        self.mark("interview_call")
        await self.wait(
            "vivaDebug.events.some(e => e.type === 'user_transcript') && "
            "vivaDebug.remoteLevel > 0.02",
            "the first spoken answer, and the reply playing",
        )
        await self.shot("interview-call")
        await self.wait("!document.querySelector('#feedback').hidden", "the feedback", 90_000)
        self.mark("interview_completed")
        interview = await self.debug()
        await self.shot("interview-feedback")
        self.record_call("interview", interview)
        self.result["feedback_total"] = (interview.get("feedback") or {}).get("total_score")
        self.result["interview_session_id"] = interview["sessionId"]
        await self.check_answers(interview.get("feedback") or {})

        # -- a second, typed, interview; the dashboard charts both ---------------------------
        await second_interview(self.base)
        await page.click("#back")
        await page.wait_for_selector("#interview-rows tr", state="visible")
        await self.wait(
            "document.querySelectorAll('#progress-chart circle.score').length === 2",
            "the progress chart with two interviews",
        )
        self.result["progress"] = (await self.debug()).get("progress")
        await self.shot("dashboard-progress")
        self.result["dashboard_rows"] = await page.locator("#interview-rows tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].slice(0, 5).map(c => c.textContent))"
        )
        await self.shot("dashboard-after")
        link = f"{self.base}/?session={interview['sessionId']}&kind=interview"
        await page.goto(link)  # the token lives on in this tab's sessionStorage
        await self.wait("!document.querySelector('#feedback').hidden", "feedback via deep link")
        await page.goto(f"{self.base}/?session=no-such-session&kind=interview")
        await self.wait("!document.querySelector('#call-error').hidden", "the deep-link error")
        self.result["deep_link_error"] = await page.text_content("#call-error")
        await self.shot("deep-link-error")
        self.check_urls()

    def check_urls(self) -> None:
        sockets = [url for url in self.urls if url.startswith("ws")]
        self.result["socket_urls"] = [url.split("?")[0] + "?ticket=…" for url in sockets]
        self.check(len(sockets) >= 2, f"expected two call sockets, saw {sockets}")
        self.check(all("ticket=" in url for url in sockets), "a call socket without a ticket")
        for url in self.urls:
            self.check(self.token not in url, f"the token appeared in a URL: {url[:80]}")
            self.check("user_id" not in url and USER not in url, f"a URL names the user: {url}")

    async def host_hand_off(self, host: str) -> None:
        """The page framed by a host app on another origin, which posts the token."""
        page = await self.page.context.new_page()  # a new tab: no token in its storage
        await page.goto(f"{host}/host.html")
        viva = page.frame_locator("#viva")
        await viva.locator("#interview-rows tr").first.wait_for(timeout=STEP_TIMEOUT_MS)
        framed = next(frame for frame in page.frames if frame.url.startswith(self.base))
        self.result["host_hand_off"] = await framed.evaluate(
            "({auth: vivaDebug.auth, token: vivaDebug.tokenReceived === true,"
            " rows: document.querySelectorAll('#interview-rows tr').length})"
        )
        self.check(
            self.result["host_hand_off"] == {"auth": "jwt", "token": True, "rows": 1},
            f"the postMessage hand-off went {self.result['host_hand_off']}",
        )
        await page.close()

    async def check_answers(self, feedback: dict[str, Any]) -> None:
        """Per-answer feedback on the page: the candidate's words, delivery figures."""
        shown = await self.page.locator("#feedback-answers > li").evaluate_all(
            "items => items.map(li => ({text: li.querySelector('.answer-text').textContent, "
            "delivery: (li.querySelector('.delivery') || {}).textContent || null}))"
        )
        self.result["answers_shown"] = shown
        (self.artifacts / "feedback-example.json").write_text(json.dumps(feedback, indent=2))
        self.check(len(shown) == 2, f"expected 2 answers in the feedback, the page shows {shown}")
        answers = feedback.get("answers") or []
        for item, answer in zip(shown, answers, strict=False):
            said = answer.get("answer") or ""
            self.check(bool(said) and said in item["text"], f"answer not quoted: {item}")
            self.check(bool(item["delivery"]) and "words/min" in (item["delivery"] or ""),
                       f"no delivery figures for a spoken answer: {item}")  # fmt: skip
        self.check(bool(feedback.get("delivery")), "no total delivery in the feedback")
        beside = await self.page.locator("#transcript .coach").all_text_contents()
        self.result["transcript_timings"] = beside
        self.check(
            len(beside) == 2 and all("wpm" in b for b in beside),
            f"the transcript should show each answer's score and timings: {beside}",
        )
        await self.page.locator("#feedback-answers").scroll_into_view_if_needed()
        await self.shot("answer-feedback")

    def record_call(self, kind: str, debug: dict[str, Any]) -> None:
        events = debug["events"]
        said = heard_answers(events)
        done = [e for e in events if e["type"] == "assistant_done"]
        self.result["calls"][kind] = {
            "timings_ms": debug["timings"],
            "max_remote_level": round(debug["maxRemoteLevel"], 3),
            "user_transcripts": said,
            "assistant_done": [
                {"at_ms": e["at"], "interrupted": e["interrupted"], "text": e["text"]} for e in done
            ],
            "turns": [
                e.get("expected_field") if kind == "collector" else e.get("question_index")
                for e in events
                if e["type"] == "turn"
            ],
            "taken_back": [e["taken_back"] for e in events if e["type"] == "continued"],
            "speech_events": sum(1 for e in events if e["type"] == "speech"),
            "barge_ins": sum(1 for e in events if e["type"] == "barge_in"),
            "errors": [e for e in events if e["type"] == "error"],
            "event_types": sorted({e["type"] for e in events}),
        }
        self.result["calls"][kind]["max_mic_level"] = round(debug["maxMicLevel"], 3)
        self.check("ice_connected" in debug["timings"], f"{kind}: ICE never connected")
        self.check(debug["maxMicLevel"] > 0.01, f"{kind}: the page's microphone stayed silent")
        self.check(debug["maxRemoteLevel"] > 0.01, f"{kind}: no assistant audio reached the page")
        self.check(any(e["type"] == "completed" for e in events), f"{kind}: no completed event")


async def second_interview(base: str) -> None:
    """The same interview again, typed over REST and scored: a second point on the chart."""
    owner = {"user_id": USER}  # the same user the token names
    async with ClientSession(headers=bearer(hs256(USER))) as http:
        (listed,) = await (await http.get(f"{base}/api/interviews", params=owner)).json()
        started = await http.post(f"{base}/api/interviews/{listed['id']}/start", json=owner)
        session = (await started.json())["interview_session_id"]
        for text in SECOND_ANSWERS:
            body = {**owner, "user_message": text}
            await http.post(f"{base}/api/interviews/sessions/{session}/turn", json=body)
        await http.get(f"{base}/api/interviews/sessions/{session}/feedback", params=owner)


class StepFailed(Exception):
    pass


async def verify_stored(base: str, result: dict[str, Any], check: Any) -> None:
    """What the browser did is what the server stored."""
    async with ClientSession(headers=bearer(hs256(USER))) as http:
        listed = await (await http.get(f"{base}/api/interviews")).json()
        check(len(listed) == 1, f"expected one interview, the server lists {len(listed)}")
        if listed:
            setup = {k: listed[0][k] for k in ("role", "interview_type", "level", "techstack")}
            result["interview_setup"] = {**setup, "amount": listed[0]["amount"]}
            check(
                setup
                == {
                    "role": ROLE,
                    "interview_type": "technical",
                    "level": "senior",
                    "techstack": ["Python"],
                }
                and listed[0]["amount"] == 2,
                f"the collector stored the wrong setup: {result['interview_setup']}",
            )
        session = result.get("interview_session_id")
        if session:
            path = f"{base}/api/transcripts/interview/{session}"
            transcript = await (await http.get(path)).json()
            answers = [i["message"] for i in transcript["items"] if i["speaker"] == "user"]
            result["stored_interview_answers"] = answers
            check(len(answers) >= 2 and all(answers), f"stored answers: {answers}")


def check_calls(result: dict[str, Any], check: Any) -> None:
    collector = result["calls"].get("collector", {})
    said = [text.lower() for text in collector.get("user_transcripts", [])]
    spoken = [text for text in said if text != ROLE]
    check(len(spoken) == 5, f"collector: expected 5 spoken answers, heard {said}")
    for expected in ("technical", "senior", "python", "two"):
        check(any(expected in text for text in spoken), f"collector never heard {expected!r}")
    check(
        collector.get("turns")
        == ["readiness", "role", "interview_type", "level", "techstack", "amount", None],
        f"collector fields went {collector.get('turns')}",
    )
    interview = result["calls"].get("interview", {})
    answers = interview.get("user_transcripts", [])
    check(len(answers) >= 2 and all(answers), f"interview: spoken answers {answers}")
    check(
        interview.get("turns") == [0, 1, None],
        f"interview question index went {interview.get('turns')}",
    )
    check(isinstance(result.get("feedback_total"), int), "no feedback score shown")
    check(
        "No such interview session" in (result.get("deep_link_error") or ""),
        f"bad deep link showed {result.get('deep_link_error')!r}",
    )


async def serve(tmp: Path, host: str) -> web.AppRunner:
    """The real app: offline providers, SQLite in `tmp`, speech on, ICE on 127.0.0.1 only,
    tokens signed with the test secret, and `host` allowed to frame the page."""
    settings = Settings(
        data_dir=tmp,
        providers="offline",
        tts_enabled=True,
        rtc_host_addresses=("127.0.0.1",),
        auth="jwt",
        jwt_secret=SECRET,
        cors_origins=(host,),
    )
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


HOST_PAGE = """<!doctype html><title>Host app</title>
<iframe id="viva" src="{base}/" width="900" height="600" allow="microphone"></iframe>
<script>
addEventListener("message", (event) => {{
  if (event.origin === "{base}" && event.data && event.data.type === "viva:ready")
    event.source.postMessage({{type: "viva:token", token: "{token}"}}, "{base}");
}});
</script>"""


async def serve_host(viva: list[str], port: int = 0) -> tuple[web.AppRunner, str]:
    """A stand-in for the app that signed the user in, on its own loopback origin; it
    frames Viva at viva[0] (known once Viva listens)."""

    async def host(_request: web.Request) -> web.Response:
        page = HOST_PAGE.format(base=viva[0], token=hs256(USER))
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/host.html", host)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def drive(base: str, host: str, profile: Path, wav: Path, artifacts: Path) -> Scenario:
    console: list[str] = []
    async with async_playwright() as playwright:
        context: BrowserContext = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={wav}"],
            viewport={"width": 1100, "height": 850},
        )
        page = context.pages[0] if context.pages else await context.new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        scenario = Scenario(page, base, artifacts)
        try:
            await scenario.run()
            await scenario.host_hand_off(host)
        except StepFailed as error:
            scenario.result["problems"].append(str(error))
            scenario.result["debug_at_failure"] = await scenario.debug()
            await scenario.shot("failure")
        finally:
            await context.close()
    scenario.result["console"] = console
    page_errors = [line for line in console if line.startswith(("pageerror", "error"))]
    # the deliberately bad deep link asks for a ticket to a missing session: one 404
    expected = "error: Failed to load resource: the server responded with a status of 404"
    if sum(line.startswith(expected) for line in page_errors) == 1:
        page_errors = [line for line in page_errors if not line.startswith(expected)]
    scenario.check(not page_errors, f"errors in the page console: {page_errors}")
    return scenario


async def main(
    artifacts: Path, wav: Path, tmp: Path, base: str | None = None, host_port: int = 0
) -> dict[str, Any]:
    """The scenario against a Viva of its own, or against the one at `base`."""
    viva: list[str] = []
    host_runner, host = await serve_host(viva, host_port)
    runner = None if base else await serve(tmp, host)
    if runner is not None:
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    assert base is not None
    viva.append(base)
    try:
        scenario = await drive(base, host, tmp / "profile", wav, artifacts)
        await verify_stored(base, scenario.result, scenario.check)
    finally:
        if runner is not None:
            await runner.cleanup()
        await host_runner.cleanup()
    if "debug_at_failure" not in scenario.result:
        check_calls(scenario.result, scenario.check)
    scenario.result["seconds"] = round(time.monotonic() - scenario.started, 1)
    return scenario.result


def run(artifacts: Path, base: str | None = None, host_port: int = 0) -> int:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("aioice", "aiortc", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.glob("*.png"):
        old.unlink()
    wav = artifacts / "microphone.wav"
    cues = write_mic_wav(wav)
    with tempfile.TemporaryDirectory(prefix="viva-browser-") as tmp:
        result = asyncio.run(main(artifacts, wav, Path(tmp), base, host_port))
    result["mic_cues"] = cues
    result["ok"] = not result["problems"]
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, default=Path("artifacts/browser"))
    parser.add_argument("--base", help="a running Viva to drive (e.g. scripts/cluster's)")
    parser.add_argument("--host-port", type=int, default=8090, help="with --base")
    args = parser.parse_args()
    if args.base:  # a shared database: a user of its own, so its listing holds one interview
        USER = f"browser-{uuid.uuid4().hex[:10]}"
    sys.exit(run(args.artifacts, args.base, args.host_port if args.base else 0))
