"""Kerong KR-CU16 and KR-CU48 lock-control boards on a pseudo-terminal, written from the
public implementations of their protocols and not from the kiosk's drivers (this module
imports neither `kerong.py`, `cu16.py` nor `cu48.py`). The sources, read 2026-12-02:

- KR-CU16: suryavirkapur/kerong-lib (src/kerong_client.cpp), julio-alv/lkaas-kerong
  (src/kerong/command.rs, status.rs, board.rs), a TypeScript CU12/CU16 controller and a
  Python RS-485 controller ("CartWise") found by code search, a Java CU16Commands table.
- KR-CU48: a Node.js CU48 driver found by code search (query `02 00 00 50 03 55`).

Every frame is `02 | … | 03 | SUM`, SUM the low byte of the sum of the bytes before it.

KR-CU16 (19200 8N1): a request is `02 ADDR CMD 03 SUM`, ADDR = board << 4 | lock index,
or `02 ADDR 37 HH LL 03 SUM` to set the unlock time (10 ms units).
  0x30 status of the board → `02 ADDR 35 H1 H2 I1 I2 03 SUM` (hooks, infrared sensors);
  0x31 unlock one lock, 0x33 unlock every lock → no answer;
  0x32 at ADDR F0 → each board, in address order, `02 B0 36 H1 H2 I1 I2 03 SUM`
       (at a board's own ADDR, that board alone);
  0x37 (with or without a time) → `02 ADDR 38 HH LL 03 SUM`.
KR-CU48 (19200 8N1): a request is `02 ADDR LOCK CMD 03 SUM`, LOCK 0-47.
  0x50 → `02 ADDR 00 65 D1 D2 D3 D4 D5 D6 03 SUM`; 0x51 unlock one lock → no answer.

A hook bit is set for a latched lock on both boards (`hook_set_when_latched`; one CU16
source reads it the other way, and a board can be made to). A lock unlatches when it is
pulsed and the door player opens its door; a jammed door stays latched. A frame with a
bad sum, for a board that is not there, or of an unknown command gets no answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from kiosk.drivers.drawer.bus_sim import BusSimulator

_STX, _ETX = 0x02, 0x03


def _from_stx(pending: bytes) -> bytes:
    """What came from the first STX on (nothing when none came)."""
    start = pending.find(bytes((_STX,)))
    return b"" if start < 0 else pending[start:]


def _frame(*body: int) -> bytes:
    data = bytes((_STX, *body, _ETX))
    return data + bytes((sum(data) & 0xFF,))


@dataclass
class KerongBoard:
    address: int
    locks: int
    unlock_units: int = 50  # 10 ms units: 500 ms
    hook_set_when_latched: bool = True
    silent: bool = False
    latched: list[bool] = field(default_factory=list)
    occupied: list[bool] = field(default_factory=list)
    energised_until: list[float] = field(default_factory=list)
    unlocks: list[tuple[int, float]] = field(default_factory=list)  # (lock from 1, when)

    def __post_init__(self) -> None:
        self.latched = self.latched or [True] * self.locks
        self.occupied = self.occupied or [False] * self.locks
        self.energised_until = self.energised_until or [0.0] * self.locks

    def hook_bits(self) -> int:
        set_ = self.hook_set_when_latched
        return sum(1 << i for i, latched in enumerate(self.latched) if latched == set_)

    def sensor_bits(self) -> int:
        return sum(1 << i for i, on in enumerate(self.occupied) if on)


class KerongBusEmulator(BusSimulator):
    """A bus of one model's boards; lockers named by (board, lock from 1)."""

    locks = 16

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.heard: list[bytes] = []  # every whole frame that came down the line
        super().__init__(*args, **kwargs)

    def exchange(self, request: bytes, answer: Callable[[], bytes]) -> None:
        self.heard.append(request)
        super().exchange(request, answer)

    def make_boards(self, lockers: dict[str, tuple[int, int]]) -> dict[int, Any]:
        return {board: KerongBoard(board, self.locks) for board, _lock in lockers.values()}

    def door(self, board: int, lock: int, open_: bool) -> None:
        self.boards[board].latched[lock - 1] = not open_

    def energised(self, locker: str) -> bool:
        board, lock = self._where[locker]
        return bool(time.monotonic() < self.boards[board].energised_until[lock - 1])

    def unlocks(self, locker: str) -> int:
        """Unlock frames the locker's board carried out for it."""
        board, lock = self._where[locker]
        return sum(1 for n, _at in self.boards[board].unlocks if n == lock)

    def unlock(self, board: KerongBoard, lock: int) -> None:
        board.energised_until[lock - 1] = time.monotonic() + board.unlock_units / 100
        board.unlocks.append((lock, time.monotonic()))
        self.pulsed(board.address, lock)

    def live(self, address: int) -> KerongBoard | None:
        board = self.boards.get(address)
        return None if board is None or board.silent else board


