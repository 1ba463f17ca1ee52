from datetime import timedelta

import pytest

from kiosk.domain.billing import Payment, PaymentMethod
from kiosk.domain.shifts import Shift, ShiftError
from tests.factories import T0, eur


def card(amount: str, n: int) -> Payment:
    return Payment(
        f"p{n}", PaymentMethod.CARD, eur(amount), T0, ("I",), terminal_receipt_number=str(n)
    )


def test_totals_by_method_and_terminal_comparison():
    s = Shift("S1", T0, "amelie", "EUR")
    s = s.record_payment(card("10.00", 1)).record_payment(card("5.50", 2))
    s = s.record_payment(
        Payment("p3", PaymentMethod.ACCOUNT, eur("20"), T0, ("I",), customer_account="A")
    )
    s = s.count("dropoff").count("dropoff")
    assert s.total_for(PaymentMethod.CARD) == eur("15.50")
    assert s.payment_counts[PaymentMethod.CARD] == 2
    assert s.grand_total == eur("35.50")
    assert s.event_counts == {"dropoff": 2}
    assert s.card_difference(eur("15.50")).is_zero()
    assert s.card_difference(eur("25.50")) == eur("10")


def test_closed_shift_takes_nothing_more():
    s = Shift("S1", T0, "amelie", "EUR").close(T0 + timedelta(hours=8), "bob")
    assert not s.is_open
    with pytest.raises(ShiftError):
        s.record_payment(card("1", 1))
    with pytest.raises(ShiftError):
        s.close(T0 + timedelta(hours=9), "bob")
    with pytest.raises(ShiftError, match="before it opened"):
        Shift("S2", T0, "a", "EUR").close(T0 - timedelta(seconds=1), "a")
