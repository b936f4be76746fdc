"""The shorter RTP paths (voice/rtp_send.py, voice/rtp_receive.py) against real aiortc.

Two aiortc peers on loopback: Viva's side sends a `PlayoutTrack` through `PlayoutSender`
and hears the other side through `InboundAudio` (with its packet shortcut); the other
side is plain aiortc, so what it decodes and what its statistics say is what any peer
would see. Speech synthesized at test time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCRtpSender

from tests.rtc_peer import ScriptedMic, loopback_peer
from tests.speech_samples import speak
from voice.audio import Pcm
from voice.inbound import InboundAudio
from voice.playout import PlayoutTrack
from voice.rtp_send import PlayoutSender, ntp_now
from voice.timing import speech_spans


async def _connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection) -> None:
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


def _stats(report: Any, kind: str) -> Any:
    return next(s for s in report.values() if s.type == kind)


async def test_the_playout_sender_sends_what_a_plain_aiortc_peer_decodes() -> None:
    viva, peer = loopback_peer(), loopback_peer()
    playout = PlayoutTrack(opus=True)
    sender = viva.addTrack(playout)
    assert PlayoutSender.use_for(sender) and isinstance(sender, RTCRtpSender)
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    peer.on("track", got.set_result)
    try:
        await _connect(viva, peer)
        track = await asyncio.wait_for(got, 10)
        speech = speak("I would put the slow work on a queue")
        seconds = playout.enqueue(speech.data, speech.sample_rate) / 1000
        heard = bytearray()
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
        for _ in range(int((seconds + 2.0) * 50)):  # the speech, then 2 s of silence
            frame = await asyncio.wait_for(track.recv(), 5)
            for out in resampler.resample(frame):
                heard += bytes(out.planes[0])[: out.samples * 2]
        voiced = sum(end - start for start, end in speech_spans(Pcm(bytes(heard), 16000)))
        assert abs(voiced - speech.duration_s) < 0.6
        # the sender reports (RTCP SR) carry the counts of the packets sent this way
        sent = _stats(await sender.getStats(), "outbound-rtp").packetsSent
        reported = _stats(await peer.getReceivers()[0].getStats(), "remote-outbound-rtp")
        assert 0 < reported.packetsSent <= sent
        received = _stats(await peer.getReceivers()[0].getStats(), "inbound-rtp")
        assert received.packetsReceived >= reported.packetsSent
        assert received.packetsLost == 0  # sequence numbers one by one
    finally:
        await viva.close()
        await peer.close()


async def test_aiortc_own_loop_runs_for_any_other_track() -> None:
    viva, peer = loopback_peer(), loopback_peer()
    mic = ScriptedMic()  # a track of raw frames: aiortc encodes it, its loop sends it
    sender = viva.addTrack(mic)
    assert PlayoutSender.use_for(sender)
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    peer.on("track", got.set_result)
    try:
        await _connect(viva, peer)
        track = await asyncio.wait_for(got, 10)
        mic.say(speak("one question"))
        frames = [await asyncio.wait_for(track.recv(), 5) for _ in range(60)]
        assert any(np.abs(f.to_ndarray()).max() > 1000 for f in frames)
    finally:
        await viva.close()
        await peer.close()


def test_ntp_time_is_aiortc_clock() -> None:
    from aiortc import clock

    assert abs(ntp_now() - clock.current_ntp_time()) < 2**32 // 100  # within 10 ms


async def test_incoming_audio_takes_the_shortcut_and_aiortc_keeps_count() -> None:
    viva, caller = loopback_peer(), loopback_peer()
    mic = ScriptedMic()
    caller.addTrack(mic)
    got: asyncio.Future[InboundAudio] = asyncio.get_running_loop().create_future()
    viva.on("track", lambda track: got.set_result(InboundAudio.of(viva, track)))
    try:
        await _connect(caller, viva)
        audio = await asyncio.wait_for(got, 10)
        assert audio.direct and audio.shortcut is not None
        said = mic.say(speak("one question"), then_silence_s=1.0)
        heard = bytearray()
        while len(heard) < (said + 0.5) * 32000:
            pcm = await asyncio.wait_for(audio.recv(), 10)
            assert pcm is not None
            heard += pcm
        shortcut = audio.shortcut
        assert shortcut.taken >= 90 and shortcut.dropped == 0
        assert audio.decoded + audio.skipped >= shortcut.taken - 5
        voiced = sum(end - start for start, end in speech_spans(Pcm(bytes(heard), 16000)))
        assert 0.5 < voiced < 1.5
        # aiortc's receiver statistics (and its RTCP receiver reports) still count them
        received = _stats(await viva.getReceivers()[0].getStats(), "inbound-rtp")
        assert received.packetsReceived >= shortcut.taken
        connection = viva.getReceivers()[0].transport.transport._connection
        assert "data_received" in connection.__dict__
        audio.close()
        assert "data_received" not in connection.__dict__  # aioice's own method again
    finally:
        await caller.close()
        await viva.close()
