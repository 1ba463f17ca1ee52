"""Staff mode's locker tasks: what is in each locker, loading a finished item into a free
locker (scan its tag, the door opens, the item goes in, the door shuts) and emptying a
locker back to the counter. Every move goes to the back office in the same transaction
as the order's new location."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kiosk.config import Config
from kiosk.domain.orders import TERMINAL_STATES, OrderState, ServiceOrder
from kiosk.domain.staff import Permission, StaffMember
from kiosk.drivers.drawer.bank import Door
from kiosk.services.machine.devices import Devices
from kiosk.services.permissions import StaffTaskError, require
from kiosk.services.staff_mode.staff import order_for_tag
from kiosk.storage.repositories import Repositories

log = logging.getLogger("kiosk.staff")


@dataclass(frozen=True)
class LockerRow:
    locker: str
    door: Door | None  # None: no lockers on this kiosk
    order: ServiceOrder | None
    customer: str  # masked name


@dataclass(frozen=True)
class LockerTask:
    locker: str
    order: ServiceOrder | None
    done: bool
    detail: str


class LockerTasks:
    def __init__(
        self,
        repos: Repositories,
        config: Config,
        devices: Devices,
        clock: Callable[[], datetime],
        *,
        door_timeout_s: float = 120.0,
    ) -> None:
        self._repos = repos
        self._config = config
        self._devices = devices
        self._clock = clock
        self.door_timeout_s = door_timeout_s

    def _locker_ids(self) -> list[str]:
        return [entry.id for entry in self._config.lockers.locker]

    def _occupant(self, locker: str) -> ServiceOrder | None:
        for order in self._repos.orders.located_in(f"locker {locker}"):
            if order.state not in TERMINAL_STATES:
                return order
        return None

    def inventory(self, member: StaffMember) -> list[LockerRow]:
        require(member, Permission.LOCKERS)
        lockers = self._devices.lockers
        rows = []
        for locker in self._locker_ids():
            order = self._occupant(locker)
            customer = ""
            if order is not None:
                found = self._repos.customers.get(order.customer_account)
                customer = found.masked_name if found is not None else ""
            door = lockers.door(locker) if lockers is not None else None
            rows.append(LockerRow(locker, door, order, customer))
        return rows

    def free_locker(self) -> str | None:
        lockers = self._devices.lockers
        for locker in self._locker_ids():
            if locker == self._config.kiosk.dropoff_locker:
                continue  # the drop-off locker takes customers' items, not finished ones
            if self._occupant(locker) is None and (
                lockers is None or lockers.door(locker) is Door.CLOSED
            ):
                return locker
        return None

    def load_locker(
        self,
        member: StaffMember,
        scanned: str,
        on_open: Callable[[str], None] | None = None,
    ) -> LockerTask:
        """Scan the item's tag → a free locker opens → the item goes in, the door shuts →
        the order is in that locker (and the back office hears it)."""
        require(member, Permission.LOCKERS)
        order = order_for_tag(self._repos, scanned)
        if order.state is not OrderState.DONE:
            raise StaffTaskError(f"order {order.number} is {order.state.value}, not done")
        if order.location.startswith("locker "):
            raise StaffTaskError(f"order {order.number} is already in {order.location}")
        locker = self.free_locker()
        if locker is None:
            raise StaffTaskError("every locker is full")
        opened = self._open(locker)
        if not opened.done:
            return LockerTask(locker, order, False, opened.detail)
        if on_open is not None:
            on_open(locker)  # "Locker 2 is open: put the item in and close the door"
        if not self._wait_shut(locker):
            return LockerTask(locker, order, False, f"locker {locker} was left open")
        moved = self._move(order, f"locker {locker}", member)
        return LockerTask(locker, moved, True, f"order {order.number} is in locker {locker}")

    def empty_locker(self, member: StaffMember, locker: str) -> LockerTask:
        """Open a locker to take its item back to the counter."""
        require(member, Permission.LOCKERS)
        if locker not in self._locker_ids():
            raise StaffTaskError(f"there is no locker {locker}")
        order = self._occupant(locker)
        opened = self._open(locker)
        if not opened.done:
            return LockerTask(locker, order, False, opened.detail)
        if order is not None:
            order = self._move(order, "counter", member)
        return LockerTask(locker, order, True, f"locker {locker} emptied")

    def _open(self, locker: str) -> LockerTask:
        lockers = self._devices.lockers
        if lockers is None:
            raise StaffTaskError("this kiosk has no lockers")
        result = lockers.open(locker)
        return LockerTask(locker, None, result.opened, result.detail)

    def _wait_shut(self, locker: str) -> bool:
        lockers = self._devices.lockers
        assert lockers is not None
        deadline = time.monotonic() + self.door_timeout_s
        while time.monotonic() < deadline:
            if lockers.door(locker) is Door.CLOSED:
                return True
            time.sleep(0.02)
        return False

    def _move(self, order: ServiceOrder, location: str, member: StaffMember) -> ServiceOrder:
        now = self._clock()
        moved = order.move_item(location, now, member.name)
        with self._repos.store.transaction():
            self._repos.orders.save(moved)
            self._repos.outbox.enqueue(
                "item.located",
                {
                    "number": order.number,
                    "location": location,
                    "at": now.isoformat(),
                    "author": member.name,
                },
                key=f"customer:{order.customer_account}",
                now=now,
            )
        log.info("%s: order %s -> %s", member.staff_id, order.number, location)
        return moved
