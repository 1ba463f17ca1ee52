"""A model of two writers (issue 22 §6): hypothesis's rule-based state machine.

The kiosk (the production wiring on simulated devices) runs pickups, statement payments
and refunds, killed at chosen points; the back office, as its records arrive through
the sync pull, edits invoices (raise, lower, pay at the counter, cancel), orders
(reopened for rework, done again, cancelled) and customers (change contact, merge the
account away), between the kiosk's journeys and while the kiosk is down between a kill
and its start. A sync hands the kiosk's outbox to a model back office that books every
payment once.

The references are independent of the kiosk's own bookkeeping: the terminal
simulator's count of money, the model back office's ledger, and the model's own record
of which invoice the back office changed under an unfinished payment. Invariants:

- the terminal's money = the kiosk's recorded payments + the payments it could not
  finish, and every one of those is quarantined and alerted;
- the model back office books each payment once, and its ledger (with what is still
  in the outbox) is the kiosk's;
- an invoice changed under an unfinished charge gives an explicit difference for that
  payment, every difference comes with an alert, and no other payment has one;
- the kiosk always starts;
- an item out of its locker (the model saw the door open) was paid, or staff were
  alerted.

A short run in `make test`; `pytest -m slow` runs the long one.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kiosk.domain.billing import InvoiceStatus, build_invoice
from kiosk.domain.customers import CreditAccount
from kiosk.domain.money import Money
from kiosk.domain.orders import OrderState
from kiosk.domain.staff import Role, StaffMember
from kiosk.services.money.settlement import Settlement
from kiosk.services.permissions import StaffTaskError
from tests.services.test_journeys import EUR, NOW, open_kiosk, seed_done_order

PICKUPS = ("1", "2", "3")  # order n waits in locker n, with the back office's invoice F-n
STATEMENT = ("F-s1", "F-s2")  # the credit customer's open invoices
PAYMENT_OPS = {"payment.taken", "statement.paid", "payment.refunded"}
EDITS = ("raise", "lower", "paid at the counter", "cancel")
# what the back office does while the kiosk is down between a kill and its start
MEANWHILE = st.lists(
    st.one_of(
        st.tuples(st.just("the invoice being paid"), st.sampled_from(EDITS)),
        st.tuples(st.sampled_from([f"F-{n}" for n in PICKUPS] + list(STATEMENT)),
                  st.sampled_from(EDITS)),
        st.tuples(st.just("the customer"), st.sampled_from(["merge", "new mobile"])),
    ),
    max_size=2,
)  # fmt: skip


class PowerCut(BaseException):
    """The kiosk dies here: nothing in it catches a BaseException."""


class BackOffice:
    """The other side of the sync: each payment booked once, by its id."""

    def __init__(self) -> None:
        self.booked: dict[str, int] = {}  # payment id → signed minor units
        self.differences: list[dict] = []
        self.alerts: list[str] = []

    def receive(self, entries: list) -> None:
        for e in entries:
            if e.kind in PAYMENT_OPS:
                pid, signed = booked(e.kind, e.payload)
                assert pid not in self.booked, f"payment {pid} booked twice by the back office"
                self.booked[pid] = signed
            elif e.kind == "payment.difference":
                self.differences.append(e.payload)
            elif e.kind in ("staff.note", "staff.alert"):
                self.alerts.append(alert_text(e))


def alert_text(entry) -> str:
    """An alert's words with the order it is noted on."""
    return f"{entry.payload.get('number', '')} {entry.payload['text']}"


def booked(kind: str, payload: dict) -> tuple[str, int]:
    payment = payload["payment"] if kind == "statement.paid" else payload
    minor = round(Decimal(payment["amount"]["amount"]) * 100)
    return payment["payment_id"], -minor if kind == "payment.refunded" else minor


