"""Recovery: every intent in the ledger reaches a business outcome.

Run at start (before the first customer), as soon as the terminal answers again, and
from staff mode ("resolve now"), never while a customer journey is between its steps
(staff mode and start-up are reached only from the attract screen). In order:

1. Open intents (PENDING, BOOKING, RELEASING) are decided by asking the terminal
   (`CardPayments.resolve`): never from silence, never from a refusal alone.
2. Reservations still held: booked if the locker's door was seen open (the customer
   has the item), or is open now; released if the lock was never pulsed; held, with
   staff alerted, when the lock was pulsed (stored before it was) and nothing proves
   the door stayed shut: the item may be gone. Staff confirm (`confirm_pickup`): taken,
   booked; still there, released.
3. Final intents not yet settled: their business operation is finished (order
   collected with its payment, statement paid, refund recorded) or voided, in one
   transaction each; the receipt is sent (SMS/e-mail: the customer has left).

A terminal that cannot be asked stops step 1 and 2 (the intent stays open and blocks
new card payments, not drop-offs or account charges); step 3 needs no terminal.

No intent can stop the others, nor the kiosk: whatever one raises (a record the back
office changed meanwhile, a record that no longer decodes, a bug) is caught for that
intent alone, logged with it, alerted once, and the intent is *quarantined*: left as it
is, listed in staff mode's "Payments to confirm" and on the fleet page (it is still
unresolved), and tried again at the next run. The kiosk starts and serves the next
customer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from kiosk.domain.intents import IntentState, PaymentIntent
from kiosk.domain.staff import Permission, StaffMember
from kiosk.drivers.drawer.bank import LockerBank
from kiosk.services.alerts import alert
from kiosk.services.money.payments import CardPayments, TerminalUnavailable
from kiosk.services.money.receipt_delivery import ReceiptDelivery
from kiosk.services.money.settlement import Settlement, locker_of
from kiosk.services.permissions import StaffTaskError, require
from kiosk.storage.repositories import Repositories

log = logging.getLogger(__name__)


class ItemMayBeGone(Exception):
    """A pickup's lock was pulsed and nothing proves its door stayed shut: staff look."""


@dataclass
class RecoveryReport:
    done: list[str] = field(default_factory=list)
    left_open: list[str] = field(default_factory=list)  # the terminal could not be asked
    quarantined: list[str] = field(default_factory=list)  # an intent that could not finish

    @property
    def complete(self) -> bool:
        return not self.left_open and not self.quarantined


