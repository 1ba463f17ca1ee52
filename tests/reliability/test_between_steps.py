"""Every moment between two stored steps, with the back office as the other writer
(issue 22). The kiosk is the production wiring on a store in a folder with the
simulated terminal (its own count of money taken is the reference); "killed" raises
out of the kiosk at the named step, and the kiosk is started again from its store.
The back office's edits arrive as its records do through the sync pull: saved over
the kiosk's copy."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date

import pytest

from kiosk.domain.billing import InvoiceStatus, build_invoice
from kiosk.domain.customers import CreditAccount
from kiosk.domain.money import Money
from kiosk.domain.orders import OrderState
from kiosk.services.money.settlement import Settlement
from tests.services.test_journeys import EUR, NOW, open_kiosk, seed_done_order


@pytest.fixture
def kiosk(tmp_path):
    yield from open_kiosk(tmp_path)


class PowerCut(BaseException):
    """The kiosk dies here: nothing in it catches a BaseException."""


def statement_customer(kiosk):
    account = CreditAccount(Money("500", EUR), Money("49.90", EUR), Money("0", EUR),
                            date(2025, 1, 1))  # fmt: skip
    customer, order = seed_done_order(kiosk, credit=account)
    kiosk.repos.invoices.add(build_invoice("F-1", order, customer, NOW, prices_include_tax=True))
    return customer


def charged_then_killed(kiosk, monkeypatch, customer):
    """The terminal approved 49.90; the kiosk died before the statement was settled."""

    def cut(self, intent):
        raise PowerCut("power cut after the terminal's approval")

    monkeypatch.setattr(Settlement, "pay_statement", cut)
    with pytest.raises(PowerCut):
        kiosk.statements.pay(customer, ["F-1"])
    monkeypatch.undo()
    assert kiosk.devices.simulators["terminal"].money_taken_minor == 4990
    (intent,) = kiosk.repos.intents.unsettled()
    return intent


def back_office_edits(kiosk, number, **changes):
    invoice = kiosk.repos.invoices.require(number)
    kiosk.repos.invoices.save(replace(invoice, **changes))


def outbox_kinds(kiosk):
    return [e.kind for e in kiosk.repos.outbox.next_batch(NOW, limit=500)]


def differences(kiosk):
    batch = kiosk.repos.outbox.next_batch(NOW, limit=500)
    return [e.payload for e in batch if e.kind == "payment.difference"]


def test_invoice_paid_at_the_counter_during_an_unfinished_charge(kiosk, monkeypatch):
    """Before: every start-up crashed with BillingError ("invoice F-1 is paid, it takes
    no payment"), sync never started, the card payment was never recorded."""
    customer = statement_customer(kiosk)
    charged_then_killed(kiosk, monkeypatch, customer)
    invoice = kiosk.repos.invoices.require("F-1")
    back_office_edits(kiosk, "F-1", amount_paid=invoice.total, status=InvoiceStatus.PAID)
    report = kiosk.startup()  # the kiosk starts
    assert report.quarantined == [] and kiosk.repos.intents.unsettled() == []
    (payment,) = kiosk.repos.payments.all()
    assert payment.amount == Money("49.90", EUR)  # the card payment is recorded once
    (difference,) = differences(kiosk)
    assert difference["resolution"] == "refund owed" and difference["amount"] == "49.90"
    assert difference["why"] == "paid at the counter meanwhile"
    assert "staff.alert" in outbox_kinds(kiosk) or "staff.note" in outbox_kinds(kiosk)
    # the debt is not lowered twice: the counter's payment is the back office's to apply
    assert kiosk.repos.customers.require(customer.account_number).credit.debt == Money("49.90", EUR)


@pytest.mark.parametrize(
    ("now_due", "resolution", "amount", "status"),
    [
        ("59.90", "remaining debt", "10.00", InvoiceStatus.OPEN),
        ("39.90", "credit on account", "10.00", InvoiceStatus.PAID),
    ],
)
def test_invoice_raised_or_lowered_during_an_unfinished_charge(
    kiosk,
    monkeypatch,
    now_due,
    resolution,
    amount,
    status,
):
    """Before: settled with the invoice's *current* amount: 59.90 marked paid while
    49.90 was charged; lowered, 10.00 silently became a deposit."""
    customer = statement_customer(kiosk)
    charged_then_killed(kiosk, monkeypatch, customer)
    invoice = kiosk.repos.invoices.require("F-1")
    line = replace(invoice.lines[0], gross=Money(now_due, EUR))
    back_office_edits(kiosk, "F-1", lines=(line,))
    assert kiosk.startup().quarantined == []
    settled = kiosk.repos.invoices.require("F-1")
    # what was charged, as far as the invoice takes it, not today's figure
    assert settled.paid == min(Money("49.90", EUR), Money(now_due, EUR))
    assert settled.status is status
    (difference,) = differences(kiosk)
    assert difference["resolution"] == resolution and difference["amount"] == amount
    credit = kiosk.repos.customers.require(customer.account_number).credit
    deposit = Money(amount, EUR) if resolution == "credit on account" else Money("0", EUR)
    assert credit.unapplied_deposits == deposit  # a credit is explicit, and only then


def test_recovery_that_raises_for_one_intent_does_not_stop_the_kiosk(kiosk, monkeypatch):
    """Start-up never depends on one payment: the one that cannot finish is quarantined
    (alerted, listed for staff), the others finish, and the next customer is served."""
    customer = statement_customer(kiosk)
    broken = charged_then_killed(kiosk, monkeypatch, customer)
    original = Settlement.pay_statement

    def fails_for_one(self, intent):
        if intent.intent_id == broken.intent_id:
            raise KeyError("a record the back office deleted")
        return original(self, intent)

    monkeypatch.setattr(Settlement, "pay_statement", fails_for_one)
    report = kiosk.startup()
    assert [line.split(" ")[0] for line in report.quarantined] == [broken.intent_id]
    assert broken.intent_id in kiosk.recovery.quarantined
    assert [i.intent_id for i in kiosk.recovery.unresolved()] == [broken.intent_id]  # staff
    alerts = [e for e in kiosk.repos.outbox.next_batch(NOW, limit=500) if "ALERT" in
              str(e.payload.get("text", ""))]  # fmt: skip
    assert len(alerts) == 1 and broken.intent_id in alerts[0].payload["text"]
    kiosk.startup()  # tried again at the next run, not alerted again
    alerts_after = [e for e in kiosk.repos.outbox.next_batch(NOW, limit=500) if "ALERT" in
                    str(e.payload.get("text", ""))]  # fmt: skip
    assert len(alerts_after) == 1
    # the next customer: a pickup by card, served
    _, order = seed_done_order(kiosk, n=2)
    result = kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order))
    assert result.order.state is OrderState.COLLECTED
    monkeypatch.undo()
    assert kiosk.startup().quarantined == []  # mended: it finishes, once
    assert kiosk.recovery.quarantined == {}


