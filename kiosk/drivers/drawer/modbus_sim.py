"""Modbus RTU lock boards on a pseudo-terminal, written from the Modbus specifications
(Modbus over Serial Line V1.02; Application Protocol V1.1b3), not from the kiosk's
client, which is pymodbus's: each board a device address with coils (locks) and
discrete inputs (door switches, on when shut). A coil switched on is a lock energised,
and the door player pulls the door. The line is paced at the baud rate.

Implemented: 0x01 read coils, 0x02 read discrete inputs, 0x05 write single coil, and the
exception replies (01 illegal function, 02 illegal data address, 03 illegal data value).
An RTU frame is address | function | data | CRC-16 (reflected 0xA001, start 0xFFFF,
sent low byte first); a frame with a bad CRC or for another address gets no answer."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import struct
import threading
import time
import tty

from kiosk.drivers.drawer.simulator import DoorPlayer


def crc16_modbus(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _framed(body: bytes) -> bytes:
    return body + struct.pack("<H", crc16_modbus(body))


def _packed(bits: list[bool]) -> bytes:
    out = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            out[i // 8] |= 1 << (i % 8)
    return bytes((len(out),)) + bytes(out)


class ModbusBoard:
    def __init__(self, address: int, points: int) -> None:
        self.address = address
        self.coils = [False] * points
        self.inputs = [True] * points  # every door shut: its switch closed, input on
        self.silent = False


class ModbusBusSimulator:
    def __init__(
        self,
        lockers: dict[str, tuple[int, int]],
        *,
        open_after_s: float = 0.3,
        close_after_s: float = 2.0,
        baudrate: int = 19200,
    ) -> None:
        self._where = lockers
        self.byte_time_s = 10 / baudrate
        points = {b: max(lk for bb, lk in lockers.values() if bb == b) for b, _ in lockers.values()}
        self.boards = {b: ModbusBoard(b, n) for b, n in points.items()}
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
        self._thread = threading.Thread(target=self._run, name="modbus-sim", daemon=True)

    # -- the world --
    def _set_door(self, locker: str, open_: bool) -> None:
        if locker in self._cut:
            return
        board, lock = self._where[locker]
        self.boards[board].inputs[lock - 1] = not open_

    def cut_wire(self, locker: str) -> None:
        self._set_door(locker, True)
        self._cut.add(locker)

    def energised(self, locker: str) -> bool:
        board, lock = self._where[locker]
        return self.boards[board].coils[lock - 1]

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

    # -- the line --
    def _run(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                if pending:  # a silence ends a frame: what is left is garbage
                    pending = b""
                continue
            try:
                pending += os.read(self._master, 256)
            except OSError:
                return
            while len(pending) >= 8:  # every request we serve is 8 bytes long
                frame, pending = pending[:8], pending[8:]
                time.sleep(len(frame) * self.byte_time_s)  # the request arriving
                if struct.unpack("<H", frame[6:])[0] != crc16_modbus(frame[:6]):
                    pending = b""  # a corrupt frame: drop to the next silence
                    break
                answer = self._answer(frame[0], frame[1], frame[2:6])
                if answer:
                    time.sleep(len(answer) * self.byte_time_s)  # the answer going back
                    os.write(self._master, answer)

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
        if function == 0x05:
            if value not in (0x0000, 0xFF00):
                return error(0x03)
            if first >= len(board.coils):
                return error(0x02)
            on = value == 0xFF00
            if on and not board.coils[first]:
                for name, where in self._where.items():
                    if where == (address, first + 1):
                        self.energised_at.append((name, time.monotonic()))
                        self.doors.pulsed(name)
            board.coils[first] = on
            return _framed(bytes((address, function)) + data)
        return error(0x01)
