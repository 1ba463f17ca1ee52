"""Lockers on the Pi's own GPIO header: a pulsed lock and a reed-switch door sensor per
locker, a dozen lockers at most (docs/hardware.md, "GPIO").

Wiring assumed: the lock is fail-secure (locked without power) and driven through a
transistor or relay, so the coil is only ever *pulsed* (the pulse ends in a `finally`,
whatever happens). The reed switch closes to ground when the door is shut, with the
pin's pull-up: a cut wire therefore reads as *open*, the safe reading. The bank
debounces (`LockHardware.debounced` is False).

Pin factory by configuration: `lgpio` (Raspberry Pi OS Bookworm, any Pi), `rpigpio`
(RPi.GPIO: 32-bit installs, Pi 4 and older; it fails on a Pi 5), `mock` (gpiozero's
MockFactory: tests and the demo).
"""

from __future__ import annotations

import glob
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gpiozero import DigitalInputDevice, DigitalOutputDevice

from kiosk.drivers.drawer.bank import LockerError, LockerFault


@dataclass(frozen=True)
class LockerPins:
    locker: str
    lock_pin: int
    door_pin: int
    lock_active_high: bool = True
    door_closed_is_low: bool = True  # reed switch to ground, pull-up on the pin


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
            if not glob.glob("/dev/gpiochip*"):
                raise LockerError(
                    "pin factory 'lgpio': no /dev/gpiochip* here: not a Raspberry Pi, or "
                    "a container or chroot without the GPIO device"
                )
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
    except LockerError:
        raise
    except Exception as exc:  # not installed, or the library's own error (lgpio.error)
        hint = "on Bookworm or a Pi 5 use lgpio; install the pi extra: pip install '.[pi]'"
        raise LockerError(f"pin factory {name!r} is not available here: {exc} ({hint})") from exc
    raise LockerError(f"unknown pin factory {name!r}: expected rpigpio, lgpio or mock")


class GpioHardware:
    """`LockHardware` on gpiozero pins."""

    debounced = False

    def __init__(
        self,
        lockers: list[LockerPins],
        factory: Any,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sleep = sleep
        self._pins = {p.locker: p for p in lockers}
        self._locks: dict[str, DigitalOutputDevice] = {}
        self._doors: dict[str, DigitalInputDevice] = {}
        seen: set[int] = set()
        for pins in lockers:
            for pin in (pins.lock_pin, pins.door_pin):
                if pin in seen:
                    raise LockerError(f"locker {pins.locker}: GPIO {pin} is used twice")
                seen.add(pin)
        for pins in lockers:
            self._locks[pins.locker] = DigitalOutputDevice(
                pins.lock_pin,
                active_high=pins.lock_active_high,
                initial_value=False,
                pin_factory=factory,
            )
            self._doors[pins.locker] = DigitalInputDevice(
                pins.door_pin, pull_up=True, pin_factory=factory
            )

    def locker_ids(self) -> list[str]:
        return list(self._pins)

    def read_open(self) -> dict[str, bool]:
        found = {}
        for name, door in self._doors.items():
            low = bool(door.is_active)  # pull-up: active means the pin is pulled low
            found[name] = not low if self._pins[name].door_closed_is_low else low
        return found

    def energise(self, locker: str, pulse_ms: int) -> None:
        lock = self._locks[locker]
        try:
            lock.on()
            self.sleep(pulse_ms / 1000)
        finally:
            lock.off()

    def describe(self) -> list[tuple[bool, str]]:
        return []  # no board or firmware between the Pi and the locks

    def close(self) -> None:
        for lock in self._locks.values():
            lock.off()
            lock.close()
        for door in self._doors.values():
            door.close()


class NoPins:
    """`LockHardware` for GPIO lockers whose pin factory cannot be had here (no GPIO
    device, the library missing): every read and pulse is a LockerFault saying why, so
    the rest of the kiosk runs and `kiosk doctor` shows the reason on the lockers' row."""

    debounced = True

    def __init__(self, lockers: list[str], reason: str) -> None:
        self._lockers = lockers
        self.reason = reason

    def locker_ids(self) -> list[str]:
        return list(self._lockers)

    def read_open(self) -> dict[str, bool]:
        raise LockerFault(self.reason)

    def energise(self, locker: str, pulse_ms: int) -> None:
        raise LockerFault(self.reason)

    def describe(self) -> list[tuple[bool, str]]:
        return [(False, self.reason)]

    def close(self) -> None:
        pass
