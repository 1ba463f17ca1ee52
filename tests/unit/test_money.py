from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.money import CurrencyMismatch, Money, MoneyError, total

cents = st.integers(min_value=-(10**12), max_value=10**12)
amounts = cents.map(lambda c: Money.from_minor(c, "EUR"))


def test_rounds_half_up_to_minor_units():
    assert Money("0.005", "EUR").amount == Decimal("0.01")
    assert Money("0.004", "EUR").amount == Decimal("0.00")
    assert Money("-0.005", "EUR").amount == Decimal("-0.01")
    assert Money("2.5", "JPY").amount == Decimal("3")
    assert Money("1.0005", "KWD").amount == Decimal("1.001")


@pytest.mark.parametrize("bad", [0.1, True, float("nan"), "12,50", "abc", None, "Infinity"])
def test_refuses_what_is_not_exact_money(bad):
    with pytest.raises(MoneyError):
        Money(bad, "EUR")


def test_unknown_currency_is_refused():
    with pytest.raises(MoneyError, match="unknown currency 'XXX'"):
        Money(1, "XXX")


def test_currencies_never_mix():
    with pytest.raises(CurrencyMismatch):
        Money(1, "EUR") + Money(1, "GBP")
    with pytest.raises(CurrencyMismatch):
        _ = Money(1, "EUR") < Money(1, "GBP")


def test_percent_and_total():
    assert Money("49.90", "EUR").percent(20) == Money("9.98", "EUR")
    assert Money("10.05", "EUR").percent(Decimal("12.5")) == Money("1.26", "EUR")
    assert total([], "EUR") == Money(0, "EUR")


def test_plain_round_trip_and_bad_plain():
    m = Money("12.30", "EUR")
    assert Money.from_plain(m.to_plain()) == m
    with pytest.raises(MoneyError):
        Money.from_plain({"amount": "1"})


@given(amounts, amounts, amounts)
def test_addition_is_associative_and_commutative(a, b, c):
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a


@given(amounts, amounts)
def test_subtraction_undoes_addition(a, b):
    assert (a + b) - b == a
    assert a - a == Money.zero("EUR")
    negated = -a
    assert -negated == a


@given(amounts, st.integers(min_value=0, max_value=1000))
def test_multiplying_by_a_count_is_repeated_addition(a, n):
    assert a * n == total([a] * n, "EUR")


@given(cents, st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=12))
def test_allocation_loses_no_cent(c, weights):
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    m = Money.from_minor(c, "EUR")
    parts = m.allocate(weights)
    assert total(parts, "EUR") == m
    assert max(p.to_minor() for p in parts) - min(p.to_minor() for p in parts) <= max(abs(c), 1)


@given(st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=6))
def test_result_is_always_whole_minor_units(d):
    m = Money(d, "EUR")
    assert m.amount == m.amount.quantize(Decimal("0.01"))
    assert abs(m.amount - d) <= Decimal("0.005")
