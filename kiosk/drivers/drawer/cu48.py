"""Kerong KR-CU48 lock-control boards: 48 locks a board on RS-485 at 19200 baud 8N1
(docs/hardware.md, "KR-CU48", with the public driver the frames come from). The shared
bus discipline is in `kerong.py`.

A request is six bytes, `02 | ADDR | LOCK | CMD | 03 | SUM`, ADDR the board's address
and LOCK the lock's index (lock 1 = 0):

- `0x50` every lock of the board (LOCK 0), answered by twelve bytes
  `02 ADDR 00 65 D1 D2 D3 D4 D5 D6 03 SUM`, bit 0 of D1 being lock 1;
- `0x51` unlock one lock, not answered.

No public source shows a CU48's unlock time being read or set over the bus: the board
times each pulse by its own setting.
"""

from __future__ import annotations

from typing import Any

from kiosk.drivers.drawer.kerong import KerongBoards, KerongLocker, Reading, framed
from kiosk.drivers.drawer.line import SerialLine

STATUS, UNLOCK = 0x50, 0x51
STATUS_REPLY = 0x65


class Cu48Hardware(KerongBoards):
    model = "KR-CU48"
    locks_per_board = 48
    status_length = 12

    @classmethod
    def open_port(
        cls, path: str, baudrate: int, lockers: list[KerongLocker], **options: Any
    ) -> Cu48Hardware:
        return cls(SerialLine(path, baudrate, "RS-485 bus"), lockers, **options)

    def status_request(self, board: int) -> bytes:
        return framed(board, 0, STATUS)

    def status_problem(self, board: int, reply: bytes) -> str:
        if reply[1] != board or reply[3] != STATUS_REPLY:
            return f"answer for another board or request ({reply.hex(' ')})"
        return ""

    def reading_of(self, reply: bytes) -> Reading:
        return Reading(hooks=int.from_bytes(reply[4:10], "little"))

    def unlock_request(self, board: int, lock: int) -> bytes:
        return framed(board, lock - 1, UNLOCK)

    def board_notes(self, board: int) -> str:
        return "unlock time: the board's own setting"
