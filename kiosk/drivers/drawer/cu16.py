"""Kerong KR-CU16 lock-control boards: 16 locks and 16 infrared sensors a board, up to 16
boards on one RS-485 bus at 19200 baud 8N1 (docs/hardware.md, "KR-CU16", with the public
implementations the frames come from). The shared bus discipline is in `kerong.py`.

A request is five bytes, `02 | ADDR | CMD | 03 | SUM`; ADDR packs the board (its DIP
switches, 0-15) in the high nibble and the lock (0-15, lock 1 = 0) in the low one:

- `0x30` status of one board (ADDR `B0`), answered by nine bytes
  `02 ADDR 35 H1 H2 I1 I2 03 SUM`: hooks and sensors, bit 0 of H1 and I1 being lock 1;
- `0x31` unlock one lock (ADDR `BL`), not answered;
- `0x37` the board's unlock time: with two more bytes (high, low; 10 ms units) before
  ETX it sets it, without them it asks; either way the board answers
  `02 ADDR 38 HH LL 03 SUM`.

The kiosk never sends `0x33` (unlock every lock) nor `0x32` (the whole bus at once).
"""

from __future__ import annotations

import logging
from typing import Any

from kiosk.drivers.drawer.bank import LockerFault
from kiosk.drivers.drawer.kerong import KerongBoards, KerongLocker, Reading, framed
from kiosk.drivers.drawer.line import SerialLine

log = logging.getLogger(__name__)

STATUS, UNLOCK, UNLOCK_TIME = 0x30, 0x31, 0x37
STATUS_REPLY, UNLOCK_TIME_REPLY = 0x35, 0x38
UNLOCK_TIME_UNIT_MS = 10


def address(board: int, lock: int = 1) -> int:
    """The ADDR byte: board in the high nibble, lock index (lock - 1) in the low one."""
    return board << 4 | (lock - 1)


def _not_from(board: int, command: int, reply: bytes) -> str:
    """What is wrong with a reply that should be `command`'s from `board` ("" if none)."""
    if reply[1] != address(board) or reply[2] != command:
        return f"answer for another board or request ({reply.hex(' ')})"
    return ""


class Cu16Hardware(KerongBoards):
    model = "KR-CU16"
    locks_per_board = 16
    status_length = 9

    def __init__(self, line: SerialLine, lockers: list[KerongLocker], **options: Any) -> None:
        super().__init__(line, lockers, **options)
        self._timed: set[int] = set()  # boards whose unlock time was checked

    @classmethod
    def open_port(
        cls, path: str, baudrate: int, lockers: list[KerongLocker], **options: Any
    ) -> Cu16Hardware:
        return cls(SerialLine(path, baudrate, "RS-485 bus"), lockers, **options)

    def status_request(self, board: int) -> bytes:
        return framed(address(board), STATUS)

    def status_problem(self, board: int, reply: bytes) -> str:
        return _not_from(board, STATUS_REPLY, reply)

    def reading_of(self, reply: bytes) -> Reading:
        return Reading(hooks=reply[3] | reply[4] << 8, sensors=reply[5] | reply[6] << 8)

    def unlock_request(self, board: int, lock: int) -> bytes:
        return framed(address(board, lock), UNLOCK)

    # -- the unlock time --
    def unlock_ms(self, board: int) -> int:
        """The board's unlock time as it says it."""
        reply = self.ask(
            board,
            framed(address(board), UNLOCK_TIME),
            7,
            lambda r: _not_from(board, UNLOCK_TIME_REPLY, r),
        )
        return (reply[3] << 8 | reply[4]) * UNLOCK_TIME_UNIT_MS

    def set_unlock_ms(self, board: int, ms: int) -> int:
        """Set the board's unlock time, then ask it back (what the board now says). The
        sources do not agree that a set is answered: an answer is read if it comes (an
        unread one was taken for the next status reply: bench/lockers.py found it)."""
        units = max(1, min(0xFFFF, round(ms / UNLOCK_TIME_UNIT_MS)))
        self.tell(framed(address(board), UNLOCK_TIME, units >> 8, units & 0xFF), 7)
        return self.unlock_ms(board)

    def energise(self, locker: str, pulse_ms: int) -> None:
        """The board times the pulse itself: the first open on a board makes its unlock
        time `pulse_ms` (a board that does not answer 0x37 keeps its own, logged)."""
        board = self._lockers[locker].board
        if board not in self._timed:
            self._timed.add(board)
            try:
                if self.unlock_ms(board) != pulse_ms:
                    kept = self.set_unlock_ms(board, pulse_ms)
                    if kept != pulse_ms:
                        log.warning("KR-CU16 board %d keeps %d ms, not %d", board, kept, pulse_ms)
            except LockerFault as exc:
                log.warning("KR-CU16 board %d: unlock time not set: %s", board, exc)
        super().energise(locker, pulse_ms)

    def board_notes(self, board: int) -> str:
        try:
            return f"unlock time {self.unlock_ms(board)} ms"
        except LockerFault as exc:
            return f"unlock time not read: {exc}"
