"""Repositories: the shop's records in the journaled store, found through indexes.

Each repository turns domain objects into plain documents and back (`kiosk.domain.plain`)
and keeps the indexes its lookups need, so finding a customer by phone among 20,000 is a
dictionary lookup, not a scan. Writes are single TinyDB operations: group them with the
outbox entry they belong to in `store.transaction()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from kiosk.domain.billing import Invoice, InvoiceStatus, Payment
from kiosk.domain.claim_codes import ClaimCode, InvalidClaimCode
from kiosk.domain.customers import Customer, account_number_for, normalise_email, normalise_phone
from kiosk.domain.intents import IntentKind, PaymentIntent, final_states
from kiosk.domain.orders import OrderState, ServiceOrder
from kiosk.domain.owed import OwedReceipt
from kiosk.domain.plain import from_plain, to_plain
from kiosk.domain.shifts import Shift
from kiosk.domain.staff import StaffMember
from kiosk.storage.outbox import Outbox, RetryPolicy
from kiosk.storage.store import Index, Store, StoreError, UniqueViolation

T = TypeVar("T")


class NotFound(StoreError):
    """No record with that key."""


class Duplicate(StoreError):
    """A record with that unique key exists already."""


class _Repository(Generic[T]):
    """A table of one domain type with a unique primary key and extra indexes."""

    table_name: str
    record_type: type[T]

    def __init__(self, store: Store, key_field: str) -> None:
        self._store = store
        self._table = store.table(self.table_name)
        self._key_field = key_field
        self._primary = store.add_index(
            f"{self.table_name}.{key_field}",
            self.table_name,
            lambda d: [str(d[key_field])],
            unique=True,
        )

    def _index(self, name: str, keys: Callable[[Mapping[str, Any]], Iterable[str]]) -> Index:
        return self._store.add_index(f"{self.table_name}.{name}", self.table_name, keys)

    def _decode(self, doc: Mapping[str, Any]) -> T:
        return from_plain(
            self.record_type, dict(doc), f"{self.table_name}[{doc.get(self._key_field)}]"
        )

    def _find(self, index: Index, key: str) -> list[T]:
        with self._store.lock:
            return [self._decode(d) for d in self._table.get_many(index.lookup(key))]

    def add(self, record: T) -> None:
        doc = to_plain(record)
        try:
            self._table.insert(doc)
        except UniqueViolation as exc:
            raise Duplicate(f"{self.table_name}: {exc}") from exc

    def save(self, record: T) -> None:
        """Replace the stored version of record (found by its key)."""
        doc = to_plain(record)
        with self._store.lock:
            ids = self._primary.lookup(str(doc[self._key_field]))
            if not ids:
                raise NotFound(f"{self.table_name}: no {self._key_field} {doc[self._key_field]!r}")
            try:
                self._table.replace(ids[0], doc)
            except UniqueViolation as exc:
                raise Duplicate(f"{self.table_name}: {exc}") from exc

    def remove(self, key: str) -> bool:
        with self._store.lock:
            return bool(self._table.remove(doc_ids=self._primary.lookup(key)))

    def get(self, key: str) -> T | None:
        found = self._find(self._primary, key)
        return found[0] if found else None

    def require(self, key: str) -> T:
        record = self.get(key)
        if record is None:
            raise NotFound(f"{self.table_name}: no {self._key_field} {key!r}")
        return record

    def all(self) -> list[T]:
        with self._store.lock:
            return [self._decode(doc) for _i, doc in self._table.scan()]

    def __len__(self) -> int:
        with self._store.lock:
            return len(self._table)


class CustomerRepository(_Repository[Customer]):
    table_name = "customers"
    record_type = Customer

    def __init__(self, store: Store, country_calling_code: str = "") -> None:
        super().__init__(store, "account_number")
        self.country_calling_code = country_calling_code
        self._by_phone = self._index(
            "phone",
            lambda d: [
                normalise_phone(d.get(f, ""), country_calling_code) for f in ("phone", "mobile")
            ],
        )
        self._by_email = self._index("email", lambda d: [normalise_email(d.get("email", ""))])
        self._by_rewards = store.add_index(
            "customers.rewards_card",
            self.table_name,
            lambda d: [d.get("rewards_card", "")],
            unique=True,
        )

    def find_by_phone(self, raw: str) -> list[Customer]:
        key = normalise_phone(raw, self.country_calling_code)
        return self._find(self._by_phone, key) if key else []

    def find_by_email(self, raw: str) -> list[Customer]:
        key = normalise_email(raw)
        return self._find(self._by_email, key) if key else []

    def find_by_rewards_card(self, card: str) -> Customer | None:
        found = self._find(self._by_rewards, card.strip()) if card.strip() else []
        return found[0] if found else None

    def change_account_number(self, old: str, new: str) -> Customer:
        """Account numbers are editable; the unique index refuses one already in use."""
        with self._store.lock:
            ids = self._primary.lookup(old)
            if not ids:
                raise NotFound(f"customers: no account_number {old!r}")
            (doc,) = self._table.get_many(ids)
            customer = self._decode({**doc, "account_number": new})
            try:
                self._table.replace(ids[0], to_plain(customer))
            except UniqueViolation as exc:
                raise Duplicate(f"customers: {exc}") from exc
            return customer


class OrderRepository(_Repository[ServiceOrder]):
    table_name = "orders"
    record_type = ServiceOrder

    def __init__(self, store: Store) -> None:
        super().__init__(store, "number")
        self._by_claim = store.add_index(
            "orders.claim_code", self.table_name, lambda d: [d["claim_code"]], unique=True
        )
        self._by_customer = self._index("customer", lambda d: [d["customer_account"]])
        self._by_state = self._index("state", lambda d: [d["state"]])
        self._by_location = self._index(
            "location", lambda d: [d["location"]] if d.get("location") else []
        )
        self._by_submission = store.add_index(
            "orders.submission",
            self.table_name,
            lambda d: [d["submission"]] if d.get("submission") else [],
            unique=True,
        )

    def by_submission(self, submission: str) -> ServiceOrder | None:
        """The order a drop-off form already made, if it was submitted before."""
        found = self._find(self._by_submission, submission) if submission else []
        return found[0] if found else None

    def located_in(self, location: str) -> list[ServiceOrder]:
        return self._find(self._by_location, location)

    def by_claim_code(self, code: ClaimCode | str) -> ServiceOrder | None:
        try:
            claim = code if isinstance(code, ClaimCode) else ClaimCode.parse(code)
        except InvalidClaimCode:
            return None
        found = self._find(self._by_claim, claim.value)
        return found[0] if found else None

    def for_customer(self, account_number: str) -> list[ServiceOrder]:
        return self._find(self._by_customer, account_number)

    def in_state(self, state: OrderState) -> list[ServiceOrder]:
        return self._find(self._by_state, state.value)


class InvoiceRepository(_Repository[Invoice]):
    table_name = "invoices"
    record_type = Invoice

    def __init__(self, store: Store) -> None:
        super().__init__(store, "number")
        self._by_customer = self._index("customer", lambda d: [d["customer_account"]])
        self._by_order = self._index("order", lambda d: [d.get("order_number", "")])

    def for_customer(self, account_number: str, *, open_only: bool = False) -> list[Invoice]:
        found = self._find(self._by_customer, account_number)
        return [i for i in found if not open_only or i.status is InvoiceStatus.OPEN]

    def for_order(self, order_number: str) -> list[Invoice]:
        return self._find(self._by_order, order_number)


class PaymentRepository(_Repository[Payment]):
    table_name = "payments"
    record_type = Payment

    def __init__(self, store: Store) -> None:
        super().__init__(store, "payment_id")
        self._by_last4 = self._index("card_last4", lambda d: [d.get("card_last4", "")])
        self._by_invoice = self._index("invoice", lambda d: list(d.get("invoice_numbers", [])))

    def by_card_last4(self, last4: str) -> list[Payment]:
        return self._find(self._by_last4, last4)

    def for_invoice(self, invoice_number: str) -> list[Payment]:
        return self._find(self._by_invoice, invoice_number)


class ShiftRepository(_Repository[Shift]):
    table_name = "shifts"
    record_type = Shift

    def __init__(self, store: Store) -> None:
        super().__init__(store, "shift_id")
        self._open = self._index("open", lambda d: ["open"] if d.get("closed_at") is None else [])

    def current(self) -> Shift | None:
        found = self._find(self._open, "open")
        return found[0] if found else None


class StaffRepository(_Repository[StaffMember]):
    table_name = "staff"
    record_type = StaffMember

    def __init__(self, store: Store) -> None:
        super().__init__(store, "staff_id")
        self._by_card = self._index("card", lambda d: [d["card"]] if d.get("card") else [])

    def pin_taken(self, pin: str) -> bool:
        """PINs are unique: a PIN alone signs in, so two members may not share one."""
        return any(m.pin_matches(pin) for m in self.all())

    def by_card(self, card: str) -> StaffMember | None:
        found = self._find(self._by_card, card.strip())
        return found[0] if found else None


class PaymentIntentRepository(_Repository[PaymentIntent]):
    table_name = "payment_intents"
    record_type = PaymentIntent

    def __init__(self, store: Store) -> None:
        super().__init__(store, "intent_id")
        self._by_state = self._index("state", lambda d: [d["state"]])
        self._by_purpose = self._index("purpose", lambda d: [d["purpose"]])
        final = {s.value for kind in IntentKind for s in final_states(kind)}
        self._unsettled = self._index(
            "unsettled", lambda d: ["1"] if d["state"] in final and not d.get("settled") else []
        )
        self._by_receipt = self._index(
            "receipt",
            lambda d: [
                str(d[name]) for name in ("receipt_number", "booking_receipt") if d.get(name)
            ],
        )

    def in_states(self, *states: str) -> list[PaymentIntent]:
        found = [i for state in states for i in self._find(self._by_state, state)]
        return sorted(found, key=lambda i: i.created_at)

    def for_purpose(self, purpose: str) -> list[PaymentIntent]:
        return sorted(self._find(self._by_purpose, purpose), key=lambda i: i.created_at)

    def unsettled(self) -> list[PaymentIntent]:
        """Final intents whose business operation is not complete yet (recovery's list)."""
        return sorted(self._find(self._unsettled, "1"), key=lambda i: i.created_at)

    def with_receipt(self, receipt_number: int) -> list[PaymentIntent]:
        return self._find(self._by_receipt, str(receipt_number))


class OwedReceiptRepository(_Repository[OwedReceipt]):
    """Receipts a payment's customer has not been given yet (kiosk/domain/owed.py)."""

    table_name = "receipts_owed"
    record_type = OwedReceipt

    def __init__(self, store: Store) -> None:
        super().__init__(store, "payment_id")


# The customers' open calls for staff: kept by kiosk/services/journeys/help_calls.py, counted in
# the sync worker's heartbeat (named here, below both).
HELP_CALLS = "help.calls"


class SettingsRepository:
    """Small named values: counters for numbers the kiosk hands out, sync cursors…"""

    table_name = "settings"

    def __init__(self, store: Store) -> None:
        self._store = store
        self._table = store.table(self.table_name)
        self._by_name = store.add_index(
            "settings.name", self.table_name, lambda d: [d["name"]], unique=True
        )

    def get(self, name: str, default: Any = None) -> Any:
        with self._store.lock:
            docs = self._table.get_many(self._by_name.lookup(name))
            return docs[0]["value"] if docs else default

    def set(self, name: str, value: Any) -> None:
        with self._store.lock:
            ids = self._by_name.lookup(name)
            if ids:
                self._table.replace(ids[0], {"name": name, "value": value})
            else:
                self._table.insert({"name": name, "value": value})

    def remove(self, name: str) -> bool:
        with self._store.lock:
            return bool(self._table.remove(doc_ids=self._by_name.lookup(name)))

    def with_prefix(self, prefix: str) -> dict[str, Any]:
        """Every setting whose name starts with prefix (a small table: a scan is fine)."""
        with self._store.lock:
            return {
                d["name"]: d["value"]
                for _i, d in self._table.scan()
                if d["name"].startswith(prefix)
            }

    def next_number(self, counter: str) -> int:
        """1, 2, 3… per counter; durable with the transaction it is drawn in."""
        with self._store.lock:
            value = int(self.get(f"counter.{counter}", 0)) + 1
            self.set(f"counter.{counter}", value)
            return value


@dataclass
class Repositories:
    store: Store
    customers: CustomerRepository
    orders: OrderRepository
    invoices: InvoiceRepository
    payments: PaymentRepository
    shifts: ShiftRepository
    settings: SettingsRepository
    outbox: Outbox
    intents: PaymentIntentRepository
    staff: StaffRepository
    receipts_owed: OwedReceiptRepository

    def next_account_number(self, prefix: str) -> str:
        return account_number_for(prefix, self.settings.next_number("account"))

    def next_order_number(self, prefix: str, now: datetime) -> str:
        return f"{prefix}{now:%y%m}-{self.settings.next_number('order'):05d}"


def open_repositories(
    store: Store, *, country_calling_code: str = "", retry: RetryPolicy | None = None
) -> Repositories:
    return Repositories(
        store=store,
        customers=CustomerRepository(store, country_calling_code),
        orders=OrderRepository(store),
        invoices=InvoiceRepository(store),
        payments=PaymentRepository(store),
        shifts=ShiftRepository(store),
        settings=SettingsRepository(store),
        outbox=Outbox(store, retry),
        intents=PaymentIntentRepository(store),
        staff=StaffRepository(store),
        receipts_owed=OwedReceiptRepository(store),
    )
