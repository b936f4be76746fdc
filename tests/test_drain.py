"""SIGTERM drains an instance: /readyz flips first, live calls hear `draining`, the turn in
progress finishes and is stored, new calls are refused, and the process exits cleanly.

A real `python -m server` process on loopback, with its chat provider a fake OpenAI server
whose acknowledgement takes long enough to be mid-turn when the signal arrives.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import aiohttp

from tests.conftest import user
from tests.fake_openai import CHAT, FakeOpenAI, Reply
from tests.instances import Instance, call, eventually, interview_on
from tests.rtc_peer import Caller

ACK_DELAY_S = 3.0


async def test_sigterm_drains_a_live_call(tmp_path: Path) -> None:
    owner = user()
    async with FakeOpenAI() as fake, aiohttp.ClientSession() as http:
        viva = Instance(
            "viva-drain",
            {
                "VIVA_DATA_DIR": str(tmp_path),
                "VIVA_PROVIDERS": "openai",
                "OPENAI_API_KEY": "test",
                "OPENAI_BASE_URL": fake.base_url,
                "VIVA_RTC_HOST_ADDRESSES": "127.0.0.1",
                "VIVA_DRAIN_DELAY_SECONDS": "10",  # room for the reads below
            },
            tmp_path,
        )
        try:
            await viva.start()
            # collector answers the rules read alone; the question generation is the fake's
            fake.script(CHAT, Reply.chat('{"questions": ["Q one?", "Q two?", "Q three?"]}'))
            isid = await interview_on(http, viva.base, owner)
            path = f"/api/interviews/sessions/{isid}/call?user_id={owner}"
            caller = Caller(http, f"{viva.base}{path}")
            await caller.connect()
            await caller.wait_for(lambda e: e["type"] == "assistant_done")
            asked = len(fake.requests_to(CHAT))
            fake.script(CHAT, Reply.stream(["Thanks, ", "noted."], delay=ACK_DELAY_S))
            mark = len(caller.events)
            await caller.send({"type": "user_text", "text": "I would add an index."})
            assert await eventually(lambda: len(fake.requests_to(CHAT)) > asked, 30), "no turn"

            viva.signal(signal.SIGTERM)  # mid-turn: the acknowledgement is still coming
            signalled = time.monotonic()

            async def not_ready() -> bool:
                async with http.get(f"{viva.base}/readyz") as response:
                    return response.status == 503 and (await response.json())["code"] == "draining"

            assert await eventually(not_ready, 5)
            flipped = time.monotonic()
            drained = await caller.wait_for(lambda e: e["type"] == "draining", after=mark)
            assert drained["reconnect"] is True
            second = await http.ws_connect(f"{viva.base}{path}")  # a new call meanwhile
            refused = await second.receive_json(timeout=10)
            assert refused["code"] == "draining"
            await second.close()
            turn = await caller.wait_for(lambda e: e["type"] == "turn", after=mark, timeout=30)
            finished = time.monotonic()
            assert turn["question_index"] == 1
            assert flipped < signalled + ACK_DELAY_S < finished  # readyz flipped mid-turn
            assert caller.events.index(drained) < caller.events.index(turn)

            # while draining: stored, and still answering reads
            _, body = await call(
                http, "GET", f"{viva.base}/api/transcripts/interview/{isid}?user_id={owner}"
            )
            said = [(i["speaker"], i["message"]) for i in body["items"]]
            assert said[-2:] == [("user", "I would add an index."), ("assistant", said[-1][1])]
            assert said[-1][1].startswith("Thanks, noted.")

            assert await viva.wait_exit(60) == 0
            assert "drained in" in viva.log()
            await caller.close()
        finally:
            viva.stop()
