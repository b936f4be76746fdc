"""A shorter path for a call's incoming audio packets, from the socket to the decoder.

In aiortc every datagram goes: aioice tries to parse it as STUN (an exception for every
media packet), puts it on its connection's `asyncio.Queue`, the DTLS transport's task
wakes up to take it off (one task step per packet), reads the clock through `datetime`,
SRTP-decrypts it, parses it into an `RtpPacket` with its header extensions, routes it,
and the receiver keeps statistics, unwraps the payload (`codec.name` splits a string
each time), files it in a jitter buffer that hands each audio frame on only once four
later frames have arrived (80 ms), maps its timestamp and puts it on the decoder queue
(`voice/inbound.py` decodes it there).

`AudioShortcut` takes the packets of one known audio stream (its SSRC routed to the
call's receiver, an Opus payload type) straight from aioice's connection, in the same
call that received them: SRTP-decrypted by the transport's own session, the 12-byte
header read with one `struct` call, the receiver's RTCP statistics and active-source
time kept as aiortc keeps them, and the payload handed to the decoder at once, in
sequence order: a packet older than one already handed on (reordered or duplicated on
the way) is dropped, as the jitter buffer drops what comes after its frame went out.
Every other datagram (STUN, DTLS, RTCP, another stream, anything before the handshake
finished) takes aiortc's path as before. `remove()` puts aioice's method back (the
hook refers to the transport, which refers to the connection: a cycle otherwise).
"""

from __future__ import annotations

import datetime
import logging
import struct
from collections.abc import Callable
from typing import Any

import pylibsrtp
from aiortc.rtcrtpreceiver import StreamStatistics

log = logging.getLogger(f"viva.{__name__}")

_HEADER = struct.Struct("!BBHLL")
_EXTENSION = struct.Struct("!HH")
_UTC = datetime.UTC
_R = "_RTCRtpReceiver__"  # aiortc 1.x's private attribute prefixes
_D = "_RTCDtlsTransport__"


class _Seen:
    """What aiortc's `StreamStatistics.add` reads of a packet."""

    __slots__ = ("sequence_number", "timestamp")

    def __init__(self) -> None:
        self.sequence_number = 0
        self.timestamp = 0


class AudioShortcut:
    """Incoming Opus packets of `receiver`, handed to `arrived(payload)` as they come."""

    def __init__(self, receiver: Any, arrived: Callable[[bytes], None]) -> None:
        self._receiver = receiver
        self._arrived = arrived
        self._dtls = receiver.transport
        self._connection = self._dtls.transport._connection  # aioice's Connection
        self._router = self._dtls._rtp_router
        self._codecs: dict[int, Any] = getattr(receiver, _R + "codecs")
        self._streams: dict[int, Any] = getattr(receiver, _R + "remote_streams")
        self._active: dict[int, datetime.datetime] = getattr(receiver, _R + "active_ssrc")
        self._aiortc_path = self._connection.data_received
        self._seen = _Seen()
        self._last: int | None = None  # sequence number of the last packet handed on
        self.taken = 0  # packets that came this way
        self.dropped = 0  # late or repeated packets not handed on
        self._connection.data_received = self._data_received

    @classmethod
    def install(cls, receiver: Any, arrived: Callable[[bytes], None]) -> AudioShortcut | None:
        """The shortcut for `receiver`, or None where aiortc's internals are not the ones
        it was written for (then every packet takes aiortc's path)."""
        try:
            connection = receiver.transport.transport._connection
            fits = (
                callable(connection.data_received)
                and hasattr(receiver.transport, "_rx_srtp")
                and hasattr(receiver.transport, _D + "rx_packets")
                and all(
                    hasattr(receiver, _R + name)
                    for name in ("codecs", "remote_streams", "active_ssrc")
                )
            )
        except AttributeError:
            fits = False
        if not fits:
            log.info("inbound audio: aiortc's packet path (no shortcut for this aiortc)")
            return None
        return cls(receiver, arrived)

    def remove(self) -> None:
        if self._connection.__dict__.get("data_received") == self._data_received:
            del self._connection.data_received
        self._arrived = _ignore

    def _data_received(self, data: bytes, component: int) -> None:
        srtp = self._dtls._rx_srtp
        # SRTP (not RTCP: payload types 192-223 in the second byte), its header in the clear
        if srtp is None or len(data) < 12 or not 127 < data[0] < 192 or 191 < data[1] < 224:
            self._aiortc_path(data, component)
            return
        first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
        codec = self._codecs.get(second & 0x7F)
        if (
            self._router.ssrc_table.get(ssrc) is not self._receiver
            or codec is None
            or codec.mimeType.lower() != "audio/opus"
        ):
            self._aiortc_path(data, component)  # not this stream (yet): aiortc routes it
            return
        self.taken += 1
        dtls = self._dtls
        setattr(dtls, _D + "rx_bytes", getattr(dtls, _D + "rx_bytes") + len(data))
        setattr(dtls, _D + "rx_packets", getattr(dtls, _D + "rx_packets") + 1)
        try:
            data = srtp.unprotect(data)
        except pylibsrtp.Error:
            return
        receiver = self._receiver
        if not receiver._enabled:
            return
        self._active[ssrc] = datetime.datetime.now(_UTC)
        stream = self._streams.get(ssrc)
        if stream is None:  # (aiortc's path made it, unless the first packet came here)
            stream = self._streams[ssrc] = StreamStatistics(codec.clockRate)
        seen = self._seen
        seen.sequence_number, seen.timestamp = sequence, timestamp
        stream.add(seen)  # type: ignore[arg-type]  # (it reads only these two)
        last = self._last
        if last is not None and not 0 < (sequence - last) & 0xFFFF < 0x8000:
            self.dropped += 1
            return
        self._last = sequence
        start = 12 + 4 * (first & 0x0F)
        if first & 0x10:  # header extensions: skipped (an audio receiver reads none)
            if len(data) < start + 4:
                return
            start += 4 + 4 * _EXTENSION.unpack_from(data, start)[1]
        end = len(data) - data[-1] if first & 0x20 else len(data)  # padding
        if start < end:
            self._arrived(data[start:end])


def _ignore(payload: bytes) -> None:
    pass
