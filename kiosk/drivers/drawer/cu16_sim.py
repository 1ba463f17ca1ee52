"""A bus of CU16 lock-control boards on a pseudo-terminal, as docs/hardware.md ("RS-485
boards") defines them: each board answers the frames addressed to it, pulses a lock for
its own unlock time, reports each lock's feedback switch (the door) and, on boards with
them, occupancy sensors, and the line takes as long as 8N1 at its baud rate would. A
board can be made silent, a wire cut, a door jammed."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import threading
import time
import tty
from dataclasses import dataclass, field

from kiosk.drivers.drawer.simulator import DoorPlayer

_STX, _ETX = 0x02, 0x03


def _framed(*body: int) -> bytes:
    data = bytes((_STX, *body, _ETX))
    return data + bytes((sum(data) & 0xFF,))


@dataclass
class SimBoard:
    address: int
    unlock_ms: int = 300  # the board's own pulse length
    doors: list[bool] = field(default_factory=lambda: [False] * 16)  # True: open
    cut: list[bool] = field(default_factory=lambda: [False] * 16)
    occupied: list[bool] = field(default_factory=lambda: [False] * 16)
    energised_until: list[float] = field(default_factory=lambda: [0.0] * 16)
    silent: bool = False

    def hooks(self) -> int:
        return sum(1 << i for i in range(16) if self.doors[i] or self.cut[i])

    def sensors(self) -> int:
        return sum(1 << i for i in range(16) if self.occupied[i])


class Cu16BusSimulator:
    """Boards by address; lockers named by (board, lock) for the door player."""

    def __init__(
        self,
        lockers: dict[str, tuple[int, int]],
        *,
        open_after_s: float = 0.3,
        close_after_s: float = 2.0,
        baudrate: int = 19200,
    ) -> None:
        self._where = lockers
        # A pty moves bytes at once; a 19200-baud line takes 10 bits (8N1) a byte. The
        # board answers after the request has arrived, and its answer takes its own time.
        self.byte_time_s = 10 / baudrate
        self.boards = {board: SimBoard(board) for board, _lock in lockers.values()}
        self.doors = DoorPlayer(
            self._set_door, list(lockers), open_after_s=open_after_s, close_after_s=close_after_s
        )
        self.behaviour = self.doors.behaviour
        self.energised_at: list[tuple[str, float]] = []
        self.frames_in = 0
        self._master, self._slave = pty.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cu16-sim", daemon=True)

    # -- the world --
    def _set_door(self, locker: str, open_: bool) -> None:
        board, lock = self._where[locker]
        self.boards[board].doors[lock - 1] = open_

    def cut_wire(self, locker: str) -> None:
        board, lock = self._where[locker]
        self.boards[board].cut[lock - 1] = True

    def energised(self, locker: str) -> bool:
        board, lock = self._where[locker]
        return time.monotonic() < self.boards[board].energised_until[lock - 1]

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- the bus --
    def _run(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                pending += os.read(self._master, 256)
            except OSError:
                return
            while len(pending) >= 6:
                start = pending.find(bytes((_STX,)))
                if start < 0:
                    pending = b""
                    break
                frame, pending = pending[start : start + 6], pending[start + 6 :]
                if len(frame) < 6:
                    pending = frame + pending
                    break
                if frame[4] != _ETX or sum(frame[:5]) & 0xFF != frame[5]:
                    pending = frame[1:] + pending  # resynchronise on the next STX
                    continue
                time.sleep(len(frame) * self.byte_time_s)  # the request arriving
                answer = self._answer(frame[1], frame[2], frame[3])
                if answer:
                    time.sleep(len(answer) * self.byte_time_s)  # the answer going back
                    os.write(self._master, answer)

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
            for name, where in self._where.items():
                if where == (address, lock + 1):
                    self.energised_at.append((name, time.monotonic()))
                    self.doors.pulsed(name)
            return _framed(address, lock, 0x51)
        if command == 0x52:
            return _framed(address, lock, 0x52, 1 if board.hooks() >> lock & 1 else 0)
        return b""
