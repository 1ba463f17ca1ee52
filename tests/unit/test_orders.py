import itertools
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.money import Money
from kiosk.domain.orders import (
    TERMINAL_STATES,
    TRANSITIONS,
    CustomerItem,
    Deposit,
    IllegalTransition,
    OrderError,
    OrderState,
)
from tests.factories import T0, eur, order

S = OrderState

# The shop's process, written out a second time on purpose: a change to the table must
# be a deliberate change to this test too.
EXPECTED = {
    (S.NEW, S.READY_TO_BE_DONE), (S.NEW, S.IN_PROGRESS),
    (S.NEW, S.WAITING_FOR_CUSTOMER_CONFIRMATION), (S.NEW, S.CANCELLED),
    (S.READY_TO_BE_DONE, S.IN_PROGRESS), (S.READY_TO_BE_DONE, S.WAITING_FOR_CUSTOMER_CONFIRMATION),
    (S.READY_TO_BE_DONE, S.CANCELLED),
    (S.IN_PROGRESS, S.READY_TO_BE_DONE), (S.IN_PROGRESS, S.WAITING_FOR_PARTS),
    (S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER_CONFIRMATION), (S.IN_PROGRESS, S.DONE),
    (S.IN_PROGRESS, S.CANCELLED),
    (S.WAITING_FOR_PARTS, S.IN_PROGRESS),
    (S.WAITING_FOR_PARTS, S.WAITING_FOR_CUSTOMER_CONFIRMATION),
    (S.WAITING_FOR_PARTS, S.CANCELLED),
    (S.WAITING_FOR_CUSTOMER_CONFIRMATION, S.READY_TO_BE_DONE),
    (S.WAITING_FOR_CUSTOMER_CONFIRMATION, S.IN_PROGRESS),
    (S.WAITING_FOR_CUSTOMER_CONFIRMATION, S.DONE),
    (S.WAITING_FOR_CUSTOMER_CONFIRMATION, S.CANCELLED),
    (S.DONE, S.COLLECTED), (S.DONE, S.IN_PROGRESS),
}  # fmt: skip


def test_the_table_is_the_shops_process():
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == EXPECTED
    assert set(TRANSITIONS) == set(OrderState)
    assert {S.COLLECTED, S.CANCELLED} == TERMINAL_STATES


def test_every_state_is_reachable_from_new():
    seen, todo = {S.NEW}, [S.NEW]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(OrderState)


@given(st.lists(st.sampled_from(list(OrderState)), max_size=40))
def test_no_sequence_of_events_reaches_a_forbidden_state(wanted_states):
    current = order()
    history = [current.state]
    for i, wanted in enumerate(wanted_states):
        before = current
        if wanted in TRANSITIONS[current.state]:
            current = current.move_to(wanted, T0 + timedelta(minutes=i), "tech")
            assert current.state is wanted
            assert current.notes[-1].text.startswith(f"{before.state} → {wanted}")
            history.append(wanted)
        else:
            with pytest.raises(IllegalTransition):
                current.move_to(wanted, T0, "tech")
            assert current == before  # a refused move changes nothing
    for a, b in itertools.pairwise(history):
        assert (a, b) in EXPECTED
    if history[-1] in TERMINAL_STATES:
        assert all(not current.can_move_to(s) for s in OrderState)


def test_illegal_move_says_what_is_allowed():
    with pytest.raises(IllegalTransition, match="cannot go from new to collected; allowed:"):
        order().move_to(S.COLLECTED, T0, "kiosk")


def test_item_location_and_notes_history():
    o = order().move_item("locker 4", T0, "staff:amelie").add_note("chain worn", T0, "tech")
    assert o.location == "locker 4"
    assert [n.location for n in o.notes] == ["locker 4", "locker 4"]
    with pytest.raises(OrderError):
        o.add_note("  ", T0, "tech")


def test_orders_need_items_customer_and_one_currency():
    with pytest.raises(OrderError):
        order(items=())
    with pytest.raises(OrderError):
        order(customer_account=" ")
    with pytest.raises(OrderError):
        CustomerItem(" ")
    with pytest.raises(OrderError, match="positive amount in EUR"):
        order().add_deposit(Deposit(Money(5, "GBP"), T0, "card"))
    with pytest.raises(OrderError, match="is in EUR, not GBP"):
        order(deposits=(Deposit(Money(5, "GBP"), T0, "card"),))


def test_deposits_add_up():
    o = (
        order()
        .add_deposit(Deposit(eur("20"), T0, "card"))
        .add_deposit(Deposit(eur("5.50"), T0, "cash"))
    )
    assert o.deposits_total == eur("25.50")
    with pytest.raises(OrderError):
        o.add_deposit(Deposit(eur("0"), T0, "cash"))
