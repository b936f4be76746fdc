"""The proposed media changes, tried on an unchanged Viva by patching it at startup.

Not product code: a measurement of what the proposals in benchmarks/README.md would buy,
run exactly like the server (`python -m benchmarks.prototype --port …`). The changes are
chosen with VIVA_PROTOTYPE (comma separated; default send,receive,prefetch):

* send     PlayoutTrack hands aiortc `av.Packet`s: one pre-encoded Opus packet of silence
           while nothing is queued, and speech encoded in the track (mono, 32 kbit/s) —
           no Opus encoding of silence, no executor round trip per frame, no pure-Python
           audio-level loop over every frame (aiortc computes it only for Frames). Viva
           does this itself since fcf3c45 (speech encoded per sentence in a worker thread);
           the patch then changes nothing.
* receive  audio is decoded where it arrives, in the event loop, straight to 16 kHz mono
           (what the VAD wants) — no decoder thread, no run_coroutine_threadsafe per frame,
           no 48 kHz stereo → 16 kHz resampling.
* prefetch the receiver's jitter buffer releases a frame after 1 more instead of 4
           (aiortc's default holds 80 ms of the candidate's audio before the VAD sees it).
* echo     PlayoutTrack.recent_level (the echo gate's "loudest frame sent lately", asked
           for every received frame) walks the kept levels newest first and stops at the
           window's start, instead of all 100 every time.
* gc       gc.freeze() once started (the imported modules, SQLAlchemy and SDK objects
           leave the collector's view) and a 10× larger first-generation threshold: media
           makes many short-lived objects, and full collections walked the whole heap.
"""

from __future__ import annotations

import fractions
import gc
import os
import queue
from typing import Any

import av
from aiortc import rtcrtpreceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame

import server
from voice import playout

CHANGES = ("send", "receive", "prefetch", "echo", "gc")
SILENCE = bytes(playout.FRAME_BYTES)


def _opus_encoder() -> Any:
    codec = av.CodecContext.create("libopus", "w")
    codec.bit_rate = 32000
    codec.format = "s16"
    codec.layout = "mono"
    codec.sample_rate = playout.SAMPLE_RATE
    codec.time_base = playout.TIME_BASE
    codec.options = {"application": "voip"}
    return codec


def _silence_packet() -> bytes:
    codec = _opus_encoder()
    packets: list[Any] = []
    for index in range(5):
        frame = av.AudioFrame(format="s16", layout="mono", samples=playout.FRAME_SAMPLES)
        frame.planes[0].update(SILENCE)
        frame.sample_rate = playout.SAMPLE_RATE
        frame.pts = index * playout.FRAME_SAMPLES
        packets += codec.encode(frame)
    return bytes(packets[-1])


def patch_send() -> None:
    original = playout.PlayoutTrack.recv
    silence = _silence_packet()
    encoders: dict[int, Any] = {}

    async def recv(self: playout.PlayoutTrack) -> Any:
        frame = await original(self)
        if isinstance(frame, av.Packet):  # the track already sends Opus (Viva since fcf3c45)
            return frame
        payload = silence
        if bytes(frame.planes[0]) != SILENCE:
            encoder = encoders.setdefault(id(self), _opus_encoder())
            packets = encoder.encode(frame)
            payload = bytes(packets[0]) if packets else silence
        packet = av.Packet(payload)
        packet.pts = frame.pts
        packet.time_base = playout.TIME_BASE
        return packet

    playout.PlayoutTrack.recv = recv  # type: ignore[method-assign]


class _DecodeHere(queue.Queue):  # type: ignore[type-arg]
    """Stands in for the receiver's decoder queue: decodes on put, in the caller's thread."""

    def __init__(self, output: Any) -> None:
        super().__init__()
        self._output = output
        self._codec = av.CodecContext.create("libopus", "r")
        self._codec.format = "s16"
        self._codec.layout = "mono"
        self._codec.sample_rate = 16000
        self._time_base = fractions.Fraction(1, 48000)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            self._output.put_nowait(None)
            return
        _codec, encoded = item
        assert isinstance(encoded, JitterFrame)
        packet = av.Packet(encoded.data)
        packet.pts = encoded.timestamp
        packet.time_base = self._time_base
        try:
            frames = self._codec.decode(packet)
        except av.FFmpegError:
            return
        for frame in frames:
            self._output.put_nowait(frame)


def patch_receive() -> None:
    receiver = rtcrtpreceiver.RTCRtpReceiver
    original = receiver.receive

    def idle_worker(*_args: object) -> None:  # the thread aiortc starts ends at once
        return

    async def receive(self: Any, parameters: Any) -> None:
        if self.track.kind == "audio":
            self._RTCRtpReceiver__decoder_queue = _DecodeHere(self._track._queue)
        await original(self, parameters)

    rtcrtpreceiver.decoder_worker = idle_worker  # type: ignore[assignment]
    receiver.receive = receive  # type: ignore[method-assign]


def patch_prefetch(frames: int = 1) -> None:
    receiver = rtcrtpreceiver.RTCRtpReceiver
    original = receiver.__init__

    def init(self: Any, kind: str, transport: Any) -> None:
        original(self, kind, transport)
        if kind == "audio":
            self._RTCRtpReceiver__jitter_buffer = JitterBuffer(capacity=16, prefetch=frames)

    receiver.__init__ = init  # type: ignore[method-assign]


def patch_gc() -> None:
    original = server.create_app

    def create_app(settings: Any) -> Any:
        app = original(settings)

        async def freeze(_app: Any) -> None:
            gc.collect()
            gc.freeze()
            threshold = gc.get_threshold()
            gc.set_threshold(threshold[0] * 10, *threshold[1:])

        app.on_startup.append(freeze)
        return app

    server.create_app = create_app  # type: ignore[assignment]


def patch_echo() -> None:
    def recent_level(self: Any, seconds: float) -> float:
        since = self._clock() - seconds
        loudest = 0.0
        for at, level in reversed(self._sent_levels):
            if at < since:
                break
            loudest = max(loudest, level)
        return loudest

    playout.PlayoutTrack.recent_level = recent_level  # type: ignore[method-assign]


def apply(changes: str) -> list[str]:
    chosen = [c.strip() for c in changes.split(",") if c.strip()]
    patches = {
        "send": patch_send,
        "receive": patch_receive,
        "prefetch": patch_prefetch,
        "echo": patch_echo,
        "gc": patch_gc,
    }
    for change in chosen:
        patches[change]()
    return chosen


def main() -> None:
    chosen = apply(os.environ.get("VIVA_PROTOTYPE", "send,receive,prefetch"))
    print(f"prototype changes: {', '.join(chosen) or 'none'}", flush=True)
    server.main()


if __name__ == "__main__":
    main()
