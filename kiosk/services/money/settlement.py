"""Turning money that moved (or did not) into the business outcome it was for.

The same code runs for a customer at the screen and for recovery after a crash, so a
payment found approved at restart finishes exactly like one approved live: the order is
collected with its payment, receipt and outbox entries; the statement's invoices are
paid and the debt reduced; the refund is recorded. Each is one storage transaction that
also marks the intent settled, so it happens once. An intent whose money did not move
is settled as void: nothing else changes.

Only the commit may fail here. What follows it — the receipt — is an effect
(`services/money/receipt_delivery.py`) that never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from kiosk.config import Config
from kiosk.domain.billing import Invoice, Payment, PaymentMethod, build_statement
from kiosk.domain.customers import Customer
from kiosk.domain.intents import Charged, IntentKind, PaymentIntent
from kiosk.domain.money import Money, total
from kiosk.domain.orders import OrderState, ServiceOrder
from kiosk.domain.owed import OwedReceipt
from kiosk.domain.plain import to_plain
from kiosk.i18n import Lang
from kiosk.receipts.builders import ShopInfo, payment_receipt, statement_receipt
from kiosk.receipts.document import Document, as_text
from kiosk.services.alerts import alert
from kiosk.services.money.differences import Resolution, apply_charge, record
from kiosk.services.money.line_labels import bill_labels
from kiosk.services.money.payments import card_payment
from kiosk.storage.repositories import Repositories

log = logging.getLogger(__name__)


def charged_of(intent: PaymentIntent, invoices: list[Invoice]) -> tuple[Charged, ...]:
    """What the intent charged for each invoice. An intent stored before it said so: its
    amount spread over the invoices in order, each up to what it asked then."""
    if intent.charged:
        return intent.charged
    left, spread = intent.taken, []
    for invoice in invoices:
        part = left if left <= invoice.amount_due else invoice.amount_due
        spread.append(Charged(invoice.number, part))
        left = left - part
    if spread and left.amount > 0:
        last = spread[-1]
        spread[-1] = Charged(last.invoice_number, last.amount + left)
    return tuple(c for c in spread if c.amount.amount > 0)


class SettlementError(Exception):
    """The business record a payment was for is missing: staff must look."""


@dataclass(frozen=True)
class Settled:
    """A committed business outcome and the receipt that goes with it."""

    intent: PaymentIntent | None
    payment: Payment | None
    customer: Customer | None
    receipt: Document | None
    receipt_kind: str = "payment"
    order: ServiceOrder | None = None
    language: str = ""  # the receipt's: a message that carries it speaks it too


def locker_of(order: ServiceOrder) -> str:
    """ "locker 4" → "4"; "" when the item is on a shelf or at the counter."""
    location = order.location.strip().lower()
    return location.split(" ", 1)[1].strip() if location.startswith("locker ") else ""


class Settlement:
    def __init__(self, repos: Repositories, config: Config, clock: Callable[[], datetime]) -> None:
        self._repos = repos
        self._config = config
        self._clock = clock
        self.shop = ShopInfo(config.shop.name, tuple(config.shop.address_lines))

    def lang(self, code: str | None) -> Lang:
        return Lang(code or self._config.kiosk.languages[0])

    # -- recovery's entry point --
    def settle(self, intent: PaymentIntent) -> Settled:
        """Finish (or void) what a final, unsettled intent was for."""
        if intent.settled or not intent.is_final:
            return Settled(intent, None, None, None)
        if not intent.money_moved:
            return self._void(intent)
        if intent.purpose.startswith("pickup:"):
            order = self._repos.orders.require(intent.order_number)
            return self.collect(
                order, self.bill_of(intent), card_payment(intent, self._clock()), intent
            )
        if intent.purpose.startswith("statement:"):
            return self.pay_statement(intent)
        if intent.kind in (IntentKind.REVERSAL, IntentKind.REFUND):
            return self.record_refund(intent, "kiosk recovery")
        raise SettlementError(
            f"intent {intent.intent_id}: no business outcome for {intent.purpose}"
        )

    def _void(self, intent: PaymentIntent) -> Settled:
        self._repos.intents.save(intent.done())
        return Settled(intent.done(), None, None, None)

    def bill_of(self, intent: PaymentIntent) -> Invoice:
        if intent.bill is not None:
            return intent.bill
        for number in intent.invoice_numbers:
            invoice = self._repos.invoices.get(number)
            if invoice is not None:
                return invoice
        raise SettlementError(f"intent {intent.intent_id}: its invoice is not in the store")

    # -- pickup --
    def collect(
        self,
        order: ServiceOrder,
        invoice: Invoice,
        payment: Payment,
        intent: PaymentIntent | None,
        *,
        customer_after: Customer | None = None,
        lang: str | None = None,
    ) -> Settled:
        """The order is collected with its payment: one transaction, with the intent
        settled. Done twice (a retry after a crash), the second does nothing."""
        repos = self._repos
        locker = locker_of(order)
        now = self._clock()
        key = f"customer:{order.customer_account}"
        with repos.store.transaction():
            current = repos.orders.require(order.number)
            if current.state is OrderState.COLLECTED:
                if intent is not None:  # money for an order collected meanwhile: staff look
                    repos.intents.save(intent.done())
                    self._alert(order, f"payment {intent.intent_id} for an order already collected")
                return Settled(intent, None, None, None, order=current)
            collected = current.move_to(
                OrderState.COLLECTED, now, "kiosk", f"picked up from {locker or 'counter'}"
            )
            repos.orders.save(collected)
            stored = repos.invoices.get(invoice.number)
            differences = []
            if stored is None:  # the kiosk's own bill
                paid = invoice.record_payment(payment.amount) if payment.amount.amount else invoice
                repos.invoices.add(paid)
                repos.outbox.enqueue("invoice.created", to_plain(invoice), key=key, now=now)
            elif payment.amount.amount:  # the back office's, which it may have changed
                after, _took, difference = apply_charge(
                    stored, invoice.number, payment.amount, Resolution.REFUND_OWED
                )
                paid = after or stored
                if paid != stored:
                    repos.invoices.save(paid)
                differences = [difference] if difference is not None else []
            else:
                paid = stored
            repos.payments.add(payment)
            if customer_after is not None:
                repos.customers.save(customer_after)
            self._count(payment, "pickup")
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
            record(repos, now, key, differences, payment_id=payment.payment_id,
                   order_number=order.number)  # fmt: skip
            customer = customer_after or repos.customers.get(order.customer_account)
            words = self.lang(lang or (intent.lang if intent else None))
            doc = self._receipt(
                lambda: payment_receipt(
                    self.shop,
                    paid,
                    payment,
                    words,
                    account_after=customer.credit if customer else None,
                    line_labels=bill_labels(repos, order, paid, words.code),
                )
            )
            self._owe(payment, "payment", doc, now)
            if intent is not None:
                repos.intents.save(intent.done())
        return Settled(intent, payment, customer, doc, "payment", collected, words.code)

    # -- statements --
    def pay_statement(self, intent: PaymentIntent) -> Settled:
        """Each invoice takes what was charged for it (kiosk/services/money/differences.py):
        the back office may have paid, cancelled, raised or lowered it meanwhile."""
        repos = self._repos
        now = self._clock()
        customer = repos.customers.require(intent.customer_account)
        before = [i for i in (repos.invoices.get(n) for n in intent.invoice_numbers) if i]
        payment = card_payment(intent, now)
        key = f"customer:{customer.account_number}"
        with repos.store.transaction():
            applied, credit, differences = Money.zero(payment.amount.currency), None, []
            for charge in charged_of(intent, before):
                current = repos.invoices.get(charge.invoice_number)
                after_invoice, took, difference = apply_charge(
                    current, charge.invoice_number, charge.amount, Resolution.CREDIT
                )
                if after_invoice is not None and after_invoice != current:
                    repos.invoices.save(after_invoice)
                applied = applied + took
                if difference is not None:
                    differences.append(difference)
            account = customer.credit
            if account is not None:
                if applied.amount > 0:
                    account = account.record_payment(applied)
                extra = [d.amount for d in differences if d.resolution is Resolution.CREDIT]
                if extra:
                    surplus = total(extra, account.unapplied_deposits.currency)
                    account = replace(
                        account, unapplied_deposits=account.unapplied_deposits + surplus
                    )
                credit = customer.with_credit(account)
                repos.customers.save(credit)
            repos.payments.add(payment)
            self._count(payment, "statement")
            repos.outbox.enqueue("statement.paid", {"payment": to_plain(payment)}, key=key, now=now)
            record(repos, now, key, differences, payment_id=payment.payment_id)
            after = credit or customer
            words = self.lang(intent.lang)
            doc = self._receipt(
                lambda: statement_receipt(
                    self.shop,
                    build_statement(customer, before, now),
                    list(intent.invoice_numbers),
                    payment,
                    after,
                    words,
                    account_after=after.credit,
                )
            )
            self._owe(payment, "statement", doc, now)
            repos.intents.save(intent.done())
        return Settled(intent, payment, after, doc, "statement", language=words.code)

    @staticmethod
    def _receipt(build: Callable[[], Document]) -> Document | None:
        """A receipt is an effect of a committed payment: it never undoes it by raising."""
        try:
            return build()
        except Exception:
            log.exception("the receipt of a committed payment could not be made")
            return None

    def _owe(self, payment: Payment, kind: str, doc: Document | None, now: datetime) -> None:
        """The receipt is owed from the moment the payment is stored, in its transaction:
        a power cut before it is printed or sent leaves the debt on record."""
        text = as_text(doc) if doc is not None else ""
        owed = OwedReceipt(payment.payment_id, kind, payment.customer_account, text, now)
        self._repos.receipts_owed.add(owed)

    # -- refunds --
    def record_refund(self, intent: PaymentIntent, by: str) -> Settled:
        repos = self._repos
        original = repos.payments.require(intent.refund_of)
        now = self._clock()
        refund = Payment(
            payment_id=f"refund-{original.payment_id}",
            method=PaymentMethod.CARD,
            amount=intent.amount,
            at=now,
            invoice_numbers=original.invoice_numbers,
            customer_account=original.customer_account,
            terminal_receipt_number=str(intent.receipt_number or ""),
            card_brand=intent.card_brand or original.card_brand,
            card_last4=intent.card_last4 or original.card_last4,
        )
        with repos.store.transaction():
            repos.payments.add(refund)
            repos.outbox.enqueue(
                "payment.refunded",
                {
                    **to_plain(refund),
                    "refunds": original.payment_id,
                    "how": str(intent.kind),
                    "by": by,
                },
                key=f"customer:{original.customer_account}",
                now=now,
            )
            repos.intents.save(intent.done())
        return Settled(intent, refund, None, None, "refund")

    # -- shared --
    def _count(self, payment: Payment, what: str) -> None:
        shift = self._repos.shifts.current()
        if shift is not None:
            self._repos.shifts.save(shift.record_payment(payment).count(what))

    def _alert(self, order: ServiceOrder, text: str) -> None:
        alert(self._repos, self._clock(), f"customer:{order.customer_account}", text, order.number)
