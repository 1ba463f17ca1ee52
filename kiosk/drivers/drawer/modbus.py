"""Lock boards that speak Modbus RTU on RS-485 (relay and I/O boards sold for lockers and
access control), through pymodbus: each lock a coil, each door a discrete input, one
Modbus device id a board (docs/hardware.md, "Modbus RTU boards").

Coils are 0-based on the wire: lock n of a board is coil n-1, its door discrete input
n-1. A door's switch closes when the door shuts and turns its input on; an input that is
off (the door open, or its wire cut) reads open, the safe reading.

A coil stays on until written off. Where the board has a timed "flash" (Waveshare's
Modbus RTU Relay boards: function 05 at 0x0200 + coil, the value the time in 100 ms
units), the kiosk pulses with it (`flash`, the default), so a kiosk that dies in the
middle of a pulse cannot hold a lock powered. A board that refuses the flash (exception
01, 02 or 03) is pulsed the other way from then on: the kiosk switches the coil
on, times the pulse and switches it off in a `finally` (and every coil off at start).
"""

from __future__ import annotations

import functools
import logging
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.drivers.drawer.bank import LockerFault
from kiosk.drivers.drawer.line import check_places

log = logging.getLogger(__name__)

FLASH_ON = 0x0200  # + coil: on for the written value × 100 ms, then off (the board's timer)
FLASH_UNIT_MS = 100
# Illegal function, address or value: a board without the flash. (A generic board checks
# a write-coil's value before its address: the Modbus Application Protocol's 0x05
# diagram answers 03 to a value other than 0000 or FF00.)
REFUSED = (0x01, 0x02, 0x03)


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
        flash: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self.flash = flash
        self._no_flash: set[int] = set()  # boards that refused the flash
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
    def open_port(
        cls, path: str, baudrate: int, lockers: list[ModbusLocker], *, flash: bool = False
    ) -> ModbusHardware:
        from pymodbus.client import ModbusSerialClient

        counts = {"sent": 0, "received": 0}

        def count(sending: bool, packet: bytes) -> bytes:
            counts["sent" if sending else "received"] += len(packet)
            return packet

        client = ModbusSerialClient(
            path, baudrate=baudrate, timeout=0.2, retries=1, trace_packet=count
        )
        hardware = cls(client, lockers, flash=flash)
        hardware._counts = counts
        return hardware

    _counts: dict[str, int] | None = None

    @property
    def line_bytes(self) -> tuple[int, int]:
        """Bytes sent and received on the line (when opened by open_port)."""
        counts = self._counts or {"sent": 0, "received": 0}
        return counts["sent"], counts["received"]

    def _call(
        self, what: str, board: int, request: Callable[[], Any], refusals: tuple[int, ...] = ()
    ) -> Any:
        """The board's reply; a LockerFault for no reply or an exception reply (except the
        exception codes in `refusals`, returned for the caller to read)."""
        from pymodbus.exceptions import ModbusException

        with self._bus:
            try:
                if not self._client.connected and not self._client.connect():
                    raise LockerFault(f"Modbus board {board}: the serial line cannot be opened")
                # A reply that came after its request timed out must not be taken for
                # the answer to this one (both function 05 replies: a late coil-off
                # echo read as a flash's, seen under load).
                port = getattr(self._client, "socket", None)
                if port is not None:
                    port.reset_input_buffer()
                reply = request()
            except (ModbusException, OSError) as exc:
                raise LockerFault(f"Modbus board {board}: {what}: {exc}") from exc
        if reply.isError() and getattr(reply, "exception_code", None) not in refusals:
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
        if self.flash and entry.board not in self._no_flash and self._flash(entry, pulse_ms):
            return
        self._write(entry, True)
        try:
            self.sleep(pulse_ms / 1000)
        finally:
            self._write(entry, False)

    def _flash(self, entry: ModbusLocker, pulse_ms: int) -> bool:
        """Pulse with the board's timer; False when the board has none."""
        units = max(1, min(0xFFFF, round(pulse_ms / FLASH_UNIT_MS)))
        request = _flash_request(entry.board, entry.lock - 1, units)
        reply = self._call(
            f"flash coil {entry.lock - 1} for {units * FLASH_UNIT_MS} ms",
            entry.board,
            lambda: self._client.execute(False, request),
            refusals=REFUSED,
        )
        if reply.isError():
            self._no_flash.add(entry.board)
            log.warning(
                "Modbus board %d has no timed flash (exception %d): the kiosk times pulses",
                entry.board,
                reply.exception_code,
            )
            return False
        return True

    def describe(self) -> list[tuple[bool, str]]:
        lines = []
        for board in self._boards():
            try:
                opened = [str(i + 1) for i, o in enumerate(self.board_doors(board)) if o]
                doors = "open: " + ", ".join(opened) if opened else "all shut"
                timer = "the kiosk" if not self.flash or board in self._no_flash else "the board"
                lines.append(
                    (True, f"Modbus board {board}: answers; doors {doors}; pulses timed by {timer}")
                )
            except LockerFault as exc:
                lines.append((False, str(exc)))
        return lines

    def close(self) -> None:
        self._client.close()


@functools.cache
def _flash_type() -> Any:
    """pymodbus's write-coil request, whose value is always FF00 or 0000, with the value
    field the flash's time instead (imported when first used, as the client is)."""
    from pymodbus.pdu.bit_message import WriteSingleCoilRequest

    class FlashRequest(WriteSingleCoilRequest):
        units = 1

        def encode(self) -> bytes:
            return struct.pack(">HH", self.address, self.units)

    return FlashRequest


def _flash_request(board: int, coil: int, units: int) -> Any:
    """Function 05 at FLASH_ON + coil, its value the time in FLASH_UNIT_MS units."""
    request = _flash_type()(address=FLASH_ON + coil, bits=[True], dev_id=board)
    request.units = units
    return request
