# The co-processor's work: carry out the kiosk's requests, time every lock pulse itself,
# debounce the doors, and never do a thing twice or late (docs/hardware.md).
#
# - A request id seen before (a retry whose reply was lost) gets the reply it got the
#   first time; the lock is not pulsed again.
# - HELLO sets the clock: the kiosk's milliseconds at sending. Any other request whose
#   sent_at is older than its ttl_ms by that clock is answered STALE and not carried
#   out; before the first HELLO after a start, every request is answered NOT_SYNCED.
# - A pulse lasts at most MAX_PULSE_MS, whatever was asked; tick() ends it even when no
#   more bytes arrive, and every output is switched off at start (after a watchdog
#   reset too).
import logging
import struct
import time

import protocol as p
from doors import Debouncer

MAX_PULSE_MS = 1500
REMEMBERED = 32  # replies kept for retried ids

log = logging.getLogger("locker")


class Controller:
    def __init__(self, outputs, doors, boot_id, version, stable_ms=30, flags=0):
        self.outputs = outputs
        self.doors = doors
        self.boot_id = boot_id
        self.version = version
        self.flags = flags  # bit 0: the last reset was the watchdog's
        outputs.all_off()
        self.debouncer = Debouncer(doors.read(), stable_ms, time.ticks_ms())
        self._pulse_end = [None] * outputs.count
        self._replies = {}
        self._order = []
        self._sync = None  # (kiosk ms, our ticks) at the last HELLO
        self.executed = 0  # requests carried out (not repeats, not refused)
        self.maintenance = False  # asked to leave the loop for the REPL

    # -- the periodic part --
    def tick(self):
        now = time.ticks_ms()
        for i, end in enumerate(self._pulse_end):
            if end is not None and time.ticks_diff(now, end) >= 0:
                self.outputs.set(i, False)
                self._pulse_end[i] = None
        self.debouncer.sample(self.doors.read(), now)

    def energised(self):
        return [end is not None for end in self._pulse_end]

    # -- requests --
    def handle(self, body):
        if len(body) < p.REQUEST_SIZE:
            log.warning("request of %d bytes ignored", len(body))
            return None
        request_id, command, sent_at, ttl = struct.unpack(p.REQUEST, body[: p.REQUEST_SIZE])
        if request_id in self._replies:
            log.info("request %d again: same answer, not carried out twice", request_id)
            return self._replies[request_id]
        answer = self._answer(command, sent_at, ttl, body[p.REQUEST_SIZE :])
        status, data = answer
        out = p.reply(request_id, status, data)
        self._replies[request_id] = out
        self._order.append(request_id)
        if len(self._order) > REMEMBERED:
            del self._replies[self._order.pop(0)]
        return out

    def _answer(self, command, sent_at, ttl, args):
        if command == p.HELLO:
            self._sync = (sent_at, time.ticks_ms())
            return p.OK, self._hello()
        if self._sync is None:
            return p.NOT_SYNCED, b""
        if self._age(sent_at) > ttl:
            log.warning(
                "command %d sent %d ms ago, older than %d ms: dropped",
                command,
                self._age(sent_at),
                ttl,
            )
            return p.STALE, b""
        if command == p.OPEN:
            return self._open(args)
        if command == p.STATUS:
            return p.OK, self._status()
        if command == p.VERSION:
            return p.OK, self.version.encode()
        if command == p.MAINTENANCE:
            self.outputs.all_off()
            self._pulse_end = [None] * self.outputs.count
            self.maintenance = True
            return p.OK, b""
        if command == p.LOG:
            return p.OK, "\n".join(RING.lines[-8:]).encode()[-180:]
        return p.UNKNOWN_COMMAND, b""

    def _age(self, sent_at):
        kiosk_ms, ticks = self._sync
        now = (kiosk_ms + time.ticks_diff(time.ticks_ms(), ticks)) & 0xFFFFFFFF
        age = (now - sent_at) & 0xFFFFFFFF
        return age - 0x100000000 if age & 0x80000000 else age

    def _hello(self):
        return struct.pack("<HB", self.boot_id, self.outputs.count) + self.version.encode()

    def _open(self, args):
        if len(args) != 3:
            return p.BAD_ARGUMENT, b""
        door, pulse_ms = struct.unpack("<BH", args)
        if not 1 <= door <= self.outputs.count:
            return p.BAD_ARGUMENT, b""
        pulse_ms = min(pulse_ms, MAX_PULSE_MS)
        self.outputs.set(door - 1, True)
        self._pulse_end[door - 1] = time.ticks_add(time.ticks_ms(), pulse_ms)
        self.executed += 1
        log.info("door %d pulsed for %d ms", door, pulse_ms)
        return p.OK, b""

    def _status(self):
        return (
            struct.pack("<HBB", self.boot_id, self.outputs.count, self.flags)
            + _bits(self.debouncer.confirmed)
            + _bits(self.energised())
        )


def _bits(flags):
    out = bytearray((len(flags) + 7) // 8)
    for i, on in enumerate(flags):
        if on:
            out[i // 8] |= 1 << (i % 8)
    return bytes(out)


class RingHandler(logging.Handler):
    """The last log lines, kept in memory: the USB line carries frames, not text."""

    def __init__(self, size=16):
        super().__init__()
        self.size = size
        self.lines = []

    def emit(self, record):
        self.lines.append(record.msg % record.args)
        if len(self.lines) > self.size:
            self.lines.pop(0)


RING = RingHandler()
log.addHandler(RING)
