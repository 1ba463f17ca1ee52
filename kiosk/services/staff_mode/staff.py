"""Staff mode: signing in with a PIN (or a staff card and a PIN), and the daily tasks at
the screen, each checked against the signed-in member's role.

Every task that changes something the back office must know goes through the outbox in
the same transaction as the local change (discarded operations here; item locations in
`staff_mode/staff_lockers.py`, closed shifts in `staff_mode/shifts.py`, refunds with
the payments in `money/refunds.py`); every task is logged with who did it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kiosk.config import Config
from kiosk.domain.billing import Invoice, Payment
from kiosk.domain.claim_codes import ClaimCode, InvalidClaimCode
from kiosk.domain.orders import ServiceOrder
from kiosk.domain.staff import Permission, Role, StaffError, StaffMember, check_pin
from kiosk.domain.text import cut, width
from kiosk.i18n import Lang
from kiosk.receipts.builders import ShopInfo, payment_receipt
from kiosk.services.journeys.identify import Verifier
from kiosk.services.machine.devices import Devices
from kiosk.services.machine.diagnostics import Check, check_devices
from kiosk.services.money.receipt_delivery import Delivery, ReceiptDelivery
from kiosk.services.permissions import StaffTaskError, require
from kiosk.services.staff_mode.usb_devices import BlockedDevice, UsbGuard
from kiosk.storage.outbox import OutboxEntry
from kiosk.storage.repositories import Repositories

log = logging.getLogger("kiosk.staff")

MAX_PIN_TRIES = 5
PIN_LOCKOUT = timedelta(minutes=15)
PIN_LOCK_KEY = "staff.pin_lock"


@dataclass(frozen=True)
class SignIn:
    member: StaffMember | None
    tries_left: int
    locked_until: datetime | None = None


def order_for_tag(repos: Repositories, scanned: str) -> ServiceOrder:
    """The order whose item tag (or ticket) was scanned or typed."""
    try:
        code = ClaimCode.parse(scanned.strip())
    except InvalidClaimCode as exc:
        raise StaffTaskError(f"not an item tag: {exc}") from exc
    order = repos.orders.by_claim_code(code)
    if order is None:
        raise StaffTaskError(f"no order with claim code {code.display}")
    return order


class RecentLog(logging.Handler):
    """The last few hundred log lines, for the staff screen (journald keeps them all)."""

    def __init__(self, size: int = 300) -> None:
        super().__init__(logging.INFO)
        self.lines: deque[str] = deque(maxlen=size)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a log line must never break the kiosk
            self.handleError(record)


class StaffService:
    def __init__(
        self,
        repos: Repositories,
        config: Config,
        devices: Devices,
        delivery: ReceiptDelivery,
        verifier: Verifier,
        clock: Callable[[], datetime],
        *,
        recent_log: RecentLog | None = None,
    ) -> None:
        self._repos = repos
        self._config = config
        self._devices = devices
        self._delivery = delivery
        self._verifier = verifier
        self._clock = clock
        self.recent_log = recent_log or RecentLog()
        self._shop = ShopInfo(
            config.shop.name, tuple(config.shop.address_lines), status_url=config.shop.status_url
        )
        self.usb = UsbGuard()

    # -- people --
    def add_member(
        self, staff_id: str, name: str, role: Role | str, pin: str, card: str = ""
    ) -> StaffMember:
        check_pin(pin)
        if self._repos.staff.pin_taken(pin):
            raise StaffError("that PIN is already someone's: choose another")
        member = StaffMember.create(staff_id, name, Role(role), pin, card.strip())
        self._repos.staff.add(member)
        log.info("staff member %s (%s) added", staff_id, member.role)
        return member

    def pin_locked_until(self) -> datetime | None:
        until = (self._repos.settings.get(PIN_LOCK_KEY) or {}).get("until")
        if until and datetime.fromisoformat(until) > self._clock():
            return datetime.fromisoformat(until)
        return None

    def sign_in(self, pin: str, card: str = "") -> SignIn:
        """A PIN alone (matched against every active member) or after a staff card. Five
        wrong PINs in a row lock staff mode for 15 minutes, across restarts."""
        locked = self.pin_locked_until()
        if locked is not None:
            return SignIn(None, 0, locked)
        if card:
            holder = self._repos.staff.by_card(card)
            candidates = [holder] if holder is not None else []
        else:
            candidates = self._repos.staff.all()
        for member in candidates:
            if member.active and member.pin_matches(pin):
                self._repos.settings.set(PIN_LOCK_KEY, {"tries": 0})
                log.info("staff mode: %s signed in (%s)", member.staff_id, member.role)
                return SignIn(member, MAX_PIN_TRIES)
        tries = int((self._repos.settings.get(PIN_LOCK_KEY) or {}).get("tries", 0)) + 1
        if tries >= MAX_PIN_TRIES:
            until = self._clock() + PIN_LOCKOUT
            self._repos.settings.set(PIN_LOCK_KEY, {"tries": 0, "until": until.isoformat()})
            log.warning("staff mode locked until %s after %d wrong PINs", until, tries)
            return SignIn(None, 0, until)
        self._repos.settings.set(PIN_LOCK_KEY, {"tries": tries})
        log.warning("staff mode: wrong PIN (%d of %d)", tries, MAX_PIN_TRIES)
        return SignIn(None, MAX_PIN_TRIES - tries)

    def is_staff_card(self, code: str) -> bool:
        return self._repos.staff.by_card(code) is not None

    # -- transactions --
    def search(
        self,
        member: StaffMember,
        *,
        on: date | None = None,
        claim_code: str = "",
        customer: str = "",
        card_last4: str = "",
    ) -> list[Payment]:
        """Payments matching every criterion given, newest first."""
        require(member, Permission.SEARCH)
        if card_last4:
            if len(card_last4) != 4 or not card_last4.isdigit():
                raise StaffTaskError("the card's last four digits, please")
            found = self._repos.payments.by_card_last4(card_last4)
        else:
            found = self._repos.payments.all()
        if claim_code:
            order = order_for_tag(self._repos, claim_code)
            invoices = {i.number for i in self._repos.invoices.for_order(order.number)}
            found = [p for p in found if invoices & set(p.invoice_numbers)]
        if customer:
            wanted = customer.strip().casefold()
            accounts = {
                c.account_number
                for c in self._repos.customers.all()
                if wanted in (c.account_number.casefold(), c.last_name.casefold())
            }
            found = [p for p in found if p.customer_account in accounts]
        if on is not None:
            found = [p for p in found if p.at.date() == on]
        return sorted(found, key=lambda p: p.at, reverse=True)

    def reprint(self, member: StaffMember, payment_id: str, lang: str = "fr") -> Delivery:
        require(member, Permission.SEARCH)
        payment = self._repos.payments.get(payment_id)
        if payment is None:
            raise StaffTaskError(f"no payment {payment_id}")
        if payment_id.startswith("refund-"):
            raise StaffTaskError("a refund has no kiosk receipt (the terminal printed its own)")
        invoice = self._invoice_of(payment)
        customer = self._repos.customers.get(payment.customer_account)
        doc = payment_receipt(
            self._shop, invoice, payment, Lang(lang), account_after=None, copy=True
        )
        log.info("%s reprinted the receipt of %s", member.staff_id, payment_id)
        return self._delivery.deliver(
            "payment", doc, customer, f"reprint:{payment_id}", payment_id=payment_id
        )

    def _invoice_of(self, payment: Payment) -> Invoice:
        for number in payment.invoice_numbers:
            invoice = self._repos.invoices.get(number)
            if invoice is not None:
                return invoice
        raise StaffTaskError(f"the invoice of payment {payment.payment_id} is no longer here")

    # -- claim codes --
    def unlock_claim(self, member: StaffMember, scanned: str) -> ServiceOrder:
        require(member, Permission.UNLOCK_CLAIM)
        order = order_for_tag(self._repos, scanned)
        self._verifier.unlock(order.claim_code.value)
        log.info("%s unlocked claim code %s", member.staff_id, order.claim_code.display)
        return order

    def claim_locked_until(self, order: ServiceOrder) -> datetime | None:
        return self._verifier.locked_until(order.claim_code.value)

    # -- sync and devices --
    def sync_queue(self, member: StaffMember) -> tuple[int, list[OutboxEntry]]:
        require(member, Permission.SYNC)
        stats = self._repos.outbox.stats(self._clock())
        return stats.pending, stats.dead_letters

    def retry_dead(self, member: StaffMember, op_id: str) -> OutboxEntry:
        require(member, Permission.SYNC)
        log.info("%s put dead letter %s back in the queue", member.staff_id, op_id)
        return self._repos.outbox.requeue(op_id, self._clock())

    def discard_dead(self, member: StaffMember, op_id: str, reason: str) -> OutboxEntry:
        require(member, Permission.SYNC)
        if not reason.strip():
            raise StaffTaskError("say why it is discarded")
        entry = self._repos.outbox.discard(op_id, reason.strip(), member.name, self._clock())
        log.warning("%s discarded %s (%s): %s", member.staff_id, op_id, entry.kind, reason)
        return entry

    def device_status(self, member: StaffMember) -> list[Check]:
        require(member, Permission.DEVICES)
        return check_devices(self._devices, probe_scanner=False)

    def usb_blocked(self, member: StaffMember) -> list[BlockedDevice]:
        """USB devices the policy keeps out (UsbError when usbguard cannot be asked)."""
        require(member, Permission.DEVICES)
        return self.usb.blocked()

    def allow_usb(self, member: StaffMember, device: BlockedDevice) -> None:
        """A replacement device, let in from now on."""
        require(member, Permission.DEVICES)
        self.usb.allow(device)
        log.warning("%s allowed USB device %s", member.staff_id, device.label)

    def log_lines(self, member: StaffMember, count: int = 40) -> list[str]:
        require(member, Permission.DEVICES)
        return list(self.recent_log.lines)[-count:]


def describe(value: Any) -> str:
    """A short, safe line for a dead letter's payload on screen."""
    text = str(value)
    return text if width(text) <= 80 else cut(text, 77) + "…"
