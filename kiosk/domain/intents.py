"""The payment ledger: every movement of money, written before it happens.

An intent is stored durably before the terminal is asked for anything (or, for a charge
on a credit account, in the same transaction as the charge). It carries what the money
is for — the pickup of an order, invoices of a statement, the refund of a payment — so
that whatever happens to the kiosk or the cable, recovery can ask the terminal what it
did and then *finish or void the business operation*, not only the intent.

Two things are tracked separately:

- the money's state (`IntentState`), which moves only along `TRANSITIONS`, one table for
  every kind of movement, tested like the order states;
- `settled`: the business operation the money was for is complete (or voided) in the
  store. It is set in the same transaction as the business change, so "money moved but
  the order is not collected" is visible to recovery as `final and not settled`.

States ending in -ING and PENDING are *open*: the terminal was asked and its answer is
not known yet. Nothing is decided from silence: an open intent is resolved by asking the
terminal (docs/payments.md lists what is asked in each state).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from kiosk.domain.billing import Invoice
from kiosk.domain.money import Money


class IntentKind(StrEnum):
    CHARGE = "charge"  # authorisation (06 01): money taken at once
    RESERVATION = "reservation"  # pre-authorisation (06 22): booked once the locker opened
    REVERSAL = "reversal"  # reversal (06 30) of a charge the terminal still holds today
    REFUND = "refund"  # refund (06 31) to the card presented
    ACCOUNT_CHARGE = "account_charge"  # on the customer's credit account; no terminal


class IntentState(StrEnum):
    PENDING = "pending"  # asked (or about to ask) the terminal; outcome not known yet
    APPROVED = "approved"  # charge, reversal, refund, account charge: money moved
    RESERVED = "reserved"  # reservation: money held, not yet taken
    BOOKING = "booking"  # reservation: booking asked, outcome not known yet
    BOOKED = "booked"  # reservation: money taken
    RELEASING = "releasing"  # reservation: release asked, outcome not known yet
    RELEASED = "released"  # reservation: hold given back
    NOT_CHARGED = "not_charged"  # declined, cancelled, refused, or found not to have happened


S = IntentState
# Asked of the terminal, its answer not known yet (a restart's recovery asks again).
UNKNOWN_OUTCOME = (S.PENDING, S.BOOKING, S.RELEASING)
_ASKED = {S.APPROVED, S.NOT_CHARGED}

# kind → state → the states it may move to. The one place the ledger's rules live.
TRANSITIONS: dict[IntentKind, dict[IntentState, frozenset[IntentState]]] = {
    IntentKind.CHARGE: {S.PENDING: frozenset(_ASKED)},
    IntentKind.REVERSAL: {S.PENDING: frozenset(_ASKED)},
    IntentKind.REFUND: {S.PENDING: frozenset(_ASKED)},
    IntentKind.ACCOUNT_CHARGE: {S.PENDING: frozenset({S.APPROVED})},
    IntentKind.RESERVATION: {
        S.PENDING: frozenset({S.RESERVED, S.NOT_CHARGED}),
        S.RESERVED: frozenset({S.BOOKING, S.RELEASING}),
        # a booking the terminal refused while the reservation is still open goes back
        S.BOOKING: frozenset({S.BOOKED, S.RESERVED}),
        S.RELEASING: frozenset({S.RELEASED}),
    },
}

OPEN_STATES = frozenset({S.PENDING, S.BOOKING, S.RELEASING})
MONEY_MOVED = frozenset({S.APPROVED, S.BOOKED})


def final_states(kind: IntentKind) -> frozenset[IntentState]:
    """States of `kind` with no way out (derived from the table)."""
    table = TRANSITIONS[kind]
    reachable = {s for targets in table.values() for s in targets} | set(table)
    return frozenset(s for s in reachable if not table.get(s))


class IntentError(ValueError):
    """An intent moved in a way money does not allow."""


@dataclass(frozen=True, slots=True)
class Charged:
    """What a movement of money was for one invoice, as the customer saw it when the
    terminal was asked: settlement applies this, not the invoice's figure of the day
    (the back office may have changed it meanwhile)."""

    invoice_number: str
    amount: Money


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    intent_id: str
    kind: IntentKind
    amount: Money
    purpose: str  # "pickup:<order>", "statement:<account>", "refund:<payment id>"
    created_at: datetime
    state: IntentState = IntentState.PENDING
    updated_at: datetime | None = None
    # what the money is for, so that recovery can finish the business operation
    customer_account: str = ""
    order_number: str = ""
    invoice_numbers: tuple[str, ...] = ()
    charged: tuple[Charged, ...] = ()  # per invoice; empty on intents stored before it
    bill: Invoice | None = None  # a pickup's bill when the kiosk made it (not stored yet)
    refund_of: str = ""  # the payment a reversal or refund gives back
    lang: str = ""  # the customer's language, for the receipt recovery sends
    # what the terminal said
    receipt_before: int | None = None  # the terminal's last receipt number before asking
    receipt_number: int | None = None  # of the charge, reservation, reversal or refund
    booking_receipt: int | None = None  # of the booking of a reservation
    trace_number: int | None = None
    booked_amount: Money | None = None
    card_brand: str = ""
    card_last4: str = ""
    message: str = ""
    resolved_by_recovery: bool = False
    # pickup: stored before the lock is pulsed, so recovery knows the item may be gone
    pulse_sent: bool = False
    door_opened: bool = False  # pickup: the locker's door was seen open
    settled: bool = False  # the business operation is complete (or voided) in the store

    def __post_init__(self) -> None:
        if not self.amount > Money.zero(self.amount.currency):
            raise IntentError(f"intent {self.intent_id}: amount must be positive")
        if self.card_last4 and (len(self.card_last4) != 4 or not self.card_last4.isdigit()):
            raise IntentError(f"intent {self.intent_id}: only the last four card digits are kept")
        if self.state not in TRANSITIONS[self.kind] and self.state not in final_states(self.kind):
            raise IntentError(f"intent {self.intent_id}: a {self.kind} is never {self.state}")

    @property
    def is_open(self) -> bool:
        """The terminal was asked and its answer is not known."""
        return self.state in OPEN_STATES

    @property
    def is_final(self) -> bool:
        return self.state in final_states(self.kind)

    @property
    def money_moved(self) -> bool:
        return self.state in MONEY_MOVED

    @property
    def taken(self) -> Money:
        """What the customer paid (charges, bookings) — or was paid back (reversals,
        refunds) — once final; zero otherwise."""
        if self.state is IntentState.BOOKED:
            return self.booked_amount or self.amount
        return (
            self.amount if self.state is IntentState.APPROVED else Money.zero(self.amount.currency)
        )

    def move(self, to: IntentState, now: datetime, **changes: object) -> PaymentIntent:
        allowed = TRANSITIONS[self.kind].get(self.state, frozenset())
        if to not in allowed:
            raise IntentError(
                f"intent {self.intent_id} ({self.kind}) is {self.state}, cannot become {to}"
            )
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
        to = IntentState.RESERVED if self.kind is IntentKind.RESERVATION else IntentState.APPROVED
        return self.move(
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
        return self.move(
            IntentState.NOT_CHARGED, now, message=message, resolved_by_recovery=recovered
        )

    def booking(self, now: datetime, amount: Money, receipt_before: int | None) -> PaymentIntent:
        if amount > self.amount:
            raise IntentError(f"cannot book {amount} on a reservation of {self.amount}")
        return self.move(
            IntentState.BOOKING, now, booked_amount=amount, receipt_before=receipt_before
        )

    def booked(
        self, now: datetime, booking_receipt: int | None, *, recovered: bool = False
    ) -> PaymentIntent:
        return self.move(
            IntentState.BOOKED,
            now,
            booking_receipt=booking_receipt,
            resolved_by_recovery=recovered or self.resolved_by_recovery,
        )

    def releasing(self, now: datetime, why: str) -> PaymentIntent:
        return self.move(IntentState.RELEASING, now, message=why)

    def released(self, now: datetime) -> PaymentIntent:
        return self.move(IntentState.RELEASED, now)

    def done(self) -> PaymentIntent:
        """The business operation is complete or voided (stored with it)."""
        if not self.is_final:
            raise IntentError(f"intent {self.intent_id} is {self.state}: nothing to settle yet")
        return replace(self, settled=True)
