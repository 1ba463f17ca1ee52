"""Service orders: an item left with the shop, the work on it, and where it is.

The states and the moves between them are written down once, in TRANSITIONS; every
change of state goes through `ServiceOrder.move_to`, so no part of the kiosk can put an
order in a state the shop's process does not allow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.money import Money, total
from kiosk.domain.text import nfc


class OrderState(StrEnum):
    NEW = "new"
    READY_TO_BE_DONE = "ready_to_be_done"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_PARTS = "waiting_for_parts"
    WAITING_FOR_CUSTOMER_CONFIRMATION = "waiting_for_customer_confirmation"
    DONE = "done"
    COLLECTED = "collected"
    CANCELLED = "cancelled"


# What a customer is told of each state, at the kiosk and on the status page (msgids:
# the screens and the back office translate them).
STATE_WORDS = {
    OrderState.NEW: "We have your item; work has not started yet.",
    OrderState.READY_TO_BE_DONE: "Your item is waiting for a technician.",
    OrderState.IN_PROGRESS: "A technician is working on your item.",
    OrderState.WAITING_FOR_PARTS: "We are waiting for parts for your item.",
    OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION: "We need your approval of an estimate.",
    OrderState.DONE: "Your item is ready.",
    OrderState.COLLECTED: "This item has already been collected.",
    OrderState.CANCELLED: "This repair was cancelled: please see the counter.",
}


S = OrderState
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.NEW: frozenset(
        {S.READY_TO_BE_DONE, S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER_CONFIRMATION, S.CANCELLED}
    ),
    S.READY_TO_BE_DONE: frozenset(
        {S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER_CONFIRMATION, S.CANCELLED}
    ),
    S.IN_PROGRESS: frozenset(
        {
            S.READY_TO_BE_DONE,  # work paused, back in the queue
            S.WAITING_FOR_PARTS,
            S.WAITING_FOR_CUSTOMER_CONFIRMATION,  # an estimate to approve
            S.DONE,
            S.CANCELLED,
        }
    ),
    S.WAITING_FOR_PARTS: frozenset(
        {S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER_CONFIRMATION, S.CANCELLED}
    ),
    S.WAITING_FOR_CUSTOMER_CONFIRMATION: frozenset(
        {
            S.READY_TO_BE_DONE,  # estimate approved
            S.IN_PROGRESS,  # approved, bench free
            S.DONE,  # estimate declined: the item goes back as it came, maybe with a fee
            S.CANCELLED,
        }
    ),
    S.DONE: frozenset({S.COLLECTED, S.IN_PROGRESS}),  # rework found before pickup
    S.COLLECTED: frozenset(),
    S.CANCELLED: frozenset(),
}
TERMINAL_STATES = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


class IllegalTransition(ValueError):
    def __init__(self, number: str, current: OrderState, wanted: OrderState) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final state)"
        super().__init__(f"order {number} cannot go from {current} to {wanted}; allowed: {allowed}")
        self.current = current
        self.wanted = wanted


class OrderError(ValueError):
    """A service order the shop could not accept, with the field at fault."""


@dataclass(frozen=True, slots=True)
class CustomerItem:
    name: str
    serial_number: str = ""
    description: str = ""
    condition: str = ""

    def __post_init__(self) -> None:
        for name in ("name", "serial_number", "description", "condition"):
            value = getattr(self, name)
            if value != nfc(value):  # as typed, in one spelling (kiosk/domain/text)
                object.__setattr__(self, name, nfc(value))
        if not self.name.strip():
            raise OrderError("an item needs a name (for example: bike, phone)")


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """A catalogue service or part on the order, priced as the shop prices it."""

    catalogue_id: str
    description: str
    unit_price: Money
    quantity: Decimal = Decimal(1)
    discount_percent: Decimal = Decimal(0)
    tax_rate_percent: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise OrderError(f"line {self.catalogue_id}: quantity must be positive")
        if self.unit_price.is_negative():
            raise OrderError(f"line {self.catalogue_id}: price cannot be negative")
        if not Decimal(0) <= self.discount_percent <= Decimal(100):
            raise OrderError(f"line {self.catalogue_id}: discount must be 0–100 %")
        if not Decimal(0) <= self.tax_rate_percent <= Decimal(100):
            raise OrderError(f"line {self.catalogue_id}: tax rate must be 0–100 %")


@dataclass(frozen=True, slots=True)
class Deposit:
    amount: Money
    received_at: datetime
    method: str
    reference: str = ""


@dataclass(frozen=True, slots=True)
class OrderNote:
    text: str
    at: datetime
    author: str
    location: str = ""


@dataclass(frozen=True, slots=True)
class ServiceOrder:
    number: str
    claim_code: ClaimCode
    customer_account: str
    currency: str
    created_at: datetime
    items: tuple[CustomerItem, ...]
    work_requested: str = ""
    lines: tuple[ServiceLine, ...] = ()
    under_warranty: bool = False
    deposits: tuple[Deposit, ...] = ()
    scheduled_for: date | None = None
    notes: tuple[OrderNote, ...] = ()
    location: str = ""
    state: OrderState = OrderState.NEW
    state_changed_at: datetime | None = None
    submission: str = ""  # the drop-off form that made it: a retried submit is the same order
    language: str = ""  # the customer's at the screen: tickets, messages, the status page
    status_token: str = ""  # opens the order's status page (/s/<token>); not the claim code

    def __post_init__(self) -> None:
        if not self.number.strip():
            raise OrderError("an order needs a number")
        if not self.customer_account.strip():
            raise OrderError(f"order {self.number} needs a customer")
        if not self.items:
            raise OrderError(f"order {self.number} needs at least one item")
        for money in [line.unit_price for line in self.lines] + [d.amount for d in self.deposits]:
            if money.currency != self.currency:
                raise OrderError(f"order {self.number} is in {self.currency}, not {money.currency}")

    def status_link(self, base: str) -> str:
        """The order's status page under `base` (the shop's status_url, …/s/); "" when
        the shop has none or the order no token."""
        if not (base and self.status_token):
            return ""
        return base.rstrip("/") + "/" + self.status_token

    # -- state --------------------------------------------------------------------------
    def can_move_to(self, wanted: OrderState) -> bool:
        return wanted in TRANSITIONS[self.state]

    def move_to(
        self, wanted: OrderState, now: datetime, author: str, why: str = ""
    ) -> ServiceOrder:
        if not self.can_move_to(wanted):
            raise IllegalTransition(self.number, self.state, wanted)
        note = OrderNote(
            text=f"{self.state} → {wanted}" + (f": {why}" if why else ""),
            at=now,
            author=author,
            location=self.location,
        )
        return replace(self, state=wanted, state_changed_at=now, notes=(*self.notes, note))

    @property
    def is_ready_for_pickup(self) -> bool:
        return self.state is OrderState.DONE

    # -- notes and location --------------------------------------------------------------
    def add_note(self, text: str, now: datetime, author: str) -> ServiceOrder:
        if not text.strip():
            raise OrderError("a note needs text")
        note = OrderNote(text=text.strip(), at=now, author=author, location=self.location)
        return replace(self, notes=(*self.notes, note))

    def move_item(self, location: str, now: datetime, author: str) -> ServiceOrder:
        """Record where the item now is (shelf, bench, locker 4), kept in the notes history."""
        note = OrderNote(text=f"item moved to {location}", at=now, author=author, location=location)
        return replace(self, location=location, notes=(*self.notes, note))

    # -- work and deposits ----------------------------------------------------------------
    def with_lines(self, lines: tuple[ServiceLine, ...]) -> ServiceOrder:
        if self.state in TERMINAL_STATES:
            raise OrderError(f"order {self.number} is {self.state}; its lines are final")
        return replace(self, lines=lines)

    def add_deposit(self, deposit: Deposit) -> ServiceOrder:
        if deposit.amount.currency != self.currency or not deposit.amount > Money.zero(
            self.currency
        ):
            raise OrderError(f"a deposit must be a positive amount in {self.currency}")
        return replace(self, deposits=(*self.deposits, deposit))

    @property
    def deposits_total(self) -> Money:
        return total((d.amount for d in self.deposits), self.currency)
