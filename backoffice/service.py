"""What the back office does, independent of HTTP: enrolment, applying kiosk operations
exactly once, the change feed, and the staff's own actions.

Operations are validated with the kiosk's own domain model (`kiosk.domain`): a
drop-off must decode as a ServiceOrder, a state change must be one the order's state
table allows. A batch is one database transaction; each operation runs in a savepoint,
so one refused operation leaves the others applied.
"""

from __future__ import annotations

import functools
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

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from backoffice.batch import Batch, Conflict, Rejected
from backoffice.db import (
    AppliedOperation,
    EnrolmentCode,
    Kiosk,
    Notification,
    Shop,
    record_data,
    utcnow,
)
from backoffice.db import digest_text as digest
from backoffice.operations import HANDLERS, customer_of, order_of, save_order
from backoffice.statements import APPLIED_BEFORE, CHANGES, CREDENTIAL, HEARTBEAT
from backoffice.updates import rollout
from kiosk.domain.billing import (
    Invoice,
)
from kiosk.domain.customers import CreditAccount, Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import OrderState, ServiceOrder
from kiosk.domain.plain import DecodeError, from_plain, to_plain

MAX_BATCH = 1000


class Unauthorized(Exception):
    pass


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


log = logging.getLogger(__name__)
# PostgreSQL aborts a transaction it cannot serialise, or one caught in a deadlock; run
# again, it succeeds. Every write a kiosk makes is idempotent (operation ids, the
# enrolment code's single use), so a whole transaction can be repeated.
RETRYABLE = {"40001": "serialization failure", "40P01": "deadlock"}
ATTEMPTS = 6
CREDENTIAL_TTL_S = 120.0  # four sync rounds: a kiosk's next round finds it
KNOWN_MAX = 20_000  # credentials remembered (a chain's kiosks, with room)


