"""What the back office does, independent of HTTP: enrolment, applying kiosk operations
exactly once, the change feed, and the staff's own actions.

Operations are validated with the kiosk's own domain model (`kiosk.domain`): a
drop-off must decode as a ServiceOrder, a state change must be one the order's state
table allows. A batch is one database transaction; each operation runs in a savepoint,
so one refused operation leaves the others applied.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from backoffice.db import AppliedOperation, EnrolmentCode, Entity, Kiosk, Notification, Shop, utcnow
from kiosk.domain.billing import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    charge_on_account,
)
from kiosk.domain.customers import ContactPreference, CreditAccount, Customer
from kiosk.domain.intents import IntentState
from kiosk.domain.money import Money
from kiosk.domain.orders import OrderState, ServiceOrder
from kiosk.domain.plain import DecodeError, from_plain, to_plain
from kiosk.domain.shifts import Shift

PULLED_KINDS = ("customer", "order", "invoice", "catalogue", "setting")
MAX_BATCH = 1000


class Rejected(Exception):
    """An operation the back office refuses, with the reason the kiosk will keep."""


class Unauthorized(Exception):
    pass


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def payload_hash(kind: str, key: str, payload: Any) -> str:
    return digest(json.dumps([kind, key, payload], sort_keys=True, separators=(",", ":")))


@dataclass(frozen=True)
class OpResult:
    op_id: str
    status: str  # applied | duplicate | rejected
    reason: str = ""
    code: int = 200

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op_id": self.op_id, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        if self.code != 200:
            out["code"] = self.code
        return out


class _Batch:
    """One database transaction's view of a shop: reads see this transaction's own
    writes; each operation's writes are held apart until it succeeds (a refused one
    leaves nothing), and everything reaches the database in a few bulk statements at
    the end. The shop's change counter is read once, under the write lock."""

    def __init__(self, s: Session, shop_id: int) -> None:
        self.s = s
        self.shop_id = shop_id
        seq = s.scalar(select(Shop.seq).where(Shop.id == shop_id).with_for_update())
        if seq is None:
            raise Rejected(f"no shop {shop_id}")
        self.seq = seq
        self._read: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._written: dict[tuple[str, str], tuple[dict[str, Any] | None, int]] = {}
        self._notes: list[dict[str, Any]] = []
        self._op_written: dict[tuple[str, str], tuple[dict[str, Any] | None, int]] = {}
        self._op_notes: list[dict[str, Any]] = []
        self._op_seq = seq

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        for layer in (self._op_written, self._written):
            if (kind, key) in layer:
                return layer[(kind, key)][0]
        if (kind, key) not in self._read:
            self._read[(kind, key)] = self.s.scalar(
                select(Entity.data).where(
                    Entity.shop_id == self.shop_id, Entity.kind == kind, Entity.key == key
                )
            )
        return self._read[(kind, key)]

    def put(self, kind: str, key: str, data: dict[str, Any] | None) -> None:
        self.seq += 1
        self._op_written[(kind, key)] = (data, self.seq)

    def notify(self, customer_account: str, channel: str, subject: str, body: str) -> None:
        self._op_notes.append(
            {"shop_id": self.shop_id, "customer_account": customer_account,
             "channel": channel, "subject": subject, "body": body[:10000]}
        )  # fmt: skip

    def keep(self) -> None:
        """The operation succeeded: its writes join the batch."""
        self._written.update(self._op_written)
        self._notes.extend(self._op_notes)
        self._op_written, self._op_notes, self._op_seq = {}, [], self.seq

    def drop(self) -> None:
        """The operation was refused: nothing of it remains."""
        self._op_written, self._op_notes, self.seq = {}, [], self._op_seq

    def flush(self) -> None:
        self.keep()
        if self._written:
            table = Entity.__table__
            keys = list(self._written)
            existing: set[tuple[str, str]] = set()
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                rows = self.s.execute(
                    select(Entity.kind, Entity.key).where(
                        Entity.shop_id == self.shop_id,
                        Entity.key.in_({k for _, k in chunk}),
                        Entity.kind.in_({kind for kind, _ in chunk}),
                    )
                )
                existing.update((r.kind, r.key) for r in rows)
            new = [
                {"shop_id": self.shop_id, "kind": kind, "key": key, "data": data, "seq": seq}
                for (kind, key), (data, seq) in self._written.items()
                if (kind, key) not in existing
            ]
            old = [
                {"b_kind": kind, "b_key": key, "b_data": data, "b_seq": seq}
                for (kind, key), (data, seq) in self._written.items()
                if (kind, key) in existing
            ]
            if new:
                self.s.execute(insert(table), new)
            if old:
                self.s.execute(
                    update(table)
                    .where(
                        table.c.shop_id == self.shop_id,
                        table.c.kind == bindparam("b_kind"),
                        table.c.key == bindparam("b_key"),
                    )
                    .values(data=bindparam("b_data"), seq=bindparam("b_seq")),
                    old,
                )
            self.s.execute(update(Shop).where(Shop.id == self.shop_id).values(seq=self.seq))
        if self._notes:
            self.s.execute(insert(Notification.__table__), self._notes)


