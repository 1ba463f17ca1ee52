"""Valid domain objects with sensible defaults, for tests to vary one thing at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import CreditAccount, Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import CustomerItem, ServiceLine, ServiceOrder

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def eur(amount: str | int) -> Money:
    return Money(amount, "EUR")


def customer(**changes: Any) -> Customer:
    base = Customer(
        account_number="K1-000001",
        first_name="Élodie",
        last_name="Lefèvre",
        phone="06 12 34 56 78",
        email="elodie@example.com",
    )
    return replace(base, **changes)


def credit(limit: str = "500", debt: str = "0", deposits: str = "0") -> CreditAccount:
    return CreditAccount(eur(limit), eur(debt), eur(deposits), date(2025, 1, 1))


def order(number: str = "K1-0001", seed: int = 1, **changes: Any) -> ServiceOrder:
    base = ServiceOrder(
        number=number,
        claim_code=ClaimCode.from_random(seed.to_bytes(5, "big")),
        customer_account="K1-000001",
        currency="EUR",
        created_at=T0,
        items=(CustomerItem("Vélo", serial_number="WTU123"),),
        work_requested="Révision",
        lines=(ServiceLine("tuneup", "Révision", eur("49.90"), tax_rate_percent=Decimal(20)),),
    )
    return replace(base, **changes)
