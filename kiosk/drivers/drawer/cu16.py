"""RS-485 lock-control boards of the "CU16" kind: up to 16 locks a board, several boards
on one bus, the Pi on a USB–RS485 adapter (docs/hardware.md, "RS-485 boards", which
defines the frames this module speaks).

Every frame is `STX 0x02 | address | lock | command | ETX 0x03 | sum`, the sum being the
low byte of the sum of the bytes before it; a status reply carries its data between the
command and ETX. The bus is half duplex and the Pi is its only master: one request, one
reply, within `reply_timeout_s`. A board that does not answer, or answers with a bad sum
or for another address, is asked again once; then the request fails as a `LockerFault`.
The board times each lock pulse itself; after every open the kiosk reads the lock back.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from kiosk.drivers.drawer.bank import LockerFault
from kiosk.drivers.drawer.line import SerialLine, check_places

log = logging.getLogger(__name__)

STX, ETX = 0x02, 0x03
OPEN, READ_ALL, READ_ONE = 0x51, 0x50, 0x52
STATUS_ALL = 0x65  # the command byte of a READ_ALL reply
LOCKS_PER_BOARD = 16


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def request(address: int, lock: int, command: int) -> bytes:
    body = bytes((STX, address, lock, command, ETX))
    return body + bytes((checksum(body),))


def reply_length(command: int) -> int:
    """Bytes in the reply to `command`: 4 status bytes for READ_ALL, 1 for READ_ONE."""
    return {OPEN: 6, READ_ONE: 7, READ_ALL: 10}[command]


@dataclass(frozen=True)
class Cu16Locker:
    locker: str
    board: int  # the board's address, set by its DIP switches (0-15)
    lock: int  # 1-16, as printed on the board


class Cu16Hardware:
    """`LockHardware` on a bus of CU16 boards."""

    # The board reports each lock's feedback switch as it stands, bounces included (the
    # shared suite's bouncing door caught this): the bank debounces.
    debounced = False

    def __init__(
        self,
        line: SerialLine,
        lockers: list[Cu16Locker],
        *,
        reply_timeout_s: float = 0.1,
        attempts: int = 2,
    ) -> None:
        self.line = line
        self.reply_timeout_s = reply_timeout_s
        self.attempts = attempts
        self._lockers = {entry.locker: entry for entry in lockers}
        check_places(lockers, range(16), range(1, LOCKS_PER_BOARD + 1), "board")
        self.boards = sorted({entry.board for entry in lockers})
        self._bus = threading.Lock()
        self.bytes_sent = 0
        self.bytes_received = 0

    @classmethod
    def open_port(cls, path: str, baudrate: int, lockers: list[Cu16Locker]) -> Cu16Hardware:
        """8N1 at `baudrate` (pyserial's defaults are 8N1)."""
        return cls(SerialLine(path, baudrate, "RS-485 bus"), lockers)

    # -- one exchange on the bus --
    def _exchange(self, address: int, lock: int, command: int) -> bytes:
        frame = request(address, lock, command)
        want = reply_length(command)
        problem = ""
        with self._bus:
            for _attempt in range(self.attempts):
                self.line.discard_input()
                self.line.write(frame)
                self.bytes_sent += len(frame)
                reply = self._read(want)
                self.bytes_received += len(reply)
                problem = self._check(reply, address, lock, command, want)
                if not problem:
                    return reply
                log.warning("CU16 board %d: %s", address, problem)
        raise LockerFault(f"RS-485 board {address}: {problem}")

    def _read(self, want: int) -> bytes:
        deadline = time.monotonic() + self.reply_timeout_s
        got = b""
        while len(got) < want and time.monotonic() < deadline:
            chunk = self.line.read(want - len(got))
            if chunk:
                got += chunk
            else:
                time.sleep(0.0005)
        return got

    @staticmethod
    def _check(reply: bytes, address: int, lock: int, command: int, want: int) -> str:
        if not reply:
            return "no answer"
        if len(reply) < want:
            return f"answer cut short ({reply.hex(' ')})"
        if reply[0] != STX or reply[-2] != ETX or checksum(reply[:-1]) != reply[-1]:
            return f"garbled answer ({reply.hex(' ')})"
        expected = STATUS_ALL if command == READ_ALL else command
        if reply[1] != address or reply[3] != expected:
            return f"answer for another request ({reply.hex(' ')})"
        if command != READ_ALL and reply[2] != lock:
            return f"answer for another lock ({reply.hex(' ')})"
        return ""

    # -- LockHardware --
    def locker_ids(self) -> list[str]:
        return list(self._lockers)

    def board_states(self, address: int) -> tuple[int, int]:
        """(hook bits, sensor bits) of one board: bit n-1 is lock n; a set hook bit is an
        open door, a set sensor bit an occupied locker (0 on boards without sensors)."""
        reply = self._exchange(address, 0, READ_ALL)
        return reply[4] | reply[5] << 8, reply[6] | reply[7] << 8

    def read_open(self) -> dict[str, bool]:
        hooks = {board: self.board_states(board)[0] for board in self.boards}
        return {
            name: bool(hooks[entry.board] >> (entry.lock - 1) & 1)
            for name, entry in self._lockers.items()
        }

    def energise(self, locker: str, pulse_ms: int) -> None:
        entry = self._lockers[locker]
        self._exchange(entry.board, entry.lock - 1, OPEN)
        back = self._exchange(entry.board, entry.lock - 1, READ_ONE)
        log.info("CU16 board %d lock %d opened; reads %s", entry.board, entry.lock, back[4])

    def describe(self) -> list[tuple[bool, str]]:
        lines = []
        for board in self.boards:
            try:
                hooks, sensors = self.board_states(board)
                count = sum(1 for e in self._lockers.values() if e.board == board)
                lines.append(
                    (
                        True,
                        f"RS-485 board {board}: answers; {count} lockers, "
                        f"hooks {hooks:016b}, sensors {sensors:016b}",
                    )
                )
            except LockerFault as exc:
                lines.append((False, str(exc)))
        return lines

    def close(self) -> None:
        self.line.close()
