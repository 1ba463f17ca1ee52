"""Lockers behind a MicroPython co-processor (a Raspberry Pi Pico on USB serial running
`firmware/locker_controller`): it drives the locks through shift registers or an I/O
expander, debounces the doors beside them and times every pulse itself, so a hung Pi
cannot hold a lock open (docs/hardware.md, "Co-processor protocol", which this module
implements from the kiosk's side).

Every request carries an id, the kiosk's clock at sending and a time to live. A request
whose reply does not come within `reply_timeout_s` is sent again *with the same id*:
the firmware answers a repeated id with its first answer and does not pulse twice. A
request that reaches the firmware after its time to live is answered STALE and not
carried out. When the firmware has restarted (its boot id changed, or it answers
NOT_SYNCED), the kiosk says HELLO again; an open whose outcome the restart hid is
settled by reading the door: open means done, shut means pulse again with a new id.
"""

from __future__ import annotations

import binascii
import itertools
import logging
import struct
import threading
import time
from dataclasses import dataclass

from kiosk.drivers.drawer.bank import LockerError, LockerFault
from kiosk.drivers.drawer.line import SerialLine

log = logging.getLogger(__name__)

SYNC = 0xA5
HELLO, OPEN, STATUS, VERSION, MAINTENANCE = 0x01, 0x02, 0x03, 0x04, 0x06
OK, UNKNOWN_COMMAND, BAD_ARGUMENT, STALE, NOT_SYNCED = range(5)
STATUS_NAMES = {1: "unknown command", 2: "bad argument", 3: "stale", 4: "not synced"}
HEADER = struct.Struct("<HBIH")  # id, command, sent_at (ms), ttl (ms)


