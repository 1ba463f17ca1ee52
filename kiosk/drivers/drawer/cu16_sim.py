"""A bus of CU16 lock-control boards on a pseudo-terminal, as docs/hardware.md ("RS-485
boards") defines them: each board answers the frames addressed to it, pulses a lock for
its own unlock time, reports each lock's feedback switch (the door) and, on boards with
them, occupancy sensors, and the line takes as long as 8N1 at its baud rate would. A
board can be made silent, a wire cut, a door jammed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from kiosk.drivers.drawer.bus_sim import BusSimulator

_STX, _ETX = 0x02, 0x03


def _framed(*body: int) -> bytes:
    data = bytes((_STX, *body, _ETX))
    return data + bytes((sum(data) & 0xFF,))


@dataclass
class SimBoard:
    address: int
    unlock_ms: int = 300  # the board's own pulse length
    doors: list[bool] = field(default_factory=lambda: [False] * 16)  # True: open
    occupied: list[bool] = field(default_factory=lambda: [False] * 16)
    energised_until: list[float] = field(default_factory=lambda: [0.0] * 16)
    silent: bool = False

    def hooks(self) -> int:
        return sum(1 << i for i in range(16) if self.doors[i])

    def sensors(self) -> int:
        return sum(1 << i for i in range(16) if self.occupied[i])


class Cu16BusSimulator(BusSimulator):
    """Boards by address; lockers named by (board, lock) for the door player."""

    name = "cu16-sim"
    frames_in = 0  # frames a board answered

    def make_boards(self, lockers: dict[str, tuple[int, int]]) -> dict[int, Any]:
        return {board: SimBoard(board) for board, _lock in lockers.values()}

    def door(self, board: int, lock: int, open_: bool) -> None:
        self.boards[board].doors[lock - 1] = open_

    def energised(self, locker: str) -> bool:
        board, lock = self._where[locker]
        return bool(time.monotonic() < self.boards[board].energised_until[lock - 1])

    def answer_line(self, pending: bytes) -> bytes:
        while len(pending) >= 6:
            start = pending.find(bytes((_STX,)))
            if start < 0:
                return b""
            frame, pending = pending[start : start + 6], pending[start + 6 :]
            if len(frame) < 6:
                return frame + pending
            if frame[4] != _ETX or sum(frame[:5]) & 0xFF != frame[5]:
                pending = frame[1:] + pending  # resynchronise on the next STX
                continue
            self.exchange(frame, partial(self._answer, frame[1], frame[2], frame[3]))
        return pending

    def _answer(self, address: int, lock: int, command: int) -> bytes:
        board = self.boards.get(address)
        if board is None or board.silent:
            return b""
        self.frames_in += 1
        if command == 0x50:
            hooks, sensors = board.hooks(), board.sensors()
            return _framed(address, 0, 0x65, hooks & 0xFF, hooks >> 8, sensors & 0xFF, sensors >> 8)
        if not 0 <= lock < 16:
            return b""
        if command == 0x51:
            board.energised_until[lock] = time.monotonic() + board.unlock_ms / 1000
            self.pulsed(address, lock + 1)
            return _framed(address, lock, 0x51)
        if command == 0x52:
            return _framed(address, lock, 0x52, 1 if board.hooks() >> lock & 1 else 0)
        return b""
