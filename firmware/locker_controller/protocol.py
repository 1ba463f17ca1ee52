# Frames between the kiosk and the locker co-processor (docs/hardware.md, "Co-processor
# protocol"):
#
#   frame   = 0xA5 | n | body (n bytes) | CRC-16/CCITT-FALSE of n and body, big-endian
#   request = id u16 | command u8 | sent_at u32 | ttl_ms u16 | arguments   (little-endian)
#   reply   = id u16 | status u8 | data
#
# A reader that meets a bad CRC or a length that cannot be drops one byte and looks for
# the next 0xA5, so a glitch on the line costs the frame it hit and no more.
import struct

SYNC = 0xA5
MAX_BODY = 200

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

    def __init__(self):
        self._buf = bytearray()
        self.dropped = 0  # bytes skipped while looking for a good frame

    def feed(self, data):
        self._buf.extend(data)
        bodies = []
        buf = self._buf
        while buf:
            if buf[0] != SYNC:
                start = buf.find(bytes((SYNC,)))
                skip = len(buf) if start < 0 else start
                self.dropped += skip
                buf = buf[skip:]
                continue
            if len(buf) < 2:
                break
            n = buf[1]
            if n > MAX_BODY:
                self.dropped += 1
                buf = buf[1:]
                continue
            if len(buf) < n + 4:
                break
            crc = buf[n + 2] << 8 | buf[n + 3]
            if crc16(buf[1 : n + 2]) != crc:
                self.dropped += 1
                buf = buf[1:]
                continue
            bodies.append(bytes(buf[2 : n + 2]))
            buf = buf[n + 4 :]
        self._buf = bytearray(buf)
        return bodies
