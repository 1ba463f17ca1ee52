"""Modbus RTU lock boards on a pseudo-terminal, written from the Modbus specifications
(Modbus over Serial Line V1.02; Application Protocol V1.1b3), not from the kiosk's
client, which is pymodbus's: each board a device address with coils (locks) and
discrete inputs (door switches, on when shut). A coil switched on is a lock energised,
and the door player pulls the door. The line is paced at the baud rate.

Implemented: 0x01 read coils, 0x02 read discrete inputs, 0x05 write single coil, and the
exception replies (01 illegal function, 02 illegal data address, 03 illegal data value).
A board made with `flash` also takes Waveshare's timed flash (Modbus RTU Relay wiki,
development protocol V3): function 05 at 0x0200 + coil switches the coil on for the
written value × 100 ms, then the board's own timer switches it off, and the request is
echoed; without `flash` that address is an illegal data address, as on generic boards.
An RTU frame is address | function | data | CRC-16 (reflected 0xA001, start 0xFFFF,
sent low byte first); a frame with a bad CRC or for another address gets no answer."""

from __future__ import annotations

import struct
import threading
from functools import partial
from typing import Any

from kiosk.drivers.crc import crc16_modbus
from kiosk.drivers.drawer.bus_sim import BusSimulator


def _framed(body: bytes) -> bytes:
    return body + struct.pack("<H", crc16_modbus(body))


def _packed(bits: list[bool]) -> bytes:
    out = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            out[i // 8] |= 1 << (i % 8)
    return bytes((len(out),)) + bytes(out)


FLASH_ON = 0x0200


class ModbusBoard:
    def __init__(self, address: int, points: int, flash: bool = True) -> None:
        self.address = address
        self.coils = [False] * points
        self.inputs = [True] * points  # every door shut: its switch closed, input on
        self.silent = False
        self.flash = flash
        self.flashes = 0  # timed flashes the board carried out


class ModbusBusSimulator(BusSimulator):
    name = "modbus-sim"

    def make_boards(self, lockers: dict[str, tuple[int, int]]) -> dict[int, Any]:
        points = {b: max(lk for bb, lk in lockers.values() if bb == b) for b, _ in lockers.values()}
        return {b: ModbusBoard(b, n) for b, n in points.items()}

    def door(self, board: int, lock: int, open_: bool) -> None:
        self.boards[board].inputs[lock - 1] = not open_  # the switch opens: the input goes off

    def energised(self, locker: str) -> bool:
        board, lock = self._where[locker]
        return bool(self.boards[board].coils[lock - 1])

    def answer_line(self, pending: bytes) -> bytes:
        while len(pending) >= 8:  # every request we serve is 8 bytes long
            frame, pending = pending[:8], pending[8:]
            if struct.unpack("<H", frame[6:])[0] != crc16_modbus(frame[:6]):
                return b""  # a corrupt frame: drop to the next silence
            self.exchange(frame, partial(self._answer, frame[0], frame[1], frame[2:6]))
        return pending

    def _answer(self, address: int, function: int, data: bytes) -> bytes:
        board = self.boards.get(address)
        if board is None or board.silent:
            return b""
        first, value = struct.unpack(">HH", data)

        def error(code: int) -> bytes:
            return _framed(bytes((address, function | 0x80, code)))

        if function in (0x01, 0x02):
            points = board.coils if function == 0x01 else board.inputs
            if not 1 <= value <= 2000:
                return error(0x03)
            if first + value > len(points):
                return error(0x02)
            return _framed(bytes((address, function)) + _packed(points[first : first + value]))
        if function == 0x05 and board.flash and FLASH_ON <= first < FLASH_ON + len(board.coils):
            return self._flash(board, first - FLASH_ON, value, data)
        if function == 0x05:
            if value not in (0x0000, 0xFF00):
                return error(0x03)
            if first >= len(board.coils):
                return error(0x02)
            on = value == 0xFF00
            was_on, board.coils[first] = board.coils[first], on
            if on and not was_on:
                self.pulsed(address, first + 1)
            return _framed(bytes((address, function)) + data)
        return error(0x01)

    def _flash(self, board: ModbusBoard, coil: int, units: int, data: bytes) -> bytes:
        if units == 0:
            return _framed(bytes((board.address, 0x05 | 0x80, 0x03)))
        board.flashes += 1
        was_on, board.coils[coil] = board.coils[coil], True
        if not was_on:
            self.pulsed(board.address, coil + 1)

        def end() -> None:
            board.coils[coil] = False

        timer = threading.Timer(units / 10, end)
        timer.daemon = True
        timer.start()
        return _framed(bytes((board.address, 0x05)) + data)
