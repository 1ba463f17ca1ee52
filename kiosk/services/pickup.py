"""Pickup: a customer collects a finished item, and estimate approval.

Paying by card follows the money rules: reserve the amount → open the locker → the door
is *seen* open → book. If the door never opens the reservation is released and staff
are alerted; nobody pays for an item they could not take. "Door seen open" is written
to the store before the booking, so a kiosk that crashes in between finishes the job
correctly when it comes back (`resolve_unfinished`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kiosk.config import Config
from kiosk.domain.billing import Invoice, InvoiceStatus, Payment, PaymentMethod, build_invoice
from kiosk.domain.claim_codes import ClaimCode, InvalidClaimCode
from kiosk.domain.customers import CreditLimitExceeded, Customer
from kiosk.domain.intents import IntentState, PaymentIntent
from kiosk.domain.money import Money
from kiosk.domain.orders import OrderState, ServiceOrder
from kiosk.domain.plain import from_plain, to_plain
from kiosk.drivers.base import StatusCallback, TerminalError
from kiosk.drivers.drawer.lockers import GpioLockers
from kiosk.i18n import Lang
from kiosk.receipts.builders import ShopInfo, payment_receipt
from kiosk.services.identify import Verification, Verifier
from kiosk.services.payments import CardPayments, PaymentsBlocked, card_payment
from kiosk.services.receipt_delivery import Delivery, ReceiptDelivery
from kiosk.storage.repositories import Repositories

# What a customer is told about an order that is not ready (message ids, translated by the UI).
STATE_WORDS = {
    OrderState.NEW: "We have your item; work has not started yet.",
    OrderState.READY_TO_BE_DONE: "Your item is waiting for a technician.",
    OrderState.IN_PROGRESS: "A technician is working on your item.",
    OrderState.WAITING_FOR_PARTS: "We are waiting for parts for your item.",
    OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION: "We need your approval of an estimate.",
    OrderState.DONE: "Your item is ready.",
    OrderState.COLLECTED: "This item has already been collected.",
    OrderState.CANCELLED: "This repair was cancelled: please see the counter.",
}


class Found(StrEnum):
    FOUND = "found"
    INVALID = "invalid"  # not a claim code (the reason says why)
    UNKNOWN = "unknown"  # a valid code the kiosk does not know
    LOCKED = "locked"  # too many wrong verifications


@dataclass(frozen=True)
class Lookup:
    found: Found
    detail: str = ""
    order: ServiceOrder | None = None
    locked_until: datetime | None = None


class Outcome(StrEnum):
    COLLECTED = "collected"
    DECLINED = "declined"  # the card was declined or the customer cancelled
    LOCKER_FAILED = "locker_failed"  # the door was not seen open: nothing charged, staff alerted
    ACCOUNT_REFUSED = "account_refused"  # no account, or over the limit (a limit of 0 refuses)
    PAYMENT_UNKNOWN = "payment_unknown"  # the terminal link was lost: to be resolved, not retried


@dataclass(frozen=True)
class PickupResult:
    outcome: Outcome
    order: ServiceOrder
    detail: str = ""
    locker: str = ""
    payment: Payment | None = None
    receipt: Delivery | None = None


def locker_of(order: ServiceOrder) -> str:
    """ "locker 4" → "4"; "" when the item is on a shelf or at the counter."""
    location = order.location.strip().lower()
    return location.split(" ", 1)[1].strip() if location.startswith("locker ") else ""


class PickupService:
    def __init__(
        self,
        repos: Repositories,
        config: Config,
        payments: CardPayments,
        delivery: ReceiptDelivery,
        clock: Callable[[], datetime],
        *,
        lockers: GpioLockers | None = None,
    ) -> None:
        self._repos = repos
        self._config = config
        self._payments = payments
        self._delivery = delivery
        self._clock = clock
        self._lockers = lockers
        self.verifier = Verifier(repos, clock)

    # -- finding the order --
    def lookup(self, typed: str) -> Lookup:
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
        """The back office's invoice for the order if it sent one, else the kiosk's own
        from the order's lines (same computation)."""
        for invoice in self._repos.invoices.for_order(order.number):
            if invoice.status is InvoiceStatus.OPEN:
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
        try:
            attempt = self._payments.reserve(invoice.amount_due, f"order:{order.number}", on_status)
        except PaymentsBlocked as exc:
            return PickupResult(Outcome.PAYMENT_UNKNOWN, order, str(exc))
        if attempt.link_lost:
            return PickupResult(
                Outcome.PAYMENT_UNKNOWN, order, "the card terminal stopped answering"
            )
        if not attempt.succeeded:
            return PickupResult(Outcome.DECLINED, order, attempt.intent.message)
        return self._open_then_book(order, invoice, attempt.intent, lang)

    def _open_then_book(
        self, order: ServiceOrder, invoice: Invoice, intent: PaymentIntent, lang: str | None
    ) -> PickupResult:
        locker = locker_of(order)
        failed = self._open_locker(order, locker)
        if failed is not None:
            self._payments.release(intent, f"locker {locker} door not seen open")
            return failed
        self._repos.settings.set(
            f"pickup:{intent.intent_id}",
            {"door_opened": True, "order": order.number, "invoice": to_plain(invoice)},
        )
        return self._book(order, invoice, intent, locker, lang)

    def _book(
        self,
        order: ServiceOrder,
        invoice: Invoice,
        intent: PaymentIntent,
        locker: str,
        lang: str | None,
    ) -> PickupResult:
        booked = self._payments.book(intent, invoice.amount_due)
        payment = card_payment(
            booked, invoice.amount_due, self._clock(), (invoice.number,), order.customer_account
        )
        return self._collected(order, invoice, payment, locker, f"pickup:{intent.intent_id}", lang)

    def pay_on_account(
        self, order: ServiceOrder, invoice: Invoice, *, lang: str | None = None
    ) -> PickupResult:
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
        payment = Payment(
            payment_id=f"acct-{order.number}",
            method=PaymentMethod.ACCOUNT,
            amount=invoice.amount_due,
            at=self._clock(),
            invoice_numbers=(invoice.number,),
            customer_account=customer.account_number,
        )
        return self._collected(order, invoice, payment, locker, "", lang, customer_after=charged)

    def collect_free(
        self, order: ServiceOrder, invoice: Invoice, *, lang: str | None = None
    ) -> PickupResult:
        """Nothing due (warranty, prepaid): the locker opens, the order is collected."""
        if not invoice.amount_due.is_zero():
            raise ValueError(f"{invoice.amount_due} is due on order {order.number}")
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
        return self._collected(order, invoice, payment, locker, "", lang)

    def _collected(
        self,
        order: ServiceOrder,
        invoice: Invoice,
        payment: Payment,
        locker: str,
        done_marker: str,
        lang: str | None,
        *,
        customer_after: Customer | None = None,
    ) -> PickupResult:
        now = self._clock()
        collected = order.move_to(
            OrderState.COLLECTED, now, "kiosk", f"picked up from {locker or 'counter'}"
        )
        paid = invoice.record_payment(payment.amount) if not payment.amount.is_zero() else invoice
        key = f"customer:{order.customer_account}"
        repos = self._repos
        with repos.store.transaction():
            repos.orders.save(collected)
            if (
                repos.invoices.get(paid.number) is None
            ):  # the kiosk's own bill: the back office learns it first
                repos.invoices.add(paid)
                repos.outbox.enqueue("invoice.created", to_plain(invoice), key=key, now=now)
            else:
                repos.invoices.save(paid)
            repos.payments.add(payment)
            if customer_after is not None:
                repos.customers.save(customer_after)
            shift = repos.shifts.current()
            if shift is not None:
                repos.shifts.save(shift.record_payment(payment).count("pickup"))
            repos.outbox.enqueue("payment.taken", to_plain(payment), key=key, now=now)
            repos.outbox.enqueue(
                "order.state",
                {
                    "number": order.number,
                    "state": "collected",
                    "at": now.isoformat(),
                    "author": "kiosk",
                },
                key=key,
                now=now,
            )
            if done_marker:  # the crash-recovery marker has served
                repos.settings.remove(done_marker)
        customer = customer_after or self.customer(order)
        language = Lang(lang or self._config.kiosk.languages[0])
        shop = ShopInfo(self._config.shop.name, tuple(self._config.shop.address_lines))
        receipt = self._delivery.deliver(
            "payment",
            payment_receipt(shop, paid, payment, language, account_after=customer.credit),
            customer,
            key,
        )
        return PickupResult(Outcome.COLLECTED, collected, "", locker, payment, receipt)

    def _open_locker(self, order: ServiceOrder, locker: str) -> PickupResult | None:
        """Open the item's locker; None when the door was seen open (or the item is at the
        counter), else the failure, staff alerted. Nothing may be charged after a failure."""
        if not locker or self._lockers is None:
            return None
        opened = self._lockers.open(locker)
        if opened.opened:
            return None
        self._alert(order, f"locker {locker} did not open for pickup: {opened.detail}")
        return PickupResult(Outcome.LOCKER_FAILED, order, opened.detail, locker)

    def _alert(self, order: ServiceOrder, text: str) -> None:
        now = self._clock()
        self._repos.outbox.enqueue(
            "staff.note",
            {
                "number": order.number,
                "text": f"ALERT: {text}",
                "at": now.isoformat(),
                "author": "kiosk",
            },
            key=f"customer:{order.customer_account}",
            now=now,
        )

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

    # -- after a crash --
    def resolve_unfinished(self) -> list[str]:
        """Reservations left open by a crash: book those whose door was seen open (the
        customer has the item), release the others. Run at start, after the card
        payments' own resolve_open()."""
        done = []
        for intent in self._repos.intents.in_states(IntentState.RESERVED):
            marker = self._repos.settings.get(f"pickup:{intent.intent_id}") or {}
            try:
                if marker.get("door_opened") and not marker.get("done"):
                    order = self._repos.orders.require(marker["order"])
                    invoice = from_plain(Invoice, marker["invoice"])
                    self._book(order, invoice, intent, locker_of(order), None)
                    done.append(f"booked {intent.intent_id}")
                else:
                    self._payments.release(intent, "kiosk restarted before the locker opened")
                    done.append(f"released {intent.intent_id}")
            except TerminalError as exc:
                done.append(f"left {intent.intent_id}: {exc}")
        return done
