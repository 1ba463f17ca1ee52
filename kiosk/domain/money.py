"""Money as an exact decimal amount with an explicit currency.

Floats are refused at the door: a kiosk that takes card payments must never show
0.30000000000000004 € or lose a cent between the bill and the terminal. Every result
is rounded half-up to the currency's minor unit, the rule shops and tax offices use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents for the currencies a shop is likely to use.
# A currency that is not listed is refused rather than guessed.
MINOR_UNITS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "RON": 2,
    "MAD": 2,
    "XOF": 0,
    "XPF": 0,
    "JPY": 0,
    "KWD": 3,
    "TND": 3,
}


class MoneyError(ValueError):
    """An amount or currency that cannot be money."""


class CurrencyMismatch(MoneyError):
    """Two amounts in different currencies were combined."""


def _exponent(currency: str) -> Decimal:
    try:
        places = MINOR_UNITS[currency]
    except KeyError:
        raise MoneyError(
            f"unknown currency {currency!r}: expected an ISO 4217 code such as "
            f"{', '.join(sorted(MINOR_UNITS)[:6])}…"
        ) from None
    return Decimal(1).scaleb(-places)


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, bool | float):
        raise MoneyError(f"money needs an exact amount, not a {type(value).__name__}: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise MoneyError(f"not an amount: {value!r}") from None
    else:
        raise MoneyError(f"money needs a Decimal, int or str, not {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    return result


def round_half_up(value: Decimal, currency: str) -> Decimal:
    return value.quantize(_exponent(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __init__(self, amount: Decimal | int | str, currency: str) -> None:
        currency = currency.upper() if isinstance(currency, str) else currency
        object.__setattr__(self, "currency", currency)
        object.__setattr__(self, "amount", round_half_up(_to_decimal(amount), currency))

    # -- construction -------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(Decimal(minor).scaleb(-MINOR_UNITS.get(currency.upper(), 2)), currency)

    def to_minor(self) -> int:
        return int(self.amount.scaleb(MINOR_UNITS[self.currency]))

    # -- arithmetic ---------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            raise MoneyError(f"money can be multiplied by a Decimal or int, not {factor!r}")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def percent(self, rate_percent: Decimal | int) -> Money:
        """This amount times rate_percent / 100, rounded once."""
        return Money(self.amount * _to_decimal(rate_percent) / 100, self.currency)

    def allocate(self, weights: list[int]) -> list[Money]:
        """Split into parts proportional to weights that add up to exactly this amount.

        Remainders go one minor unit at a time to the first parts, so nothing is lost.
        """
        if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
            raise MoneyError(f"cannot allocate over weights {weights!r}")
        total_minor = self.to_minor()
        total_weight = sum(weights)
        parts = [total_minor * w // total_weight for w in weights]
        remainder = total_minor - sum(parts)
        step = 1 if remainder >= 0 else -1
        for i in range(abs(remainder)):
            parts[i % len(parts)] += step
        return [Money.from_minor(p, self.currency) for p in parts]

    # -- comparison ---------------------------------------------------------------------
    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def is_negative(self) -> bool:
        return self.amount < 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    # -- plain values for storage and sync ----------------------------------------------
    def to_plain(self) -> dict[str, str]:
        return {"amount": str(self.amount), "currency": self.currency}

    @classmethod
    def from_plain(cls, value: object) -> Money:
        if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
            raise MoneyError(f"expected {{'amount': str, 'currency': str}}, got {value!r}")
        return cls(value["amount"], value["currency"])


def total(amounts: Iterable[Money], currency: str) -> Money:
    """Sum of amounts, all in currency (an empty sum is zero in that currency)."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
