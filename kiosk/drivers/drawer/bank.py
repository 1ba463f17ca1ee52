"""A bank of pickup lockers, whatever drives it: the behaviour every backend shares.

The bank pulses a lock, then waits until the door is *seen* open; debounces door
readings (unless the hardware already did); raises opened, closed, left-open and
never-opened events; and turns hardware faults (a silent board, a bus error, a
co-processor that restarted) into device states, never into exceptions a customer's
journey has to catch. What stands behind it is a `LockHardware`: the Pi's GPIO
(`gpio.py`), RS-485 lock-control boards (`cu16.py`) or a MicroPython co-processor
(`pico.py`), chosen by `[lockers] backend` (docs/hardware.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kiosk.drivers.base import DeviceState, StatusStream

log = logging.getLogger(__name__)


class LockerError(Exception):
    """A locker that cannot be used, and why."""


class LockerFault(LockerError):
    """The hardware did not answer, or answered wrong: a bus error, a silent board."""


class Door(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class LockerEventKind(StrEnum):
    OPENED = "opened"
    CLOSED = "closed"
    LEFT_OPEN = "left_open"  # alarm: open longer than allowed
    NEVER_OPENED = "never_opened"  # pulsed, but the door was not seen open


@dataclass(frozen=True)
class LockerEvent:
    locker: str
    kind: LockerEventKind
    at: float  # monotonic seconds


@dataclass(frozen=True)
class LockerTimings:
    pulse_ms: int = 500
    debounce_ms: int = 50
    open_timeout_s: float = 8.0
    left_open_alarm_s: float = 120.0


@dataclass(frozen=True)
class OpenResult:
    locker: str
    opened: bool
    detail: str


class LockHardware(Protocol):
    """What drives the locks and reads the doors."""

    debounced: bool  # door readings are debounced already (on the board or co-processor)

    def locker_ids(self) -> list[str]: ...

    def read_open(self) -> dict[str, bool]:
        """Every door: True when open (a cut wire reads open). Raises LockerFault."""
        ...

    def energise(self, locker: str, pulse_ms: int) -> None:
        """Pulse one lock, bounded; returns once the pulse is done or in the hands of a
        device that bounds it. Raises LockerFault when the command was not carried out."""
        ...

    def describe(self) -> list[tuple[bool, str]]:
        """What `kiosk doctor` shows, asked afresh: each board or co-processor (healthy or
        not, and its firmware version where it has one)."""
        ...

    def close(self) -> None: ...


class Debouncer:
    """A raw input becomes a confirmed state once it has held for `hold` seconds."""

    def __init__(self, initial: bool, hold: float, now: float) -> None:
        self.hold = hold
        self.confirmed = initial
        self._raw = initial
        self._since = now

    def sample(self, raw: bool, now: float) -> bool | None:
        """Feed the current raw value; returns the new confirmed state when it changes."""
        if raw != self._raw:
            self._raw, self._since = raw, now
            if self.hold > 0:
                return None
        if raw != self.confirmed and now - self._since >= self.hold:
            self.confirmed = raw
            return raw
        return None

    def settled(self, raw: bool, now: float) -> bool:
        return self.confirmed == raw and now - self._since >= self.hold


@dataclass
class _Locker:
    debouncer: Debouncer
    opened_at: float | None = None
    alarmed: bool = False


class LockerBank:
    def __init__(
        self,
        hardware: LockHardware,
        timings: LockerTimings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.hardware = hardware
        self.timings = timings or LockerTimings()
        self._clock = clock
        self._sleep = sleep
        self._listeners: list[Callable[[LockerEvent], None]] = []
        self._lock = threading.RLock()
        self.status_stream = StatusStream("lockers")
        hold = 0.0 if hardware.debounced else self.timings.debounce_ms / 1000
        self._raw: dict[str, bool] = {}
        self._fault = ""
        try:
            self._raw = hardware.read_open()
        except LockerFault as exc:
            self._fault = str(exc)
        now = clock()
        self._lockers = {
            name: _Locker(Debouncer(self._raw.get(name, True), hold, now))
            for name in hardware.locker_ids()
        }
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        if self._fault:
            self.status_stream.publish(DeviceState.FAULT, self._fault)
        else:
            self.status_stream.publish(DeviceState.READY, f"{len(self._lockers)} lockers")

    # -- events ---------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[LockerEvent], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, locker: str, kind: LockerEventKind) -> None:
        event = LockerEvent(locker, kind, self._clock())
        log.info("locker %s %s", locker, kind)
        for listener in list(self._listeners):
            listener(event)

    def _read(self) -> bool:
        """Take every door's reading; a fault becomes the bank's state, once."""
        try:
            self._raw = self.hardware.read_open()
        except LockerFault as exc:
            if str(exc) != self._fault:
                self._fault = str(exc)
                log.warning("lockers: %s", exc)
                self.status_stream.publish(DeviceState.FAULT, self._fault)
            return False
        if self._fault:
            self._fault = ""
            self.status_stream.publish(DeviceState.READY, f"{len(self._lockers)} lockers")
        return True

    def poll(self) -> None:
        """Read every door once: debounce, and raise opened/closed/left-open events."""
        with self._lock:
            if not self._read():
                return
            now = self._clock()
            for name, locker in self._lockers.items():
                change = locker.debouncer.sample(self._raw.get(name, True), now)
                if change is True:
                    locker.opened_at, locker.alarmed = now, False
                    self._emit(name, LockerEventKind.OPENED)
                elif change is False:
                    locker.opened_at = None
                    self._emit(name, LockerEventKind.CLOSED)
                elif (
                    locker.opened_at is not None
                    and not locker.alarmed
                    and now - locker.opened_at >= self.timings.left_open_alarm_s
                ):
                    locker.alarmed = True
                    self._emit(name, LockerEventKind.LEFT_OPEN)

    def wait_stable(self, timeout: float = 1.0) -> bool:
        """Poll until every door's reading has held for the debounce time (after power-up
        or after a simulator set the doors), so the first open() sees the real state."""
        deadline = self._clock() + timeout
        while self._clock() < deadline:
            self.poll()
            now = self._clock()
            if not self._fault and all(
                lk.debouncer.settled(self._raw.get(name, True), now)
                for name, lk in self._lockers.items()
            ):
                return True
            self._sleep(0.005)
        return False

    def start(self, interval: float = 0.01) -> None:
        """Watch the doors in a thread (the kiosk's device thread for the lockers)."""

        def run() -> None:
            while not self._stop.is_set():
                self.poll()
                self._stop.wait(interval)

        self._thread = threading.Thread(target=run, name="lockers", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """The door-watching thread runs (or was never started)."""
        return self._thread is None or self._thread.is_alive()

    # -- questions and the one action -------------------------------------------------------
    def locker_ids(self) -> list[str]:
        return list(self._lockers)

    def door(self, locker: str) -> Door:
        return Door.OPEN if self._get(locker).debouncer.confirmed else Door.CLOSED

    def describe(self) -> list[tuple[bool, str]]:
        with self._lock:
            return self.hardware.describe()

    def _get(self, locker: str) -> _Locker:
        try:
            return self._lockers[locker]
        except KeyError:
            raise LockerError(
                f"no locker {locker!r} (lockers: {', '.join(self._lockers)})"
            ) from None

    def pulse(self, locker: str) -> None:
        """Energise the lock for pulse_ms, never longer."""
        self._get(locker)
        with self._lock:
            self.hardware.energise(locker, self.timings.pulse_ms)

    def open(self, locker: str) -> OpenResult:
        """Pulse the lock and wait until the door is *seen* open. If it is not within
        open_timeout_s, or the hardware failed, say so: the caller releases the payment
        and alerts staff."""
        target = self._get(locker)
        if target.debouncer.confirmed:
            # Only a door *seen* going from shut to open proves the customer could reach
            # the item now; an already open door proves nothing (staff must look). A door
            # never read (the hardware at fault) counts as open, for the same reason.
            if self._fault:
                return OpenResult(locker, False, f"the door cannot be read: {self._fault}")
            return OpenResult(locker, False, "the door was already open")
        self.status_stream.publish(DeviceState.BUSY, f"opening locker {locker}")
        try:
            self.pulse(locker)
        except LockerFault as exc:
            self._fault = str(exc)
            self.status_stream.publish(DeviceState.FAULT, self._fault)
            return OpenResult(locker, False, f"the lock could not be pulsed: {exc}")
        deadline = self._clock() + self.timings.open_timeout_s
        while self._clock() < deadline:
            self.poll()
            if target.debouncer.confirmed:
                self.status_stream.publish(DeviceState.READY, f"locker {locker} open")
                return OpenResult(locker, True, "door open")
            self._sleep(0.01)
        self._emit(locker, LockerEventKind.NEVER_OPENED)
        self.status_stream.publish(DeviceState.WARNING, f"locker {locker} did not open")
        return OpenResult(locker, False, "the door was not seen open: jammed, or nobody pulled it")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
        self.hardware.close()
