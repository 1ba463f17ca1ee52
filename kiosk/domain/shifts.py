"""A kiosk shift: from the morning's open to the evening's close, what it took and did.

The end-of-shift report is built from these totals, and compared with the card
terminal's own end-of-day total, so a missing or doubled card payment shows up the same
evening rather than on the bank statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from kiosk.domain.billing import Payment, PaymentMethod
from kiosk.domain.money import Money, total


class ShiftError(ValueError):
    """A shift operation out of order (closing twice, recording after close)."""


@dataclass(frozen=True)
class Shift:
    shift_id: str
    opened_at: datetime
    opened_by: str
    currency: str
    closed_at: datetime | None = None
    closed_by: str = ""
    totals: dict[PaymentMethod, Money] = field(default_factory=dict)
    payment_counts: dict[PaymentMethod, int] = field(default_factory=dict)
    event_counts: dict[str, int] = field(default_factory=dict)  # dropoffs, pickups…

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def _check_open(self) -> None:
        if not self.is_open:
            raise ShiftError(f"shift {self.shift_id} was closed at {self.closed_at}")

    def record_payment(self, payment: Payment) -> Shift:
        self._check_open()
        if payment.amount.currency != self.currency:
            raise ShiftError(f"shift {self.shift_id} counts {self.currency}, not {payment.amount}")
        method = payment.method
        totals = dict(self.totals)
        totals[method] = totals.get(method, Money.zero(self.currency)) + payment.amount
        counts = dict(self.payment_counts)
        counts[method] = counts.get(method, 0) + 1
        return replace(self, totals=totals, payment_counts=counts)

    def count(self, event: str) -> Shift:
        self._check_open()
        counts = dict(self.event_counts)
        counts[event] = counts.get(event, 0) + 1
        return replace(self, event_counts=counts)

    def total_for(self, method: PaymentMethod) -> Money:
        return self.totals.get(method, Money.zero(self.currency))

    @property
    def grand_total(self) -> Money:
        return total(self.totals.values(), self.currency)

    def close(self, now: datetime, by: str) -> Shift:
        self._check_open()
        if now < self.opened_at:
            raise ShiftError(f"shift {self.shift_id} cannot close before it opened")
        return replace(self, closed_at=now, closed_by=by)

    def card_difference(self, terminal_total: Money) -> Money:
        """Terminal's end-of-day card total minus what the kiosk recorded: zero when they agree."""
        return terminal_total - self.total_for(PaymentMethod.CARD)