def test_pay_by_card_on_a_collected_order_is_refused_in_the_service(kiosk):
    """Only the verify screen stopped a second charge for a collected order; the
    service took it and kept it with a staff note. Now the use case refuses it, and an
    order paid at the counter is never billed again."""
    _, order = seed_done_order(kiosk)
    bill = kiosk.pickup.bill(order)
    assert kiosk.pickup.pay_by_card(order, bill).outcome.value == "collected"
    again = kiosk.pickup.pay_by_card(order, bill)  # the screen's stale order and bill
    assert again.outcome.value == "not_collectable" and "collected" in again.detail
    assert kiosk.devices.simulators["terminal"].money_taken_minor == 4990  # once
    _, other = seed_done_order(kiosk, n=2)
    reopened = other.move_to(OrderState.IN_PROGRESS, NOW, "back office", "one more fault")
    kiosk.repos.orders.save(reopened)  # the back office took it back to the workshop
    assert kiosk.pickup.pay_by_card(other, kiosk.pickup.bill(other)).outcome.value == (
        "not_collectable"
    )
    assert kiosk.pickup.pay_on_account(other, kiosk.pickup.bill(other)).outcome.value == (
        "not_collectable"
    )
    assert kiosk.devices.simulators["terminal"].money_taken_minor == 4990


def test_an_invoice_paid_at_the_counter_is_not_billed_again(kiosk):
    customer, order = seed_done_order(kiosk)
    invoice = build_invoice("F-7", order, customer, NOW, prices_include_tax=True)
    kiosk.repos.invoices.add(replace(invoice, amount_paid=invoice.total, status=InvoiceStatus.PAID))
    bill = kiosk.pickup.bill(order)
    assert bill.number == "F-7" and bill.amount_due.is_zero()
    assert kiosk.pickup.collect_free(order, bill).outcome.value == "collected"
    assert kiosk.devices.simulators["terminal"].money_taken_minor == 0


def test_a_statement_invoice_paid_at_the_counter_is_not_charged(kiosk):
    customer = statement_customer(kiosk)
    statement_before = kiosk.statements.statement(customer)  # what the screen shows
    assert [line.invoice_number for line in statement_before.lines] == ["F-1"]
    invoice = kiosk.repos.invoices.require("F-1")
    back_office_edits(kiosk, "F-1", amount_paid=invoice.total, status=InvoiceStatus.PAID)
    result = kiosk.statements.pay(customer, ["F-1"])
    assert result.outcome.value == "not_payable"
    assert kiosk.devices.simulators["terminal"].money_taken_minor == 0