class Recovery:
    def __init__(
        self,
        repos: Repositories,
        payments: CardPayments,
        settlement: Settlement,
        delivery: ReceiptDelivery,
        clock: Callable[[], datetime],
        lockers: LockerBank | None = None,
    ) -> None:
        self._repos = repos
        self._payments = payments
        self._settlement = settlement
        self._delivery = delivery
        self._clock = clock
        self._lockers = lockers
        self._lock = threading.Lock()  # one run at a time: start-up, retry, staff, a payment
        self.quarantined: dict[str, str] = {}  # intent id → why it could not finish

    def unresolved(self) -> list[PaymentIntent]:
        """What a run has left to do, oldest first: movements whose outcome the terminal
        has not told yet, reservations still held, and final movements whose business
        operation is not finished. Staff mode lists them."""
        found = {
            i.intent_id: i
            for i in self._payments.open()
            + self._repos.intents.in_states(IntentState.RESERVED)
            + self._repos.intents.unsettled()
        }
        return sorted(found.values(), key=lambda i: i.created_at)

    def for_staff(self, member: StaffMember) -> list[PaymentIntent]:
        require(member, Permission.PAYMENTS)
        return self.unresolved()

    def resolve_now(self, member: StaffMember) -> RecoveryReport:
        """Staff mode's "resolve now": a run, without waiting for a restart or a retry."""
        require(member, Permission.PAYMENTS)
        log.info("%s asked to resolve the open payments now", member.staff_id)
        return self.run()

    def run(self) -> RecoveryReport:
        """Never raises: what cannot finish is in the report and quarantined."""
        with self._lock:
            report = RecoveryReport()
            try:
                self._run(report)
            except Exception as exc:  # the ledger itself could not be read: tried again later
                log.exception("recovery could not read the payment ledger")
                report.quarantined.append(f"the payment ledger: {type(exc).__name__}: {exc}")
            return report

    def _run(self, report: RecoveryReport) -> None:
        try:
            self._ask_terminal(report)
        except TerminalUnavailable as exc:
            log.warning("recovery: the terminal cannot be asked: %s", exc)
            report.left_open += [
                f"{i.intent_id} ({i.kind} {i.state}, {i.purpose}): {exc}"
                for i in self._payments.open() + self._repos.intents.in_states(IntentState.RESERVED)
            ]
        for intent in self._repos.intents.unsettled():
            with self._isolated(intent, "settling", report):
                settled = self._settlement.settle(intent)
                self._delivery.deliver_settled(settled, send_only=True)
                report.done.append(f"settled {intent.intent_id}: {intent.kind} {intent.state}")

    def _ask_terminal(self, report: RecoveryReport) -> None:
        if not self._payments.available:
            if self._payments.open() or self._repos.intents.in_states(IntentState.RESERVED):
                raise TerminalUnavailable("this kiosk has no card terminal configured")
            return
        for intent in self._payments.open():
            with self._isolated(intent, "asking the terminal", report):
                resolved = self._payments.resolve(intent)
                report.done.append(f"resolved {intent.intent_id}: {resolved.state}")
        for intent in self._repos.intents.in_states(IntentState.RESERVED):
            with self._isolated(intent, "booking or releasing", report):
                door = self._door_now(intent)
                if intent.door_opened or door == "open":
                    moved = self._payments.book(intent, intent.amount)
                    verb = "booked"
                elif intent.pulse_sent:  # the door may have opened: never release blindly
                    raise ItemMayBeGone(
                        f"the lock of {intent.order_number} was pulsed and no record says the"
                        f" door opened (it reads {door} now): did the customer take the item?"
                    )
                else:
                    why = "kiosk restarted before the locker opened"
                    moved = self._payments.release(intent, why)
                    verb = "released"
                if moved.is_open:
                    moved = self._payments.resolve(moved)
                report.done.append(f"{verb} {intent.intent_id}: {moved.state}")

    def _door_now(self, intent: PaymentIntent) -> str:
        """The door of the pickup's locker as its sensor reads it now, or "unknown"."""
        order = self._repos.orders.get(intent.order_number) if intent.order_number else None
        locker = locker_of(order) if order is not None else ""
        if not locker or self._lockers is None:
            return "unknown"
        try:
            return str(self._lockers.door(locker))
        except Exception:  # a sensor that cannot be read proves nothing
            log.exception("the door of locker %s could not be read", locker)
            return "unknown"

    def confirm_pickup(self, member: StaffMember, intent_id: str, taken: bool) -> RecoveryReport:
        """Staff looked in the locker: the item gone (taken: the reservation is booked)
        or still there (released). Then the run finishes what follows."""
        require(member, Permission.PAYMENTS)
        with self._lock:
            intent = self._repos.intents.require(intent_id)
            if intent.state is not IntentState.RESERVED:
                raise StaffTaskError(f"payment {intent_id} is {intent.state}: nothing to confirm")
            log.warning("%s confirms pickup %s: %s", member.staff_id, intent_id,
                        "taken" if taken else "still in the locker")  # fmt: skip
            self._repos.intents.save(replace(intent, door_opened=taken, pulse_sent=taken))
        return self.run()

    @contextmanager
    def _isolated(self, intent: PaymentIntent, step: str, report: RecoveryReport) -> Iterator[None]:
        """One intent's step: anything it raises stays with it (the terminal being out of
        reach is everyone's, and goes on up)."""
        try:
            yield
        except TerminalUnavailable:
            raise
        except Exception as exc:
            self._quarantine(intent, step, exc, report)
        else:
            self.quarantined.pop(intent.intent_id, None)

    def _quarantine(
        self, intent: PaymentIntent, step: str, exc: Exception, report: RecoveryReport
    ) -> None:
        why = f"{step}: {type(exc).__name__}: {exc}"
        log.error(
            "recovery: payment %s (%s, %s %s) quarantined, %s",
            intent.intent_id, intent.purpose, intent.kind, intent.state, why, exc_info=exc,
        )  # fmt: skip
        report.quarantined.append(f"{intent.intent_id} ({intent.purpose}): {why}")
        first = intent.intent_id not in self.quarantined
        self.quarantined[intent.intent_id] = why
        if not first:
            return  # alerted already; tried again at every run
        try:
            alert(
                self._repos,
                self._clock(),
                f"customer:{intent.customer_account}",
                f"payment {intent.intent_id} ({intent.purpose}, {intent.amount}) could not be "
                f"finished by the kiosk and waits for staff: {why}",
                intent.order_number,
            )
        except Exception:  # the alert is an effect: the log line above stands for it
            log.exception("recovery: the alert for %s could not be queued", intent.intent_id)
