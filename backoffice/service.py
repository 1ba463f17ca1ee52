"""What the back office does, independent of HTTP: enrolment, applying kiosk operations
exactly once, the change feed, and the staff's own actions.

Operations are validated with the kiosk's own domain model (`kiosk.domain`): a
drop-off must decode as a ServiceOrder, a state change must be one the order's state
table allows. A batch is one database transaction; each operation runs in a savepoint,
so one refused operation leaves the others applied.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from backoffice.db import AppliedOperation, EnrolmentCode, Entity, Kiosk, Notification, Shop, utcnow
from kiosk.domain.billing import Invoice, Payment, PaymentMethod, charge_on_account
from kiosk.domain.customers import ContactPreference, CreditAccount, Customer
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


class BackOffice:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    # -- shops and kiosks ----------------------------------------------------------------
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

    def enroll(self, code: str) -> dict[str, Any]:
        with self.sessions.begin() as s:
            row = s.get(EnrolmentCode, digest(code.strip().upper()))
            now = self.clock()
            if row is None or row.used_at is not None or _aware(row.expires_at) < now:
                raise Unauthorized("unknown, used or expired enrolment code")
            row.used_at = now
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
        """(shop id, kiosk id) for a credential, or Unauthorized."""
        with self.sessions.begin() as s:
            kiosk = s.scalar(select(Kiosk).where(Kiosk.credential_hash == digest(credential)))
            if kiosk is None:
                raise Unauthorized("unknown kiosk credential")
            kiosk.last_seen = self.clock()
            return kiosk.shop_id, kiosk.kiosk_id

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

    # -- entities --------------------------------------------------------------------------
    def _next_seq(self, s: Session, shop_id: int) -> int:
        s.execute(update(Shop).where(Shop.id == shop_id).values(seq=Shop.seq + 1))
        seq = s.scalar(select(Shop.seq).where(Shop.id == shop_id))
        if seq is None:
            raise Rejected(f"no shop {shop_id}")
        return seq

    def _get(self, s: Session, shop_id: int, kind: str, key: str) -> dict[str, Any] | None:
        row = s.scalar(
            select(Entity).where(Entity.shop_id == shop_id, Entity.kind == kind, Entity.key == key)
        )
        return row.data if row is not None else None

    def _put(
        self, s: Session, shop_id: int, kind: str, key: str, data: dict[str, Any] | None
    ) -> None:
        seq = self._next_seq(s, shop_id)
        row = s.scalar(
            select(Entity).where(Entity.shop_id == shop_id, Entity.kind == kind, Entity.key == key)
        )
        if row is None:
            s.add(Entity(shop_id=shop_id, kind=kind, key=key, data=data, seq=seq))
        else:
            row.data, row.seq = data, seq

    def _order(self, s: Session, shop_id: int, number: str) -> ServiceOrder:
        data = self._get(s, shop_id, "order", number)
        if data is None:
            raise Rejected(f"no service order {number}")
        return from_plain(ServiceOrder, data)

    def _customer(self, s: Session, shop_id: int, account: str) -> Customer:
        data = self._get(s, shop_id, "customer", account)
        if data is None:
            raise Rejected(f"no customer {account}")
        return from_plain(Customer, data)

    def _save_order(
        self, s: Session, shop_id: int, order: ServiceOrder, before: ServiceOrder | None
    ) -> None:
        self._put(s, shop_id, "order", order.number, to_plain(order))
        if order.state is OrderState.DONE and (
            before is None or before.state is not OrderState.DONE
        ):
            self._ready_for_pickup(s, shop_id, order)

    def _ready_for_pickup(self, s: Session, shop_id: int, order: ServiceOrder) -> None:
        data = self._get(s, shop_id, "customer", order.customer_account)
        channel = "email"
        if data is not None:
            customer = from_plain(Customer, data)
            channel = "sms" if customer.contact_preference is ContactPreference.SMS else "email"
        s.add(
            Notification(
                shop_id=shop_id,
                customer_account=order.customer_account,
                channel=channel,
                subject=f"Order {order.number} is ready for pickup",
                body=f"Your item is ready. Claim code {order.claim_code.display}.",
            )
        )

    # -- push ----------------------------------------------------------------------------------
    def apply_batch(
        self, shop_id: int, kiosk_id: str, operations: list[dict[str, Any]]
    ) -> list[OpResult]:
        if len(operations) > MAX_BATCH:
            raise Rejected(f"a batch holds at most {MAX_BATCH} operations")
        results = []
        with self.sessions.begin() as s:
            for op in operations:
                results.append(self._apply_one(s, shop_id, kiosk_id, op))
        return results

    def _apply_one(self, s: Session, shop_id: int, kiosk_id: str, op: dict[str, Any]) -> OpResult:
        op_id, kind, key, payload = op["op_id"], op["kind"], op["key"], op["payload"]
        h = payload_hash(kind, key, payload)
        seen = s.scalar(
            select(AppliedOperation).where(
                AppliedOperation.shop_id == shop_id, AppliedOperation.op_id == op_id
            )
        )
        if seen is not None:
            if seen.payload_hash != h:
                return OpResult(
                    op_id, "rejected", "operation id reused with a different payload", code=422
                )
            if seen.status == "rejected":
                return OpResult(op_id, "rejected", seen.reason)
            return OpResult(op_id, "duplicate")
        status, reason = "applied", ""
        try:
            with s.begin_nested():
                handler = HANDLERS.get(kind)
                if handler is None:
                    raise Rejected(f"unknown operation kind {kind!r}")
                handler(self, s, shop_id, payload)
        except (Rejected, DecodeError, ValueError, KeyError, TypeError, IndexError) as exc:
            status, reason = "rejected", _reason(exc)
        s.add(
            AppliedOperation(
                shop_id=shop_id,
                op_id=op_id,
                kiosk=kiosk_id,
                kind=kind,
                payload_hash=h,
                status=status,
                reason=reason[:500],
                applied_at=self.clock(),
            )
        )
        return OpResult(op_id, status, reason)

    # -- operation handlers -----------------------------------------------------------------------
    def _op_customer(self, s: Session, shop_id: int, payload: dict[str, Any]) -> None:
        customer = from_plain(Customer, payload)
        self._put(s, shop_id, "customer", customer.account_number, to_plain(customer))

    def _op_dropoff(self, s: Session, shop_id: int, payload: dict[str, Any]) -> None:
        order = from_plain(ServiceOrder, payload)
        existing = self._get(s, shop_id, "order", order.number)
        if existing is not None and existing != to_plain(order):
            raise Rejected(f"service order {order.number} exists already")
        if self._get(s, shop_id, "customer", order.customer_account) is None:
            raise Rejected(
                f"drop-off {order.number} names unknown customer {order.customer_account}"
            )
        self._save_order(s, shop_id, order, None)

    def _op_state(self, s: Session, shop_id: int, payload: dict[str, Any]) -> None:
        before = self._order(s, shop_id, payload["number"])
        after = before.move_to(
            OrderState(payload["state"]),
            datetime.fromisoformat(payload["at"]),
            str(payload.get("author", "kiosk")),
            str(payload.get("why", "")),
        )
        self._save_order(s, shop_id, after, before)

    def _op_located(self, s: Session, shop_id: int, payload: dict[str, Any]) -> None:
        order = self._order(s, shop_id, payload["number"])
        moved = order.move_item(
            payload["location"], datetime.fromisoformat(payload["at"]), payload["author"]
        )
        self._save_order(s, shop_id, moved, order)

    def _op_note(self, s: Session, shop_id: int, payload: dict[str, Any]) -> None:
        order = self._order(s, shop_id, payload["number"])
        noted = order.add_note(
            payload["text"], datetime.fromisoformat(payload["at"]), payload["author"]
        )
        self._save_order(s, shop_id, noted, order)

    def _op_payment(self, s: Session, shop_id: int, payload: dict[str, Any]) -> None:
        payment = from_plain(Payment, payload)
        self._settle(s, shop_id, payment)
        self._put(s, shop_id, "payment", payment.payment_id, to_plain(payment))

    def _settle(self, s: Session, shop_id: int, payment: Payment) -> None:
        remaining = payment.amount
        for number in payment.invoice_numbers:
            data = self._get(s, shop_id, "invoice", number)
            if data is None:
                raise Rejected(f"payment {payment.payment_id} names unknown invoice {number}")
            invoice = from_plain(Invoice, data)
            part = remaining if remaining < invoice.amount_due else invoice.amount_due
            if not part.is_zero():
                invoice = invoice.record_payment(part)
                remaining = remaining - part
            self._put(s, shop_id, "invoice", number, to_plain(invoice))
        if payment.method is PaymentMethod.ACCOUNT:
            customer = charge_on_account(
                self._customer(s, shop_id, payment.customer_account), payment.amount
            )
            self._put(s, shop_id, "customer", customer.account_number, to_plain(customer))

    def _op_statement_paid(self, s: Session, shop_id: int, payload: dict[str, Any]) -> None:
        payment = from_plain(Payment, payload["payment"])
        self._settle(s, shop_id, payment)
        customer = self._customer(s, shop_id, payment.customer_account)
        if customer.credit is None:
            raise Rejected(f"customer {customer.account_number} has no credit account")
        paid = customer.with_credit(customer.credit.record_payment(payment.amount))
        self._put(s, shop_id, "customer", paid.account_number, to_plain(paid))
        self._put(s, shop_id, "payment", payment.payment_id, to_plain(payment))

    def _op_shift(self, s: Session, shop_id: int, payload: dict[str, Any]) -> None:
        shift = from_plain(Shift, payload)
        self._put(s, shop_id, "shift", shift.shift_id, to_plain(shift))

    def _op_receipt(self, s: Session, shop_id: int, payload: dict[str, Any]) -> None:
        channel = payload["channel"]
        if channel not in ("email", "sms"):
            raise Rejected(f"unknown channel {channel!r}")
        s.add(
            Notification(
                shop_id=shop_id,
                customer_account=str(payload["customer_account"]),
                channel=channel,
                subject=f"Your {payload['kind']} receipt",
                body=str(payload["text"])[:10000],
            )
        )

    # -- pull ----------------------------------------------------------------------------------
    def changes(self, shop_id: int, cursor: int, limit: int) -> dict[str, Any]:
        with self.sessions.begin() as s:
            rows = s.scalars(
                select(Entity)
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

    # -- the shop's own staff ---------------------------------------------------------------------
    def put_customer(self, shop_id: int, customer: Customer) -> None:
        with self.sessions.begin() as s:
            self._put(s, shop_id, "customer", customer.account_number, to_plain(customer))

    def put_order(self, shop_id: int, order: ServiceOrder) -> None:
        with self.sessions.begin() as s:
            before_data = self._get(s, shop_id, "order", order.number)
            before = from_plain(ServiceOrder, before_data) if before_data else None
            self._save_order(s, shop_id, order, before)

    def put_invoice(self, shop_id: int, invoice: Invoice) -> None:
        with self.sessions.begin() as s:
            self._put(s, shop_id, "invoice", invoice.number, to_plain(invoice))

    def put_record(self, shop_id: int, kind: str, key: str, data: dict[str, Any]) -> None:
        with self.sessions.begin() as s:
            self._put(s, shop_id, kind, key, data)

    def set_state(
        self, shop_id: int, number: str, state: OrderState, author: str, why: str = ""
    ) -> ServiceOrder:
        with self.sessions.begin() as s:
            before = self._order(s, shop_id, number)
            after = before.move_to(state, self.clock(), author, why)
            self._save_order(s, shop_id, after, before)
            return after

    def set_location(self, shop_id: int, number: str, location: str, author: str) -> ServiceOrder:
        with self.sessions.begin() as s:
            before = self._order(s, shop_id, number)
            after = before.move_item(location, self.clock(), author)
            self._save_order(s, shop_id, after, before)
            return after

    def set_credit_limit(self, shop_id: int, account: str, limit: Money) -> Customer:
        with self.sessions.begin() as s:
            customer = self._customer(s, shop_id, account)
            zero = Money.zero(limit.currency)
            credit = customer.credit or CreditAccount(zero, zero, zero, self.clock().date())
            updated = customer.with_credit(
                CreditAccount(limit, credit.debt, credit.unapplied_deposits, credit.opened_on)
            )
            self._put(s, shop_id, "customer", account, to_plain(updated))
            return updated

    def get(self, shop_id: int, kind: str, key: str) -> dict[str, Any] | None:
        with self.sessions.begin() as s:
            return self._get(s, shop_id, kind, key)

    def count(self, model: type[Any], shop_id: int) -> int:
        with self.sessions.begin() as s:
            return len(s.scalars(select(model.id).where(model.shop_id == shop_id)).all())

    def notifications(self, shop_id: int) -> list[dict[str, Any]]:
        with self.sessions.begin() as s:
            rows = s.scalars(select(Notification).where(Notification.shop_id == shop_id)).all()
            return [
                {"customer_account": n.customer_account, "channel": n.channel, "subject": n.subject}
                for n in rows
            ]

    def operations(self, shop_id: int) -> list[tuple[str, str, str]]:
        with self.sessions.begin() as s:
            rows = s.scalars(
                select(AppliedOperation).where(AppliedOperation.shop_id == shop_id)
            ).all()
            return [(r.op_id, r.status, r.reason) for r in rows]


def _record(
    kind: str, key_field: str
) -> Callable[[BackOffice, Session, int, dict[str, Any]], None]:
    """A handler that keeps the payload as a record of `kind`, keyed by one of its fields."""

    def handler(office: BackOffice, s: Session, shop_id: int, payload: dict[str, Any]) -> None:
        key = payload.get(key_field)
        if not isinstance(key, str) or not key:
            raise Rejected(f"{kind} needs {key_field}")
        office._put(s, shop_id, kind, key, payload)

    return handler


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc}"
    return str(exc) or type(exc).__name__


HANDLERS: dict[str, Callable[[BackOffice, Session, int, dict[str, Any]], None]] = {
    "customer.created": BackOffice._op_customer,
    "customer.updated": BackOffice._op_customer,
    "dropoff.created": BackOffice._op_dropoff,
    "order.state": BackOffice._op_state,  # estimate approved/declined, pickup completed…
    "item.located": BackOffice._op_located,
    "staff.note": BackOffice._op_note,
    "terms.accepted": _record("signature", "number"),
    "payment.taken": BackOffice._op_payment,
    "statement.paid": BackOffice._op_statement_paid,
    "shift.closed": BackOffice._op_shift,
    "receipt.send": BackOffice._op_receipt,
    **{
        f"card.{state}": _record("payment_intent", "intent_id")
        for state in ("approved", "reserved", "booked", "released", "not_charged")
    },
}
