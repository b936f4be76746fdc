"""A shorter RTP send loop for a call's own outgoing audio (`PlayoutTrack` in Opus mode).

aiortc's `RTCRtpSender._run_rtp` does, for every 20 ms packet: `track.recv()` wraps the
payload in an `av.Packet`, the Opus encoder's `pack` converts its pts with `Fraction`
arithmetic, an `RtpPacket` object is built with its header extensions and serialized
through the extensions map, the packet is kept for retransmission, and the NTP clock is
read twice through `datetime` (once for an abs-send-time extension an audio sender never
negotiates, once for the sender report).

`PlayoutSender` runs the same loop for Viva's track with what does not change between
packets built once: the 12-byte header and its header extensions are a template, and each
packet is that template with its sequence number and timestamp packed in, followed by the
payload `PlayoutTrack.next_packet()` hands over as bytes (its pts is already in the
48 kHz RTP clock). The sender report's NTP time and counters are kept as aiortc keeps
them; SRTP and the ICE transport are aiortc's own (`RTCDtlsTransport._send_rtp`).

It is aiortc's sender with one method overridden, chosen per call by `use_for` before
the sender starts. The short loop runs only where it sends exactly what aiortc would:
Viva's Opus track, no NACK or RTX negotiated (aiortc keeps no history for an audio
stream that cannot be asked to retransmit here), and header extensions that do not vary
per packet (mid, and no abs-send-time); anywhere else aiortc's own loop runs.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
import traceback
from typing import Any

from aiortc import RTCRtpSender
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpsender import random_sequence_number
from aiortc.rtp import RtpPacket
from aiortc.utils import random32

from voice.playout import PlayoutTrack

log = logging.getLogger(f"viva.{__name__}")

NTP_OFFSET = 2208988800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)
_SEQUENCE_TIMESTAMP = struct.Struct("!HL")
_P = "_RTCRtpSender__"  # aiortc 1.x's private attribute prefix


def ntp_now() -> int:
    """The NTP time (32.32 fixed point) `aiortc.clock.current_ntp_time` gives, from
    `time.time()` instead of a timezone-aware `datetime` and a `timedelta`."""
    return int((time.time() + NTP_OFFSET) * 4294967296.0)


def header_template(sender: RTCRtpSender, codec: RTCRtpCodecParameters) -> bytes | None:
    """The RTP header (with extensions) aiortc would write for every packet of `sender`,
    with sequence number and timestamp zero; None when some extension varies per packet."""
    extensions_map = getattr(sender, _P + "rtp_header_extensions_map")
    if codec.payloadType is None:
        return None
    headers = []
    for abs_send_time in (0, 0xFFFFFF):
        packet = RtpPacket(payload_type=codec.payloadType, marker=1)
        packet.ssrc = sender._ssrc
        packet.extensions.abs_send_time = abs_send_time
        packet.extensions.mid = getattr(sender, _P + "mid")
        headers.append(packet.serialize(extensions_map))
    return headers[0] if headers[0] == headers[1] else None


class PlayoutSender(RTCRtpSender):
    """aiortc's `RTCRtpSender` with a shorter send loop for a `PlayoutTrack` (above)."""

    @classmethod
    def use_for(cls, sender: RTCRtpSender) -> bool:
        """Make `sender` (not yet started) one of these; False if it is not aiortc's own."""
        if type(sender) is not RTCRtpSender or not hasattr(sender, _P + "rtp_started"):
            return False
        sender.__class__ = cls
        return True

    def _short_loop_fits(self, track: Any, codec: RTCRtpCodecParameters) -> bytes | None:
        if not isinstance(track, PlayoutTrack) or not track.opus:
            return None
        if codec.mimeType.lower() != "audio/opus" or codec.clockRate != 48000:
            return None
        if getattr(self, _P + "rtx_payload_type") is not None or any(
            feedback.type == "nack" for feedback in codec.rtcpFeedback
        ):
            return None
        return header_template(self, codec)

    async def _run_rtp(self, codec: RTCRtpCodecParameters) -> None:
        track = self.track
        header = self._short_loop_fits(track, codec)
        if header is None:
            log.info("outgoing audio: aiortc's own send loop")
            await super()._run_rtp(codec)
            return
        assert isinstance(track, PlayoutTrack)
        getattr(self, _P + "rtp_started").set()
        first, rest = header[:2], header[8:]
        pack = _SEQUENCE_TIMESTAMP.pack
        sequence_number = random_sequence_number()
        timestamp_origin = random32()
        octets = packets = 0
        try:
            while self.track is track:
                payload, pts = await track.next_packet()
                if not self._enabled:
                    continue
                timestamp = (timestamp_origin + pts) & 0xFFFFFFFF
                await self.transport._send_rtp(
                    b"".join((first, pack(sequence_number, timestamp), rest, payload))
                )
                # what aiortc keeps for its sender reports (RTCP SR, every 0.5-1.5 s)
                octets += len(payload)
                packets += 1
                self._RTCRtpSender__ntp_timestamp = ntp_now()
                self._RTCRtpSender__rtp_timestamp = timestamp
                self._RTCRtpSender__octet_count = octets
                self._RTCRtpSender__packet_count = packets
                sequence_number = (sequence_number + 1) & 0xFFFF
        except (asyncio.CancelledError, ConnectionError, MediaStreamError):
            pass  # as aiortc's loop: the sender stops, the call hung up, the track ended
        except Exception:
            log.warning("outgoing audio: %s", traceback.format_exc())
        else:  # the track was replaced: aiortc's own loop goes on with the new one (or none)
            await super()._run_rtp(codec)
            return
        # what aiortc's loop does when it ends
        track.stop()
        if self.track is track:
            self._RTCRtpSender__track = None
        getattr(self, _P + "rtp_exited").set()