def crc(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: binascii's CRC-CCITT with the register started at 0xFFFF."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode(body: bytes) -> bytes:
    head = bytes((len(body),)) + body
    return bytes((SYNC,)) + head + crc(head).to_bytes(2, "big")


def decode_all(buffer: bytearray) -> list[bytes]:
    """Take every whole, intact frame off the front of buffer (garbage skipped)."""
    bodies = []
    while buffer:
        start = buffer.find(SYNC)
        if start < 0:
            buffer.clear()
            break
        del buffer[:start]
        if len(buffer) < 2 or len(buffer) < buffer[1] + 4:
            break
        n = buffer[1]
        if crc(bytes(buffer[1 : n + 2])) == int.from_bytes(buffer[n + 2 : n + 4], "big"):
            bodies.append(bytes(buffer[2 : n + 2]))
            del buffer[: n + 4]
        else:
            del buffer[:1]
    return bodies


class _Restarted(Exception):
    """The firmware restarted while a request was on its way."""


@dataclass(frozen=True)
class PicoLocker:
    locker: str
    channel: int  # 1-based: the lock output and door input of this locker


class PicoHardware:
    """`LockHardware` on the locker co-processor."""

    debounced = True

    def __init__(
        self,
        line: SerialLine,
        lockers: list[PicoLocker],
        *,
        reply_timeout_s: float = 0.15,
        ttl_ms: int = 1000,
        attempts: int = 3,
    ) -> None:
        self.line = line
        self.name = line.name
        self.reply_timeout_s = reply_timeout_s
        self.ttl_ms = ttl_ms
        self.attempts = attempts
        self._lockers = {entry.locker: entry for entry in lockers}
        channels = [entry.channel for entry in lockers]
        if len(set(channels)) != len(channels):
            raise LockerError("co-processor: a channel is given to two lockers")
        self._ids = itertools.count(1)
        self._link = threading.Lock()
        self._buffer = bytearray()
        self.bytes_sent = 0
        self.bytes_received = 0
        self.boot_id: int | None = None
        self.outputs = 0
        self.version = ""
        self.restarts = 0
        self.flags = 0

    @classmethod
    def open_port(cls, path: str, lockers: list[PicoLocker]) -> PicoHardware:
        return cls(SerialLine(path, 115200, f"co-processor on {path}"), lockers)

    # -- the link --
    def _next_id(self) -> int:
        return next(self._ids) % 0xFFFF + 1  # 1..65535

    def _send(self, command: int, args: bytes = b"", request_id: int | None = None) -> bytes:
        """One request, retried with the same id; the reply's data on OK."""
        rid = self._next_id() if request_id is None else request_id
        sent_at = int(time.monotonic() * 1000) & 0xFFFFFFFF
        frame = encode(HEADER.pack(rid, command, sent_at, self.ttl_ms) + args)
        for _attempt in range(self.attempts):
            self.line.write(frame)
            self.bytes_sent += len(frame)
            reply = self._await(rid)
            if reply is None:
                log.warning("%s: no answer to request %d; asking again", self.name, rid)
                continue
            status, data = reply[2], reply[3:]
            if status == OK:
                return data
            if status == NOT_SYNCED and command != HELLO:
                raise _Restarted()
            raise LockerFault(f"{self.name}: {STATUS_NAMES.get(status, status)} (request {rid})")
        raise LockerFault(f"{self.name}: no answer after {self.attempts} tries")

    def _await(self, rid: int) -> bytes | None:
        deadline = time.monotonic() + self.reply_timeout_s
        while time.monotonic() < deadline:
            chunk = self.line.read(256)
            if chunk:
                self.bytes_received += len(chunk)
                self._buffer += chunk
                for body in decode_all(self._buffer):
                    if len(body) >= 3 and int.from_bytes(body[:2], "little") == rid:
                        return body
            else:
                time.sleep(0.0005)
        return None

    def hello(self) -> None:
        data = self._send(HELLO)
        boot_id, outputs = struct.unpack("<HB", data[:3])
        if self.boot_id is not None and boot_id != self.boot_id:
            self.restarts += 1
            log.warning("%s restarted (boot %04x, was %04x)", self.name, boot_id, self.boot_id)
        self.boot_id, self.outputs, self.version = boot_id, outputs, data[3:].decode()
        missing = [e.locker for e in self._lockers.values() if e.channel > outputs]
        if missing:
            raise LockerFault(f"{self.name} has {outputs} outputs; lockers {missing} have none")

    def maintenance(self) -> None:
        """Ask the firmware to restart into its REPL, every output off (for flashing)."""
        self._call(MAINTENANCE)

    def _call(self, command: int, args: bytes = b"") -> bytes:
        with self._link:
            if self.boot_id is None:
                self.hello()
            try:
                return self._send(command, args)
            except _Restarted:
                self.hello()
                return self._send(command, args)

    def _status(self) -> tuple[list[bool], list[bool]]:
        data = self._call(STATUS)
        boot_id, count, self.flags = struct.unpack("<HBB", data[:4])
        if boot_id != self.boot_id:
            with self._link:
                self.hello()
        width = (count + 7) // 8
        doors = int.from_bytes(data[4 : 4 + width], "little")
        energised = int.from_bytes(data[4 + width : 4 + 2 * width], "little")
        return (
            [bool(doors >> i & 1) for i in range(count)],
            [bool(energised >> i & 1) for i in range(count)],
        )

    # -- LockHardware --
    def locker_ids(self) -> list[str]:
        return list(self._lockers)

    def read_open(self) -> dict[str, bool]:
        doors, _energised = self._status()
        return {name: doors[entry.channel - 1] for name, entry in self._lockers.items()}

    def energise(self, locker: str, pulse_ms: int) -> None:
        args = struct.pack("<BH", self._lockers[locker].channel, pulse_ms)
        with self._link:
            if self.boot_id is None:
                self.hello()
            try:
                self._send(OPEN, args)
                return
            except _Restarted:
                self.hello()
        # The restart may have come after the pulse: an open door says it did.
        if self.read_open()[locker]:
            log.info("%s: locker %s open after the restart; not pulsed again", self.name, locker)
            return
        with self._link:
            self._send(OPEN, args)

    def describe(self) -> list[tuple[bool, str]]:
        try:
            with self._link:
                self.hello()
            doors, _ = self._status()
        except LockerFault as exc:
            return [(False, str(exc))]
        causes = {1: "; last reset by the watchdog (its loop stalled)", 2: "; last reset asked for"}
        cause = causes.get(self.flags & 3, "")
        states = " ".join(
            f"{name}:{'open' if doors[e.channel - 1] else 'shut'}"
            for name, e in self._lockers.items()
        )
        return [
            (
                True,
                f"{self.name}: firmware {self.version}, boot {self.boot_id:04x}, "
                f"{self.outputs} outputs{cause}; doors {states}",
            )
        ]

    def close(self) -> None:
        self.line.close()