class Cu16BusEmulator(KerongBusEmulator):
    name = "kr-cu16-emulator"
    locks = 16

    def answer_line(self, pending: bytes) -> bytes:
        while True:
            pending = _from_stx(pending)
            if len(pending) < 5:
                return pending
            if pending[3] == _ETX and sum(pending[:4]) & 0xFF == pending[4]:
                frame, pending = pending[:5], pending[5:]
            elif len(pending) < 7:
                return pending  # perhaps a seven-byte frame still arriving
            elif pending[5] == _ETX and sum(pending[:6]) & 0xFF == pending[6]:
                frame, pending = pending[:7], pending[7:]
            else:
                pending = pending[1:]  # not a frame here: look for the next STX
                continue
            self.exchange(frame, partial(self._answer, frame))

    def _answer(self, frame: bytes) -> bytes:
        addr, command = frame[1], frame[2]
        if command == 0x32 and addr == 0xF0 and len(frame) == 5:
            return b"".join(
                _frame(b.address << 4, 0x36, *self._status(b))
                for _n, b in sorted(self.boards.items())
                if not b.silent
            )
        board = self.live(addr >> 4)
        if board is None:
            return b""
        if command == 0x32 and len(frame) == 5:  # one board's part of the bus read
            return _frame(addr, 0x36, *self._status(board))
        if command == 0x30 and len(frame) == 5:
            return _frame(addr, 0x35, *self._status(board))
        if command == 0x31 and len(frame) == 5:
            self.unlock(board, (addr & 0x0F) + 1)
        elif command == 0x33 and len(frame) == 5:
            for lock in range(1, board.locks + 1):
                self.unlock(board, lock)
        elif command == 0x37:
            if len(frame) == 7:
                board.unlock_units = frame[3] << 8 | frame[4]
            units = board.unlock_units
            return _frame(addr, 0x38, units >> 8, units & 0xFF)
        return b""

    @staticmethod
    def _status(board: KerongBoard) -> tuple[int, int, int, int]:
        hooks, sensors = board.hook_bits(), board.sensor_bits()
        return hooks & 0xFF, hooks >> 8, sensors & 0xFF, sensors >> 8


class Cu48BusEmulator(KerongBusEmulator):
    name = "kr-cu48-emulator"
    locks = 48

    def answer_line(self, pending: bytes) -> bytes:
        while True:
            pending = _from_stx(pending)
            if len(pending) < 6:
                return pending
            if pending[4] != _ETX or sum(pending[:5]) & 0xFF != pending[5]:
                pending = pending[1:]
                continue
            frame, pending = pending[:6], pending[6:]
            self.exchange(frame, partial(self._answer, frame[1], frame[2], frame[3]))

    def _answer(self, addr: int, lock: int, command: int) -> bytes:
        board = self.live(addr)
        if board is None:
            return b""
        if command == 0x50:
            return _frame(addr, 0, 0x65, *board.hook_bits().to_bytes(6, "little"))
        if command == 0x51 and lock < board.locks:
            self.unlock(board, lock + 1)
        return b""