# 50 runs in `make test` (about 0.4 s each)
RUNS = range(50)


@pytest.mark.parametrize("run", RUNS)
def test_two_staff_sessions_refund_one_payment_at_the_same_moment(kiosk, run):
    """Before: in 1 of 16 runs the terminal paid out twice (a reversal and a refund):
    the "not refunded yet" check was outside the payment's lock. Now one refund wins,
    the other is told it was refunded; the terminal gives the money back once. Without
    the lock every run fails."""
    from kiosk.domain.staff import Role, StaffMember
    from kiosk.services.permissions import StaffTaskError

    _, order = seed_done_order(kiosk)
    assert kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order)).outcome.value == "collected"
    (paid,) = kiosk.repos.payments.all()
    managers = [StaffMember.create(f"m{n}", f"M{n}", Role.MANAGER, "424242") for n in (1, 2)]
    barrier, outcomes = threading.Barrier(2), []

    def session(member):
        barrier.wait()
        try:
            outcomes.append(kiosk.refunds.refund(member, paid.payment_id).how)
        except StaffTaskError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=session, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o.split(" ")[0] for o in outcomes) == ["payment", "reversal"], outcomes
    assert kiosk.devices.simulators["terminal"].money_taken_minor == 0  # given back once
    refunds = [p for p in kiosk.repos.payments.all() if p.payment_id.startswith("refund-")]
    assert len(refunds) == 1


def test_two_shifts_opened_in_the_same_second_are_two_shifts(kiosk):
    """Before: the second collided (`Duplicate shifts.shift_id`), and ids were UTC while
    the report prints the shop's time."""
    from kiosk.domain.staff import Role

    kiosk.staff.add_member("s1", "Sam", Role.STAFF, "1111")
    sam = kiosk.repos.staff.require("s1")
    first = kiosk.shifts.open(sam)
    kiosk.shifts.close(sam, lang="en")
    second = kiosk.shifts.open(sam)  # the same second: the clock is NOW throughout
    assert first.shift_id != second.shift_id
    assert first.shift_id.startswith("K1-20261123-150000-")  # 14:00 UTC is 15:00 in Paris


@pytest.mark.parametrize("door_now", ["closed again", "still open"])
def test_a_lock_pulsed_without_a_door_record_never_releases_the_money(kiosk, door_now):
    """Killed after the door was seen open, before that was stored. Before: recovery
    released the reservation ("door not seen open"), the order stayed "done, locker 2",
    no alert: the item gone and unpaid. Now "pulse sent" is stored before the pulse:
    with the door open now the reservation is booked; shut again, nothing proves it
    stayed shut, so the money stays held, staff are alerted, and their word decides."""
    from kiosk.domain.staff import Role
    from kiosk.drivers.drawer.simulator import DoorBehaviour

    _, order = seed_done_order(kiosk)
    sim = kiosk.devices.simulators["lockers"]
    if door_now == "still open":
        sim.behaviour["2"] = DoorBehaviour.LEFT_OPEN
    else:
        sim.doors.close_after_s = 0.2
    intents, save = kiosk.repos.intents, kiosk.repos.intents.save

    def cut_at_the_door_record(intent):
        if intent.door_opened:
            raise PowerCut("killed between the door seen open and its record")
        save(intent)

    intents.save = cut_at_the_door_record
    with pytest.raises(PowerCut):
        kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order))
    del intents.save
    deadline = time.monotonic() + 5
    while door_now == "closed again" and str(kiosk.devices.lockers.door("2")) != "closed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    report = kiosk.startup()
    terminal = kiosk.devices.simulators["terminal"]
    if door_now == "still open":
        assert report.quarantined == []
        assert terminal.money_taken_minor == 4990  # booked: the customer has it
        assert kiosk.repos.orders.require(order.number).state is OrderState.COLLECTED
        return
    (held,) = kiosk.repos.intents.in_states("reserved")  # not released
    assert held.pulse_sent and "take the item" in report.quarantined[0]
    assert terminal.money_taken_minor == 0 and terminal.state.reservations  # held
    assert any("take the item" in str(e.payload.get("text")) for e in
               kiosk.repos.outbox.next_batch(NOW, limit=500))  # fmt: skip
    # the claim code typed again before staff looked: the order still reads "done", but
    # its customer is not charged a second time (the two-writer state machine found it:
    # a second reservation taken, then its money "for an order already collected")
    again = kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order))
    assert again.outcome.value == "not_collectable" and "being resolved" in again.detail
    assert terminal.money_taken_minor == 0 and len(terminal.state.reservations) == 1
    kiosk.staff.add_member("m1", "Maud", Role.MANAGER, "3333")
    manager = kiosk.repos.staff.require("m1")
    kiosk.recovery.confirm_pickup(manager, held.intent_id, taken=True)  # staff looked
    assert terminal.money_taken_minor == 4990
    assert kiosk.repos.orders.require(order.number).state is OrderState.COLLECTED


