"""Pickup: a customer collects a finished item, and estimate approval.

Paying by card follows the money rules: reserve the amount → open the locker → the door
is *seen* open → book. If the door never opens the reservation is released and staff
are alerted; nobody pays for an item they could not take. "Door seen open" is written
to the intent before the booking, so a kiosk that crashes in between books it when it
comes back (`services/money/recovery.py`): the item is gone, the money is owed, and the
reservation still holds it. The order becomes collected in the same transaction that
stores its payment (`services/money/settlement.py`), never before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from kiosk.config import Config
from kiosk.domain.billing import Invoice, InvoiceStatus, Payment, PaymentMethod, build_invoice
from kiosk.domain.claim_codes import ClaimCode, InvalidClaimCode
from kiosk.domain.customers import CreditLimitExceeded, Customer
from kiosk.domain.intents import Charged, IntentKind, IntentState, PaymentIntent
from kiosk.domain.money import Money
from kiosk.domain.orders import STATE_WORDS, OrderState, ServiceOrder
from kiosk.drivers.base import StatusCallback
from kiosk.drivers.drawer.bank import LockerBank
from kiosk.services.alerts import alert
from kiosk.services.journeys.identify import Verification, Verifier
from kiosk.services.money.payments import (
    CardPayments,
    PaymentsBlocked,
    Purpose,
    TerminalUnavailable,
    card_payment,
    new_intent,
    unblocked,
)
from kiosk.services.money.receipt_delivery import Delivery, ReceiptDelivery
from kiosk.services.money.settlement import Settled, Settlement, locker_of
from kiosk.storage.repositories import Repositories

log = logging.getLogger(__name__)


class Found(StrEnum):
    FOUND = "found"
    INVALID = "invalid"  # not a claim code (the reason says why)
    UNKNOWN = "unknown"  # a valid code the kiosk does not know
    LOCKED = "locked"  # too many wrong verifications
    STATUS_PAGE = "status_page"  # the ticket's other code: the order's page for a phone


@dataclass(frozen=True)
class Lookup:
    found: Found
    detail: str = ""
    order: ServiceOrder | None = None
    locked_until: datetime | None = None


class Outcome(StrEnum):
    COLLECTED = "collected"
    # the door opened and the reservation holds the money, but the booking's answer was
    # lost: the item is the customer's, recovery books it (never a second charge)
    COLLECTED_PAYMENT_PENDING = "collected_payment_pending"
    DECLINED = "declined"  # the card was declined or the customer cancelled
    LOCKER_FAILED = "locker_failed"  # the door was not seen open: nothing charged, staff alerted
    ACCOUNT_REFUSED = "account_refused"  # no account, or over the limit (a limit of 0 refuses)
    PAYMENT_UNKNOWN = "payment_unknown"  # the terminal link was lost: to be resolved, not retried
    CARD_UNAVAILABLE = "card_unavailable"  # no terminal, or an earlier payment is unresolved
    # the order is not there to collect (collected, cancelled, not done) or its bill is no
    # longer open: refused by the use case itself, whatever a screen showed; nothing charged
    NOT_COLLECTABLE = "not_collectable"


@dataclass(frozen=True)
class PickupResult:
    outcome: Outcome
    order: ServiceOrder
    detail: str = ""
    locker: str = ""
    payment: Payment | None = None
    receipt: Delivery | None = None


def pickup_purpose(order: ServiceOrder, invoice: Invoice, lang: str | None) -> Purpose:
    """What a pickup's money is for: recovery finishes the collection from this."""
    return Purpose(
        f"pickup:{order.number}",
        order.customer_account,
        order_number=order.number,
        invoice_numbers=(invoice.number,),
        lang=lang or "",
        charged=(Charged(invoice.number, invoice.amount_due),),
    )


