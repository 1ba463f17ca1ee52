"""Money rules: intent before charge, resolve after any loss, never twice.

The terminal simulator stores a transaction only once the ECR acknowledged its status
information (PA00P015 §2.2.8); a link cut before that is an auto-reversal."""

import os

import pytest

from kiosk.domain.intents import IntentState
from kiosk.domain.money import Money
from kiosk.drivers.terminal.link import SerialLink
from kiosk.drivers.terminal.sim_link import DROP_STEPS, Script
from kiosk.drivers.terminal.zvt import ZvtTerminal
from kiosk.services.money.payments import (
    CardPayments,
    PaymentsBlocked,
    Purpose,
    TerminalUnavailable,
)
from kiosk.storage.repositories import open_repositories
from kiosk.storage.store import Store
from tests.conftest import NOW
from tests.drivers.conftest import FAST

EUR = "EUR"


def why(order: str) -> Purpose:
    return Purpose(f"pickup:{order}", "C-1", order_number=order)


def resolve_open(payments):
    return [payments.resolve(i) for i in payments.open()]


def kiosk(store_dir, sim):
    """A kiosk process: its store and its terminal driver (a restart makes a new one)."""
    store = Store(store_dir)
    repos = open_repositories(store)
    path = os.ttyname(sim._slave)
    terminal = ZvtTerminal(lambda: SerialLink.open(path, ack_timeout=0.3), timeouts=FAST)
    return store, repos, CardPayments(repos, terminal, lambda: NOW), terminal


def test_intent_is_stored_before_the_terminal_is_asked(store_dir, sim):
    store, repos, payments, terminal = kiosk(store_dir, sim)
    seen = []

    def spy(amount, on_status=None):
        seen.extend(repos.intents.in_states(IntentState.PENDING))
        return ZvtTerminal.authorise(terminal, amount, on_status)

    terminal.authorise = spy
    attempt = payments.charge(Money("12.50", EUR), why("K1-1"))
    assert [i.amount for i in seen] == [Money("12.50", EUR)]
    assert attempt.succeeded and attempt.intent.card_last4 == "4242"
    assert repos.outbox.next_batch(NOW)[-1].kind == "card.approved"
    store.close()
    terminal.close()


@pytest.mark.parametrize("step", DROP_STEPS)
def test_link_lost_then_restart_charges_exactly_once(store_dir, sim, step):
    # an earlier, unrelated payment of the same amount must not be mistaken for ours
    store, repos, payments, terminal = kiosk(store_dir, sim)
    assert payments.charge(Money("25.00", EUR), why("K1-0")).succeeded
    sim.push(Script(drop_at=step))
    attempt = payments.charge(Money("25.00", EUR), why("K1-1"))
    assert attempt.link_lost and attempt.intent.state is IntentState.PENDING
    with pytest.raises(PaymentsBlocked):
        payments.charge(Money("25.00", EUR), why("K1-1"))
    store.close()
    terminal.close()

    sim.reconnect()  # power back, cable back: the kiosk restarts
    store, repos, payments, terminal = kiosk(store_dir, sim)
    (resolved,) = resolve_open(payments)
    assert resolved.resolved_by_recovery
    # §2.2.8: only an acknowledged status information is a stored transaction
    charged_at_terminal = step == "after_status"
    assert (resolved.state is IntentState.APPROVED) is charged_at_terminal
    if not charged_at_terminal:  # the customer tries again, once
        assert payments.charge(Money("25.00", EUR), why("K1-1")).succeeded
    assert sim.money_taken_minor == 2 * 2500  # K1-0 and K1-1, each exactly once
    approved = repos.intents.in_states(IntentState.APPROVED)
    assert sorted(i.purpose for i in approved) == ["pickup:K1-0", "pickup:K1-1"]
    store.close()
    terminal.close()


def test_crash_before_the_terminal_was_asked_is_not_a_charge(store_dir, sim):
    store, _repos, payments, terminal = kiosk(store_dir, sim)
    assert payments.charge(Money("9.90", EUR), why("K1-0")).succeeded
    terminal.authorise = lambda *a, **k: (_ for _ in ()).throw(SystemExit("power cut"))
    with pytest.raises(SystemExit):
        payments.charge(Money("9.90", EUR), why("K1-1"))
    store.close()
    terminal.close()
    store, _repos, payments, terminal = kiosk(store_dir, sim)
    (resolved,) = resolve_open(payments)
    assert resolved.state is IntentState.NOT_CHARGED
    assert sim.money_taken_minor == 990
    store.close()
    terminal.close()


def test_unreachable_terminal_blocks_new_payments(store_dir, sim):
    store, _repos, payments, terminal = kiosk(store_dir, sim)
    sim.push(Script(drop_at="after_accept"))
    assert payments.charge(Money("5", EUR), why("K1-1")).link_lost
    with pytest.raises(TerminalUnavailable, match="cannot ask"):
        resolve_open(payments)  # the terminal is still silent
    assert payments.open()
    store.close()
    terminal.close()


def test_declined_and_cancelled_are_not_charged(store_dir, sim):
    store, _repos, payments, terminal = kiosk(store_dir, sim)
    sim.push(Script(outcome="decline", decline_code=0x55), Script(outcome="cancel"))
    a = payments.charge(Money("5", EUR), why("K1-1"))
    b = payments.charge(Money("5", EUR), why("K1-1"))
    assert a.intent.state is b.intent.state is IntentState.NOT_CHARGED
    assert "incorrect PIN" in a.intent.message
    assert sim.money_taken_minor == 0
    store.close()
    terminal.close()


def test_reserve_then_book_or_release(store_dir, sim):
    store, _repos, payments, terminal = kiosk(store_dir, sim)
    held = payments.reserve(Money("30", EUR), why("K1-1"))
    assert held.intent.state is IntentState.RESERVED
    booked = payments.book(held.intent, Money("29.90", EUR))
    assert booked.state is IntentState.BOOKED and sim.money_taken_minor == 2990
    second = payments.reserve(Money("10", EUR), why("K1-2")).intent
    released = payments.release(second, "door never opened")
    assert released.state is IntentState.RELEASED and sim.state.reservations == {}
    assert sim.money_taken_minor == 2990
    store.close()
    terminal.close()
