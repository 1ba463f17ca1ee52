"""The customer journeys through the use cases, on the real drivers and simulators
(ZVT over a pty, lockers on MockFactory with simulated doors, the ESC/POS printer)."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from kiosk import config as config_module
from kiosk.domain.billing import InvoiceStatus, PaymentMethod, build_invoice
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import ContactPreference, CreditAccount, Customer
from kiosk.domain.intents import IntentState
from kiosk.domain.money import Money
from kiosk.domain.orders import CustomerItem, OrderState, ServiceLine, ServiceOrder
from kiosk.drivers.drawer.simulator import DoorBehaviour
from kiosk.drivers.terminal.sim_link import Script
from kiosk.services.context import open_kiosk_store
from kiosk.services.journeys.dropoff import DropOffError, DropOffRequest, NewCustomer
from kiosk.services.journeys.pickup import Found, Outcome
from kiosk.services.journeys.statements import StatementOutcome
from kiosk.services.kiosk import build_services
from kiosk.services.machine.devices import open_devices

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
EUR = "EUR"


def make_config(tmp_path, **kiosk):
    demo = config_module.demo(str(tmp_path / "store"))
    raw = {
        "shop": {"name": demo.shop.name, "address_lines": ["12 rue des Artisans"]},
        "kiosk": {"id": "K1", "data_dir": str(tmp_path / "store"), **kiosk},
        "printer": {"sim_output_dir": str(tmp_path / "printed")},
        "terminal": {"ack_timeout_s": 0.5, "command_ack_s": 1.0, "idle_s": 2.0},
        "lockers": {
            "pulse_ms": 50,
            "debounce_ms": 20,
            "open_timeout_s": 1.0,
            "locker": [
                {"id": e.id, "lock_pin": e.lock_pin, "door_pin": e.door_pin}
                for e in demo.lockers.locker
            ],
        },
    }
    return config_module.from_mapping(raw, "<test>")


@pytest.fixture
def kiosk(tmp_path):
    yield from open_kiosk(tmp_path)


def open_kiosk(tmp_path):
    """The production wiring on a store in tmp_path, simulated devices (a generator:
    the fixture of this file and of the tests that share its world)."""
    cfg = make_config(tmp_path, dropoff_locker="4")
    repos = open_kiosk_store(cfg)
    devices = open_devices(cfg)
    devices.simulators["lockers"].doors.open_after_s = 0.05
    services = build_services(cfg, repos, devices, lambda: NOW)
    for code, label, price in [("tuneup", "Révision", "49.90"), ("brakes", "Freins", "34.99")]:
        repos.settings.set(
            f"catalogue:{code}", {"code": code, "label": label, "price": price, "tax_rate": "20"}
        )
    yield services
    devices.close()
    repos.store.close()


def seed_done_order(services, *, locker="2", credit=None, warranty=False, n=1):
    repos = services.repos
    customer = Customer(
        account_number=f"C-{n}",
        last_name="Lefèvre",
        first_name="Élodie",
        mobile="06 12 34 56 78",
        email="e@example.com",
        credit=credit,
        contact_preference=ContactPreference.SMS,
    )
    order = ServiceOrder(
        number=f"BO-2611-{n:05d}",  # the back office's numbers, not this kiosk's
        claim_code=ClaimCode.from_random(bytes([n, 2, 3, 4, 5])),
        customer_account=customer.account_number,
        currency=EUR,
        created_at=NOW - timedelta(days=3),
        items=(CustomerItem("Vélo Peugeot", "WTU-1"),),
        under_warranty=warranty,
        lines=(
            ServiceLine("tuneup", "Révision", Money("49.90", EUR), tax_rate_percent=Decimal(20)),
        ),
    )
    order = order.move_to(OrderState.IN_PROGRESS, NOW, "t").move_to(OrderState.DONE, NOW, "t")
    order = order.move_item(f"locker {locker}" if locker else "counter", NOW, "staff")
    repos.customers.add(customer)
    repos.orders.add(order)
    return customer, order


def test_dropoff_by_a_new_customer(kiosk):
    request = DropOffRequest(
        item_kind="Vélo",
        brand_model="Peugeot LC01",
        serial_number="WTU-884213",
        condition_checks=("scratches",),
        condition_text="guidon tordu",
        services=("tuneup",),
        preferred_date=date(2026, 11, 27),
        signature_png=b"\x89PNG fake",
        language="fr",
        new_customer=NewCustomer("Moreau", "Chloé", phone="06 55 44 33 22"),
    )
    result = kiosk.dropoff.submit(request)
    order = kiosk.repos.orders.require(result.order.number)
    assert order.state is OrderState.NEW and order.items[0].condition == "scratches, guidon tordu"
    assert kiosk.repos.customers.get(result.customer.account_number).marketing_consent is False
    kinds = [e.kind for e in kiosk.repos.outbox.next_batch(NOW)]
    assert kinds == ["customer.created", "dropoff.created", "terms.accepted"]
    assert result.ticket.printed and result.tag.printed
    assert len(kiosk.devices.simulators["printer"].jobs) == 2
    assert result.locker == "4" and result.locker_opened  # the drop-off locker opened
    # the order keeps the customer's language and its status page's token (issue 25)
    assert order.language == "fr"
    assert len(base64.urlsafe_b64decode(order.status_token + "==")) == 16  # 128 bits
    assert order.status_token not in order.claim_code.value


def test_the_tickets_status_code_scanned_at_the_kiosk_is_not_taken_for_a_claim(kiosk):
    found = kiosk.pickup.lookup("https://atelier.example/s/pX4mQe7LzR2tW9bKc5NvHg")
    assert found.found is Found.STATUS_PAGE


def test_the_catalogue_speaks_the_customers_language(kiosk):
    """Issue 12 §2: a catalogue item with a label per language is offered, and put on
    the order, in the customer's language; an older record with one label keeps it."""
    kiosk.repos.settings.set(
        "catalogue:tuneup",
        {"code": "tuneup", "label": "Révision", "labels": {"fr": "Révision", "en": "Service"},
         "price": "49.90", "tax_rate": "20"},
    )  # fmt: skip
    english = {c.code: c.label for c in kiosk.dropoff.catalogue("en")}
    assert english == {"tuneup": "Service", "brakes": "Freins"}  # brakes: one label only
    assert {c.code: c.label for c in kiosk.dropoff.catalogue("fr")}["tuneup"] == "Révision"
    request = DropOffRequest(
        item_kind="Bike",
        services=("tuneup",),
        signature_png=b"sig",
        language="en",
        new_customer=NewCustomer("Moreau", phone="06 55 44 33 22"),
    )
    order = kiosk.dropoff.submit(request).order
    assert [line.description for line in order.lines] == ["Service"]
    assert order.work_requested == "Service"


