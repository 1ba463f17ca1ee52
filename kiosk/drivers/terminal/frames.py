"""ZVT serial transport: DLE STX … DLE ETX frames with CRC-16/KERMIT, ACK and NAK.

The decoder is fed whatever bytes arrive and hands back complete events. A frame that
fails its checksum or breaks the framing is reported as `BadFrame` (the link answers
NAK and the sender repeats); bytes outside a frame are skipped. A DLE STX inside a
frame starts a new frame, so the decoder finds its feet again after line noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from kiosk.drivers.crc import crc16_kermit

DLE, STX, ETX, ACK, NAK = 0x10, 0x02, 0x03, 0x06, 0x15
MAX_APDU = 64 * 1024


def encode_frame(apdu: bytes) -> bytes:
    crc = crc16_kermit(apdu + bytes([ETX]))
    body = apdu.replace(bytes([DLE]), bytes([DLE, DLE]))
    return bytes([DLE, STX]) + body + bytes([DLE, ETX, crc & 0xFF, crc >> 8])


@dataclass(frozen=True)
class Frame:
    apdu: bytes


@dataclass(frozen=True)
class Ack:
    pass


@dataclass(frozen=True)
class Nak:
    pass


@dataclass(frozen=True)
class BadFrame:
    reason: str


Event = Frame | Ack | Nak | BadFrame


class _State(Enum):
    IDLE = auto()
    AFTER_DLE = auto()  # outside a frame, a DLE seen: STX opens a frame
    BODY = auto()
    BODY_DLE = auto()  # inside a frame, a DLE seen: DLE, ETX or STX follows
    CRC_LOW = auto()
    CRC_HIGH = auto()


class FrameDecoder:
    def __init__(self) -> None:
        self.skipped = 0  # bytes outside any frame, for the log
        self.reset()

    def reset(self) -> None:
        self._state = _State.IDLE
        self._body = bytearray()
        self._crc_low = 0

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for byte in data:
            event = self._step(byte)
            if event is not None:
                events.append(event)
        return events

    def _step(self, byte: int) -> Event | None:
        state = self._state
        if state is _State.IDLE:
            if byte == ACK:
                return Ack()
            if byte == NAK:
                return Nak()
            if byte == DLE:
                self._state = _State.AFTER_DLE
            else:
                self.skipped += 1
            return None
        if state is _State.AFTER_DLE:
            if byte == STX:
                self._body.clear()
                self._state = _State.BODY
            elif byte != DLE:
                self.skipped += 2
                self._state = _State.IDLE
            return None
        if state is _State.BODY:
            if byte == DLE:
                self._state = _State.BODY_DLE
                return None
            self._body.append(byte)
            if len(self._body) > MAX_APDU:
                self.reset()
                return BadFrame(f"frame longer than {MAX_APDU} bytes")
            return None
        if state is _State.BODY_DLE:
            if byte == DLE:
                self._body.append(DLE)
                self._state = _State.BODY
                return None
            if byte == ETX:
                self._state = _State.CRC_LOW
                return None
            if byte == STX:  # a new frame begins: the one we were reading is lost
                self._body.clear()
                self._state = _State.BODY
                return BadFrame("frame cut short by a new DLE STX")
            self.reset()
            return BadFrame(f"DLE followed by 0x{byte:02X} inside a frame")
        if state is _State.CRC_LOW:
            self._crc_low = byte
            self._state = _State.CRC_HIGH
            return None
        # CRC_HIGH
        received = self._crc_low | byte << 8
        apdu = bytes(self._body)
        self.reset()
        expected = crc16_kermit(apdu + bytes([ETX]))
        if received != expected:
            return BadFrame(f"CRC 0x{received:04X}, expected 0x{expected:04X}")
        if len(apdu) < 3:
            return BadFrame(f"APDU of {len(apdu)} bytes is shorter than a header")
        return Frame(apdu)
