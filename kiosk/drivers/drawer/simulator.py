"""The physical side of a locker bank: when a lock is pulsed, a simulated customer pulls
the door open and closes it later, or the door is jammed, left open, or bounces.
`DoorPlayer` plays that for any backend's simulator; `LockerBankSimulator` drives
gpiozero MockFactory pins with it. The drivers under test are the real ones."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from kiosk.drivers.drawer.gpio import LockerPins


class DoorBehaviour(StrEnum):
    NORMAL = "normal"  # opens shortly after the pulse, closes a little later
    JAMMED = "jammed"  # never opens
    LEFT_OPEN = "left_open"  # opens and stays open
    BOUNCY = "bouncy"  # chatters before it settles open, and again before it settles shut


class DoorPlayer:
    """A customer at each door: `pulsed(locker)` when its lock is energised."""

    def __init__(
        self,
        set_door: Callable[[str, bool], None],
        lockers: list[str],
        *,
        open_after_s: float = 0.3,
        close_after_s: float = 2.0,
    ) -> None:
        self._set_door = set_door
        self.behaviour: dict[str, DoorBehaviour] = {name: DoorBehaviour.NORMAL for name in lockers}
        self.open_after_s = open_after_s
        self.close_after_s = close_after_s

    def pulsed(self, locker: str) -> None:
        threading.Thread(target=self._customer, args=(locker,), daemon=True).start()

    def _move(self, locker: str, open_: bool) -> None:
        """The door opens or shuts; a bouncy switch chatters before it settles."""
        if self.behaviour[locker] is DoorBehaviour.BOUNCY:
            for i in range(6):
                self._set_door(locker, (i % 2 == 0) == open_)
                time.sleep(0.005)
        self._set_door(locker, open_)

    def _customer(self, locker: str) -> None:
        behaviour = self.behaviour[locker]
        if behaviour is DoorBehaviour.JAMMED:
            return
        time.sleep(self.open_after_s)
        self._move(locker, True)
        if behaviour is DoorBehaviour.LEFT_OPEN:
            return
        time.sleep(self.close_after_s)
        self._move(locker, False)


class LockerBankSimulator:
    """Doors and locks on gpiozero MockFactory pins."""

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
        self.doors = DoorPlayer(
            self._set_door,
            list(self._lockers),
            open_after_s=open_after_s,
            close_after_s=close_after_s,
        )
        self.behaviour = self.doors.behaviour
        self.energised_at: list[tuple[str, float]] = []  # (locker, monotonic) per pulse seen
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _set_door(self, locker: str, open_: bool) -> None:
        pins = self._lockers[locker]
        pin = self._factory.pin(pins.door_pin)
        low = not open_ if pins.door_closed_is_low else open_
        if low:
            pin.drive_low()
        else:
            pin.drive_high()

    def cut_wire(self, locker: str) -> None:
        """The reed switch's wire comes off: the pull-up wins."""
        self._factory.pin(self._lockers[locker].door_pin).drive_high()

    def energised(self, locker: str) -> bool:
        pins = self._lockers[locker]
        return bool(self._factory.pin(pins.lock_pin).state) == pins.lock_active_high

    def start(self) -> None:
        """All doors shut, then play. (gpiozero applies an input's pull-up when the
        device is created, so this must come after the driver opened its pins.)"""
        for name in self._lockers:
            self._set_door(name, False)
        self._thread = threading.Thread(target=self._run, name="locker-sim", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _run(self) -> None:
        """Every change of a lock pin, from the mock pin's own history of its states:
        read every 10 ms, no pulse is missed however short, and the loop costs next to
        nothing (a 1 ms poll of each pin's level took a third of a core)."""
        seen = {name: len(self._lock_pin(name).states) for name in self._lockers}
        while not self._stop.wait(0.01):
            for name, pins in self._lockers.items():
                states = self._lock_pin(name).states
                for change in states[seen[name] :]:
                    if bool(change.state) == pins.lock_active_high:
                        self.energised_at.append((name, time.monotonic()))
                        self.doors.pulsed(name)
                seen[name] = len(states)

    def _lock_pin(self, locker: str) -> Any:
        return self._factory.pin(self._lockers[locker].lock_pin)