def test_a_receipt_names_the_lines_in_the_payers_language(kiosk):
    """Issue 12 §2: an order made in French ("Révision") paid in an English session: the
    printed receipt says "Service", as the bill on the screen does."""
    kiosk.repos.settings.set(
        "catalogue:tuneup",
        {"code": "tuneup", "label": "Révision", "labels": {"fr": "Révision", "en": "Service"},
         "price": "49.90", "tax_rate": "20"},
    )  # fmt: skip
    _, order = seed_done_order(kiosk)
    result = kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order), lang="en")
    assert result.receipt.printed
    printer = kiosk.devices.simulators["printer"]
    text = printer.render(printer.jobs[-1]).pages[0].text
    assert "Service" in text and "Révision" not in text
    assert "VAT 20% on" in text


def test_a_dropoff_submitted_twice_is_one_dropoff(kiosk):
    """Issue 10 §6: a double tap, or a retry of the same form from two threads, makes one
    order, one customer, one set of back-office operations and one ticket."""
    request = DropOffRequest(
        item_kind="Vélo",
        services=("tuneup",),
        signature_png=b"sig",
        new_customer=NewCustomer("Moreau", phone="06 55 44 33 22"),
        submission="form-1",
    )
    with ThreadPoolExecutor(2) as pool:  # both taps in flight at once
        results = list(pool.map(kiosk.dropoff.submit, [request, request]))
    first, again = sorted(results, key=lambda r: r.repeated)
    assert not first.repeated and again.repeated
    assert again.order == first.order and again.customer == first.customer
    assert len(kiosk.repos.orders) == 1 and len(kiosk.repos.customers) == 1
    assert kiosk.repos.outbox.pending_count() == 3
    assert len(kiosk.devices.simulators["printer"].jobs) == 2  # ticket and tag, once
    other = kiosk.dropoff.submit(replace(request, submission="form-2"))
    assert other.order.number != first.order.number  # another form is another drop-off


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"signature_png": b""}, "signature"),
        ({"new_customer": NewCustomer("")}, "last_name"),
        ({"new_customer": NewCustomer("Moreau")}, "phone_or_email"),
        ({"services": (), "described_work": " "}, "work"),
        ({"services": ("teleport",)}, "unknown_service"),
        ({"new_customer": NewCustomer("Moreau", email="not an email")}, "email"),
    ],
)
def test_dropoff_refuses_what_is_missing_and_writes_nothing(kiosk, changes, field):
    base = {
        "item_kind": "Vélo",
        "services": ("tuneup",),
        "signature_png": b"sig",
        "new_customer": NewCustomer("Moreau", phone="06 55 44 33 22"),
    }
    with pytest.raises(DropOffError) as err:
        kiosk.dropoff.submit(DropOffRequest(**{**base, **changes}))
    assert str(err.value) == field
    assert len(kiosk.repos.orders) == 0 and kiosk.repos.outbox.pending_count() == 0


