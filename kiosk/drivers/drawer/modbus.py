"""Lock boards that speak Modbus RTU on RS-485 (relay and I/O boards sold for lockers and
access control), through pymodbus: each lock a coil, each door a discrete input, one
Modbus device id a board (docs/hardware.md, "Modbus RTU boards").

Coils are 0-based on the wire: lock n of a board is coil n-1, its door discrete input
n-1. A door's switch closes when the door shuts and turns its input on; an input that is
off (the door open, or its wire cut) reads open, the safe reading.

A coil stays on until written off, so the kiosk times the pulse and switches the coil
off in a `finally`, and again at start; a board with its own momentary ("flash") mode
is safer still, and the co-processor safest (a hung Pi cannot hold a lock on).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.drivers.drawer.bank import LockerFault
from kiosk.drivers.drawer.line import check_places

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModbusLocker:
    locker: str
    board: int  # the board's Modbus device id (1-247)
    lock: int  # 1-based: coil lock-1, discrete input lock-1


class ModbusHardware:
    """`LockHardware` on Modbus RTU boards."""

    debounced = False  # discrete inputs are read as they stand

    def __init__(
        self,
        client: Any,
        lockers: list[ModbusLocker],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self.sleep = sleep
        self._lockers = {entry.locker: entry for entry in lockers}
        check_places(lockers, range(1, 248), range(1, 257), "device id")
        self._bus = threading.Lock()
        for entry in lockers:  # whatever a restart left on is switched off
            try:
                self._write(entry, False)
            except LockerFault as exc:
                log.warning("%s", exc)

    @classmethod
    def open_port(cls, path: str, baudrate: int, lockers: list[ModbusLocker]) -> ModbusHardware:
        from pymodbus.client import ModbusSerialClient

        counts = {"sent": 0, "received": 0}

        def count(sending: bool, packet: bytes) -> bytes:
            counts["sent" if sending else "received"] += len(packet)
            return packet

        client = ModbusSerialClient(
            path, baudrate=baudrate, timeout=0.2, retries=1, trace_packet=count
        )
        hardware = cls(client, lockers)
        hardware._counts = counts
        return hardware

    _counts: dict[str, int] | None = None

    @property
    def line_bytes(self) -> tuple[int, int]:
        """Bytes sent and received on the line (when opened by open_port)."""
        counts = self._counts or {"sent": 0, "received": 0}
        return counts["sent"], counts["received"]

    def _call(self, what: str, board: int, request: Callable[[], Any]) -> Any:
        from pymodbus.exceptions import ModbusException

        with self._bus:
            try:
                if not self._client.connected and not self._client.connect():
                    raise LockerFault(f"Modbus board {board}: the serial line cannot be opened")
                reply = request()
            except (ModbusException, OSError) as exc:
                raise LockerFault(f"Modbus board {board}: {what}: {exc}") from exc
        if reply.isError():
            raise LockerFault(f"Modbus board {board}: {what} refused ({reply})")
        return reply

    def _write(self, entry: ModbusLocker, on: bool) -> None:
        self._call(
            f"coil {entry.lock - 1} {'on' if on else 'off'}",
            entry.board,
            lambda: self._client.write_coil(entry.lock - 1, on, device_id=entry.board),
        )

    # -- LockHardware --
    def locker_ids(self) -> list[str]:
        return list(self._lockers)

    def board_doors(self, board: int) -> list[bool]:
        """Each door of a board, True when open (its input off)."""
        count = max(e.lock for e in self._lockers.values() if e.board == board)
        reply = self._call(
            f"read {count} discrete inputs",
            board,
            lambda: self._client.read_discrete_inputs(0, count=count, device_id=board),
        )
        return [not bit for bit in reply.bits[:count]]

    def read_open(self) -> dict[str, bool]:
        doors = {board: self.board_doors(board) for board in self._boards()}
        return {n: doors[e.board][e.lock - 1] for n, e in self._lockers.items()}

    def _boards(self) -> list[int]:
        return sorted({entry.board for entry in self._lockers.values()})

    def energise(self, locker: str, pulse_ms: int) -> None:
        entry = self._lockers[locker]
        self._write(entry, True)
        try:
            self.sleep(pulse_ms / 1000)
        finally:
            self._write(entry, False)

    def describe(self) -> list[tuple[bool, str]]:
        lines = []
        for board in self._boards():
            try:
                opened = [str(i + 1) for i, o in enumerate(self.board_doors(board)) if o]
                doors = "open: " + ", ".join(opened) if opened else "all shut"
                lines.append((True, f"Modbus board {board}: answers; doors {doors}"))
            except LockerFault as exc:
                lines.append((False, str(exc)))
        return lines

    def close(self) -> None:
        self._client.close()
