"""What a first-time customer at the panel must never meet (issue 21): a refusal after
the signature, a contact preference the form never asked for, a statement that leads
them to pay more than they owe, tiles that move with the language."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.domain.billing import InvoiceStatus, build_invoice
from kiosk.domain.customers import ContactPreference, CreditAccount
from kiosk.domain.money import Money
from kiosk.services.journeys.dropoff import (
    NEW_CUSTOMER_FIELDS,
    DropOffError,
    DropOffRequest,
    NewCustomer,
    check_new_customer,
)
from kiosk.services.journeys.statements import StatementOutcome
from tests.services.test_journeys import EUR, NOW, open_kiosk, seed_done_order


@pytest.fixture
def kiosk(tmp_path):
    yield from open_kiosk(tmp_path)


EMAIL_ONLY = NewCustomer("Durand", email="zoe@example.fr", contact_preference=ContactPreference.SMS)


def test_sms_without_a_phone_is_refused_at_the_field_not_after_the_signature():
    """The form's hidden "Tell me by" stayed on SMS with an e-mail alone; the domain
    refused it only once the signed drop-off was submitted. Now the preference follows
    the contact given, and each step's Continue asks the same rules."""
    assert check_new_customer(EMAIL_ONLY).contact_preference is ContactPreference.EMAIL
    phone_only = NewCustomer("Durand", phone="06 11 22 33 44")
    assert check_new_customer(phone_only).contact_preference is ContactPreference.SMS
    both = NewCustomer("Durand", phone="0611223344", email="z@example.fr",
                       contact_preference=ContactPreference.SMS)  # fmt: skip
    assert check_new_customer(both).contact_preference is ContactPreference.SMS
    with pytest.raises(DropOffError, match="phone_or_email"):
        check_new_customer(NewCustomer("Durand"), answered=NEW_CUSTOMER_FIELDS[:4])
    with pytest.raises(DropOffError, match="phone"):  # refused at the phone's own step
        check_new_customer(NewCustomer("Durand", phone="12"), answered=NEW_CUSTOMER_FIELDS[:3])
    with pytest.raises(DropOffError, match="email"):
        check_new_customer(NewCustomer("Durand", email="zoe@"), answered=NEW_CUSTOMER_FIELDS[:4])
    # a later field's fault is not charged to an earlier step
    assert check_new_customer(NewCustomer("Durand", email="zoe@"), answered=("last_name",))


def test_a_checked_new_customer_is_never_refused_at_submission(kiosk):
    """What the form's steps accepted, the signed drop-off accepts."""
    checked = check_new_customer(replace_name(EMAIL_ONLY, "zoe\u0301 o'brien"))
    request = DropOffRequest(
        item_kind="Vélo",
        services=("tuneup",),
        signature_png=b"\x89PNG",
        new_customer=checked,
        submission="s-1",
    )
    result = kiosk.dropoff.submit(request)
    assert result.customer.contact_preference is ContactPreference.EMAIL
    assert result.customer.last_name == "zoé o'brien"  # one spelling (NFC), as typed


def replace_name(data: NewCustomer, name: str) -> NewCustomer:
    from dataclasses import replace

    return replace(data, last_name=name)


def test_service_tiles_stand_in_the_same_place_in_every_language(kiosk):
    """Sorted by label, "Brakes" and "Diagnostic" swapped places between languages."""
    for code, fr, en, price in [("brakes", "Freins", "Brakes", "34.99"),
                                ("diagnostic", "Diagnostic", "Diagnosis", "25.00"),
                                ("screen", "Écran", "Screen", "129.00")]:  # fmt: skip
        kiosk.repos.settings.set(f"catalogue:{code}", {"code": code, "label": fr, "price": price,
                                 "labels": {"fr": fr, "en": en}})  # fmt: skip
    order = {lang: [c.code for c in kiosk.dropoff.catalogue(lang)] for lang in ("fr", "en")}
    assert order["fr"] == order["en"]
    kiosk.repos.settings.set("catalogue:screen", {"code": "screen", "label": "Écran",
                             "price": "129.00", "position": 1})  # fmt: skip
    assert kiosk.dropoff.catalogue("en")[0].code == "screen"  # the back office's order


def test_a_statement_never_charges_beyond_what_is_owed_without_consent(kiosk):
    """Found at the panel: owed 109.00 (one invoice of 129.00, 20.00 paid in advance),
    the screen offered "Pay €129.00", and the customer found their account 20.00 in
    credit. Here: one invoice of 49.90, 20.00 in advance, 29.90 owed."""
    account = CreditAccount(Money("500", EUR), Money("49.90", EUR), Money("20", EUR),
                            date(2025, 1, 1))  # fmt: skip
    customer, order = seed_done_order(kiosk, credit=account)
    kiosk.repos.invoices.add(build_invoice("F-9", order, customer, NOW, prices_include_tax=True))
    statement = kiosk.statements.statement(customer)
    assert statement.balance == Money("29.90", EUR)
    extra = statement.beyond_owed(["F-9"])
    assert extra == statement.amount_for(["F-9"]) - statement.balance == Money("20", EUR)
    terminal = kiosk.devices.simulators["terminal"]
    refused = kiosk.statements.pay(customer, ["F-9"])
    assert refused.outcome is StatementOutcome.BEYOND_OWED
    wrong = kiosk.statements.pay(customer, ["F-9"], beyond_owed=Money("5", EUR))
    assert wrong.outcome is StatementOutcome.BEYOND_OWED  # consent to another figure
    assert terminal.money_taken_minor == 0
    assert kiosk.repos.invoices.require("F-9").status is InvoiceStatus.OPEN
    paid = kiosk.statements.pay(customer, ["F-9"], beyond_owed=extra)
    assert paid.outcome is StatementOutcome.PAID
    assert terminal.money_taken_minor == 4990