def test_pickup_pay_by_card_then_the_locker_opens(kiosk):
    _, order = seed_done_order(kiosk)
    found = kiosk.pickup.lookup(order.claim_code.display.lower())
    assert found.found is Found.FOUND and found.detail == "Your item is ready."
    assert kiosk.pickup.verify(order, "5678").ok
    bill = kiosk.pickup.bill(order)
    assert bill.amount_due == Money("49.90", EUR)
    messages = []
    result = kiosk.pickup.pay_by_card(order, bill, messages.append)
    assert result.outcome is Outcome.COLLECTED and result.locker == "2"
    assert "Insert or tap your card" in messages
    assert kiosk.devices.simulators["terminal"].money_taken_minor == 4990
    assert kiosk.repos.orders.require(order.number).state is OrderState.COLLECTED
    payment = kiosk.repos.payments.require(result.payment.payment_id)
    assert payment.card_last4 == "4242" and payment.method is PaymentMethod.CARD
    assert kiosk.repos.invoices.require(bill.number).status is InvoiceStatus.PAID
    kinds = [e.kind for e in kiosk.repos.outbox.next_batch(NOW)]
    assert kinds[-3:] == ["invoice.created", "payment.taken", "order.state"]
    assert result.receipt.printed


def test_five_wrong_codes_lock_the_claim_code_for_15_minutes(kiosk):
    _, order = seed_done_order(kiosk)
    for tries_left in (4, 3, 2, 1):
        assert kiosk.pickup.verify(order, "0000").tries_left == tries_left
    locked = kiosk.pickup.verify(order, "0000")
    assert not locked.ok and locked.locked_until == NOW + timedelta(minutes=15)
    assert kiosk.pickup.verify(order, "5678").ok is False  # even the right code, while locked
    assert kiosk.pickup.lookup(order.claim_code.value).found is Found.LOCKED


def test_declined_card_takes_nothing_and_opens_nothing(kiosk):
    _, order = seed_done_order(kiosk)
    kiosk.devices.simulators["terminal"].push(Script(outcome="decline", decline_code=0x51))
    result = kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order))
    assert result.outcome is Outcome.DECLINED and "insufficient funds" in result.detail
    assert kiosk.repos.orders.require(order.number).state is OrderState.DONE
    assert kiosk.devices.simulators["terminal"].money_taken_minor == 0


