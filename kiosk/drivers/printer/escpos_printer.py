"""The receipt printer through python-escpos: status first, then the whole job at once.

Before a job the printer is asked for its state (DLE EOT 1, 2 and 4, ESC/POS real-time
status). A printer that answers "paper out" or "cover open" gets no job: the caller
offers the receipt by email or SMS instead and the payment is never held up. A printer
that does not answer at all is *unknown*, not offline (python-escpos reports a missing
reply as offline or "no paper"): many USB and file connections cannot answer, so the
job is tried, with a write time-out so that a stuck printer cannot hang the kiosk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from escpos.escpos import Escpos

from kiosk.drivers.base import DeviceState, DeviceStatus, StatusStream

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"
PRINTER_STATUS, OFFLINE_CAUSE, PAPER_SENSOR = 1, 2, 4


class PrinterFault(Exception):
    """The printer cannot print this job now; the detail says why in plain words."""


class EscposPrinter:
    def __init__(self, connect: Callable[[], Escpos], *, name: str = "printer") -> None:
        self._connect = connect
        self._conn: Escpos | None = None
        self.status_stream = StatusStream(name)

    def _connection(self) -> Escpos:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _query(self, n: int) -> int | None:
        """One real-time status byte, or None when the printer does not answer."""
        conn = self._connection()
        try:
            conn._raw(DLE_EOT + bytes([n]))
            reply = conn._read()
        except NotImplementedError:
            return None  # the connection cannot read (a file, a one-way cable)
        except Exception as exc:  # python-escpos and its transports raise many kinds
            log.debug("no status reply: %s", exc)
            return None
        return reply[0] if reply else None

    def status(self) -> DeviceStatus:
        try:
            online = self._query(PRINTER_STATUS)
        except Exception as exc:  # opening the connection failed
            self._conn = None
            return self.status_stream.publish(DeviceState.FAULT, f"cannot reach the printer: {exc}")
        if online is None:
            return self.status_stream.publish(
                DeviceState.UNKNOWN, "the printer does not report its status"
            )
        if online & 0x08:
            cause = self._query(OFFLINE_CAUSE) or 0
            if cause & 0x04:
                return self.status_stream.publish(DeviceState.FAULT, "cover open")
            if cause & 0x20:
                return self.status_stream.publish(DeviceState.FAULT, "paper out")
            return self.status_stream.publish(DeviceState.FAULT, "offline")
        paper = self._query(PAPER_SENSOR)
        if paper is not None and paper & 0x60:
            return self.status_stream.publish(DeviceState.FAULT, "paper out")
        if paper is not None and paper & 0x0C:
            return self.status_stream.publish(DeviceState.WARNING, "paper low")
        return self.status_stream.publish(DeviceState.READY, "ready")

    def print_job(self, job: bytes) -> None:
        status = self.status()
        if status.state is DeviceState.FAULT:
            raise PrinterFault(status.detail)
        if status.state is DeviceState.UNKNOWN:
            log.info("printing without a status reply")
        self.status_stream.publish(DeviceState.BUSY, "printing")
        try:
            self._connection()._raw(job)
        except Exception as exc:  # write time-out, cable pulled, USB gone
            self._conn = None
            self.status_stream.publish(DeviceState.FAULT, f"link lost while printing: {exc}")
            raise PrinterFault(f"link lost while printing: {exc}") from exc
        self.status_stream.publish(
            status.state if status.usable else DeviceState.READY, status.detail
        )

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # closing a dead link must not raise
                log.debug("printer close failed", exc_info=True)
            self._conn = None


class PrinterCashDrawer:
    """A cash drawer on the printer's drawer port: a pulse through the printer."""

    def __init__(self, printer: EscposPrinter, pin: int = 2) -> None:
        self._printer = printer
        self._pin = pin

    def kick(self) -> None:
        # ESC p m t1 t2: pulse pin m (0 = pin 2, 1 = pin 5) on 50 ms, off 500 ms
        self._printer.print_job(b"\x1bp" + bytes([0 if self._pin == 2 else 1, 25, 250]))
