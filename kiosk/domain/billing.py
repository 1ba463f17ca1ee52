"""Invoices, payments, statements and charges on a credit account.

The amounts a customer sees on the screen, on the receipt and at the card terminal all
come from `build_invoice`: one computation, rounded per line the way a till rounds, so
the three can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from kiosk.domain.customers import CreditAccount, Customer
from kiosk.domain.money import Money, total
from kiosk.domain.orders import ServiceOrder


class BillingError(ValueError):
    """A bill, payment or statement that does not add up, and why."""


class PaymentMethod(StrEnum):
    CARD = "card"
    ACCOUNT = "account"  # charged to the customer's credit account
    NOTHING_DUE = "nothing_due"  # warranty or prepaid: collected without payment
    CASH = "cash"  # taken at the counter by staff


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOID = "void"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    description: str
    quantity: Decimal
    unit_price: Money
    list_amount: Money  # quantity × unit price, before any discount
    discount: Money  # line discount + customer discount (+ warranty)
    net: Money  # without tax
    tax_rate_percent: Decimal
    tax: Money
    gross: Money  # what the customer pays for this line


@dataclass(frozen=True, slots=True)
class Invoice:
    number: str
    customer_account: str
    issued_at: datetime
    currency: str
    lines: tuple[InvoiceLine, ...]
    tax_exempt: bool
    prices_include_tax: bool
    deposits_applied: Money
    order_number: str = ""
    amount_paid: Money | None = None
    status: InvoiceStatus = InvoiceStatus.OPEN

    @property
    def subtotal(self) -> Money:
        return total((line.list_amount for line in self.lines), self.currency)

    @property
    def discount_total(self) -> Money:
        return total((line.discount for line in self.lines), self.currency)

    @property
    def net_total(self) -> Money:
        return total((line.net for line in self.lines), self.currency)

    @property
    def tax_total(self) -> Money:
        return total((line.tax for line in self.lines), self.currency)

    @property
    def total(self) -> Money:
        return total((line.gross for line in self.lines), self.currency)

    @property
    def paid(self) -> Money:
        return self.amount_paid or Money.zero(self.currency)

    @property
    def amount_due(self) -> Money:
        due = self.total - self.deposits_applied - self.paid
        return due if not due.is_negative() else Money.zero(self.currency)

    def tax_by_rate(self) -> dict[Decimal, tuple[Money, Money]]:
        """Rate → (net, tax), as a receipt's tax summary shows it."""
        summary: dict[Decimal, tuple[Money, Money]] = {}
        for line in self.lines:
            net, tax = summary.get(
                line.tax_rate_percent, (Money.zero(self.currency), Money.zero(self.currency))
            )
            summary[line.tax_rate_percent] = (net + line.net, tax + line.tax)
        return summary

    def record_payment(self, amount: Money) -> Invoice:
        if self.status is not InvoiceStatus.OPEN:
            raise BillingError(f"invoice {self.number} is {self.status}, it takes no payment")
        if amount.currency != self.currency or not amount > Money.zero(self.currency):
            raise BillingError(f"a payment on {self.number} must be a positive {self.currency}")
        if amount > self.amount_due:
            raise BillingError(
                f"{amount} is more than the {self.amount_due} due on invoice {self.number}"
            )
        paid = replace(self, amount_paid=self.paid + amount)
        if paid.amount_due.is_zero():
            paid = replace(paid, status=InvoiceStatus.PAID)
        return paid


def _line(
    description: str,
    quantity: Decimal,
    unit_price: Money,
    line_discount_percent: Decimal,
    customer_discount_percent: Decimal,
    tax_rate_percent: Decimal,
    *,
    free: bool,
    tax_exempt: bool,
    prices_include_tax: bool,
) -> InvoiceLine:
    currency = unit_price.currency
    list_amount = unit_price * quantity
    if free:
        priced = Money.zero(currency)
    else:
        after_line = list_amount - list_amount.percent(line_discount_percent)
        priced = after_line - after_line.percent(customer_discount_percent)
    if prices_include_tax:
        # The price on the shelf holds the tax; take it out once, per line.
        net = Money(priced.amount * 100 / (100 + tax_rate_percent), currency)
        tax = priced - net
        gross = net if tax_exempt else priced
        tax = Money.zero(currency) if tax_exempt else tax
    else:
        net = priced
        tax = Money.zero(currency) if tax_exempt else net.percent(tax_rate_percent)
        gross = net + tax
    discount = list_amount - priced
    return InvoiceLine(
        description=description,
        quantity=quantity,
        unit_price=unit_price,
        list_amount=list_amount,
        discount=discount,
        net=net,
        tax_rate_percent=tax_rate_percent,
        tax=tax,
        gross=gross,
    )