def test_a_door_already_open_is_not_proof_of_pickup(kiosk):
    _, order = seed_done_order(kiosk, locker="1")
    kiosk.devices.simulators["lockers"].cut_wire("1")  # reads open
    assert kiosk.devices.lockers.wait_stable()
    result = kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order))
    assert result.outcome is Outcome.LOCKER_FAILED and "already open" in result.detail
    assert kiosk.devices.simulators["terminal"].money_taken_minor == 0


def test_locker_that_never_opens_releases_the_reservation(kiosk):
    _, order = seed_done_order(kiosk, locker="3")
    kiosk.devices.simulators["lockers"].behaviour["3"] = DoorBehaviour.JAMMED
    result = kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order))
    assert result.outcome is Outcome.LOCKER_FAILED
    sim = kiosk.devices.simulators["terminal"]
    assert sim.money_taken_minor == 0 and sim.state.reservations == {}
    assert [i.state for i in kiosk.repos.intents.all()] == [IntentState.RELEASED]
    alerts = [e for e in kiosk.repos.outbox.next_batch(NOW) if e.kind == "staff.note"]
    assert "locker 3 did not open" in alerts[0].payload["text"]


def test_credit_account_within_the_limit_and_a_zero_limit(kiosk):
    acct = CreditAccount(Money("100", EUR), Money("20", EUR), Money("0", EUR), date(2025, 1, 1))
    _, order = seed_done_order(kiosk, credit=acct)
    result = kiosk.pickup.pay_on_account(order, kiosk.pickup.bill(order))
    assert result.outcome is Outcome.COLLECTED
    assert kiosk.repos.customers.require("C-1").credit.debt == Money("69.90", EUR)
    zero = CreditAccount(Money("0", EUR), Money("0", EUR), Money("0", EUR), date(2025, 1, 1))
    _, other = seed_done_order(kiosk, credit=zero, n=2)
    refused = kiosk.pickup.pay_on_account(other, kiosk.pickup.bill(other))
    assert refused.outcome is Outcome.ACCOUNT_REFUSED


def test_warranty_work_is_collected_with_nothing_due(kiosk):
    _, order = seed_done_order(kiosk, warranty=True)
    bill = kiosk.pickup.bill(order)
    assert bill.amount_due.is_zero()
    result = kiosk.pickup.collect_free(order, bill)
    assert (
        result.outcome is Outcome.COLLECTED and result.payment.method is PaymentMethod.NOTHING_DUE
    )


def test_printer_out_of_paper_sends_the_receipt_instead(kiosk):
    _, order = seed_done_order(kiosk)
    kiosk.devices.simulators["printer"].paper = "out"
    result = kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order))
    assert result.outcome is Outcome.COLLECTED  # the payment and the pickup go on
    assert not result.receipt.printed and result.receipt.sent_via == "sms"


def test_estimate_approved_or_declined(kiosk):
    _, order = seed_done_order(kiosk)
    repos = kiosk.repos
    quoting = order.move_to(OrderState.IN_PROGRESS, NOW, "t").move_to(
        OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION, NOW, "t"
    )
    repos.orders.save(quoting)
    assert (
        kiosk.pickup.lookup(order.claim_code.value).detail
        == "We need your approval of an estimate."
    )
    approved = kiosk.pickup.approve_estimate(quoting, approved=True)
    assert approved.state is OrderState.READY_TO_BE_DONE
    last = repos.outbox.next_batch(NOW)[-1]
    assert last.kind == "order.state" and last.payload["why"].endswith(
        "estimate approved at the kiosk"
    )


