from dataclasses import replace
from decimal import Decimal

import pytest

from kiosk.domain.billing import Payment, PaymentMethod, build_invoice
from kiosk.domain.orders import OrderState
from kiosk.domain.plain import DecodeError, from_plain, to_plain
from kiosk.domain.shifts import Shift
from kiosk.storage.repositories import Duplicate, NotFound, open_repositories
from kiosk.storage.store import Store
from tests.factories import T0, credit, customer, eur, order


def test_customer_lookups(repos):
    repos.customers.add(customer(rewards_card="RW1"))
    repos.customers.add(
        customer(account_number="K1-000002", phone="+33 6 12 34 56 78", email="X@y.fr")
    )
    assert len(repos.customers.find_by_phone("0612345678")) == 2
    assert repos.customers.find_by_email(" x@Y.FR")[0].account_number == "K1-000002"
    assert repos.customers.find_by_rewards_card("RW1").last_name == "Lefèvre"
    assert repos.customers.find_by_phone("") == []
    with pytest.raises(Duplicate):
        repos.customers.add(customer(email="other@example.com"))
    with pytest.raises(Duplicate):
        repos.customers.add(customer(account_number="K1-000003", rewards_card="RW1"))


def test_customer_account_number_is_editable_and_unique(repos):
    repos.customers.add(customer())
    repos.customers.add(customer(account_number="K1-000002"))
    repos.customers.change_account_number("K1-000001", "SHOP-77")
    assert repos.customers.get("SHOP-77") and repos.customers.get("K1-000001") is None
    with pytest.raises(Duplicate):
        repos.customers.change_account_number("SHOP-77", "K1-000002")
    with pytest.raises(NotFound):
        repos.customers.change_account_number("nope", "x")


def test_round_trip_of_every_record_kind(store_dir, now):
    store = Store(store_dir)
    repos = open_repositories(store)
    c = customer(credit=credit(limit="300", debt="12.50"), discount_percent=Decimal("7.5"))
    o = order().move_to(OrderState.IN_PROGRESS, now, "tech").move_item("bench 2", now, "tech")
    inv = build_invoice("INV-1", o, c, now, prices_include_tax=True)
    pay = Payment(
        "P1",
        PaymentMethod.CARD,
        eur("49.90"),
        now,
        ("INV-1",),
        terminal_receipt_number="17",
        card_brand="Mastercard",
        card_last4="5454",
    )
    shift = Shift("S1", T0, "amelie", "EUR").record_payment(pay).count("pickup")
    with store.transaction():
        repos.customers.add(c)
        repos.orders.add(o)
        repos.invoices.add(inv)
        repos.payments.add(pay)
        repos.shifts.add(shift)
    store.close()
    store = Store(store_dir)
    repos = open_repositories(store)
    assert repos.customers.require(c.account_number) == c
    assert repos.orders.by_claim_code(o.claim_code.display) == o
    assert repos.orders.in_state(OrderState.IN_PROGRESS) == [o]
    assert repos.invoices.for_customer(c.account_number, open_only=True) == [inv]
    assert repos.payments.by_card_last4("5454") == [pay]
    assert repos.shifts.current() == shift
    repos.shifts.save(shift.close(now, "amelie"))
    assert repos.shifts.current() is None
    store.close()


def test_order_lookup_by_bad_claim_code_is_none(repos):
    repos.orders.add(order())
    assert repos.orders.by_claim_code("not a code") is None
    with pytest.raises(NotFound):
        repos.orders.save(order(number="unknown"))


def test_counters_and_numbers(repos, now):
    assert repos.next_account_number("K1-") == "K1-000001"
    assert repos.next_account_number("K1-") == "K1-000002"
    assert repos.next_order_number("K1-", now) == "K1-2611-00001"
    repos.settings.set("sync.cursor", "abc")
    assert repos.settings.get("sync.cursor") == "abc"


def test_decoding_garbage_names_the_field():
    doc = to_plain(order())
    doc["lines"][0]["unit_price"] = {"amount": "12,5", "currency": "EUR"}
    with pytest.raises(DecodeError, match=r"lines\[0\]\.unit_price"):
        from_plain(type(order()), doc)
    with pytest.raises(DecodeError, match="unknown field"):
        from_plain(type(customer()), {**to_plain(customer()), "shoe_size": 42})
    with pytest.raises(DecodeError, match="last_name"):
        from_plain(type(customer()), {**to_plain(customer()), "last_name": ""})
    with pytest.raises(DecodeError, match="expected str"):
        from_plain(type(customer()), {**to_plain(customer()), "email": 5})
    assert from_plain(type(customer()), to_plain(replace(customer(), notes="x"))).notes == "x"
