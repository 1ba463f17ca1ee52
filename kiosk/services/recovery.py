"""Recovery: every intent in the ledger reaches a business outcome.

Run at start (before the first customer), as soon as the terminal answers again, and
from staff mode ("resolve now"), never while a customer journey is between its steps
(staff mode and start-up are reached only from the attract screen). In order:

1. Open intents (PENDING, BOOKING, RELEASING) are decided by asking the terminal
   (`CardPayments.resolve`): never from silence, never from a refusal alone.
2. Reservations still held: booked if the locker's door was seen open (the customer
   has the item), else released.
3. Final intents not yet settled: their business operation is finished (order
   collected with its payment, statement paid, refund recorded) or voided, in one
   transaction each; the receipt is sent (SMS/e-mail: the customer has left).

A terminal that cannot be asked stops step 1 and 2 (the intent stays open and blocks
new card payments, not drop-offs or account charges); step 3 needs no terminal.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from kiosk.domain.intents import IntentState, PaymentIntent
from kiosk.domain.staff import Permission, StaffMember
from kiosk.services.payments import CardPayments, TerminalUnavailable
from kiosk.services.receipt_delivery import ReceiptDelivery
from kiosk.services.settlement import Settlement, SettlementError
from kiosk.services.staff import StaffService
from kiosk.storage.repositories import Repositories

log = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    done: list[str] = field(default_factory=list)
    left_open: list[str] = field(default_factory=list)  # the terminal could not be asked

    @property
    def complete(self) -> bool:
        return not self.left_open


class Recovery:
    def __init__(
        self,
        repos: Repositories,
        payments: CardPayments,
        settlement: Settlement,
        delivery: ReceiptDelivery,
    ) -> None:
        self._repos = repos
        self._payments = payments
        self._settlement = settlement
        self._delivery = delivery
        self._lock = threading.Lock()  # one run at a time: start-up, retry, staff, a payment

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
        StaffService.require(member, Permission.PAYMENTS)
        return self.unresolved()

    def resolve_now(self, member: StaffMember) -> RecoveryReport:
        """Staff mode's "resolve now": a run, without waiting for a restart or a retry."""
        StaffService.require(member, Permission.PAYMENTS)
        log.info("%s asked to resolve the open payments now", member.staff_id)
        return self.run()

    def run(self) -> RecoveryReport:
        with self._lock:
            return self._run()

    def _run(self) -> RecoveryReport:
        report = RecoveryReport()
        try:
            self._ask_terminal(report)
        except TerminalUnavailable as exc:
            log.warning("recovery: the terminal cannot be asked: %s", exc)
            report.left_open += [
                f"{i.intent_id} ({i.kind} {i.state}, {i.purpose}): {exc}"
                for i in self._payments.open() + self._repos.intents.in_states(IntentState.RESERVED)
            ]
        for intent in self._repos.intents.unsettled():
            try:
                settled = self._settlement.settle(intent)
            except SettlementError as exc:
                report.left_open.append(f"{intent.intent_id}: {exc}")
                continue
            self._delivery.deliver_settled(settled, send_only=True)
            report.done.append(f"settled {intent.intent_id}: {intent.kind} {intent.state}")
        return report

    def _ask_terminal(self, report: RecoveryReport) -> None:
        if not self._payments.available:
            if self._payments.open() or self._repos.intents.in_states(IntentState.RESERVED):
                raise TerminalUnavailable("this kiosk has no card terminal configured")
            return
        for intent in self._payments.open():
            resolved = self._payments.resolve(intent)
            report.done.append(f"resolved {intent.intent_id}: {resolved.state}")
        for intent in self._repos.intents.in_states(IntentState.RESERVED):
            if intent.door_opened:
                moved = self._payments.book(intent, intent.amount)
                verb = "booked"
            else:
                moved = self._payments.release(intent, "kiosk restarted before the locker opened")
                verb = "released"
            if moved.is_open:
                moved = self._payments.resolve(moved)
            report.done.append(f"{verb} {intent.intent_id}: {moved.state}")
