from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from kiosk.domain.billing import (
    BillingError,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    build_invoice,
    build_statement,
    charge_on_account,
)
from kiosk.domain.customers import CreditLimitExceeded
from kiosk.domain.orders import Deposit, ServiceLine
from tests.factories import T0, credit, customer, eur, order

TWO_LINES = (
    ServiceLine("tuneup", "Révision", eur("49.90"), tax_rate_percent=Decimal(20)),
    ServiceLine(
        "tube",
        "Chambre à air",
        eur("7.99"),
        quantity=Decimal(2),
        discount_percent=Decimal(10),
        tax_rate_percent=Decimal("5.5"),
    ),
)


def test_tax_exclusive_prices():
    inv = build_invoice("I1", order(lines=TWO_LINES), customer(), T0, prices_include_tax=False)
    # 49.90 + 20% = 9.98 ; 2 × 7.99 = 15.98 - 10% (1.60) = 14.38 + 5.5% = 0.79
    assert [line.tax for line in inv.lines] == [eur("9.98"), eur("0.79")]
    assert inv.subtotal == eur("65.88")
    assert inv.discount_total == eur("1.60")
    assert inv.net_total == eur("64.28")
    assert inv.total == eur("75.05")
    assert inv.amount_due == eur("75.05")
    assert inv.tax_by_rate()[Decimal(20)] == (eur("49.90"), eur("9.98"))


def test_tax_inclusive_prices_take_the_tax_out_per_line():
    inv = build_invoice("I1", order(), customer(), T0, prices_include_tax=True)
    assert inv.total == eur("49.90")
    assert inv.net_total == eur("41.58") and inv.tax_total == eur("8.32")


def test_tax_exempt_customer_pays_no_tax():
    c = customer(tax_exempt=True, tax_number="FR123")
    assert build_invoice("I", order(), c, T0, prices_include_tax=False).total == eur("49.90")
    inv = build_invoice("I", order(), c, T0, prices_include_tax=True)
    assert inv.tax_total == eur("0") and inv.total == eur("41.58")


def test_customer_discount_and_warranty():
    c = customer(discount_percent=Decimal(10))
    inv = build_invoice("I", order(), c, T0, prices_include_tax=True)
    assert inv.total == eur("44.91") and inv.discount_total == eur("4.99")
    free = build_invoice("I", order(under_warranty=True), c, T0, prices_include_tax=True)
    assert free.total == eur("0") and free.subtotal == eur("49.90") and free.amount_due.is_zero()


def test_deposits_are_applied_up_to_the_total():
    o = order().add_deposit(Deposit(eur("20"), T0, "card"))
    inv = build_invoice("I", o, customer(), T0, prices_include_tax=True)
    assert inv.deposits_applied == eur("20") and inv.amount_due == eur("29.90")
    big = order().add_deposit(Deposit(eur("80"), T0, "card"))
    inv2 = build_invoice("I", big, customer(), T0, prices_include_tax=True)
    assert inv2.deposits_applied == eur("49.90") and inv2.amount_due == eur("0")


def test_paying_an_invoice():
    inv = build_invoice("I", order(), customer(), T0, prices_include_tax=True)
    part = inv.record_payment(eur("9.90"))
    assert part.status is InvoiceStatus.OPEN and part.amount_due == eur("40")
    paid = part.record_payment(eur("40"))
    assert paid.status is InvoiceStatus.PAID
    with pytest.raises(BillingError, match="takes no payment"):
        paid.record_payment(eur("1"))
    with pytest.raises(BillingError, match="more than"):
        inv.record_payment(eur("50"))


def test_invoice_only_for_the_orders_customer():
    with pytest.raises(BillingError, match="belongs to"):
        build_invoice("I", order(), customer(account_number="X"), T0, prices_include_tax=True)


def test_payments_never_hold_a_card_number():
    ok = Payment(
        "p1",
        PaymentMethod.CARD,
        eur("10"),
        T0,
        ("I",),
        terminal_receipt_number="0042",
        card_brand="VISA",
        card_last4="4242",
    )
    assert ok.card_last4 == "4242"
    with pytest.raises(BillingError, match="last four"):
        replace(ok, card_last4="4111111111111111")
    with pytest.raises(BillingError, match="terminal receipt"):
        replace(ok, terminal_receipt_number="")
    with pytest.raises(BillingError, match="card details"):
        Payment(
            "p2",
            PaymentMethod.ACCOUNT,
            eur("10"),
            T0,
            ("I",),
            customer_account="A",
            card_last4="4242",
        )
    with pytest.raises(BillingError, match="nothing due"):
        Payment("p3", PaymentMethod.NOTHING_DUE, eur("1"), T0, ("I",))


def test_charge_on_account_within_the_limit():
    c = customer(credit=credit(limit="60"))
    assert charge_on_account(c, eur("49.90")).credit.debt == eur("49.90")
    with pytest.raises(CreditLimitExceeded):
        charge_on_account(c, eur("60.01"))
    with pytest.raises(BillingError, match="no credit account"):
        charge_on_account(customer(), eur("1"))


def test_statement_lists_outstanding_invoices_oldest_first():
    c = customer(credit=credit(limit="1000", debt="149.70", deposits="20"))
    invs = [
        build_invoice(f"I{i}", order(), c, T0 + timedelta(days=3 - i), prices_include_tax=True)
        for i in range(3)
    ]
    invs[1] = invs[1].record_payment(eur("49.90"))  # paid: not on the statement
    st = build_statement(c, invs, T0)
    assert [line.invoice_number for line in st.lines] == ["I2", "I0"]
    assert st.outstanding == eur("99.80")
    assert st.total_debt == eur("149.70") and st.balance == eur("129.70")
    assert st.amount_for(["I0"]) == eur("49.90")
    with pytest.raises(BillingError, match="not on this statement"):
        st.amount_for(["I1"])
    with pytest.raises(BillingError, match="twice"):
        st.amount_for(["I0", "I0"])