def test_statement_paid_by_card(kiosk):
    acct = CreditAccount(Money("500", EUR), Money("99.80", EUR), Money("0", EUR), date(2025, 1, 1))
    customer, order = seed_done_order(kiosk, credit=acct)
    for number in ("F-1", "F-2"):
        kiosk.repos.invoices.add(
            build_invoice(number, order, customer, NOW, prices_include_tax=True)
        )
    st = kiosk.statements.statement(customer)
    assert [line.invoice_number for line in st.lines] == ["F-1", "F-2"]
    result = kiosk.statements.pay(customer, ["F-1"])
    assert result.outcome is StatementOutcome.PAID
    assert kiosk.repos.invoices.require("F-1").status is InvoiceStatus.PAID
    assert kiosk.repos.customers.require("C-1").credit.debt == Money("49.90", EUR)
    assert kiosk.devices.simulators["terminal"].money_taken_minor == 4990
    assert kiosk.repos.outbox.next_batch(NOW)[-1].kind == "statement.paid"


def test_crash_after_the_door_opened_books_on_restart(kiosk):
    _, order = seed_done_order(kiosk)
    bill = kiosk.pickup.bill(order)
    kiosk.payments.book = lambda *a, **k: (_ for _ in ()).throw(SystemExit("power cut"))
    with pytest.raises(SystemExit):
        kiosk.pickup.pay_by_card(order, bill)
    del kiosk.payments.book  # the kiosk restarts
    assert kiosk.devices.simulators["terminal"].state.reservations  # held, not taken
    intent_id = kiosk.repos.intents.all()[0].intent_id
    assert kiosk.startup().done == [
        f"booked {intent_id}: booked",
        f"settled {intent_id}: reservation booked",
    ]
    assert kiosk.devices.simulators["terminal"].money_taken_minor == 4990
    assert kiosk.repos.orders.require(order.number).state is OrderState.COLLECTED


@pytest.mark.parametrize(
    ("last_name", "item", "as_text"),
    [
        ("Łukasiewicz", "Vélo Żywiec", True),  # Polish: another code page, read back as text
        ("Garmin™", "Edge 530", True),  # ™: another code page
        ("王", "Vélo", False),  # CJK name: that line is an image
        ("Moreau", "Téléphone 📱", False),  # emoji in an item: an image, spelled out if no font
    ],
)
def test_a_dropoff_with_text_no_code_page_has_completes_and_prints(kiosk, last_name, item, as_text):
    """Names and items in any script: the ticket and the tag print (decoded from the
    printer's bytes by the interpreter), the journey succeeds, nothing falls back."""
    request = DropOffRequest(
        item_kind="Vélo",
        brand_model=item,
        serial_number="SN-1",
        condition_checks=(),
        condition_text="",
        services=("tuneup",),
        preferred_date=date(2026, 11, 27),
        signature_png=b"\x89PNG fake",
        language="en",
        new_customer=NewCustomer(last_name, "Żaneta", phone="06 55 44 33 22"),
    )
    result = kiosk.dropoff.submit(request)
    assert result.ticket.printed and result.tag.printed
    printer = kiosk.devices.simulators["printer"]
    tag = printer.render(printer.jobs[-1]).pages[0].text
    assert "?" not in tag and result.order.claim_code.display in tag
    if as_text:
        assert last_name.upper() in tag
    else:
        assert any(b"\x1dv0" in job for job in list(printer.jobs)[-2:])  # the line as an image
    kinds = [e.kind for e in kiosk.repos.outbox.next_batch(NOW, limit=100)]
    assert "receipt.send" not in kinds and "staff.alert" not in kinds


def test_the_demo_guide_tells_codes_that_work(kiosk):
    """`kiosk demo guide` (issue 12 §6): the claim code and digits it prints collect an
    order, the phone it prints finds a customer with a statement to pay."""
    import re

    from kiosk.services.demo_data import guide, seed
    from kiosk.services.journeys.identify import find_customers

    seed(kiosk.repos, kiosk.config, NOW, customers=12)
    collect, statement, _ = guide(kiosk.repos)
    code, digits = re.search(r"claim code (\S+), .*, (\d{4}) ", collect).groups()
    found = kiosk.pickup.lookup(code)
    assert found.found is Found.FOUND and kiosk.pickup.verify(found.order, digits).ok
    phone = re.search(r"identify with (.+) \(account", statement).group(1)
    (customer,) = find_customers(kiosk.repos, phone)
    assert kiosk.repos.invoices.for_customer(customer.account_number, open_only=True)
