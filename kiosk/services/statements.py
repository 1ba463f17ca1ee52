"""Paying a credit-account statement at the kiosk: identify, verify, see what is owed,
pay all or chosen invoices by card, get a receipt. The invoices are marked paid locally
at once (so the screen and the next customer's statement are right offline) and the
payment goes to the back office through the outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kiosk.config import Config
from kiosk.domain.billing import Payment, Statement, build_statement
from kiosk.domain.customers import Customer
from kiosk.domain.plain import to_plain
from kiosk.drivers.base import StatusCallback
from kiosk.i18n import Lang
from kiosk.receipts.builders import ShopInfo, statement_receipt
from kiosk.services.payments import CardPayments, PaymentsBlocked, card_payment
from kiosk.services.receipt_delivery import Delivery, ReceiptDelivery
from kiosk.storage.repositories import Repositories


class StatementOutcome(StrEnum):
    PAID = "paid"
    DECLINED = "declined"
    NOTHING_CHOSEN = "nothing_chosen"
    PAYMENT_UNKNOWN = "payment_unknown"


@dataclass(frozen=True)
class StatementResult:
    outcome: StatementOutcome
    detail: str = ""
    payment: Payment | None = None
    customer: Customer | None = None
    receipt: Delivery | None = None


class StatementService:
    def __init__(
        self,
        repos: Repositories,
        config: Config,
        payments: CardPayments,
        delivery: ReceiptDelivery,
        clock: Callable[[], datetime],
    ) -> None:
        self._repos = repos
        self._config = config
        self._payments = payments
        self._delivery = delivery
        self._clock = clock

    def statement(self, customer: Customer) -> Statement:
        invoices = self._repos.invoices.for_customer(customer.account_number, open_only=True)
        return build_statement(customer, invoices, self._clock())

    def pay(
        self,
        customer: Customer,
        invoice_numbers: list[str],
        on_status: StatusCallback | None = None,
        *,
        lang: str = "fr",
    ) -> StatementResult:
        statement = self.statement(customer)
        if not invoice_numbers:
            return StatementResult(StatementOutcome.NOTHING_CHOSEN)
        amount = statement.amount_for(invoice_numbers)
        try:
            attempt = self._payments.charge(
                amount, f"statement:{customer.account_number}", on_status
            )
        except PaymentsBlocked as exc:
            return StatementResult(StatementOutcome.PAYMENT_UNKNOWN, str(exc))
        if attempt.link_lost:
            return StatementResult(
                StatementOutcome.PAYMENT_UNKNOWN, "the card terminal stopped answering"
            )
        if not attempt.succeeded:
            return StatementResult(StatementOutcome.DECLINED, attempt.intent.message)
        intent, now = attempt.intent, self._clock()
        payment = card_payment(intent, amount, now, tuple(invoice_numbers), customer.account_number)
        assert customer.credit is not None  # build_statement refuses a customer without one
        after = customer.with_credit(customer.credit.record_payment(amount))
        repos = self._repos
        with repos.store.transaction():
            for number in invoice_numbers:
                invoice = repos.invoices.require(number)
                repos.invoices.save(invoice.record_payment(invoice.amount_due))
            repos.customers.save(after)
            repos.payments.add(payment)
            shift = repos.shifts.current()
            if shift is not None:
                repos.shifts.save(shift.record_payment(payment).count("statement"))
            repos.outbox.enqueue(
                "statement.paid",
                {"payment": to_plain(payment)},
                key=f"customer:{customer.account_number}",
                now=now,
            )
        shop = ShopInfo(self._config.shop.name, tuple(self._config.shop.address_lines))
        doc = statement_receipt(
            shop, statement, invoice_numbers, payment, after, Lang(lang), account_after=after.credit
        )
        receipt = self._delivery.deliver(
            "statement", doc, after, f"customer:{customer.account_number}"
        )
        return StatementResult(StatementOutcome.PAID, "", payment, after, receipt)
