"""Two writers of one shop on PostgreSQL, at the moment between a push's reads and its
writes (issue 29: the shop's row is locked only for the writes, backoffice/batch.py).

Each test stops a kiosk's push right after it read what it decides on and lets the
other writer commit there, in another connection: staff taking the money for an
invoice at the counter, or the same push arriving a second time. The outcome is read
from the back office's rows. Each guard is also broken on purpose, to show the test
sees what it guards against."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from backoffice import batch
from backoffice.batch import APPLIED, Batch
from backoffice.db import make_engine, make_sessions
from backoffice.service import BackOffice
from kiosk.domain.billing import Invoice, InvoiceStatus, Payment, PaymentMethod, build_invoice
from kiosk.domain.plain import from_plain, to_plain
from tests import factories

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def shop(pg_server):
    office = BackOffice(make_sessions(make_engine(pg_server.new_database())))
    shop = office.create_shop("Atelier")
    customer = factories.customer()
    invoice = build_invoice("F-1", factories.order(), customer, NOW, prices_include_tax=True)
    office.put_customer(shop, customer)
    office.put_invoice(shop, invoice)
    return office, shop, invoice


def card_payment(invoice: Invoice) -> dict:
    paid = Payment("p-1", PaymentMethod.CARD, invoice.amount_due, NOW, (invoice.number,),
                   customer_account=invoice.customer_account,
                   terminal_receipt_number="123")  # fmt: skip
    return {"op_id": uuid.uuid4().hex, "kind": "payment.taken", "key": "payment:p-1",
            "payload": to_plain(paid)}  # fmt: skip


def pause_after_reading(monkeypatch, kind: str, key: str, meanwhile) -> list[int]:
    """Run `meanwhile` once, right after the push first reads (kind, key)."""
    get, reads = Batch.get, []

    def get_then_wait(self, k, name):
        data = get(self, k, name)
        if (k, name) == (kind, key):
            reads.append(1)
            if len(reads) == 1:
                meanwhile()
        return data

    monkeypatch.setattr(Batch, "get", get_then_wait)
    return reads


@pytest.mark.parametrize("guarded", [True, False], ids=["checked", "check-broken"])
def test_an_invoice_paid_at_the_counter_meanwhile_is_not_overwritten(shop, monkeypatch, guarded):
    office, shop_id, invoice = shop
    at_counter = replace(invoice, amount_paid=invoice.total, status=InvoiceStatus.PAID)
    reads = pause_after_reading(
        monkeypatch, "invoice", "F-1", lambda: office.put_invoice(shop_id, at_counter)
    )
    if not guarded:  # break the guard: what was read is taken as unchanged
        monkeypatch.setattr(Batch, "_changes", lambda self, keys: {
            k: seq for k, (_, seq) in self._read.items() if seq is not None})  # fmt: skip

    (result,) = office.apply_batch(shop_id, "K1", [card_payment(invoice)])

    assert result.status == "applied"
    stored = from_plain(Invoice, office.get(shop_id, "invoice", "F-1"))
    assert stored.status is InvoiceStatus.PAID and stored.amount_paid == invoice.total
    kept = office.get(shop_id, "overpayment", "p-1")
    if guarded:
        # read again after the counter's payment: the card payment finds the invoice
        # paid and is kept as an overpayment to give back; both payments are on record
        assert len(reads) == 2
        assert kept is not None and kept["amount"] == str(invoice.amount_due.amount)
    else:
        # the lost update the check prevents: the card payment written over the
        # invoice as the payment of it, the counter's money on no record at all
        assert len(reads) == 1
        assert kept is None


@pytest.mark.parametrize("guarded", [True, False], ids=["checked", "check-broken"])
def test_one_push_arriving_twice_at_once_is_applied_once(shop, monkeypatch, guarded):
    """A new customer's push (it reads nothing) sent again while the first is still
    being applied: both find the operation not yet applied."""
    office, shop_id, _ = shop
    customer = factories.customer(account_number="C-2")
    op = {"op_id": uuid.uuid4().hex, "kind": "customer.created", "key": "customer:C-2",
          "payload": to_plain(customer)}  # fmt: skip
    already, second, paused = BackOffice._already_applied, [], []

    def read_then_wait(c, shop, ids):
        seen = already(c, shop, ids)
        if not paused:
            paused.append(1)
            second.extend(office.apply_batch(shop_id, "K1", [op]))
        return seen

    monkeypatch.setattr(BackOffice, "_already_applied", staticmethod(read_then_wait))
    if not guarded:  # break the guard: the applied operation's row inserted as it comes
        real = batch.upserts("postgresql")
        plain = postgresql.insert(APPLIED).returning(APPLIED.c.op_id)
        monkeypatch.setattr(batch, "upserts", lambda _: real._replace(applied=plain))
        with pytest.raises(IntegrityError):  # a 500 to the kiosk, after the other applied it
            office.apply_batch(shop_id, "K1", [op])
        return

    (first,) = office.apply_batch(shop_id, "K1", [op])

    # the one that came second (in the pause) committed first; the paused one, run
    # again, finds it applied and answers as for a duplicate
    assert [r.status for r in second] == ["applied"] and first.status == "duplicate"
    assert [o[0] for o in office.operations(shop_id)] == [op["op_id"]]
    assert office.get(shop_id, "customer", "C-2") == to_plain(customer)
