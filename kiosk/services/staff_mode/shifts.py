"""Staff mode's shifts: open one, and close it with its report (every payment since it
opened, totals by method, the card total against the terminal's end of day, what is in
the lockers), printed or sent, and synced."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kiosk.config import Config
from kiosk.domain.billing import Payment
from kiosk.domain.money import Money
from kiosk.domain.plain import to_plain
from kiosk.domain.shifts import Shift
from kiosk.domain.staff import Permission, StaffMember
from kiosk.drivers.base import TerminalError
from kiosk.i18n import Lang
from kiosk.receipts.builders import LockerContent, ShopInfo, shift_report
from kiosk.services.machine.devices import Devices
from kiosk.services.money.receipt_delivery import Delivery, ReceiptDelivery
from kiosk.services.permissions import StaffTaskError, require
from kiosk.services.staff_mode.staff_lockers import LockerTasks
from kiosk.storage.repositories import Repositories

log = logging.getLogger("kiosk.staff")


@dataclass(frozen=True)
class ShiftClosed:
    shift: Shift
    payments: list[Payment]
    terminal_card_total: Money | None
    card_difference: Money | None
    receipt: Delivery


class Shifts:
    def __init__(
        self,
        repos: Repositories,
        config: Config,
        devices: Devices,
        delivery: ReceiptDelivery,
        lockers: LockerTasks,
        clock: Callable[[], datetime],
    ) -> None:
        self._repos = repos
        self._config = config
        self._devices = devices
        self._delivery = delivery
        self._lockers = lockers
        self._clock = clock
        self._shop = ShopInfo(config.shop.name, tuple(config.shop.address_lines))

    def current(self) -> Shift | None:
        return self._repos.shifts.current()

    def open(self, member: StaffMember) -> Shift:
        require(member, Permission.SHIFT)
        if self._repos.shifts.current() is not None:
            raise StaffTaskError("a shift is already open")
        now = self._clock()
        # the shop's own clock, as the report prints it, and a number of this kiosk's
        # own: two shifts opened in the same second are two shifts
        local = now.astimezone(Lang(self._config.kiosk.languages[0]).tz)
        with self._repos.store.transaction():
            number = self._repos.settings.next_number("shift")
            shift = Shift(
                f"{self._config.kiosk.id}-{local:%Y%m%d-%H%M%S}-{number}",
                now,
                member.name,
                self._config.shop.currency,
            )
            self._repos.shifts.add(shift)
        log.info("%s opened shift %s", member.staff_id, shift.shift_id)
        return shift

    def close(self, member: StaffMember, lang: str = "fr") -> ShiftClosed:
        """Close with the report: every payment since the shift opened, totals by method,
        the card total against the terminal's end-of-day total, and what is in the
        lockers. Printed (or sent) and synced."""
        require(member, Permission.SHIFT)
        shift = self._repos.shifts.current()
        if shift is None:
            raise StaffTaskError("no shift is open")
        now = self._clock()
        payments = [p for p in self._repos.payments.all() if shift.opened_at <= p.at <= now]
        terminal_total: Money | None = None
        terminal = self._devices.terminal
        if terminal is not None:
            try:
                eod = terminal.end_of_day()
                if eod.approved and eod.amount_minor is not None:
                    terminal_total = Money.from_minor(eod.amount_minor, shift.currency)
                else:
                    log.warning("terminal end of day: %s", eod.message)
            except TerminalError as exc:
                log.warning("terminal end of day failed: %s", exc)
        closed = shift.close(now, member.name)
        contents = (
            [
                LockerContent(
                    row.locker,
                    row.order.number if row.order else "",
                    row.order.claim_code.display if row.order else "",
                )
                for row in self._lockers.inventory(member)
            ]
            if member.may(Permission.LOCKERS)
            else []
        )
        with self._repos.store.transaction():
            self._repos.shifts.save(closed)
            self._repos.outbox.enqueue(
                "shift.closed", to_plain(closed), key=f"shift:{closed.shift_id}", now=now
            )
        doc = shift_report(
            self._shop,
            closed,
            payments,
            Lang(lang),
            terminal_card_total=terminal_total,
            lockers=contents,
        )
        receipt = self._delivery.deliver("shift", doc, None, f"shift:{closed.shift_id}")
        difference = closed.card_difference(terminal_total) if terminal_total else None
        log.info(
            "%s closed shift %s (card difference %s)", member.staff_id, shift.shift_id, difference
        )
        return ShiftClosed(closed, payments, terminal_total, difference, receipt)
