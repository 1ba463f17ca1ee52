"""The money journeys of the payment-fault tests, their fault points and the invariants
checked after each fault, shared by the in-process matrix (`test_payment_faults.py`) and
the real-process SIGKILL matrix (`test_payment_sigkill.py`, `pytest -m slow`).

The invariants are checked against ledgers the kiosk does not keep: the terminal
simulator's money taken (it stores a transaction only once the ECR acknowledged its
status information, PA00P015 §2.2.8), the reference back office after a sync round, and
the locker bank's list of doors it opened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.domain.orders import OrderState
from kiosk.services.journeys.pickup import Found
from kiosk.services.money.recovery import RecoveryReport
from kiosk.services.permissions import StaffTaskError
from tests.reliability.payment_world import MANAGER, World


@dataclass(frozen=True)
class Journey:
    name: str
    setup: Callable[[World], None]
    run: Callable[[World], object]
    expected_net_minor: int  # what the terminal holds once the journey has happened once
    commands: int  # terminal commands the journey sends when nothing goes wrong


def _pickup_setup(w: World) -> None:
    w.seed()


def _pickup(w: World) -> object:
    k = w.kiosk
    lookup = k.pickup.lookup(k.repos.orders.require("BO-2611-00001").claim_code.display)
    assert lookup.found is Found.FOUND and lookup.order is not None
    if lookup.order.state is OrderState.COLLECTED:
        return "already collected"  # the second visit after a fault that completed it
    return k.pickup.pay_by_card(lookup.order, k.pickup.bill(lookup.order))


def _statement_setup(w: World) -> None:
    w.seed(credit=True, invoices=2)


def _statement(chosen: list[str]) -> Callable[[World], object]:
    def run(w: World) -> object:
        k = w.kiosk
        customer = k.repos.customers.require("C-1")
        still_open = [n for n in chosen if not k.repos.invoices.require(n).amount_due.is_zero()]
        if not still_open:
            return "already paid"
        return k.statements.pay(customer, still_open, lang="en")

    return run


def _paid_pickup_setup(w: World) -> None:
    _pickup_setup(w)
    result = _pickup(w)
    assert result.payment is not None  # type: ignore[attr-defined]


def _after_end_of_day_setup(w: World) -> None:
    _paid_pickup_setup(w)
    assert w.kiosk.devices.terminal.end_of_day().approved  # type: ignore[union-attr]


def _refund(w: World) -> object:
    paid = [p for p in w.kiosk.repos.payments.all() if not p.payment_id.startswith("refund-")]
    try:
        return w.kiosk.refunds.refund(MANAGER, paid[0].payment_id)
    except StaffTaskError as exc:  # "already refunded" or "being confirmed": never twice
        return exc


JOURNEYS = [
    Journey("pickup by card", _pickup_setup, _pickup, 4990, 2),
    Journey("statement by card", _statement_setup, _statement(["F-1", "F-2"]), 9980, 1),
    Journey("statement of chosen invoices", _statement_setup, _statement(["F-2"]), 4990, 1),
    Journey("staff reversal", _paid_pickup_setup, _refund, 0, 1),
    # reversal refused; what the terminal did last (repeat receipt); refund
    Journey("staff refund", _after_end_of_day_setup, _refund, 0, 3),
]


def check(w: World, journey: Journey) -> None:
    k = w.kiosk
    assert k.payments.open() == [], "an intent is left open"
    assert k.repos.intents.unsettled() == [], "money moved but its business is not done"
    assert not k.repos.intents.in_states("reserved"), "a reservation is left held"
    assert w.sim.state.reservations == {}, "the terminal still holds a reservation"
    assert w.sim.money_taken_minor == journey.expected_net_minor, "not exactly once"
    assert k.repos.intents.in_states("pending", "booking", "releasing") == []
    assert w.kiosk_net_minor() == w.sim.money_taken_minor
    w.sync()
    assert w.office_net_minor() == w.sim.money_taken_minor
    order = k.repos.orders.get("BO-2611-00001")
    if order is not None and order.state is OrderState.COLLECTED:
        assert any(p.amount.to_minor() == 4990 for p in k.repos.payments.all()), "collected unpaid"
    if w.lockers.opened:
        assert order is not None and order.state is OrderState.COLLECTED, "locker opened, unpaid"


def fault_points(counts: dict[str, int], lengths: list[int]) -> list[tuple[str, int, int]]:
    kills = [("commit", n, 0) for n in range(1, counts["commit"] + 1)]
    kills += [("zvt", n, 0) for n in range(1, counts["zvt"] + 1)]
    cuts = [("cut", n, c) for c, length in enumerate(lengths) for n in range(1, length + 1)]
    return kills + cuts


def staff_look_in_the_locker(w: World, report: RecoveryReport) -> RecoveryReport:
    """A lock pulsed with no record of its door (killed between the two): recovery keeps
    the money held and asks staff, who look in the locker (the world knows whether the
    door opened) and say so in staff mode."""
    for intent in w.kiosk.repos.intents.in_states("reserved"):
        if intent.pulse_sent and not intent.door_opened:
            taken = bool(w.lockers.opened)
            report = w.kiosk.recovery.confirm_pickup(MANAGER, intent.intent_id, taken)
    return report


def after_fault(w: World, journey: Journey, report: RecoveryReport, fault: str) -> None:
    """Recovery has run after the fault: it left nothing open, the customer (or staff)
    tries again, and the invariants hold."""
    report = staff_look_in_the_locker(w, report)
    assert report.complete, (fault, report.left_open, report.quarantined)
    journey.run(w)  # the customer comes back (or staff try the refund again)
    assert w.sim.wait_idle(5)
    try:
        check(w, journey)
    except AssertionError as exc:
        raise AssertionError(f"{journey.name}, {fault}: {exc}") from exc
