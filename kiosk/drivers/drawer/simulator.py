"""The physical side of a locker bank, played on gpiozero MockFactory pins: when the
kiosk pulses a lock, a simulated customer pulls the door open and closes it later, or
the door is jammed, left open, or bounces. The driver under test is the real one."""

from __future__ import annotations

import threading
import time
from enum import StrEnum
from typing import Any

from kiosk.drivers.drawer.lockers import LockerPins


class DoorBehaviour(StrEnum):
    NORMAL = "normal"  # opens shortly after the pulse, closes a little later
    JAMMED = "jammed"  # never opens
    LEFT_OPEN = "left_open"  # opens and stays open
    BOUNCY = "bouncy"  # chatters before it settles open, and again before it settles shut


class LockerBankSimulator:
    def __init__(
        self,
        factory: Any,
        lockers: list[LockerPins],
        *,
        open_after_s: float = 0.3,
        close_after_s: float = 2.0,
    ) -> None:
        self._factory = factory
        self._lockers = {p.locker: p for p in lockers}
        self.behaviour: dict[str, DoorBehaviour] = {p.locker: DoorBehaviour.NORMAL for p in lockers}
        self.open_after_s = open_after_s
        self.close_after_s = close_after_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _set_door(self, pins: LockerPins, open_: bool) -> None:
        pin = self._factory.pin(pins.door_pin)
        low = not open_ if pins.door_closed_is_low else open_
        if low:
            pin.drive_low()
        else:
            pin.drive_high()

    def cut_wire(self, locker: str) -> None:
        """The reed switch's wire comes off: the pull-up wins."""
        self._factory.pin(self._lockers[locker].door_pin).drive_high()

    def start(self) -> None:
        """All doors shut, then play. (gpiozero applies an input's pull-up when the
        device is created, so this must come after the driver opened its pins.)"""
        for pins in self._lockers.values():
            self._set_door(pins, open_=False)
        self._thread = threading.Thread(target=self._run, name="locker-sim", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _run(self) -> None:
        was_on = {name: False for name in self._lockers}
        while not self._stop.is_set():
            for name, pins in self._lockers.items():
                on = bool(self._factory.pin(pins.lock_pin).state) == pins.lock_active_high
                if on and not was_on[name]:
                    threading.Thread(target=self._customer, args=(pins,), daemon=True).start()
                was_on[name] = on
            time.sleep(0.005)

    def _chatter(self, pins: LockerPins, settle_open: bool) -> None:
        for i in range(6):
            self._set_door(pins, open_=(i % 2 == 0) == settle_open)
            time.sleep(0.005)
        self._set_door(pins, open_=settle_open)

    def _customer(self, pins: LockerPins) -> None:
        behaviour = self.behaviour[pins.locker]
        if behaviour is DoorBehaviour.JAMMED:
            return
        time.sleep(self.open_after_s)
        if behaviour is DoorBehaviour.BOUNCY:
            self._chatter(pins, settle_open=True)
        else:
            self._set_door(pins, open_=True)
        if behaviour is DoorBehaviour.LEFT_OPEN:
            return
        time.sleep(self.close_after_s)
        if behaviour is DoorBehaviour.BOUNCY:
            self._chatter(pins, settle_open=False)
        else:
            self._set_door(pins, open_=False)
