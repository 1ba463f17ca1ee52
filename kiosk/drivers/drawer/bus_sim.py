"""What the simulated lock-board buses (CU16, Modbus) share: the world's doors (played by
a `DoorPlayer`, a cut wire held open), the pseudo-terminal the kiosk opens, a line as
slow as its baud rate (10 bits a byte, 8N1), and the thread that answers. Each bus says
how a door and a lock look on its boards, and answers its own frames in `answer_line`."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import threading
import time
import tty
from collections.abc import Callable
from typing import Any

from kiosk.drivers.drawer.simulator import DoorPlayer


class BusSimulator:
    name = "bus-sim"

    def __init__(
        self,
        lockers: dict[str, tuple[int, int]],
        *,
        open_after_s: float = 0.3,
        close_after_s: float = 2.0,
        baudrate: int = 19200,
    ) -> None:
        self._where = lockers  # locker → (board, lock number from 1)
        self.byte_time_s = 10 / baudrate
        self.doors = DoorPlayer(
            self._set_door, list(lockers), open_after_s=open_after_s, close_after_s=close_after_s
        )
        self.behaviour = self.doors.behaviour
        self.energised_at: list[tuple[str, float]] = []
        self._cut: set[str] = set()
        self._master, self._slave = pty.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.boards = self.make_boards(lockers)

    # -- the world, as each bus's boards show it --
    def make_boards(self, lockers: dict[str, tuple[int, int]]) -> dict[int, Any]:
        """The boards the lockers sit on, by address."""
        raise NotImplementedError

    def door(self, board: int, lock: int, open_: bool) -> None:
        raise NotImplementedError

    def energised(self, locker: str) -> bool:
        raise NotImplementedError

    def _set_door(self, locker: str, open_: bool) -> None:
        if locker not in self._cut:
            self.door(*self._where[locker], open_)

    def cut_wire(self, locker: str) -> None:
        """The door switch's wire comes off: the door reads open from now on."""
        self._set_door(locker, True)
        self._cut.add(locker)

    def pulsed(self, board: int, lock: int) -> None:
        """A board energised lock `lock`: the customer at that door plays."""
        for name, where in self._where.items():
            if where == (board, lock):
                self.energised_at.append((name, time.monotonic()))
                self.doors.pulsed(name)

    # -- the line --
    def answer_line(self, pending: bytes) -> bytes:
        """Answer the whole frames at the front of `pending` (each through `exchange`);
        what is left for the next read."""
        raise NotImplementedError

    def exchange(self, request: bytes, answer: Callable[[], bytes]) -> None:
        """`request` takes the line's time to arrive; only then do the boards act on it
        (`answer`), and their answer takes its own time to go back."""
        time.sleep(len(request) * self.byte_time_s)
        reply = answer()
        if reply:
            time.sleep(len(reply) * self.byte_time_s)
            os.write(self._master, reply)

    def _run(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                pending = b""  # a silence ends a frame: what is left is garbage
                continue
            try:
                pending += os.read(self._master, 256)
            except OSError:
                return
            pending = self.answer_line(pending)

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
