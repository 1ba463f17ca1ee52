"""Demo data for `make demo` and tests: customers with French and English names, orders
in every state, invoices on credit accounts, each written with its outbox entries the
way the real use cases write them."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from kiosk.config import Config
from kiosk.domain.billing import build_invoice
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import ContactPreference, CreditAccount, Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import TRANSITIONS, CustomerItem, OrderState, ServiceLine, ServiceOrder
from kiosk.domain.plain import to_plain
from kiosk.storage.repositories import Repositories

FIRST = [
    "Jean",
    "Élodie",
    "François",
    "Chloé",
    "Amélie",
    "Noël",
    "Hélène",
    "Loïc",
    "Oliver",
    "Emily",
    "Harry",
    "Charlotte",
    "George",
    "Sophie",
    "Jack",
    "Grace",
]
LAST = [
    "Dupont",
    "Lefèvre",
    "Girard",
    "Bérenger",
    "Moreau",
    "Façon",
    "Rousseau",
    "Sénéchal",
    "Smith",
    "Taylor",
    "Brown",
    "Wilson",
    "O'Neill",
    "Clarke",
    "Wright",
    "Hughes",
]
ITEMS = [
    ("Vélo de route", "Peugeot"),
    ("Bike", "Brompton"),
    ("Téléphone", "Fairphone 5"),
    ("Phone", "Pixel 8"),
    ("Lave-linge", "Bosch"),
    ("Coffee machine", "DeLonghi"),
]
SERVICES = [
    ("tuneup", "Révision complète / Full service", "49.90"),
    ("screen", "Écran / Screen replacement", "129.00"),
    ("battery", "Batterie / Battery", "69.50"),
    ("diag", "Diagnostic", "25.00"),
    ("brakes", "Freins / Brakes", "34.99"),
]


def _path_to(state: OrderState) -> list[OrderState]:
    """A legal sequence of states from New to `state` (breadth-first over TRANSITIONS)."""
    paths = {OrderState.NEW: [OrderState.NEW]}
    queue = [OrderState.NEW]
    while queue:
        current = queue.pop(0)
        for nxt in sorted(TRANSITIONS[current]):
            if nxt not in paths:
                paths[nxt] = [*paths[current], nxt]
                queue.append(nxt)
    return paths[state][1:]


def seed(repos: Repositories, config: Config, now: datetime, customers: int = 60) -> dict[str, int]:
    rng = random.Random(2026)
    cur = config.shop.currency
    made = {"customers": 0, "orders": 0, "invoices": 0}
    for n in range(customers):
        first, last = FIRST[n % len(FIRST)], LAST[(n * 7) % len(LAST)]
        with repos.store.transaction():
            number = repos.next_account_number(config.kiosk.id + "-")
            credit = None
            if n % 3 == 0:
                credit = CreditAccount(
                    limit=Money(rng.choice(["0", "300", "1000"]), cur),
                    debt=Money.zero(cur),
                    unapplied_deposits=Money(rng.choice(["0", "20"]), cur),
                    opened_on=date(2024, 1 + n % 12, 1),
                )
            customer = Customer(
                account_number=number,
                first_name=first,
                last_name=last,
                phone="06 {:02d} {:02d} {:02d} {:02d}".format(
                    n % 100, *rng.sample(range(10, 99), 3)
                ),
                email=f"{first}.{last}{n}@example.com".lower().replace("'", ""),
                contact_preference=ContactPreference.SMS if n % 2 else ContactPreference.EMAIL,
                rewards_card=f"RW{100000 + n}" if n % 4 == 0 else "",
                tax_exempt=n % 10 == 9,
                discount_percent=Decimal(5) if n % 8 == 0 else Decimal(0),
                credit=credit,
            )
            repos.customers.add(customer)
            repos.outbox.enqueue(
                "customer.created", to_plain(customer), key=f"customer:{number}", now=now
            )
            made["customers"] += 1
            state = list(OrderState)[n % len(OrderState)]
            item, brand = ITEMS[n % len(ITEMS)]
            code, label, price = SERVICES[n % len(SERVICES)]
            created = now - timedelta(days=n % 20, hours=n % 7)
            order = ServiceOrder(
                number=repos.next_order_number(config.kiosk.id + "-", created),
                claim_code=ClaimCode.from_random(rng.randbytes(5)),
                customer_account=number,
                currency=cur,
                created_at=created,
                items=(
                    CustomerItem(
                        f"{item} {brand}",
                        serial_number=f"SN{rng.randint(10**7, 10**8)}",
                        condition="rayures / scratches" if n % 2 else "bon / good",
                    ),
                ),
                work_requested=label,
                lines=(ServiceLine(code, label, Money(price, cur), tax_rate_percent=Decimal(20)),),
                under_warranty=n % 11 == 5,
            )
            for step in _path_to(state):
                order = order.move_to(step, created + timedelta(hours=1), "demo")
            repos.orders.add(order)
            repos.outbox.enqueue(
                "dropoff.created", to_plain(order), key=f"order:{order.number}", now=now
            )
            made["orders"] += 1
            if credit is not None and state in (OrderState.DONE, OrderState.COLLECTED):
                invoice = build_invoice(
                    f"INV-{order.number}",
                    order,
                    customer,
                    created,
                    prices_include_tax=config.shop.prices_include_tax,
                )
                repos.invoices.add(invoice)
                # What the back office would hold: the bill on the customer's account.
                owed = credit.debt + invoice.amount_due
                repos.customers.save(customer.with_credit(replace(credit, debt=owed)))
                made["invoices"] += 1
    return made
