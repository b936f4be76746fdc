"""Inbound call audio (voice/inbound.py): Opus decoded at 16 kHz as it arrives, silent
frames not decoded at all; and the fallback through aiortc's own decoder.

Real libopus, real aiortc peers on loopback, speech synthesized at test time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import av
import numpy as np
import pytest
from aiortc import RTCPeerConnection
from aiortc.codecs.opus import OpusEncoder

from tests.rtc_peer import FRAME, RATE, ScriptedMic, loopback_peer
from tests.speech_samples import speak
from voice.audio import Pcm, resample_pcm
from voice.inbound import DTX_MAX_BYTES, SILENCE, InboundAudio, OpusDecoder16k, is_silence
from voice.opus import OpusFrames
from voice.timing import speech_spans


def _aiortc_packets(pcm48: bytes) -> list[bytes]:
    """48 kHz mono s16 → Opus payloads as aiortc's own sender makes them (a caller's)."""
    encoder = OpusEncoder()
    packets: list[bytes] = []
    data = pcm48.ljust(-(-len(pcm48) // (FRAME * 2)) * FRAME * 2, b"\0")
    for index in range(len(data) // (FRAME * 2)):
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME)
        frame.planes[0].update(data[index * FRAME * 2 : (index + 1) * FRAME * 2])
        frame.sample_rate, frame.pts = RATE, index * FRAME
        packets += encoder.encode(frame)[0]
    return packets


def _correlation(a: np.ndarray, b: np.ndarray, max_lag: int = 80) -> float:
    """Best normalized correlation of two signals over small lags (filter delays differ)."""
    best = 0.0
    for lag in range(-max_lag, max_lag + 1):
        x, y = (a[lag:], b[: len(b) - lag]) if lag >= 0 else (a[:lag], b[-lag:])
        n = min(len(x), len(y))
        x, y = x[:n].astype(np.float64), y[:n].astype(np.float64)
        best = max(best, float(np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y) + 1e-9)))
    return best


def test_decoding_at_16k_gives_what_48k_and_resampling_gave() -> None:
    speech = speak("I would put the slow work on a queue")
    packets = OpusFrames().encode(resample_pcm(speech.data, speech.sample_rate, 48000))
    direct = OpusDecoder16k()
    ours = b"".join(direct.decode(p) for p in packets)
    direct.close()
    codec = av.CodecContext.create("libopus", "r")
    resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
    theirs = bytearray()
    for payload in packets:
        for frame in codec.decode(av.Packet(payload)):
            for out in resampler.resample(frame):
                theirs += bytes(out.planes[0])[: out.samples * 2]
    assert len(ours) == len(packets) * 640  # 20 ms of 16 kHz mono per packet
    assert abs(len(theirs) - len(ours)) <= 640  # the resampler holds back a little
    a, b = np.frombuffer(ours, "<i2"), np.frombuffer(bytes(theirs), "<i2")
    assert _correlation(a, b) > 0.95


def test_the_packets_taken_for_silence_decode_to_silence() -> None:
    """The rule behind not decoding: what aiortc's encoder sends for digital silence is
    this small, and decodes to nothing; speech never comes in packets that small."""
    packets = _aiortc_packets(bytes(FRAME * 2 * 20))
    quiet = [p for p in packets if len(p) <= DTX_MAX_BYTES]
    assert len(quiet) >= 15
    decoder = OpusDecoder16k()
    assert all(not any(decoder.decode(p)) for p in quiet)
    assert decoder.samples(quiet[0]) == 320  # the header says 20 ms
    speech = speak("one question")
    voiced = _aiortc_packets(resample_pcm(speech.data, speech.sample_rate, 48000))
    assert min(len(p) for p in voiced[15:-15]) > DTX_MAX_BYTES
    assert is_silence(SILENCE) and not is_silence(bytes(640))  # identity, not content


async def _connected(receiver_pc: RTCPeerConnection, sender_pc: RTCPeerConnection) -> None:
    await sender_pc.setLocalDescription(await sender_pc.createOffer())
    await receiver_pc.setRemoteDescription(sender_pc.localDescription)
    await receiver_pc.setLocalDescription(await receiver_pc.createAnswer())
    await sender_pc.setRemoteDescription(receiver_pc.localDescription)


async def _receive(direct: bool, seconds_after: float = 1.0) -> tuple[InboundAudio, bytes]:
    """One loopback call: a microphone says a phrase then stays silent; what came in."""
    sender, receiver = loopback_peer(), loopback_peer()
    mic = ScriptedMic()
    sender.addTrack(mic)
    got: asyncio.Future[InboundAudio] = asyncio.get_running_loop().create_future()

    def on_track(track: Any) -> None:
        got.set_result(InboundAudio.of(receiver, track) if direct else InboundAudio(track))

    receiver.on("track", on_track)
    try:
        await _connected(receiver, sender)
        audio = await asyncio.wait_for(got, 10)
        said = mic.say(speak("one question"), then_silence_s=seconds_after)
        heard = bytearray()
        while len(heard) < (said + 0.5) * 32000:
            pcm = await asyncio.wait_for(audio.recv(), 10)
            assert pcm is not None
            heard += pcm
        return audio, bytes(heard)
    finally:
        await sender.close()
        await receiver.close()


@pytest.mark.parametrize("direct", [True, False], ids=["decoded-here", "aiortc-fallback"])
async def test_a_call_hears_16k_speech_either_way(direct: bool) -> None:
    audio, heard = await _receive(direct)
    assert audio.direct is direct
    spans = speech_spans(_pcm(heard))
    voiced = sum(end - start for start, end in spans)
    assert 0.5 < voiced < 1.5  # "one question" is about a second of speech
    if direct:
        assert audio.decoded >= 40  # the spoken frames
        assert audio.skipped >= 50  # the silence before and the second after: not decoded
        assert audio.failed == 0 and audio.passed_on == 0
    else:
        assert audio.decoded == audio.skipped == 0  # aiortc decoded everything


async def test_the_same_words_come_in_on_both_paths() -> None:
    _, direct = await _receive(True, 0.5)
    _, fallback = await _receive(False, 0.5)
    a, b = speech_spans(_pcm(direct)), speech_spans(_pcm(fallback))
    length = [sum(end - start for start, end in spans) for spans in (a, b)]
    assert abs(length[0] - length[1]) <= 0.1


def _pcm(data: bytes) -> Pcm:
    return Pcm(data, 16000)
