"""A client that goes away mid-request: its work is cancelled, and nothing is stored.

A real `python -m server` process (the README's server, whose runner cancels the handler
of a request whose connection closed) transcribes through the fake OpenAI server, which
takes its time. The client hangs up while the transcription is pending.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.conftest import user
from tests.fake_openai import TRANSCRIPTIONS, FakeOpenAI, Reply
from tests.instances import Instance, call, eventually
from tests.speech_samples import encode, tone

SLOW_TRANSCRIPTION_S = 3.0


async def test_abandoned_upload_is_cancelled_and_stores_nothing(tmp_path: Path) -> None:
    owner = user()
    async with FakeOpenAI() as fake:
        viva = Instance(
            "viva-abandon",
            {
                "VIVA_DATA_DIR": str(tmp_path),
                "VIVA_PROVIDERS": "openai",
                "OPENAI_API_KEY": "test",
                "OPENAI_BASE_URL": fake.base_url,
            },
            tmp_path,
        )
        try:
            await viva.start()
            async with aiohttp.ClientSession() as http:
                _, started = await call(
                    http, "POST", f"{viva.base}/api/collector/start", {"user_id": owner}
                )
            sid = started["collector_session_id"]
            fake.script(TRANSCRIPTIONS, Reply(json={"text": "Yes."}, delay=SLOW_TRANSCRIPTION_S))
            form = aiohttp.FormData(default_to_multipart=True)
            form.add_field(
                "audio_file", encode(tone(1.0), "wav"), filename="a.wav", content_type="audio/wav"
            )
            for name, value in {
                "user_id": owner,
                "session_type": "collector",
                "session_id": sid,
            }.items():
                form.add_field(name, value)

            async def upload() -> None:
                async with (
                    aiohttp.ClientSession() as http,
                    http.post(
                        f"{viva.base}/api/transcripts/voice/transcribe", data=form
                    ) as response,
                ):
                    await response.read()

            pending = asyncio.ensure_future(upload())
            reached = await eventually(lambda: bool(fake.requests_to(TRANSCRIPTIONS)), 30)
            assert reached, viva.log()
            pending.cancel()  # the client hangs up: its connection closes
            await asyncio.gather(pending, return_exceptions=True)

            assert await eventually(lambda: "transcription abandoned" in viva.log(), 10)
            await asyncio.sleep(SLOW_TRANSCRIPTION_S + 1)  # past when the answer would come
            async with aiohttp.ClientSession() as http:
                _, body = await call(
                    http,
                    "GET",
                    f"{viva.base}/api/transcripts/collector/{sid}?user_id={owner}",
                )
            assert [item["speaker"] for item in body["items"]] == ["assistant"], body
            assert "Traceback" not in viva.log()
        finally:
            viva.stop()
