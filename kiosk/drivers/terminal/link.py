"""Carrying APDUs to the terminal: serial (framed, ACK/NAK) or TCP (bare APDUs).

Both raise `LinkLost` when the terminal stops answering or the cable is gone, and
`ReceiveTimeout` when nothing arrived in time; the driver decides what that means for
the payment (it asks the terminal before it assumes anything).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from typing import Protocol

import serial

from kiosk.drivers.terminal.apdu import Apdu, ZvtError
from kiosk.drivers.terminal.frames import (
    ACK,
    NAK,
    Ack,
    BadFrame,
    Frame,
    FrameDecoder,
    Nak,
    encode_frame,
)

log = logging.getLogger(__name__)


class LinkError(Exception):
    """The link to the terminal failed."""


class LinkLost(LinkError):
    """The terminal does not answer, or the port is gone."""


class ReceiveTimeout(LinkError):
    """Nothing arrived from the terminal in time."""


class ZvtLink(Protocol):
    def send(self, apdu: Apdu) -> None: ...
    def send_nowait(self, apdu: Apdu) -> None: ...
    def receive(self, timeout: float) -> Apdu: ...
    def close(self) -> None: ...


class SerialLink:
    """ZVT over RS-232/USB-serial: every frame is acknowledged with ACK or NAK; a frame
    is sent at most `max_tries` times."""

    def __init__(
        self,
        port: serial.SerialBase,
        *,
        ack_timeout: float = 2.0,
        max_tries: int = 3,
    ) -> None:
        self._port = port
        self._decoder = FrameDecoder()
        self._pending: list[Apdu] = []
        self.ack_timeout = ack_timeout
        self.max_tries = max_tries
        self.naks_sent = 0
        self.naks_received = 0

    @classmethod
    def open(cls, url: str, baudrate: int = 9600, **options: float) -> SerialLink:
        try:
            port = serial.serial_for_url(
                url,
                baudrate=baudrate,
                bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_TWO,
                timeout=0.05,
                write_timeout=2.0,
            )
        except (serial.SerialException, OSError) as exc:
            raise LinkLost(f"cannot open terminal port {url}: {exc}") from exc
        return cls(port, **options)  # type: ignore[arg-type]

    def _read(self) -> bytes:
        try:
            waiting = self._port.in_waiting
            return bytes(self._port.read(waiting or 1))
        except (serial.SerialException, OSError) as exc:
            raise LinkLost(f"terminal port failed: {exc}") from exc

    def _write(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, serial.SerialTimeoutException, OSError) as exc:
            raise LinkLost(f"cannot write to the terminal: {exc}") from exc

    def send(self, apdu: Apdu) -> None:
        frame = encode_frame(apdu.encode())
        for attempt in range(1, self.max_tries + 1):
            self._write(frame)
            answer = self._await_answer()
            if answer is True:
                return
            if answer is False:
                self.naks_received += 1
                log.warning("terminal NAKed %s (try %d)", apdu, attempt)
        raise LinkLost(f"terminal did not acknowledge {apdu} after {self.max_tries} tries")

    def _await_answer(self) -> bool | None:
        """True on ACK, False on NAK, None when the ACK time-out passes. Every event of a
        read is handled: the terminal's next frame often arrives in the same read as
        the ACK, and is kept for receive()."""
        deadline = time.monotonic() + self.ack_timeout
        answer: bool | None = None
        while answer is None and time.monotonic() < deadline:
            for event in self._decoder.feed(self._read()):
                if isinstance(event, Ack | Nak):
                    if answer is None:
                        answer = isinstance(event, Ack)
                elif isinstance(event, Frame):
                    self._accept(event)
                elif isinstance(event, BadFrame):
                    self._reject(event)
        return answer

    def send_nowait(self, apdu: Apdu) -> None:
        """Write a frame without waiting for its ACK: for an abort sent from another
        thread while a transaction's receive loop owns the reading side."""
        self._write(encode_frame(apdu.encode()))

    def _accept(self, event: Frame) -> None:
        self._write(bytes([ACK]))
        try:
            self._pending.append(Apdu.decode(event.apdu))
        except ZvtError as exc:
            log.warning("terminal sent an unreadable APDU: %s", exc)

    def _reject(self, event: BadFrame) -> None:
        self.naks_sent += 1
        log.warning("bad frame from terminal (%s): NAK", event.reason)
        self._write(bytes([NAK]))

    def receive(self, timeout: float) -> Apdu:
        deadline = time.monotonic() + timeout
        while not self._pending:
            if time.monotonic() >= deadline:
                raise ReceiveTimeout(f"nothing from the terminal for {timeout:.1f} s")
            for event in self._decoder.feed(self._read()):
                if isinstance(event, Frame):
                    self._accept(event)
                elif isinstance(event, BadFrame):
                    self._reject(event)
        return self._pending.pop(0)

    def close(self) -> None:
        with contextlib.suppress(serial.SerialException, OSError):
            self._port.close()


class TcpLink:
    """ZVT over TCP/IP: bare APDUs, no framing or ACK (TCP carries the reliability)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()

    @classmethod
    def open(cls, host: str, port: int, timeout: float = 5.0) -> TcpLink:
        try:
            return cls(socket.create_connection((host, port), timeout=timeout))
        except OSError as exc:
            raise LinkLost(f"cannot reach the terminal at {host}:{port}: {exc}") from exc

    def send(self, apdu: Apdu) -> None:
        try:
            self._sock.sendall(apdu.encode())
        except OSError as exc:
            raise LinkLost(f"cannot write to the terminal: {exc}") from exc

    def send_nowait(self, apdu: Apdu) -> None:
        self.send(apdu)

    def _complete(self) -> Apdu | None:
        buf = self._buffer
        if len(buf) < 3:
            return None
        if buf[2] == 0xFF:
            if len(buf) < 5:
                return None
            total = 5 + (buf[3] | buf[4] << 8)
        else:
            total = 3 + buf[2]
        if len(buf) < total:
            return None
        raw = bytes(buf[:total])
        del buf[:total]
        return Apdu.decode(raw)

    def receive(self, timeout: float) -> Apdu:
        deadline = time.monotonic() + timeout
        while (apdu := self._complete()) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReceiveTimeout(f"nothing from the terminal for {timeout:.1f} s")
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError as exc:
                raise LinkLost(f"terminal connection failed: {exc}") from exc
            if not chunk:
                raise LinkLost("the terminal closed the connection")
            self._buffer += chunk
        return apdu

    def close(self) -> None:
        self._sock.close()
