"""Payment intents: the kiosk's promise to itself, written before a card is charged.

An intent is stored durably before the terminal is asked for money. If the kiosk
crashes or the cable drops mid-payment, the intent is still there, `PENDING`, and must
be resolved from the terminal's own memory before anything else happens: that is how a
customer is never charged twice and an item never leaves unpaid.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from kiosk.domain.money import Money


class IntentKind(StrEnum):
    CHARGE = "charge"  # authorisation: money taken at once
    RESERVATION = "reservation"  # pre-authorisation: booked once the locker opened


class IntentState(StrEnum):
    PENDING = "pending"  # asked (or about to ask) the terminal; outcome not known yet
    APPROVED = "approved"  # charge: money taken
    RESERVED = "reserved"  # reservation: money held, not yet taken
    BOOKED = "booked"  # reservation: money taken
    RELEASED = "released"  # reservation: hold given back
    NOT_CHARGED = "not_charged"  # declined, cancelled, or found not to have happened


FINAL_STATES = frozenset(
    {IntentState.APPROVED, IntentState.BOOKED, IntentState.RELEASED, IntentState.NOT_CHARGED}
)


class IntentError(ValueError):
    """An intent moved in a way money does not allow."""


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    intent_id: str
    kind: IntentKind
    amount: Money
    purpose: str  # what it pays: "order:K1-2611-00004", "statement:K1-000012"
    created_at: datetime
    state: IntentState = IntentState.PENDING
    updated_at: datetime | None = None
    receipt_before: int | None = None  # the terminal's last receipt number before asking
    receipt_number: int | None = None
    trace_number: int | None = None
    booked_amount: Money | None = None
    card_brand: str = ""
    card_last4: str = ""
    message: str = ""
    resolved_by_recovery: bool = False

    def __post_init__(self) -> None:
        if not self.amount > Money.zero(self.amount.currency):
            raise IntentError(f"intent {self.intent_id}: amount must be positive")
        if self.card_last4 and (len(self.card_last4) != 4 or not self.card_last4.isdigit()):
            raise IntentError(f"intent {self.intent_id}: only the last four card digits are kept")

    @property
    def is_open(self) -> bool:
        return self.state not in FINAL_STATES

    def _move(
        self, allowed: set[IntentState], to: IntentState, now: datetime, **changes: object
    ) -> PaymentIntent:
        if self.state not in allowed:
            raise IntentError(f"intent {self.intent_id} is {self.state}, cannot become {to}")
        return replace(self, state=to, updated_at=now, **changes)  # type: ignore[arg-type]

    def succeeded(
        self,
        now: datetime,
        *,
        receipt_number: int | None,
        trace_number: int | None,
        card_brand: str,
        card_last4: str,
        recovered: bool = False,
    ) -> PaymentIntent:
        to = IntentState.APPROVED if self.kind is IntentKind.CHARGE else IntentState.RESERVED
        return self._move(
            {IntentState.PENDING},
            to,
            now,
            receipt_number=receipt_number,
            trace_number=trace_number,
            card_brand=card_brand,
            card_last4=card_last4,
            message="approved",
            resolved_by_recovery=recovered,
        )

    def failed(self, now: datetime, message: str, *, recovered: bool = False) -> PaymentIntent:
        return self._move(
            {IntentState.PENDING},
            IntentState.NOT_CHARGED,
            now,
            message=message,
            resolved_by_recovery=recovered,
        )

    def booked(self, now: datetime, amount: Money) -> PaymentIntent:
        if self.kind is not IntentKind.RESERVATION:
            raise IntentError(f"intent {self.intent_id} is a {self.kind}, not a reservation")
        if amount > self.amount:
            raise IntentError(f"cannot book {amount} on a reservation of {self.amount}")
        return self._move({IntentState.RESERVED}, IntentState.BOOKED, now, booked_amount=amount)

    def released(self, now: datetime, why: str) -> PaymentIntent:
        return self._move({IntentState.RESERVED}, IntentState.RELEASED, now, message=why)
