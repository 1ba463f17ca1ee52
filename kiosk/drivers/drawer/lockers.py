"""Pickup lockers on GPIO: a pulsed lock and a reed-switch door sensor per locker.

Wiring assumed (docs/hardware.md): the lock is fail-secure (locked without power) and
driven through a transistor or relay, so `open` only ever *pulses* it (the coil is
never held on, whatever happens: the pulse ends in a `finally`). The reed switch closes
to ground when the door is shut, with the pin's pull-up: a cut wire therefore reads as
*open*, the safe reading. The door input is debounced: a state counts once it has held
for `debounce_ms`. A door left open past `left_open_alarm_s` raises an alarm event.

Pin factory by configuration: `lgpio` (Raspberry Pi OS Bookworm, any Pi), `rpigpio`
(RPi.GPIO: 32-bit installs, Pi 4 and older; it fails on a Pi 5), `mock` (gpiozero's
MockFactory: tests and the demo).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gpiozero import DigitalInputDevice, DigitalOutputDevice

from kiosk.drivers.base import DeviceState, StatusStream

log = logging.getLogger(__name__)


class LockerError(Exception):
    """A locker that cannot be used, and why."""


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
class LockerPins:
    locker: str
    lock_pin: int
    door_pin: int
    lock_active_high: bool = True
    door_closed_is_low: bool = True  # reed switch to ground, pull-up on the pin


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
            return None
        if raw != self.confirmed and now - self._since >= self.hold:
            self.confirmed = raw
            return raw
        return None


def pin_factory(name: str) -> Any:
    """A gpiozero pin factory by its config name, with an error that says what to do."""
    try:
        if name == "mock":
            from gpiozero.pins.mock import MockFactory

            return MockFactory()
        if name == "rpigpio":
            from gpiozero.pins.rpigpio import RPiGPIOFactory

            return RPiGPIOFactory()
        if name == "lgpio":
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
    except (ImportError, RuntimeError, OSError) as exc:
        hint = "on Bookworm or a Pi 5 use lgpio; install the pi extra: pip install '.[pi]'"
        raise LockerError(f"pin factory {name!r} is not available here: {exc} ({hint})") from exc
    raise LockerError(f"unknown pin factory {name!r}: expected rpigpio, lgpio or mock")


@dataclass
class _Locker:
    pins: LockerPins
    lock: DigitalOutputDevice
    door: DigitalInputDevice
    debouncer: Debouncer
    opened_at: float | None = None
    alarmed: bool = False


class GpioLockers:
    def __init__(
        self,
        lockers: list[LockerPins],
        factory: Any,
        timings: LockerTimings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timings = timings or LockerTimings()
        self._clock = clock
        self._sleep = sleep
        self._listeners: list[Callable[[LockerEvent], None]] = []
        self._lock = threading.RLock()
        self.status_stream = StatusStream("lockers")
        self._lockers: dict[str, _Locker] = {}
        seen_pins: set[int] = set()
        for pins in lockers:
            for pin in (pins.lock_pin, pins.door_pin):
                if pin in seen_pins:
                    raise LockerError(f"locker {pins.locker}: GPIO {pin} is used twice")
                seen_pins.add(pin)
            lock = DigitalOutputDevice(
                pins.lock_pin,
                active_high=pins.lock_active_high,
                initial_value=False,
                pin_factory=factory,
            )
            door = DigitalInputDevice(pins.door_pin, pull_up=True, pin_factory=factory)
            state = self._raw_open(pins, door)
            self._lockers[pins.locker] = _Locker(
                pins, lock, door, Debouncer(state, self.timings.debounce_ms / 1000, clock())
            )
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.status_stream.publish(DeviceState.READY, f"{len(self._lockers)} lockers")

    @staticmethod
    def _raw_open(pins: LockerPins, door: DigitalInputDevice) -> bool:
        low = bool(door.is_active)  # pull-up: active means the pin is pulled low
        return not low if pins.door_closed_is_low else low

    # -- events ---------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[LockerEvent], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, locker: str, kind: LockerEventKind) -> None:
        event = LockerEvent(locker, kind, self._clock())
        log.info("locker %s %s", locker, kind)
        for listener in list(self._listeners):
            listener(event)

    def poll(self) -> None:
        """Read every door once: debounce, and raise opened/closed/left-open events."""
        now = self._clock()
        with self._lock:
            for name, locker in self._lockers.items():
                change = locker.debouncer.sample(self._raw_open(locker.pins, locker.door), now)
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
            if all(
                lk.debouncer.confirmed == self._raw_open(lk.pins, lk.door)
                and now - lk.debouncer._since >= lk.debouncer.hold
                for lk in self._lockers.values()
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

    def _get(self, locker: str) -> _Locker:
        try:
            return self._lockers[locker]
        except KeyError:
            raise LockerError(
                f"no locker {locker!r} (lockers: {', '.join(self._lockers)})"
            ) from None

    def pulse(self, locker: str) -> None:
        """Energise the lock for pulse_ms, never longer."""
        target = self._get(locker)
        try:
            target.lock.on()
            self._sleep(self.timings.pulse_ms / 1000)
        finally:
            target.lock.off()

    def open(self, locker: str) -> OpenResult:
        """Pulse the lock and wait until the door is *seen* open. If it is not within
        open_timeout_s, report it: the caller releases the payment and alerts staff."""
        target = self._get(locker)
        if target.debouncer.confirmed:
            # Only a door *seen* going from shut to open proves the customer could reach
            # the item now; an already open door proves nothing (staff must look).
            return OpenResult(locker, False, "the door was already open")
        self.status_stream.publish(DeviceState.BUSY, f"opening locker {locker}")
        self.pulse(locker)
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
        for locker in self._lockers.values():
            locker.lock.off()
            locker.lock.close()
            locker.door.close()