class PickupService:
    def __init__(
        self,
        repos: Repositories,
        config: Config,
        payments: CardPayments,
        delivery: ReceiptDelivery,
        clock: Callable[[], datetime],
        *,
        lockers: LockerBank | None = None,
        recover: Callable[[], object] | None = None,
    ) -> None:
        self._repos = repos
        self._config = config
        self._payments = payments
        self._delivery = delivery
        self._clock = clock
        self._recover = recover
        self._lockers = lockers
        self._settlement = Settlement(repos, config, clock)
        self.verifier = Verifier(repos, clock)

    # -- finding the order --
    def lookup(self, typed: str) -> Lookup:
        if "/s/" in typed:  # the ticket's status code, scanned by mistake: not a claim
            return Lookup(Found.STATUS_PAGE)
        try:
            code = ClaimCode.parse(typed)
        except InvalidClaimCode as exc:
            return Lookup(Found.INVALID, str(exc))
        locked = self.verifier.locked_until(code.value)
        if locked is not None:
            return Lookup(Found.LOCKED, locked_until=locked)
        order = self._repos.orders.by_claim_code(code)
        if order is None:
            return Lookup(Found.UNKNOWN)
        return Lookup(Found.FOUND, STATE_WORDS[order.state], order)

    def verify(self, order: ServiceOrder, last_four: str) -> Verification:
        customer = self._repos.customers.get(order.customer_account)
        if customer is None:
            return Verification(False, 0)
        return self.verifier.check(order.claim_code.value, customer, last_four)

    def customer(self, order: ServiceOrder) -> Customer:
        return self._repos.customers.require(order.customer_account)

    # -- the bill --
    def bill(self, order: ServiceOrder) -> Invoice:
        """The back office's invoice for the order if it sent one (an open one; else one
        paid, at the counter say: nothing is due), else the kiosk's own from the order's
        lines (same computation). A paid order is never billed again."""
        invoices = self._repos.invoices.for_order(order.number)
        for wanted in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
            for invoice in invoices:
                if invoice.status is wanted:
                    return invoice
        return build_invoice(
            f"{order.number}-K",
            order,
            self.customer(order),
            self._clock(),
            prices_include_tax=self._config.shop.prices_include_tax,
        )

    # -- paying and collecting --
    def pay_by_card(
        self,
        order: ServiceOrder,
        invoice: Invoice,
        on_status: StatusCallback | None = None,
        *,
        lang: str | None = None,
    ) -> PickupResult:
        """Reserve → open the locker → door seen open (stored) → book. Whatever the
        terminal or the cable does, the result says what really happened."""
        refused = self._refused(order, invoice)
        if refused is not None:
            return refused
        purpose = pickup_purpose(order, invoice, lang)
        own_bill = invoice if self._repos.invoices.get(invoice.number) is None else None
        try:
            attempt = unblocked(
                lambda: self._payments.reserve(
                    invoice.amount_due, purpose, on_status, bill=own_bill
                ),
                self._recover,
            )
        except PaymentsBlocked as exc:
            return PickupResult(Outcome.CARD_UNAVAILABLE, order, str(exc))
        intent = attempt.intent
        if intent.is_open:
            self._alert(order, f"reservation {intent.intent_id}: outcome unknown, being resolved")
            return PickupResult(
                Outcome.PAYMENT_UNKNOWN, order, "the card terminal stopped answering"
            )
        if not attempt.succeeded:
            return PickupResult(Outcome.DECLINED, order, intent.message)
        locker = locker_of(order)
        if locker:  # written ahead of the physical effect: a crash from here on cannot
            intent = replace(intent, pulse_sent=True)  # pass for "the lock never moved"
            self._repos.intents.save(intent)
        failed = self._open_locker(order, locker)
        if failed is not None:
            self._payments.release(intent, f"locker {locker} door not seen open")
            return failed
        opened = replace(intent, door_opened=True)
        self._repos.intents.save(opened)  # durable: from here on the item is the customer's
        return self._book(order, invoice, opened, locker, lang)

    def _book(
        self,
        order: ServiceOrder,
        invoice: Invoice,
        intent: PaymentIntent,
        locker: str,
        lang: str | None,
    ) -> PickupResult:
        booked = self._payments.book(intent, invoice.amount_due)
        if booked.is_open:
            try:  # ask the terminal at once what it did; it may still be unreachable
                booked = self._payments.resolve(booked)
            except TerminalUnavailable as exc:
                self._alert(order, f"booking {intent.intent_id} unresolved: {exc}")
                return PickupResult(Outcome.COLLECTED_PAYMENT_PENDING, order, str(exc), locker)
        settled = self._settlement.collect(
            order, invoice, card_payment(booked, self._clock()), booked, lang=lang
        )
        return self._finish(settled, locker)

    def pay_on_account(
        self, order: ServiceOrder, invoice: Invoice, *, lang: str | None = None
    ) -> PickupResult:
        refused = self._refused(order, invoice)
        if refused is not None:
            return refused
        customer = self.customer(order)
        if customer.credit is None or not customer.credit.can_charge(invoice.amount_due):
            why = "no credit account" if customer.credit is None else "over the credit limit"
            return PickupResult(Outcome.ACCOUNT_REFUSED, order, why)
        locker = locker_of(order)
        failed = self._open_locker(order, locker)
        if failed is not None:
            return failed
        try:
            charged = customer.with_credit(customer.credit.charge(invoice.amount_due))
        except CreditLimitExceeded as exc:
            return PickupResult(Outcome.ACCOUNT_REFUSED, order, str(exc))
        now = self._clock()
        purpose = pickup_purpose(order, invoice, lang)
        intent = new_intent(IntentKind.ACCOUNT_CHARGE, invoice.amount_due, purpose, now)
        intent = intent.move(IntentState.APPROVED, now, message="charged on account")
        payment = Payment(
            payment_id=f"acct-{order.number}",
            method=PaymentMethod.ACCOUNT,
            amount=invoice.amount_due,
            at=now,
            invoice_numbers=(invoice.number,),
            customer_account=customer.account_number,
        )
        with self._repos.store.transaction():  # the ledger's line and the charge together
            self._repos.intents.add(intent)
            settled = self._settlement.collect(
                order, invoice, payment, intent, customer_after=charged, lang=lang
            )
        return self._finish(settled, locker)

    def collect_free(
        self, order: ServiceOrder, invoice: Invoice, *, lang: str | None = None
    ) -> PickupResult:
        """Nothing due (warranty, prepaid, paid at the counter): the locker opens, the
        order is collected."""
        if not invoice.amount_due.is_zero():
            raise ValueError(f"{invoice.amount_due} is due on order {order.number}")
        refused = self._refused(order, invoice, paid_is_fine=True)
        if refused is not None:
            return refused
        locker = locker_of(order)
        failed = self._open_locker(order, locker)
        if failed is not None:
            return failed
        payment = Payment(
            payment_id=f"free-{order.number}",
            method=PaymentMethod.NOTHING_DUE,
            amount=Money.zero(invoice.currency),
            at=self._clock(),
            invoice_numbers=(invoice.number,),
            customer_account=order.customer_account,
        )
        return self._finish(
            self._settlement.collect(order, invoice, payment, None, lang=lang), locker
        )

    def _refused(
        self, order: ServiceOrder, invoice: Invoice, *, paid_is_fine: bool = False
    ) -> PickupResult | None:
        """The order as stored now (the back office may have moved it since the screen
        read it) must be done, and its bill, if stored, still open (or paid, where
        nothing is to be charged); and no earlier payment for it may be unfinished: a
        kiosk cut off after the door's pulse leaves the order "done" until staff have
        looked in the locker, and its customer must not be charged a second time."""
        current = self._repos.orders.get(order.number)
        if current is None or current.state is not OrderState.DONE:
            state = current.state.value if current else "not on this kiosk"
            return PickupResult(Outcome.NOT_COLLECTABLE, current or order, f"the order is {state}")
        earlier = self._repos.intents.for_purpose(f"pickup:{order.number}")
        unfinished = [i.intent_id for i in earlier if not i.settled]
        if unfinished:
            why = f"a payment for it is being resolved ({unfinished[0]})"
            return PickupResult(Outcome.NOT_COLLECTABLE, current, why)
        stored = self._repos.invoices.get(invoice.number)
        fine = {InvoiceStatus.OPEN, InvoiceStatus.PAID} if paid_is_fine else {InvoiceStatus.OPEN}
        if stored is not None and stored.status not in fine:
            why = f"invoice {invoice.number} is {stored.status}"
            return PickupResult(Outcome.NOT_COLLECTABLE, current, why)
        return None

    def _finish(self, settled: Settled, locker: str) -> PickupResult:
        """After the commit: the receipt is an effect that cannot fail the pickup."""
        assert settled.order is not None
        receipt = self._delivery.deliver_settled(settled)
        return PickupResult(Outcome.COLLECTED, settled.order, "", locker, settled.payment, receipt)

    def _open_locker(self, order: ServiceOrder, locker: str) -> PickupResult | None:
        """Open the item's locker; None when the door was seen open (or the item is at the
        counter), else the failure, staff alerted. Nothing may be charged after a failure."""
        if not locker or self._lockers is None:
            return None
        try:
            opened = self._lockers.open(locker)
        except Exception as exc:  # a driver fault is a locker that did not open
            log.exception("locker %s failed", locker)
            self._alert(order, f"locker {locker} failed for pickup: {exc}")
            return PickupResult(Outcome.LOCKER_FAILED, order, str(exc), locker)
        if opened.opened:
            return None
        self._alert(order, f"locker {locker} did not open for pickup: {opened.detail}")
        return PickupResult(Outcome.LOCKER_FAILED, order, opened.detail, locker)

    def _alert(self, order: ServiceOrder, text: str) -> None:
        alert(self._repos, self._clock(), f"customer:{order.customer_account}", text, order.number)

    # -- estimates --
    def approve_estimate(self, order: ServiceOrder, approved: bool) -> ServiceOrder:
        now = self._clock()
        if approved:
            moved = order.move_to(
                OrderState.READY_TO_BE_DONE, now, "customer", "estimate approved at the kiosk"
            )
        else:
            moved = order.move_to(
                OrderState.DONE, now, "customer", "estimate declined at the kiosk"
            )
        with self._repos.store.transaction():
            self._repos.orders.save(moved)
            self._repos.outbox.enqueue(
                "order.state",
                {
                    "number": order.number,
                    "state": moved.state.value,
                    "at": now.isoformat(),
                    "author": "customer",
                    "why": moved.notes[-1].text,
                },
                key=f"customer:{order.customer_account}",
                now=now,
            )
        return moved
