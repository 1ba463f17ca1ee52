# Frames between the kiosk and the locker co-processor (docs/hardware.md, "Co-processor
# protocol"):
#
#   frame   = 0xA5 | n | body (n bytes) | CRC-16/CCITT-FALSE of n and body, big-endian
#   request = id u16 | command u8 | sent_at u32 | ttl_ms u16 | arguments   (little-endian)
#   reply   = id u16 | status u8 | data
#
# A reader that meets a bad CRC or a length that cannot be drops one byte and looks for
# the next 0xA5, so a glitch on the line costs the frame it hit and no more. A frame's
# bytes come together; a silence of GAP_MS in the middle of one means it was not a frame
# (a stray 0xA5 whose "length" would otherwise hold back every good frame behind it
# until that many bytes arrived): the waiting bytes are skipped one by one, and any
# whole frame behind them is read.
import struct
import time

SYNC = 0xA5
MAX_BODY = 200
GAP_MS = 20

HELLO = 0x01
OPEN = 0x02
STATUS = 0x03
VERSION = 0x04
LOG = 0x05
MAINTENANCE = 0x06  # leave the loop for the REPL (flashing)

OK = 0
UNKNOWN_COMMAND = 1
BAD_ARGUMENT = 2
STALE = 3
NOT_SYNCED = 4

REQUEST = "<HBIH"  # id, command, sent_at, ttl_ms
REQUEST_SIZE = struct.calcsize(REQUEST)


def crc16(data, crc=0xFFFF):
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def frame(body):
    if len(body) > MAX_BODY:
        raise ValueError("body too long")
    head = bytes((len(body),)) + body
    crc = crc16(head)
    return bytes((SYNC,)) + head + bytes((crc >> 8, crc & 0xFF))


def reply(request_id, status, data=b""):
    return struct.pack("<HB", request_id, status) + data


class Decoder:
    """Bytes in, whole frame bodies out."""

    def __init__(self, gap_ms=GAP_MS):
        self._buf = bytearray()
        self.dropped = 0  # bytes skipped while looking for a good frame
        self.gap_ms = gap_ms
        self._last = 0  # ticks when the last bytes came

    def feed(self, data, now=None):
        """Call with what arrived (b"" when nothing did): a silence is noticed then too."""
        now = time.ticks_ms() if now is None else now
        stale = 0  # bytes from before a silence, at the front of the buffer
        if self._buf and time.ticks_diff(now, self._last) >= self.gap_ms:
            stale = len(self._buf)
        if data:
            self._buf.extend(data)
            self._last = now
        bodies = []
        buf = self._buf
        while buf:
            if buf[0] != SYNC:
                start = buf.find(bytes((SYNC,)))
                skip = len(buf) if start < 0 else start
                self.dropped += skip
                stale = max(0, stale - skip)
                buf = buf[skip:]
                continue
            n = buf[1] if len(buf) >= 2 else 0
            possible = len(buf) < 2 or n <= MAX_BODY
            whole = possible and len(buf) >= 2 and len(buf) >= n + 4
            if possible and not whole and not stale:
                break  # the rest of a frame is still on its way
            if whole and crc16(buf[1 : n + 2]) == (buf[n + 2] << 8 | buf[n + 3]):
                bodies.append(bytes(buf[2 : n + 2]))
                buf = buf[n + 4 :]
                stale = max(0, stale - (n + 4))
                continue
            self.dropped += 1
            stale = max(0, stale - 1)
            buf = buf[1:]
        self._buf = bytearray(buf)
        return bodies
