"""The reference back office receiving kiosk payments for invoices it changed meanwhile
(issue 22 §1): what it cannot apply is kept as an overpayment to resolve, never
refused; a charge on account still raises the account's debt."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from backoffice.db import make_engine, make_sessions
from backoffice.service import BackOffice
from kiosk.domain.billing import InvoiceStatus, Payment, PaymentMethod, build_invoice
from kiosk.domain.customers import Customer
from kiosk.domain.money import Money
from kiosk.domain.plain import from_plain, to_plain
from tests import factories

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
EUR = "EUR"


@pytest.fixture
def office(tmp_path):
    office = BackOffice(make_sessions(make_engine(f"sqlite:///{tmp_path / 'bo.db'}")))
    shop = office.create_shop("Atelier")
    customer = factories.customer(credit=factories.credit(debt="49.90"))
    invoice = build_invoice("F-1", factories.order(), customer, NOW, prices_include_tax=True)
    office.put_customer(shop, customer)
    office.put_invoice(shop, invoice)
    return office, shop, customer, invoice


def push(office, shop, kind, payload):
    op = {"op_id": uuid.uuid4().hex, "kind": kind, "key": "k", "payload": payload}
    (result,) = office.apply_batch(shop, "K1", [op])
    assert result.status == "applied", result


def payment(invoice, method=PaymentMethod.CARD):
    receipt = "123" if method is PaymentMethod.CARD else ""
    return Payment("p-1", method, invoice.amount_due, NOW, (invoice.number,),
                   customer_account=invoice.customer_account,
                   terminal_receipt_number=receipt)  # fmt: skip


def test_a_statement_payment_for_an_invoice_paid_at_the_counter_is_kept(office):
    office, shop, customer, invoice = office
    paid_here = replace(invoice, amount_paid=invoice.total, status=InvoiceStatus.PAID)
    office.put_invoice(shop, paid_here)  # staff took the money at the counter
    push(office, shop, "statement.paid", {"payment": to_plain(payment(invoice))})
    kept = office.get(shop, "overpayment", "p-1")
    assert kept["status"] == "to resolve" and kept["amount"] == str(invoice.amount_due.amount)
    account = from_plain(Customer, office.get(shop, "customer", customer.account_number))
    assert account.credit.debt == Money("49.90", EUR)  # not lowered a second time


def test_a_charge_on_account_raises_the_accounts_debt(office):
    office, shop, customer, invoice = office
    push(office, shop, "payment.taken", to_plain(payment(invoice, PaymentMethod.ACCOUNT)))
    account = from_plain(Customer, office.get(shop, "customer", customer.account_number))
    assert account.credit.debt == Money("49.90", EUR) + invoice.total
    assert office.get(shop, "overpayment", "p-1") is None