@pytest.mark.parametrize("reachable", [True, False])
def test_a_receipt_owed_across_a_power_cut(kiosk, reachable):
    """Approved, the printer out of paper, the power cut after the print attempt and
    before the receipt was queued to be sent. Before: the receipt was neither printed
    nor owed anywhere, nobody told. Now it is owed from the payment's own transaction:
    the next start sends it (the customer has left; printed, it would lie in the tray
    for the next customer to read), or, with no way to reach the customer (the back
    office merged the account away meanwhile), lists it for staff with one alert; staff
    print it and it is no longer owed."""
    from kiosk.domain.staff import Role

    customer, order = seed_done_order(kiosk)
    printer = kiosk.devices.simulators["printer"]
    printer.paper = "out"
    delivery = kiosk.pickup._delivery

    def cut(*_args, **_kwargs):
        raise PowerCut("power cut after the print attempt")

    delivery._send = cut
    with pytest.raises(PowerCut):
        kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order))
    del delivery._send
    (paid,) = kiosk.repos.payments.all()
    assert [o.payment_id for o in delivery.owed()] == [paid.payment_id]
    assert "receipt.send" not in outbox_kinds(kiosk)
    if not reachable:  # meanwhile the back office merged the account into another
        kiosk.repos.customers.remove(customer.account_number)

    report = kiosk.startup()  # the next start
    queued = kiosk.repos.outbox.next_batch(NOW, limit=500)
    sent = [e.payload for e in queued if e.kind == "receipt.send"]
    alerts = [e.payload["text"] for e in queued
              if e.kind == "staff.alert" and paid.payment_id in e.payload["text"]]  # fmt: skip
    if reachable:
        assert [s["channel"] for s in sent] == ["sms"]
        assert paid.terminal_receipt_number in sent[0]["text"]  # the receipt's own words
        assert paid.payment_id in " ".join(report.done)
        assert delivery.owed() == [] and alerts == []
        return
    assert sent == [] and len(alerts) == 1 and "reprint it in staff mode" in alerts[0]
    kiosk.startup()  # told once, listed until printed
    assert [o.payment_id for o in delivery.owed()] == [paid.payment_id]
    assert len([e for e in kiosk.repos.outbox.next_batch(NOW, limit=500)
                if paid.payment_id in str(e.payload.get("text"))]) == 1  # fmt: skip
    kiosk.staff.add_member("s1", "Sam", Role.STAFF, "1111")
    printer.paper = "ok"
    printed = kiosk.staff.reprint(kiosk.repos.staff.require("s1"), paid.payment_id)
    assert printed.printed and delivery.owed() == []


def test_a_payment_reversed_at_the_terminal_is_not_refunded_again(kiosk):
    """The terminal's "cannot reverse" (0x83) says the same for "reversed already" and
    "not in today's batch". Before: any refusal fell back to a refund, so a payment
    reversed at the terminal's own keypad was paid out twice. Now the terminal is asked
    what it last did first; a movement no intent of the ledger made stops the refund
    until a manager has checked the terminal's journal."""
    from kiosk.domain.staff import Role, StaffMember
    from kiosk.services.money.refunds import MaybeReversed

    _, order = seed_done_order(kiosk)
    assert kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order)).outcome.value == "collected"
    (paid,) = kiosk.repos.payments.all()
    terminal = kiosk.devices.simulators["terminal"]
    assert kiosk.devices.terminal.reverse(int(paid.terminal_receipt_number)).approved  # keypad
    assert terminal.money_taken_minor == 0
    manager = StaffMember.create("m1", "Maud", Role.MANAGER, "424242")
    with pytest.raises(MaybeReversed, match="may have been reversed at the terminal"):
        kiosk.refunds.refund(manager, paid.payment_id)
    assert terminal.money_taken_minor == 0  # nothing paid out twice
    assert not [p for p in kiosk.repos.payments.all() if p.payment_id.startswith("refund-")]


def test_a_payment_of_a_closed_day_is_refunded_to_the_card(kiosk):
    """The other meaning of the same refusal: the day's batch is closed, the terminal's
    last transaction is the kiosk's own payment; the refund goes to the card."""
    from kiosk.domain.staff import Role, StaffMember

    _, order = seed_done_order(kiosk)
    kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order))
    (paid,) = kiosk.repos.payments.all()
    assert kiosk.devices.terminal.end_of_day().approved
    manager = StaffMember.create("m1", "Maud", Role.MANAGER, "424242")
    assert kiosk.refunds.refund(manager, paid.payment_id).how == "refund"
    assert kiosk.devices.simulators["terminal"].money_taken_minor == 0
