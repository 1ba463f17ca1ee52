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
from kiosk.domain.billing import BillingError, Payment, Statement, build_statement
from kiosk.domain.customers import Customer
from kiosk.domain.intents import Charged
from kiosk.domain.money import Money
from kiosk.drivers.base import StatusCallback
from kiosk.services.money.payments import CardPayments, PaymentsBlocked, Purpose, unblocked
from kiosk.services.money.receipt_delivery import Delivery, ReceiptDelivery
from kiosk.services.money.settlement import Settlement
from kiosk.storage.repositories import Repositories


class StatementOutcome(StrEnum):
    PAID = "paid"
    DECLINED = "declined"
    NOTHING_CHOSEN = "nothing_chosen"
    PAYMENT_UNKNOWN = "payment_unknown"  # the link was lost: resolved from the terminal later
    CARD_UNAVAILABLE = "card_unavailable"  # no terminal, or an earlier payment is unresolved
    # the chosen invoices come to more than the account owes, and the customer has not
    # said they want to pay that much: nothing was charged
    BEYOND_OWED = "beyond_owed"
    # an invoice chosen is no longer open (paid or cancelled at the counter since the
    # screen showed it): nothing was charged
    NOT_PAYABLE = "not_payable"


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
        *,
        recover: Callable[[], object] | None = None,
    ) -> None:
        self._repos = repos
        self._config = config
        self._payments = payments
        self._delivery = delivery
        self._clock = clock
        self._recover = recover
        self._settlement = Settlement(repos, config, clock)

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
        beyond_owed: Money | None = None,
    ) -> StatementResult:
        """Charge the chosen invoices. Where they come to more than the account owes,
        `beyond_owed` must be that very excess, as the screen showed it and the customer
        accepted it; otherwise nothing is charged (whatever the screen did)."""
        statement = self.statement(customer)
        if not invoice_numbers:
            return StatementResult(StatementOutcome.NOTHING_CHOSEN)
        try:  # the statement as stored now: an invoice paid meanwhile is no longer on it
            amount = statement.amount_for(invoice_numbers)
        except BillingError as exc:
            return StatementResult(StatementOutcome.NOT_PAYABLE, str(exc))
        extra = statement.beyond_owed(invoice_numbers)
        if not extra.is_zero() and beyond_owed != extra:
            return StatementResult(
                StatementOutcome.BEYOND_OWED,
                f"{amount} is {extra} more than the account owes ({statement.balance})",
            )
        due = {line.invoice_number: line.amount_due for line in statement.lines}
        purpose = Purpose(
            f"statement:{customer.account_number}",
            customer.account_number,
            invoice_numbers=tuple(invoice_numbers),
            lang=lang,
            # what the customer saw for each invoice is what will be settled on it
            charged=tuple(Charged(n, due[n]) for n in invoice_numbers),
        )
        try:
            attempt = unblocked(
                lambda: self._payments.charge(amount, purpose, on_status), self._recover
            )
        except PaymentsBlocked as exc:
            return StatementResult(StatementOutcome.CARD_UNAVAILABLE, str(exc))
        if attempt.intent.is_open:
            return StatementResult(
                StatementOutcome.PAYMENT_UNKNOWN, "the card terminal stopped answering"
            )
        if not attempt.succeeded:
            return StatementResult(StatementOutcome.DECLINED, attempt.intent.message)
        settled = self._settlement.pay_statement(attempt.intent)
        receipt = self._delivery.deliver_settled(settled)
        return StatementResult(
            StatementOutcome.PAID, "", settled.payment, settled.customer, receipt
        )
