"""Demo data for `make demo` and tests: customers with French and English names, orders
in every state, invoices on credit accounts, each written with its outbox entries the
way the real use cases write them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from kiosk.config import Config
from kiosk.domain.billing import Invoice, build_invoice
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import ContactPreference, CreditAccount, Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import TRANSITIONS, CustomerItem, OrderState, ServiceLine, ServiceOrder
from kiosk.domain.plain import to_plain
from kiosk.i18n import LANGUAGES, Lang
from kiosk.services.journeys import item_kinds
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


@dataclass(frozen=True)
class DemoRecord:
    customer: Customer
    order: ServiceOrder
    invoice: Invoice | None


def demo_records(
    prefix: str, currency: str, now: datetime, count: int = 60, *, prices_include_tax: bool = True
) -> Iterator[DemoRecord]:
    """Customers with French and English names, one order each in every state in turn,
    and for customers on credit an invoice for what is done (their debt)."""
    rng = random.Random(f"demo-{prefix}")  # reproducible, and distinct per prefix
    for n in range(count):
        first, last = FIRST[n % len(FIRST)], LAST[(n * 7) % len(LAST)]
        number = f"{prefix}{n + 1:06d}"
        credit = None
        if n % 3 == 0:
            credit = CreditAccount(
                limit=Money(rng.choice(["0", "300", "1000"]), currency),
                debt=Money.zero(currency),
                unapplied_deposits=Money(rng.choice(["0", "20"]), currency),
                opened_on=date(2024, 1 + n % 12, 1),
            )
        customer = Customer(
            account_number=number,
            first_name=first,
            last_name=last,
            phone="06 {:02d} {:02d} {:02d} {:02d}".format(n % 100, *rng.sample(range(10, 99), 3)),
            email=f"{first}.{last}{n}@example.com".lower().replace("'", ""),
            contact_preference=ContactPreference.SMS if n % 2 else ContactPreference.EMAIL,
            rewards_card=f"RW-{prefix}{100000 + n}" if n % 4 == 0 else "",
            tax_exempt=n % 10 == 9,
            discount_percent=Decimal(5) if n % 8 == 0 else Decimal(0),
            credit=credit,
        )
        state = list(OrderState)[n % len(OrderState)]
        item, brand = ITEMS[n % len(ITEMS)]
        code, label, price = SERVICES[n % len(SERVICES)]
        created = now - timedelta(days=n % 20, hours=n % 7)
        order = ServiceOrder(
            number=f"{prefix}{created:%y%m}-{n + 1:05d}",
            claim_code=ClaimCode.from_random(rng.randbytes(5)),
            customer_account=number,
            currency=currency,
            created_at=created,
            items=(
                CustomerItem(
                    f"{item} {brand}",
                    serial_number=f"SN{rng.randint(10**7, 10**8)}",
                    condition="rayures / scratches" if n % 2 else "bon / good",
                ),
            ),
            work_requested=label,
            lines=(ServiceLine(code, label, Money(price, currency), tax_rate_percent=Decimal(20)),),
            under_warranty=n % 11 == 5,
        )
        for step in _path_to(state):
            order = order.move_to(step, created + timedelta(hours=1), "demo")
        invoice = None
        if credit is not None and state in (OrderState.DONE, OrderState.COLLECTED):
            invoice = build_invoice(
                f"INV-{order.number}",
                order,
                customer,
                created,
                prices_include_tax=prices_include_tax,
            )
            customer = customer.with_credit(replace(credit, debt=credit.debt + invoice.amount_due))
        yield DemoRecord(customer, order, invoice)


def seed(repos: Repositories, config: Config, now: datetime, customers: int = 60) -> dict[str, int]:
    """Demo records into a kiosk's store, each with its outbox entries, as a use case would."""
    made = {"customers": 0, "orders": 0, "invoices": 0}
    prefix = config.kiosk.id + "-"
    start = repos.settings.next_number("demo_batch")
    for record in demo_records(
        f"{prefix}{start}",
        config.shop.currency,
        now,
        customers,
        prices_include_tax=config.shop.prices_include_tax,
    ):
        with repos.store.transaction():
            c, o = record.customer, record.order
            repos.customers.add(c)
            repos.outbox.enqueue(
                "customer.created", to_plain(c), key=f"customer:{c.account_number}", now=now
            )
            repos.orders.add(o)
            # one key per customer: their drop-off must reach the back office after them
            repos.outbox.enqueue(
                "dropoff.created", to_plain(o), key=f"customer:{c.account_number}", now=now
            )
            made["customers"] += 1
            made["orders"] += 1
            if record.invoice is not None:
                repos.invoices.add(record.invoice)
                made["invoices"] += 1
    return made


# The demo shop's services: code, labels per language, price (tax 20 %).
DEMO_CATALOGUE = [
    ("tuneup", {"fr": "Révision complète", "en": "Full service", "de": "Inspektion"}, "49.90"),
    ("brakes", {"fr": "Freins", "en": "Brakes", "de": "Bremsen"}, "34.99"),
    ("screen", {"fr": "Écran", "en": "Screen", "de": "Display"}, "129.00"),
    ("battery", {"fr": "Batterie", "en": "Battery", "de": "Akku"}, "69.50"),
    ("diag", {"fr": "Diagnostic", "en": "Diagnosis", "de": "Diagnose"}, "25.00"),
]


def catalogue_records() -> dict[str, dict[str, object]]:
    """DEMO_CATALOGUE as the back office sends it: `labels` per language, and `label`
    for kiosks from before labels per language."""
    return {
        code: {
            "code": code,
            "label": labels["fr"],
            "labels": dict(labels),
            "price": price,
            "tax_rate": "20",
        }
        for code, labels, price in DEMO_CATALOGUE
    }


def item_kinds_record() -> dict[str, object]:
    """The kiosk's own item kinds as a back office sends them
    (kiosk/services/journeys/item_kinds.py) with labels per language: the demo's, both for
    the kiosk's store and the back office."""
    words = {code: Lang(code)._ for code in LANGUAGES}

    def labelled(msgid: str) -> dict[str, object]:
        return {"label": words["fr"](msgid), "labels": {c: w(msgid) for c, w in words.items()}}

    return {
        "kinds": [
            {"code": code, **labelled(label), "icon": icon, "conditions": list(conditions)}
            for code, label, icon, conditions in item_kinds.KINDS
        ],
        "conditions": {code: labelled(msgid) for code, msgid in item_kinds.CONDITIONS.items()},
    }


def guide(repos: Repositories) -> list[str]:
    """What to type at the demo's screen: an order ready for pickup with the digits that
    verify it, a customer with a statement to pay. Read from the store, so it is true."""
    lines = []
    ready = sorted(repos.orders.in_state(OrderState.DONE), key=lambda o: o.number)
    for order in ready[:1]:
        customer = repos.customers.require(order.customer_account)
        phone = "".join(ch for ch in (customer.mobile or customer.phone) if ch.isdigit())
        lines.append(
            f"collect: claim code {order.claim_code.display}, then the last four digits of "
            f"the phone, {phone[-4:]} (order {order.number})"
        )
    owing = [c for c in repos.customers.all() if repos.invoices.for_customer(
        c.account_number, open_only=True)]  # fmt: skip
    for customer in sorted(owing, key=lambda c: c.account_number)[:1]:
        lines.append(
            f"pay a statement: identify with {customer.mobile or customer.phone} "
            f"(account {customer.account_number})"
        )
    lines.append("drop off: choose 'I am a new customer'")
    return lines