def build_invoice(
    number: str,
    order: ServiceOrder,
    customer: Customer,
    issued_at: datetime,
    *,
    prices_include_tax: bool,
) -> Invoice:
    """The bill for a service order: lines as priced, discounts, tax per line (none for a
    tax-exempt customer), warranty work at zero, and the order's deposits applied."""
    if customer.account_number != order.customer_account:
        raise BillingError(
            f"order {order.number} belongs to {order.customer_account}, "
            f"not {customer.account_number}"
        )
    lines = tuple(
        _line(
            line.description,
            line.quantity,
            line.unit_price,
            line.discount_percent,
            customer.discount_percent,
            line.tax_rate_percent,
            free=order.under_warranty,
            tax_exempt=customer.tax_exempt,
            prices_include_tax=prices_include_tax,
        )
        for line in order.lines
    )
    gross = total((line.gross for line in lines), order.currency)
    deposits = order.deposits_total
    applied = deposits if deposits <= gross else gross
    return Invoice(
        number=number,
        order_number=order.number,
        customer_account=customer.account_number,
        issued_at=issued_at,
        currency=order.currency,
        lines=lines,
        tax_exempt=customer.tax_exempt,
        prices_include_tax=prices_include_tax,
        deposits_applied=applied,
    )


_LAST_FOUR = re.compile(r"^\d{4}$")


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment as the kiosk may keep it: never a card number, only brand and last four."""

    payment_id: str
    method: PaymentMethod
    amount: Money
    at: datetime
    invoice_numbers: tuple[str, ...]
    customer_account: str = ""
    terminal_receipt_number: str = ""
    card_brand: str = ""
    card_last4: str = ""

    def __post_init__(self) -> None:
        if self.amount.is_negative():
            raise BillingError(f"payment {self.payment_id}: amount cannot be negative")
        if self.method is PaymentMethod.CARD:
            if not self.terminal_receipt_number:
                raise BillingError(f"card payment {self.payment_id} needs the terminal receipt")
            if self.card_last4 and not _LAST_FOUR.match(self.card_last4):
                raise BillingError(
                    f"card payment {self.payment_id}: keep only the last four digits of a card"
                )
        elif self.card_last4 or self.card_brand or self.terminal_receipt_number:
            raise BillingError(
                f"payment {self.payment_id}: card details on a {self.method} payment"
            )
        if self.method is PaymentMethod.NOTHING_DUE and not self.amount.is_zero():
            raise BillingError(f"payment {self.payment_id}: nothing due, yet {self.amount}")
        if self.method is PaymentMethod.ACCOUNT and not self.customer_account:
            raise BillingError(f"payment {self.payment_id}: on account needs the account number")


def charge_on_account(customer: Customer, amount: Money) -> Customer:
    """The customer after `amount` is put on their credit account (raises
    CreditLimitExceeded when the limit, or a limit of 0, forbids it)."""
    if customer.credit is None:
        raise BillingError(f"customer {customer.account_number} has no credit account")
    return customer.with_credit(customer.credit.charge(amount))


@dataclass(frozen=True, slots=True)
class StatementLine:
    invoice_number: str
    issued_on: date
    amount_due: Money


@dataclass(frozen=True, slots=True)
class Statement:
    customer_account: str
    generated_at: datetime
    currency: str
    lines: tuple[StatementLine, ...]
    deposits: Money
    total_debt: Money
    credit_limit: Money

    @property
    def outstanding(self) -> Money:
        return total((line.amount_due for line in self.lines), self.currency)

    @property
    def balance(self) -> Money:
        """What the customer owes once unapplied deposits are counted."""
        return self.total_debt - self.deposits

    def amount_for(self, invoice_numbers: list[str]) -> Money:
        """The sum to pay for the invoices a customer ticked on the screen."""
        by_number = {line.invoice_number: line for line in self.lines}
        unknown = [n for n in invoice_numbers if n not in by_number]
        if unknown:
            raise BillingError(f"not on this statement: {', '.join(unknown)}")
        if len(set(invoice_numbers)) != len(invoice_numbers):
            raise BillingError("an invoice was chosen twice")
        return total((by_number[n].amount_due for n in invoice_numbers), self.currency)

    def beyond_owed(self, invoice_numbers: list[str]) -> Money:
        """How much paying these invoices would pay beyond what the account owes (its
        deposits or a credit counted), zero when it does not: the customer must say they
        want that before it is charged (it then stays as credit on the account)."""
        extra = self.amount_for(invoice_numbers) - self.balance
        return extra if extra.amount > 0 else Money.zero(self.currency)


def build_statement(customer: Customer, invoices: list[Invoice], now: datetime) -> Statement:
    """Every outstanding invoice of the customer, oldest first, with the account's debt,
    deposits and limit (the back office's figures are the ones the account holds)."""
    account: CreditAccount | None = customer.credit
    if account is None:
        raise BillingError(f"customer {customer.account_number} has no credit account")
    currency = account.limit.currency
    open_invoices = sorted(
        (
            inv
            for inv in invoices
            if inv.customer_account == customer.account_number
            and inv.status is InvoiceStatus.OPEN
            and not inv.amount_due.is_zero()
        ),
        key=lambda inv: (inv.issued_at, inv.number),
    )
    lines = tuple(
        StatementLine(inv.number, inv.issued_at.date(), inv.amount_due) for inv in open_invoices
    )
    return Statement(
        customer_account=customer.account_number,
        generated_at=now,
        currency=currency,
        lines=lines,
        deposits=account.unapplied_deposits,
        total_debt=account.debt,
        credit_limit=account.limit,
    )
