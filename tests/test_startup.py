"""What a server has ready before its first caller: every model, fallbacks included,
loaded by one warm-up; in a served process, startup's objects kept out of the garbage
collector's full collections (`server.freeze_startup_objects`), and the models' threads
running nicer than the event loop (`voice/priority.py`).

A model loaded in the middle of a call stalls that call's audio; a full collection over
the ~200,000 objects startup leaves stalled every call on the instance for 200-330 ms
(benchmarks/README.md, capacity with the offline providers).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from api.appkeys import STT, TTS
from server import create_app
from settings import Settings
from tests.conftest import MakeClient
from tests.fake_openai import FakeOpenAI
from tests.instances import METRICS_AUTH, Instance
from voice.stt import FallbackSpeechToText
from voice.tts import FallbackTextToSpeech, PiperTextToSpeech


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


async def test_startup_loads_the_offline_voice_behind_openai_speech(
    aiohttp_client: MakeClient, fake: FakeOpenAI, tmp_path: Path
) -> None:
    """With a key, Viva speaks with OpenAI and falls back to Piper when OpenAI fails: the
    Piper voice is loaded at startup, with the recogniser, not by the first failed reply."""
    settings = Settings(
        data_dir=tmp_path, providers="openai", openai_api_key="test-key",
        openai_base_url=fake.base_url,
    )
    app = create_app(settings)
    await aiohttp_client(app)
    voice = app[TTS]
    assert isinstance(voice, FallbackTextToSpeech)
    assert isinstance(voice.fallback, PiperTextToSpeech)
    assert voice.fallback.ready and voice.ready
    assert isinstance(app[STT], FallbackSpeechToText)


async def test_startup_loads_the_offline_voice(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    app = create_app(Settings(data_dir=tmp_path, providers="offline"))
    await aiohttp_client(app)
    assert isinstance(app[TTS], PiperTextToSpeech)
    assert app[TTS].ready


async def test_a_served_instance_freezes_what_startup_built(tmp_path: Path) -> None:
    viva = Instance("viva-startup", {"VIVA_DATA_DIR": str(tmp_path)}, tmp_path)
    try:
        await viva.start()
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{viva.base}/metrics", headers=METRICS_AUTH) as response,
        ):
            metrics = await response.text()
        frozen = re.search(r"^viva_gc_frozen_objects\{[^}]*\} (\S+)$", metrics, re.MULTILINE)
        assert frozen is not None, metrics[:2000]
        # the models' tokenizers, SQLAlchemy, aiortc and the app: far more than a few
        assert float(frozen.group(1)) > 50_000
        assert "Piper voice loaded" in viva.log()
    finally:
        viva.stop()


def thread_nice_values(pid: int) -> dict[int, int]:
    """Each thread of process `pid` and its nice value (Linux: /proc/PID/task/TID/stat)."""
    values = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that just ended
            stat = (task / "stat").read_text()
            # fields after the command's closing parenthesis; nice is the 19th of stat
            values[int(task.name)] = int(stat.rsplit(")", 1)[1].split()[16])
    return values


@pytest.mark.parametrize("nice", [10, 0])
async def test_a_served_instance_runs_its_models_nicer_than_its_loop(
    tmp_path: Path, nice: int
) -> None:
    """Whisper's pool thread, the CTranslate2 worker it starts and Piper's thread run at
    the event loop's nice value + VIVA_INFERENCE_NICE (0: all at the loop's)."""
    env = {"VIVA_DATA_DIR": str(tmp_path), "VIVA_INFERENCE_NICE": str(nice)}
    viva = Instance(f"viva-nice-{nice}", env, tmp_path)
    try:
        await viva.start()
        assert viva.process is not None
        values = thread_nice_values(viva.process.pid)
        loop_nice = values[viva.process.pid]  # the main thread runs the event loop
        lowered = [tid for tid, value in values.items() if value == loop_nice + nice]
        if nice:
            assert len(lowered) >= 3, values
        assert all(value in (loop_nice, loop_nice + nice) for value in values.values()), values
        assert sum(1 for value in values.values() if value == loop_nice) >= 1
    finally:
        viva.stop()