class TwoWriters(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._folder = tempfile.TemporaryDirectory()
        self._world = open_kiosk(Path(self._folder.name))
        self.kiosk = next(self._world)
        self.kiosk.devices.simulators["lockers"].doors.close_after_s = 0.05
        self.back_office = BackOffice()
        self.down = False
        self.gone: set[str] = set()  # orders whose locker door opened: the item is out
        self.under_unfinished: set[str] = set()  # invoices the back office changed meanwhile
        self.changed_under: dict[str, set[str]] = {}  # unfinished intent → those invoices
        self.closed_by_back_office: set[str] = set()  # paid at the counter, or voided
        self.expected: set[tuple[str, str]] = set()  # (payment, invoice) owed a difference
        self.manager = StaffMember.create("m1", "Maud", Role.MANAGER, "424242")
        repos = self.kiosk.repos
        for n in PICKUPS:
            customer, order = seed_done_order(self.kiosk, locker=n, n=int(n))
            invoice = build_invoice(f"F-{n}", order, customer, NOW, prices_include_tax=True)
            repos.invoices.add(invoice)
        debt = CreditAccount(Money("500", EUR), Money("99.80", EUR), Money("0", EUR),
                             date(2025, 1, 1))  # fmt: skip
        customer, order = seed_done_order(self.kiosk, locker="", credit=debt, n=9)
        repos.orders.save(order.move_to(OrderState.COLLECTED, NOW, "counter"))
        for number in STATEMENT:
            repos.invoices.add(build_invoice(number, order, customer, NOW, prices_include_tax=True))

    def teardown(self) -> None:
        next(self._world, None)
        self._folder.cleanup()

    # -- the kiosk --
    def _killed_at(self, where: str):
        """Patches that kill the kiosk at `where`; returns the undo."""
        if where == "settle":
            undo = [(Settlement, name, getattr(Settlement, name)) for name in
                    ("collect", "pay_statement")]  # fmt: skip

            def cut(*_args, **_kwargs):
                raise PowerCut(where)

            Settlement.collect = cut  # type: ignore[method-assign]
            Settlement.pay_statement = cut  # type: ignore[method-assign]
            return lambda: [setattr(c, n, f) for c, n, f in undo]
        intents = self.kiosk.repos.intents
        save = intents.save

        def at_the_door_record(intent):
            if intent.door_opened:
                raise PowerCut(where)
            save(intent)

        intents.save = at_the_door_record
        return lambda: delattr(intents, "save")

    def _run(self, kill: str | None, meanwhile: list, journey, order: str = "") -> None:
        """The journey; killed at `kill`, the back office's edits while the kiosk is
        down, then its start."""
        undo = self._killed_at(kill) if kill else None
        try:
            journey()
        except PowerCut:
            event(f"killed at {kill}")
            if order:  # killed at the door's record or after: the door opened
                self.gone.add(order)
                self._door_shut_again(order)
        else:
            return
        finally:
            if undo:
                undo()
        self.down = True
        for target, edit in meanwhile:
            self._while_down(target, edit)
        self._start()

    def _door_shut_again(self, number: str) -> None:
        """The customer shuts the door behind them before the kiosk starts again (the
        hard case: nothing but the stored pulse says the door ever opened)."""
        locker = number[-1]
        deadline = time.monotonic() + 5
        while str(self.kiosk.devices.lockers.door(locker)) != "closed":
            assert time.monotonic() < deadline, f"locker {locker} never shut"
            time.sleep(0.01)

    @rule(n=st.sampled_from(PICKUPS), kill=st.sampled_from([None, "settle", "door"]),
          meanwhile=MEANWHILE)  # fmt: skip
    def pickup(self, n, kill, meanwhile):
        pickup = self.kiosk.pickup
        order = self.kiosk.repos.orders.require(f"BO-2611-{int(n):05d}")

        def journey():
            try:
                bill = pickup.bill(order)
            except Exception:  # nothing to bill: refused, nothing charged
                return
            before = self.kiosk.devices.simulators["terminal"].money_taken_minor
            result = pickup.pay_by_card(order, bill)
            if result.outcome.value.startswith("collected"):
                self.gone.add(order.number)
            if order.state is not OrderState.DONE or bill.status is not InvoiceStatus.OPEN:
                assert result.outcome.value == "not_collectable", result
                assert self.kiosk.devices.simulators["terminal"].money_taken_minor == before

        self._run(kill, meanwhile, journey, order.number)

    @rule(kill=st.sampled_from([None, "settle"]), meanwhile=MEANWHILE)
    def statement(self, kill, meanwhile):
        repos = self.kiosk.repos
        customer = repos.customers.get("C-9")
        open_ = [n for n in STATEMENT if (i := repos.invoices.get(n)) and i.amount_due.amount]
        if customer is None or not open_:
            return
        self._run(kill, meanwhile, lambda: self.kiosk.statements.pay(customer, open_))

    @rule(which=st.integers(0, 3))
    def refund(self, which):
        paid = [p for p in self.kiosk.repos.payments.all()
                if p.method.value == "card" and not p.payment_id.startswith("refund-")]  # fmt: skip
        if not paid:
            return
        with contextlib.suppress(StaffTaskError):  # refunded already, or waiting for staff
            self.kiosk.refunds.refund(self.manager, paid[which % len(paid)].payment_id)

    def _while_down(self, target: str, edit: str) -> None:
        if target == "the customer":
            self.back_office_edits_the_customer(edit == "merge")
            return
        if target == "the invoice being paid":
            unfinished = self.kiosk.recovery.unresolved()
            numbers = [c.invoice_number for i in unfinished for c in i.charged]
            if not numbers:
                return
            target = numbers[0]
        event(f"{edit} under an unfinished payment")
        self.back_office_edits_an_invoice(target, edit)

    def _start(self):
        changed_now = set()
        for intent in self.kiosk.recovery.unresolved():
            changed = {c.invoice_number for c in intent.charged} & self.under_unfinished
            self.changed_under.setdefault(intent.intent_id, set()).update(changed)
            changed_now |= changed
        report = self.kiosk.startup()  # never raises: the kiosk always starts
        event(f"started with {len(report.quarantined)} quarantined, {len(changed_now)} changed")
        self.down, self.under_unfinished = False, set()
        self._settled_since()

    def _settled_since(self) -> None:
        """A payment settled over an invoice changed under it owes a difference from then
        on, unless the changes cancelled out (raised, then lowered back)."""
        for intent_id, changed in list(self.changed_under.items()):
            intent = self.kiosk.repos.intents.get(intent_id)
            if intent is not None and intent.settled:
                if intent.money_moved:
                    charged = {c.invoice_number: c.amount for c in intent.charged}
                    self.expected |= {
                        (intent_id, number)
                        for number in changed
                        if number in self.closed_by_back_office
                        or self.kiosk.repos.invoices.require(number).total != charged[number]
                    }
                del self.changed_under[intent_id]

    @rule()
    def staff_looks_in_the_locker(self):
        for intent in self.kiosk.repos.intents.in_states("reserved"):
            if intent.pulse_sent:  # the door opened before the kill: the item is gone
                self.kiosk.recovery.confirm_pickup(self.manager, intent.intent_id, taken=True)
        self._settled_since()

    @rule()
    def sync(self):
        outbox = self.kiosk.repos.outbox
        batch = outbox.next_batch(NOW, limit=1000)
        self.back_office.receive(batch)
        outbox.ack([e.op_id for e in batch])

    # -- the back office --
    @rule(number=st.sampled_from([f"F-{n}" for n in PICKUPS] + list(STATEMENT)),
          edit=st.sampled_from(EDITS))  # fmt: skip
    def back_office_edits_an_invoice(self, number, edit):
        invoices = self.kiosk.repos.invoices
        invoice = invoices.get(number)
        if invoice is None or invoice.status is not InvoiceStatus.OPEN:
            return
        if edit == "lower" and invoice.lines[0].gross <= Money("10", EUR):
            return
        if edit in ("raise", "lower"):
            step = Money("10", EUR) if edit == "raise" else Money("-10", EUR)
            line = replace(invoice.lines[0], gross=invoice.lines[0].gross + step)
            changed = replace(invoice, lines=(line, *invoice.lines[1:]))
        elif edit == "paid at the counter":
            changed = replace(invoice, amount_paid=invoice.total, status=InvoiceStatus.PAID)
        else:
            changed = replace(invoice, status=InvoiceStatus.VOID)
        invoices.save(changed)
        if changed.status is not InvoiceStatus.OPEN:
            self.closed_by_back_office.add(number)
        if self.down:
            self.under_unfinished.add(number)
            return
        for intent in self.kiosk.recovery.unresolved():  # up, with a payment waiting for staff
            if number in {c.invoice_number for c in intent.charged}:
                self.changed_under.setdefault(intent.intent_id, set()).add(number)

    @rule(n=st.sampled_from(PICKUPS), edit=st.sampled_from(["rework", "ready", "cancel"]))
    def back_office_edits_an_order(self, n, edit):
        """Reopened for rework (not to be collected), done again, or cancelled while
        being worked on: the kiosk's copy changes under it as the sync pull saves it."""
        orders = self.kiosk.repos.orders
        order = orders.require(f"BO-2611-{int(n):05d}")
        moves = {
            "rework": (OrderState.DONE, OrderState.IN_PROGRESS),
            "ready": (OrderState.IN_PROGRESS, OrderState.DONE),
            "cancel": (OrderState.IN_PROGRESS, OrderState.CANCELLED),
        }
        before, after = moves[edit]
        if order.state is before:
            orders.save(order.move_to(after, NOW, "bo"))

    @rule(merge=st.booleans())
    def back_office_edits_the_customer(self, merge):
        customers = self.kiosk.repos.customers
        customer = customers.get("C-9")
        if customer is None:
            return
        if merge:  # merged into another account: this one is gone from the kiosk
            customers.remove("C-9")
        else:
            customers.save(replace(customer, mobile="06 98 76 54 32"))

    # -- what must hold --
    def _net_recorded(self) -> int:
        net = 0
        for p in self.kiosk.repos.payments.all():
            if p.method.value == "card":
                minor = p.amount.to_minor()
                net += -minor if p.payment_id.startswith("refund-") else minor
        return net

    @invariant()
    def money_is_recorded_once(self):
        k = self.kiosk
        unfinished = k.repos.intents.unsettled()
        pending = sum(
            (-1 if i.kind.value in ("reversal", "refund") else 1) * i.taken.to_minor()
            for i in unfinished
        )
        terminal = k.devices.simulators["terminal"].money_taken_minor
        assert terminal == self._net_recorded() + pending, "the terminal's money is not the kiosk's"
        held = k.repos.intents.in_states("reserved")  # only a kill leaves one held
        for intent in unfinished + held:  # one the kiosk could not finish waits for staff
            assert intent.intent_id in k.recovery.quarantined, intent
        queued = k.repos.outbox.next_batch(NOW, limit=1000)
        in_flight = dict(booked(e.kind, e.payload) for e in queued if e.kind in PAYMENT_OPS)
        assert not set(in_flight) & set(self.back_office.booked), "sent again after an ack"
        both = {**self.back_office.booked, **in_flight}
        assert sum(both.values()) == self._net_recorded(), "the back office's ledger differs"

    @invariant()
    def every_difference_is_explicit_and_alerted(self):
        queued = self.kiosk.repos.outbox.next_batch(NOW, limit=1000)
        differences = self.back_office.differences + [
            e.payload for e in queued if e.kind == "payment.difference"
        ]
        alerts = self._alerts()
        found = {(d["payment_id"], d["invoice"]) for d in differences}
        assert self.expected <= found, "a change under an unfinished payment went unrecorded"
        assert found <= self.expected, "a difference where nothing changed"
        for payment_id, invoice in found:
            assert any(payment_id in a and invoice in a for a in alerts), (payment_id, invoice)

    @invariant()
    def no_item_leaves_unpaid_without_an_alert(self):
        repos = self.kiosk.repos
        alerts = self._alerts()
        for number in self.gone:  # what the doors say, not what the kiosk recorded
            order = repos.orders.require(number)
            invoices = {i.number for i in repos.invoices.for_order(order.number)}
            paid = [p for p in repos.payments.all() if invoices & set(p.invoice_numbers)]
            assert paid or any(order.number in a for a in alerts), order.number

    def _alerts(self) -> list[str]:
        queued = self.kiosk.repos.outbox.next_batch(NOW, limit=1000)
        kinds = ("staff.note", "staff.alert")
        return self.back_office.alerts + [alert_text(e) for e in queued if e.kind in kinds]


SHORT = settings(max_examples=60, stateful_step_count=15, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
LONG = settings(max_examples=300, stateful_step_count=30, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


TwoWriters.TestCase.settings = SHORT
TestTwoWriters = TwoWriters.TestCase


class LongRun(TwoWriters):
    pass


LongRun.TestCase.settings = LONG
TestTwoWritersLong = pytest.mark.slow(LongRun.TestCase)