def retried(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return fn(*args, **kwargs)
            except (DBAPIError, Conflict) as exc:
                if isinstance(exc, Conflict):
                    why: str | None = str(exc)
                else:
                    state = str(getattr(exc.orig, "sqlstate", None))
                    why = "connection lost" if exc.connection_invalidated else RETRYABLE.get(state)
                if why is None or attempt == ATTEMPTS:
                    raise
                log.warning("%s: %s, attempt %d; again", fn.__name__, why, attempt)
                time.sleep(random.uniform(0, 0.01 * 2**attempt))
        raise AssertionError("unreachable")

    return run


class BackOffice:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.sessions = sessions
        # the sync requests' own statements go through plain connections (Core): an ORM
        # session costs them more than their SQL does (docs/sync-protocol.md)
        self.engine: Engine = sessions.kw["bind"]
        # a request of one statement (the pull, the heartbeat, a credential) runs it
        # without BEGIN and COMMIT on PostgreSQL: two round trips fewer. SQLite's
        # transactions are begun by a hook (db.py), so there it stays a transaction.
        self.single = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.engine.dialect.name == "postgresql"
            else self.engine
        )
        self.clock = clock
        self._known: dict[str, tuple[float, tuple[int, str]]] = {}  # kiosk_for's memory

    @contextmanager
    def _batch(self, shop_id: int) -> Iterator[Batch]:
        with self.engine.begin() as c:
            batch = Batch(c, shop_id)
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
                self._known.pop(existing.credential_hash, None)
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

    @retried
    def kiosk_for(self, credential: str, hashed: str = "") -> tuple[int, str]:
        """(shop id, kiosk id) for a credential, or Unauthorized. Read only: last_seen is
        written by the heartbeat that ends every sync round.

        A known credential is remembered for CREDENTIAL_TTL_S in this process: looking
        it up was a third of a sync request's time (a session, a connection, a query;
        docs/sync-protocol.md). A kiosk enrolled again makes its old credential unknown
        at once here and within CREDENTIAL_TTL_S in the other server processes.
        `hashed`: the credential's digest, when the caller has it already."""
        hashed = hashed or digest(credential)
        known = self.known_kiosk(credential, hashed)
        if known is not None:
            return known
        with self.single.connect() as c:
            row = c.execute(CREDENTIAL, {"b_hashed": hashed}).first()
        if row is None:
            raise Unauthorized("unknown kiosk credential")
        if len(self._known) >= KNOWN_MAX:
            self._known.clear()
        self._known[hashed] = (time.monotonic() + CREDENTIAL_TTL_S, (row.shop_id, row.kiosk_id))
        return row.shop_id, row.kiosk_id

    def known_kiosk(self, credential: str, hashed: str = "") -> tuple[int, str] | None:
        """kiosk_for from this process's memory only (no database): None when unknown."""
        known = self._known.get(hashed or digest(credential))
        return known[1] if known is not None and known[0] > time.monotonic() else None

    @retried
    def heartbeat(
        self,
        shop_id: int,
        kiosk_id: str,
        data: dict[str, Any],
        releases: list[dict[str, str]] | None = None,
    ) -> dict[str, Any] | None:
        """Keep the kiosk's report. With the update repository's releases, also the one
        this kiosk should run (rollout.wanted), read on the same connection."""
        now = self.clock()
        report = {**data, "received_at": now.isoformat()}
        with self.single.begin() as c:
            c.execute(
                HEARTBEAT,
                {"b_shop": shop_id, "b_kiosk": kiosk_id, "b_report": report, "b_now": now},
            )
            return rollout.wanted(c, shop_id, kiosk_id, releases) if releases is not None else None

    # -- push --
    @retried
    def apply_batch(
        self, shop_id: int, kiosk_id: str, operations: list[dict[str, Any]]
    ) -> list[OpResult]:
        if len(operations) > MAX_BATCH:
            raise Rejected(f"a batch holds at most {MAX_BATCH} operations")
        results = []
        with self._batch(shop_id) as b:
            seen = self._already_applied(b.c, shop_id, [op["op_id"] for op in operations])
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
                    handler(b, payload)
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
            b.applied(rows)
        return results

    @staticmethod
    def _already_applied(
        c: Connection, shop_id: int, ids: list[str]
    ) -> dict[str, tuple[str, str, str]]:
        seen: dict[str, tuple[str, str, str]] = {}
        for i in range(0, len(ids), 500):
            for r in c.execute(APPLIED_BEFORE, {"b_shop": shop_id, "b_ids": ids[i : i + 500]}):
                seen[r.op_id] = (r.payload_hash, r.status, r.reason)
        return seen

    # -- pull --
    @retried
    def changes(self, shop_id: int, cursor: int, limit: int) -> dict[str, Any]:
        """The shop's records changed after `cursor`, in the order of their changes.

        One statement: the shop's change counter is read beside the records, in the
        same snapshot. Read apart (as it was), a push committed between the two reads
        moved the counter past records the first read had not seen, and the kiosk's
        cursor jumped over them."""
        with self.single.connect() as c:
            rows = c.execute(
                CHANGES, {"b_shop": shop_id, "b_cursor": cursor, "b_limit": limit + 1}
            ).all()
        if not rows:
            raise Rejected(f"no shop {shop_id}")
        shop_seq = rows[0].shop_seq
        rows = [r for r in rows if r.seq is not None]
        more = len(rows) > limit
        rows = rows[:limit]
        changes = [{"seq": r.seq, "kind": r.kind, "key": r.key, "data": r.data} for r in rows]
        # all of ours up to the counter are here unless there are more: the cursor may
        # jump over the shop's private changes (alerts, shifts) after them
        next_cursor = rows[-1].seq if more else max(cursor, shop_seq)
        return {"changes": changes, "next_cursor": next_cursor, "more": more}

    # -- the shop's own staff --
    def put_customer(self, shop_id: int, customer: Customer) -> None:
        self.put_record(shop_id, "customer", customer.account_number, to_plain(customer))

    def put_order(self, shop_id: int, order: ServiceOrder) -> None:
        with self._batch(shop_id) as b:
            before_data = b.get("order", order.number)
            before = from_plain(ServiceOrder, before_data) if before_data else None
            save_order(b, order, before)

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
            before = order_of(b, number)
            after = before.move_to(state, self.clock(), author, why)
            save_order(b, after, before)
            return after

    def set_location(self, shop_id: int, number: str, location: str, author: str) -> ServiceOrder:
        with self._batch(shop_id) as b:
            before = order_of(b, number)
            after = before.move_item(location, self.clock(), author)
            save_order(b, after, before)
            return after

    def set_credit_limit(self, shop_id: int, account: str, limit: Money) -> Customer:
        with self._batch(shop_id) as b:
            customer = customer_of(b, account)
            zero = Money.zero(limit.currency)
            credit = customer.credit or CreditAccount(zero, zero, zero, self.clock().date())
            updated = customer.with_credit(
                CreditAccount(limit, credit.debt, credit.unapplied_deposits, credit.opened_on)
            )
            b.put("customer", account, to_plain(updated))
            return updated

    def get(self, shop_id: int, kind: str, key: str) -> dict[str, Any] | None:
        with self.sessions() as s:
            return record_data(s, shop_id, kind, key)

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


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc}"
    return str(exc) or type(exc).__name__