Handler = Callable[["BackOffice", _Batch, dict[str, Any]], None]
log = logging.getLogger(__name__)
# PostgreSQL aborts a transaction it cannot serialise, or one caught in a deadlock; run
# again, it succeeds. Every write a kiosk makes is idempotent (operation ids, the
# enrolment code's single use), so a whole transaction can be repeated.
RETRYABLE = {"40001": "serialization failure", "40P01": "deadlock"}
ATTEMPTS = 6


def retried(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return fn(*args, **kwargs)
            except DBAPIError as exc:
                state = getattr(exc.orig, "sqlstate", None)
                if state not in RETRYABLE or attempt == ATTEMPTS:
                    raise
                log.warning("%s: %s, attempt %d; again", fn.__name__, RETRYABLE[state], attempt)
                time.sleep(random.uniform(0, 0.01 * 2**attempt))
        raise AssertionError("unreachable")

    return run


class BackOffice:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    @contextmanager
    def _batch(self, shop_id: int) -> Iterator[_Batch]:
        with self.sessions.begin() as s:
            batch = _Batch(s, shop_id)
            yield batch
            batch.flush()

    # -- shops and kiosks --
    def create_shop(self, name: str, currency: str = "EUR") -> int:
        with self.sessions.begin() as s:
            shop = Shop(name=name, currency=currency, seq=0)
            s.add(shop)
            s.flush()
            return shop.id

    def enrolment_code(
        self, shop_id: int, kiosk_id: str, ttl: timedelta = timedelta(days=2)
    ) -> str:
        """A one-time code for a technician to type into `kiosk enroll`."""
        code = "-".join(secrets.token_hex(2).upper() for _ in range(3))
        with self.sessions.begin() as s:
            if s.get(Shop, shop_id) is None:
                raise Rejected(f"no shop {shop_id}")
            s.add(
                EnrolmentCode(
                    code_hash=digest(code),
                    shop_id=shop_id,
                    kiosk_id=kiosk_id,
                    expires_at=self.clock() + ttl,
                )
            )
        return code

    @retried
    def enroll(self, code: str) -> dict[str, Any]:
        with self.sessions.begin() as s:
            # The code's row locked: two kiosks typing one code at once get one credential.
            row = s.scalar(
                select(EnrolmentCode)
                .where(EnrolmentCode.code_hash == digest(code.strip().upper()))
                .with_for_update()
            )
            now = self.clock()
            if row is None or row.used_at is not None or _aware(row.expires_at) < now:
                raise Unauthorized("unknown, used or expired enrolment code")
            row.used_at = now
            # The shop locked: two codes for one kiosk id, used at once, make one kiosk.
            s.execute(select(Shop.id).where(Shop.id == row.shop_id).with_for_update())
            credential = secrets.token_urlsafe(32)
            existing = s.scalar(
                select(Kiosk).where(Kiosk.shop_id == row.shop_id, Kiosk.kiosk_id == row.kiosk_id)
            )
            if existing is not None:  # re-enrolling a replaced kiosk: the old credential dies
                existing.credential_hash = digest(credential)
            else:
                s.add(
                    Kiosk(
                        shop_id=row.shop_id,
                        kiosk_id=row.kiosk_id,
                        credential_hash=digest(credential),
                    )
                )
            shop = s.get(Shop, row.shop_id)
            assert shop is not None
            return {
                "kiosk_id": row.kiosk_id,
                "credential": credential,
                "shop_id": shop.id,
                "shop_name": shop.name,
            }

    def kiosk_for(self, credential: str) -> tuple[int, str]:
        """(shop id, kiosk id) for a credential, or Unauthorized. Read only: last_seen is
        written in the request's own transaction (push, heartbeat)."""
        with self.sessions() as s:
            row = s.execute(
                select(Kiosk.shop_id, Kiosk.kiosk_id).where(
                    Kiosk.credential_hash == digest(credential)
                )
            ).first()
        if row is None:
            raise Unauthorized("unknown kiosk credential")
        return row.shop_id, row.kiosk_id

    @retried
    def heartbeat(self, shop_id: int, kiosk_id: str, data: dict[str, Any]) -> None:
        with self.sessions.begin() as s:
            s.execute(
                update(Kiosk)
                .where(Kiosk.shop_id == shop_id, Kiosk.kiosk_id == kiosk_id)
                .values(
                    heartbeat={**data, "received_at": self.clock().isoformat()},
                    last_seen=self.clock(),
                )
            )

    # -- orders and customers inside a batch --
    def _order(self, b: _Batch, number: str) -> ServiceOrder:
        data = b.get("order", number)
        if data is None:
            raise Rejected(f"no service order {number}")
        return from_plain(ServiceOrder, data)

    def _customer(self, b: _Batch, account: str) -> Customer:
        data = b.get("customer", account)
        if data is None:
            raise Rejected(f"no customer {account}")
        return from_plain(Customer, data)

    def _save_order(self, b: _Batch, order: ServiceOrder, before: ServiceOrder | None) -> None:
        b.put("order", order.number, to_plain(order))
        if order.state is OrderState.DONE and (
            before is None or before.state is not OrderState.DONE
        ):
            self._ready_for_pickup(b, order)

    def _ready_for_pickup(self, b: _Batch, order: ServiceOrder) -> None:
        """The "ready for pickup" message, on the customer's preferred channel."""
        data = b.get("customer", order.customer_account)
        channel = "email"
        if data is not None:
            customer = from_plain(Customer, data)
            channel = "sms" if customer.contact_preference is ContactPreference.SMS else "email"
        b.notify(
            order.customer_account,
            channel,
            f"Order {order.number} is ready for pickup",
            f"Your item is ready. Claim code {order.claim_code.display}.",
        )

    # -- push --
    @retried
    def apply_batch(
        self, shop_id: int, kiosk_id: str, operations: list[dict[str, Any]]
    ) -> list[OpResult]:
        if len(operations) > MAX_BATCH:
            raise Rejected(f"a batch holds at most {MAX_BATCH} operations")
        results = []
        with self._batch(shop_id) as b:
            seen = self._already_applied(b.s, shop_id, [op["op_id"] for op in operations])
            now = self.clock()
            rows = []
            for op in operations:
                op_id, kind, key, payload = op["op_id"], op["kind"], op["key"], op["payload"]
                h = payload_hash(kind, key, payload)
                if op_id in seen:
                    first_hash, first_status, first_reason = seen[op_id]
                    if first_hash != h:
                        reason = "operation id reused with a different payload"
                        results.append(OpResult(op_id, "rejected", reason, 422))
                    elif first_status == "rejected":
                        results.append(OpResult(op_id, "rejected", first_reason))
                    else:
                        results.append(OpResult(op_id, "duplicate"))
                    continue
                status, reason = "applied", ""
                try:
                    handler = HANDLERS.get(kind)
                    if handler is None:
                        raise Rejected(f"unknown operation kind {kind!r}")
                    handler(self, b, payload)
                    b.keep()
                except (Rejected, DecodeError, ValueError, KeyError, TypeError, IndexError) as exc:
                    b.drop()
                    status, reason = "rejected", _reason(exc)[:500]
                seen[op_id] = (h, status, reason)
                rows.append(
                    {"shop_id": shop_id, "op_id": op_id, "kiosk": kiosk_id, "kind": kind,
                     "payload_hash": h, "status": status, "reason": reason, "applied_at": now}
                )  # fmt: skip
                results.append(OpResult(op_id, status, reason))
            if rows:
                b.s.execute(insert(AppliedOperation.__table__), rows)
            b.s.execute(
                update(Kiosk)
                .where(Kiosk.shop_id == shop_id, Kiosk.kiosk_id == kiosk_id)
                .values(last_seen=now)
            )
        return results

    @staticmethod
    def _already_applied(
        s: Session, shop_id: int, ids: list[str]
    ) -> dict[str, tuple[str, str, str]]:
        seen: dict[str, tuple[str, str, str]] = {}
        for i in range(0, len(ids), 500):
            query = select(
                AppliedOperation.op_id,
                AppliedOperation.payload_hash,
                AppliedOperation.status,
                AppliedOperation.reason,
            ).where(
                AppliedOperation.shop_id == shop_id, AppliedOperation.op_id.in_(ids[i : i + 500])
            )
            for r in s.execute(query):
                seen[r.op_id] = (r.payload_hash, r.status, r.reason)
        return seen

    # -- operation handlers --
    def _op_customer(self, b: _Batch, payload: dict[str, Any]) -> None:
        customer = from_plain(Customer, payload)
        b.put("customer", customer.account_number, to_plain(customer))

    def _op_dropoff(self, b: _Batch, payload: dict[str, Any]) -> None:
        order = from_plain(ServiceOrder, payload)
        existing = b.get("order", order.number)
        if existing is not None and existing != to_plain(order):
            raise Rejected(f"service order {order.number} exists already")
        if b.get("customer", order.customer_account) is None:
            raise Rejected(
                f"drop-off {order.number} names unknown customer {order.customer_account}"
            )
        self._save_order(b, order, None)

    def _op_state(self, b: _Batch, payload: dict[str, Any]) -> None:
        before = self._order(b, payload["number"])
        after = before.move_to(
            OrderState(payload["state"]),
            datetime.fromisoformat(payload["at"]),
            str(payload.get("author", "kiosk")),
            str(payload.get("why", "")),
        )
        self._save_order(b, after, before)

    def _op_located(self, b: _Batch, payload: dict[str, Any]) -> None:
        order = self._order(b, payload["number"])
        moved = order.move_item(
            payload["location"], datetime.fromisoformat(payload["at"]), payload["author"]
        )
        self._save_order(b, moved, order)

    def _op_note(self, b: _Batch, payload: dict[str, Any]) -> None:
        order = self._order(b, payload["number"])
        noted = order.add_note(
            payload["text"], datetime.fromisoformat(payload["at"]), payload["author"]
        )
        self._save_order(b, noted, order)

    def _op_invoice(self, b: _Batch, payload: dict[str, Any]) -> None:
        """A bill the kiosk made itself (no invoice came from here for the order)."""
        invoice = from_plain(Invoice, payload)
        if b.get("invoice", invoice.number) is None:
            b.put("invoice", invoice.number, to_plain(invoice))

    def _op_payment(self, b: _Batch, payload: dict[str, Any]) -> None:
        payment = from_plain(Payment, payload)
        self._settle(b, payment)
        b.put("payment", payment.payment_id, to_plain(payment))

    def _settle(self, b: _Batch, payment: Payment) -> Money:
        """The payment on its invoices as far as each still takes it. A kiosk's payment
        for an invoice staff meanwhile marked paid (or cancelled, or lowered) is money
        the customer gave: it is kept as an overpayment to resolve, never refused."""
        remaining = payment.amount
        for number in payment.invoice_numbers:
            data = b.get("invoice", number)
            if data is None:
                raise Rejected(f"payment {payment.payment_id} names unknown invoice {number}")
            invoice = from_plain(Invoice, data)
            open_ = invoice.status is InvoiceStatus.OPEN
            due = invoice.amount_due if open_ else Money.zero(remaining.currency)
            part = remaining if remaining < due else due
            if not part.is_zero():
                invoice = invoice.record_payment(part)
                remaining = remaining - part
            b.put("invoice", number, to_plain(invoice))
        if remaining.amount > 0 and payment.method is not PaymentMethod.ACCOUNT:
            b.put(
                "overpayment",
                payment.payment_id,
                {"payment": to_plain(payment), "amount": str(remaining.amount),
                 "currency": remaining.currency, "status": "to resolve"},
            )  # fmt: skip
        if payment.method is PaymentMethod.ACCOUNT:
            customer = charge_on_account(
                self._customer(b, payment.customer_account), payment.amount
            )
            b.put("customer", customer.account_number, to_plain(customer))
        return remaining

    def _op_statement_paid(self, b: _Batch, payload: dict[str, Any]) -> None:
        payment = from_plain(Payment, payload["payment"])
        overpaid = self._settle(b, payment)
        customer = self._customer(b, payment.customer_account)
        if customer.credit is None:
            raise Rejected(f"customer {customer.account_number} has no credit account")
        applied = payment.amount - overpaid  # an overpayment is resolved by staff, apart
        if applied.amount > 0:
            paid = customer.with_credit(customer.credit.record_payment(applied))
            b.put("customer", paid.account_number, to_plain(paid))
        b.put("payment", payment.payment_id, to_plain(payment))

    def _op_difference(self, b: _Batch, payload: dict[str, Any]) -> None:
        payment_id, invoice = payload.get("payment_id"), payload.get("invoice")
        if not isinstance(payment_id, str) or not isinstance(invoice, str):
            raise Rejected("payment.difference needs payment_id and invoice")
        b.put("difference", f"{payment_id}:{invoice}", {**payload, "status": "to resolve"})

    def _op_shift(self, b: _Batch, payload: dict[str, Any]) -> None:
        shift = from_plain(Shift, payload)
        b.put("shift", shift.shift_id, to_plain(shift))

    def _op_receipt(self, b: _Batch, payload: dict[str, Any]) -> None:
        channel = payload["channel"]
        if channel not in ("email", "sms"):
            raise Rejected(f"unknown channel {channel!r}")
        subject = f"Your {payload['kind']} receipt"
        b.notify(str(payload["customer_account"]), channel, subject, str(payload["text"]))

    # -- pull --
    def changes(self, shop_id: int, cursor: int, limit: int) -> dict[str, Any]:
        with self.sessions() as s:
            rows = s.execute(
                select(Entity.seq, Entity.kind, Entity.key, Entity.data)
                .where(
                    Entity.shop_id == shop_id, Entity.seq > cursor, Entity.kind.in_(PULLED_KINDS)
                )
                .order_by(Entity.seq)
                .limit(limit + 1)
            ).all()
            more = len(rows) > limit
            rows = rows[:limit]
            changes = [{"seq": r.seq, "kind": r.kind, "key": r.key, "data": r.data} for r in rows]
            if rows:
                next_cursor = rows[-1].seq
            else:  # nothing of ours changed: the cursor may still jump over private changes
                next_cursor = max(cursor, s.scalar(select(Shop.seq).where(Shop.id == shop_id)) or 0)
            return {"changes": changes, "next_cursor": next_cursor, "more": more}

    # -- the shop's own staff --
    def put_customer(self, shop_id: int, customer: Customer) -> None:
        self.put_record(shop_id, "customer", customer.account_number, to_plain(customer))

    def put_order(self, shop_id: int, order: ServiceOrder) -> None:
        with self._batch(shop_id) as b:
            before_data = b.get("order", order.number)
            before = from_plain(ServiceOrder, before_data) if before_data else None
            self._save_order(b, order, before)

    def put_invoice(self, shop_id: int, invoice: Invoice) -> None:
        self.put_record(shop_id, "invoice", invoice.number, to_plain(invoice))

    def bulk_put(self, shop_id: int, kind: str, records: list[tuple[str, dict[str, Any]]]) -> None:
        """Many records in one transaction (imports, demo data, benchmarks)."""
        with self._batch(shop_id) as b:
            for key, data in records:
                b.put(kind, key, data)

    def put_record(self, shop_id: int, kind: str, key: str, data: dict[str, Any]) -> None:
        self.bulk_put(shop_id, kind, [(key, data)])

    def set_state(
        self, shop_id: int, number: str, state: OrderState, author: str, why: str = ""
    ) -> ServiceOrder:
        with self._batch(shop_id) as b:
            before = self._order(b, number)
            after = before.move_to(state, self.clock(), author, why)
            self._save_order(b, after, before)
            return after

    def set_location(self, shop_id: int, number: str, location: str, author: str) -> ServiceOrder:
        with self._batch(shop_id) as b:
            before = self._order(b, number)
            after = before.move_item(location, self.clock(), author)
            self._save_order(b, after, before)
            return after

    def set_credit_limit(self, shop_id: int, account: str, limit: Money) -> Customer:
        with self._batch(shop_id) as b:
            customer = self._customer(b, account)
            zero = Money.zero(limit.currency)
            credit = customer.credit or CreditAccount(zero, zero, zero, self.clock().date())
            updated = customer.with_credit(
                CreditAccount(limit, credit.debt, credit.unapplied_deposits, credit.opened_on)
            )
            b.put("customer", account, to_plain(updated))
            return updated

    def get(self, shop_id: int, kind: str, key: str) -> dict[str, Any] | None:
        with self.sessions() as s:
            return s.scalar(
                select(Entity.data).where(
                    Entity.shop_id == shop_id, Entity.kind == kind, Entity.key == key
                )
            )

    def count(self, model: type[Any], shop_id: int) -> int:
        with self.sessions() as s:
            return len(s.scalars(select(model.id).where(model.shop_id == shop_id)).all())

    def notifications(self, shop_id: int) -> list[dict[str, Any]]:
        with self.sessions() as s:
            rows = s.scalars(select(Notification).where(Notification.shop_id == shop_id)).all()
            return [
                {"customer_account": n.customer_account, "channel": n.channel, "subject": n.subject}
                for n in rows
            ]

    def operations(self, shop_id: int) -> list[tuple[str, str, str]]:
        with self.sessions() as s:
            rows = s.scalars(
                select(AppliedOperation).where(AppliedOperation.shop_id == shop_id)
            ).all()
            return [(r.op_id, r.status, r.reason) for r in rows]


def _record(kind: str, key_field: str) -> Handler:
    """A handler that keeps the payload as a record of `kind`, keyed by one of its fields."""

    def handler(office: BackOffice, b: _Batch, payload: dict[str, Any]) -> None:
        key = payload.get(key_field)
        if not isinstance(key, str) or not key:
            raise Rejected(f"{kind} needs {key_field}")
        b.put(kind, key, payload)

    return handler


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc}"
    return str(exc) or type(exc).__name__


HANDLERS: dict[str, Handler] = {
    "customer.created": BackOffice._op_customer,
    "customer.updated": BackOffice._op_customer,
    "dropoff.created": BackOffice._op_dropoff,
    "order.state": BackOffice._op_state,  # estimate approved/declined, pickup completed…
    "item.located": BackOffice._op_located,
    "staff.note": BackOffice._op_note,
    "staff.alert": _record("alert", "id"),  # a kiosk alert about no order in particular
    "terms.accepted": _record("signature", "number"),
    "invoice.created": BackOffice._op_invoice,
    "payment.taken": BackOffice._op_payment,
    "statement.paid": BackOffice._op_statement_paid,
    "shift.closed": BackOffice._op_shift,
    "payment.refunded": _record("refund", "payment_id"),  # staff mode, manager only
    # what was charged against an invoice the back office changed meanwhile: to reconcile
    "payment.difference": BackOffice._op_difference,
    "receipt.send": BackOffice._op_receipt,
    **{f"card.{state}": _record("payment_intent", "intent_id") for state in IntentState},
}
