"""A serial line to a lock board or co-processor that may go away (a USB adapter or a
Pico unplugged, a cable pulled) and come back: every failure is a `LockerFault`, and the
next use opens the device again."""

from __future__ import annotations

import logging
from typing import Any

from kiosk.drivers.drawer.bank import LockerError, LockerFault

log = logging.getLogger(__name__)


class SerialLine:
    def __init__(self, path: str, baudrate: int, name: str, port: Any = None) -> None:
        self.path = path
        self.baudrate = baudrate
        self.name = name
        self.port = port  # an open pyserial port (or a test's stand-in), or None

    def _open(self) -> Any:
        if self.port is None:
            import serial

            try:
                self.port = serial.Serial(self.path, self.baudrate, timeout=0)
            except OSError as exc:  # serial.SerialException is an OSError
                raise LockerFault(f"{self.name}: cannot open {self.path}: {exc}") from exc
            log.info("%s: %s open", self.name, self.path)
        return self.port

    def _lost(self, exc: OSError) -> LockerFault:
        port, self.port = self.port, None
        try:
            if port is not None:
                port.close()
        except OSError:
            pass
        return LockerFault(f"{self.name}: the line to {self.path} failed: {exc}")

    def write(self, data: bytes) -> None:
        port = self._open()
        try:
            port.write(data)
        except OSError as exc:
            raise self._lost(exc) from exc

    def read(self, size: int) -> bytes:
        port = self._open()
        try:
            return bytes(port.read(size))
        except OSError as exc:
            raise self._lost(exc) from exc

    def discard_input(self) -> None:
        port = self._open()
        try:
            port.reset_input_buffer()
        except OSError as exc:
            raise self._lost(exc) from exc

    def close(self) -> None:
        if self.port is not None:
            self.port.close()
            self.port = None


def check_places(lockers: list[Any], boards: range, locks: range, board_word: str) -> None:
    """Each locker at a board address and lock number in range, no two at the same place
    (the bus backends' lockers have `locker`, `board` and `lock`)."""
    seen: dict[tuple[int, int], str] = {}
    for entry in lockers:
        if entry.board not in boards or entry.lock not in locks:
            raise LockerError(
                f"locker {entry.locker}: {board_word} {boards[0]}-{boards[-1]} and "
                f"lock {locks[0]}-{locks[-1]} expected"
            )
        place = (entry.board, entry.lock)
        if place in seen:
            raise LockerError(
                f"locker {entry.locker}: board {entry.board} lock {entry.lock} "
                f"is locker {seen[place]} already"
            )
        seen[place] = entry.locker
