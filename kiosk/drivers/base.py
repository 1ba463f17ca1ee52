"""What the rest of the kiosk may know about devices: their status, and one protocol
per kind of device. Use cases talk to these protocols only; which backend (real or
simulated) stands behind them is configuration."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol


class DeviceState(StrEnum):
    READY = "ready"
    BUSY = "busy"
    WARNING = "warning"  # works, needs attention soon (paper low)
    FAULT = "fault"  # does not work (offline, paper out, cover open, jammed, link lost)
    UNKNOWN = "unknown"  # no answer: neither ready nor known faulty


@dataclass(frozen=True)
class DeviceStatus:
    device: str
    state: DeviceState
    detail: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def usable(self) -> bool:
        return self.state in (DeviceState.READY, DeviceState.WARNING, DeviceState.BUSY)


Listener = Callable[[DeviceStatus], None]


class StatusStream:
    """A device's status as a stream of events: listeners hear every change, and the
    latest is always there to read. Listeners run on the device's thread: the UI must
    hop to its own (Clock.schedule_once)."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._latest = DeviceStatus(device, DeviceState.UNKNOWN, "not checked yet")
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    @property
    def latest(self) -> DeviceStatus:
        return self._latest

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, state: DeviceState, detail: str = "") -> DeviceStatus:
        status = DeviceStatus(self.device, state, detail)
        with self._lock:
            changed = (status.state, status.detail) != (self._latest.state, self._latest.detail)
            self._latest = status
            listeners = list(self._listeners)
        if changed:
            for listener in listeners:
                listener(status)
        return status


class Outcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # the customer (or a time-out at the terminal) aborted
    REFUSED = "refused"  # the terminal refused the command itself


@dataclass(frozen=True)
class TransactionResult:
    """What a card terminal answered, in the kiosk's words. Only the last four digits
    of a card ever appear here."""

    outcome: Outcome
    result_code: int
    message: str
    amount_minor: int | None = None
    receipt_number: int | None = None
    trace_number: int | None = None
    card_brand: str = ""
    card_last4: str = ""
    terminal_id: str = ""
    print_lines: tuple[str, ...] = ()

    @property
    def approved(self) -> bool:
        return self.outcome is Outcome.APPROVED


class TerminalError(Exception):
    """The terminal could not be asked."""


class TerminalLinkLost(TerminalError):
    """The link failed during an exchange: the outcome is unknown until asked."""

    def __init__(self, message: str, phase: str) -> None:
        super().__init__(f"{message} (during {phase})")
        self.phase = phase


StatusCallback = Callable[[str], None]


class PaymentTerminal(Protocol):
    status_stream: StatusStream

    def status(self) -> DeviceStatus: ...
    def authorise(
        self, amount_minor: int, on_status: StatusCallback | None = None
    ) -> TransactionResult: ...
    def reserve(
        self, amount_minor: int, on_status: StatusCallback | None = None
    ) -> TransactionResult: ...
    def book(self, receipt_number: int, amount_minor: int) -> TransactionResult: ...
    def release(self, receipt_number: int) -> TransactionResult: ...
    def reverse(self, receipt_number: int) -> TransactionResult: ...
    def refund(self, amount_minor: int) -> TransactionResult: ...
    def last_transaction(self) -> TransactionResult: ...
    def end_of_day(self) -> TransactionResult: ...
    def abort(self) -> bool: ...
    def close(self) -> None: ...


class Printer(Protocol):
    status_stream: StatusStream

    def status(self) -> DeviceStatus: ...
    def print_job(self, job: bytes) -> None: ...
    def close(self) -> None: ...


class CashDrawer(Protocol):
    def kick(self) -> None: ...


class Scanner(Protocol):
    status_stream: StatusStream

    def start(self, on_code: Callable[[str], None]) -> None: ...
    def stop(self) -> None: ...
