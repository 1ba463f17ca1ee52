"""One database transaction's view of a shop, in which a batch of kiosk operations is
applied (operations.py) or staff change a record (service.py)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from backoffice.db import AppliedOperation, Entity, Notification, Shop, StatusLink, digest_text

ENTITIES = cast(Table, Entity.__table__)
APPLIED = cast(Table, AppliedOperation.__table__)
SHOPS = cast(Table, Shop.__table__)
Key = tuple[str, str]  # (kind, key)

# Each statement made once, its values bound at each use: SQLAlchemy then builds and
# keys it once, not at every request (about a tenth of a millisecond a statement)
E = ENTITIES.c
_RECORD = select(E.data, E.seq).where(
    E.shop_id == bindparam("b_shop"), E.kind == bindparam("b_kind"), E.key == bindparam("b_key")
)
_CHANGE_NUMBERS = select(E.kind, E.key, E.seq).where(
    E.shop_id == bindparam("b_shop"),
    E.key.in_(bindparam("b_keys", expanding=True)),
    E.kind.in_(bindparam("b_kinds", expanding=True)),
)
_MOVE_ON = (
    update(SHOPS)
    .where(SHOPS.c.id == bindparam("b_shop"))
    .values(seq=SHOPS.c.seq + bindparam("b_count"))
    .returning(SHOPS.c.seq)
)
_INSERT = {
    t.name: insert(t) for t in (cast(Table, m.__table__) for m in (Notification, StatusLink))
}


class Upserts(NamedTuple):
    applied: Any  # an applied operation's row, unless one is there: RETURNING what went in
    entities: Any  # a record, or its new data and change number


@functools.cache
def upserts(dialect: str) -> Upserts:
    """INSERT … ON CONFLICT in this database's dialect (PostgreSQL or SQLite)."""
    insert_into = (postgresql if dialect == "postgresql" else sqlite).insert
    record = insert_into(ENTITIES)
    return Upserts(
        applied=insert_into(APPLIED).on_conflict_do_nothing().returning(APPLIED.c.op_id),
        entities=record.on_conflict_do_update(
            index_elements=["shop_id", "kind", "key"],
            set_={"data": record.excluded.data, "seq": record.excluded.seq},
        ),
    )


class Rejected(Exception):
    """An operation the back office refuses, with the reason the kiosk will keep."""


class Conflict(Exception):
    """Another writer changed what this transaction read, or applied one of its
    operations, between the read and this transaction's write: the whole transaction is
    run again (service.retried), and then reads what the other wrote."""


class Batch:
    """One database transaction's view of a shop: reads see this transaction's own
    writes; each operation's writes are held apart until it succeeds (a refused one
    leaves nothing), and everything reaches the database in a few bulk statements at
    the end.

    The shop's row is locked only there, for the writes (`flush`): its change counter
    is moved on by as many records as are written, which numbers them in the order
    their transactions commit. What the operations read was read without the lock, so
    it is read again under it: a record another writer changed since (its change
    number moved) makes the transaction a Conflict, run again. Every writer of a shop's
    records goes through a Batch, so none slips in between."""

    def __init__(self, c: Connection, shop_id: int) -> None:
        self.c = c
        self.shop_id = shop_id
        self._read: dict[Key, tuple[dict[str, Any] | None, int | None]] = {}
        self._written: dict[Key, dict[str, Any] | None] = {}  # in the order last written
        self._rows: list[tuple[Any, dict[str, Any]]] = []  # (table, row) beside the records
        self._op_written: dict[Key, dict[str, Any] | None] = {}
        self._op_rows: list[tuple[Any, dict[str, Any]]] = []
        self._applied: list[dict[str, Any]] = []

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        for layer in (self._op_written, self._written):
            if (kind, key) in layer:
                return layer[(kind, key)]
        if (kind, key) not in self._read:
            row = self.c.execute(
                _RECORD, {"b_shop": self.shop_id, "b_kind": kind, "b_key": key}
            ).first()
            self._read[(kind, key)] = (row.data, row.seq) if row is not None else (None, None)
        return self._read[(kind, key)][0]

    def put(self, kind: str, key: str, data: dict[str, Any] | None) -> None:
        self._op_written.pop((kind, key), None)
        self._op_written[(kind, key)] = data

    def notify(
        self,
        customer_account: str,
        channel: str,
        kind: str,
        subject: str,
        *,
        order_number: str = "",
        language: str = "",
        body: str = "",
        printed: str = "",
    ) -> None:
        """A message owed to a customer, sent by backoffice/messages/ in their language."""
        self._op_rows.append(
            (Notification.__table__,
             {"shop_id": self.shop_id, "customer_account": customer_account, "channel": channel,
              "kind": kind, "subject": subject[:200], "order_number": order_number,
              "language": language, "body": body[:10000], "status": "owed",
              "printed": printed or None})
        )  # fmt: skip

    def status_link(self, order_number: str, token: str, now: Any) -> None:
        """The order's status page opens with `token` (kept here by its hash only)."""
        self._op_rows.append(
            (StatusLink.__table__,
             {"token_hash": digest_text(token), "shop_id": self.shop_id,
              "order_number": order_number, "created_at": now})
        )  # fmt: skip

    def applied(self, rows: list[dict[str, Any]]) -> None:
        """The applied_operations rows of this batch: written with it, under its lock."""
        self._applied.extend(rows)

    def keep(self) -> None:
        """The operation succeeded: its writes join the batch."""
        for k, data in self._op_written.items():
            self._written.pop(k, None)
            self._written[k] = data
        self._rows.extend(self._op_rows)
        self._op_written, self._op_rows = {}, []

    def drop(self) -> None:
        """The operation was refused: nothing of it remains."""
        self._op_written, self._op_rows = {}, []

    def flush(self) -> None:
        self.keep()
        if not (self._written or self._rows or self._applied):
            return
        # the lock: the shop's row, held to the commit
        last = self.c.scalar(_MOVE_ON, {"b_shop": self.shop_id, "b_count": len(self._written)})
        if last is None:
            raise Rejected(f"no shop {self.shop_id}")
        if self._read and self._changes(self._read) != {
            k: seq for k, (_, seq) in self._read.items() if seq is not None
        }:
            raise Conflict("a record this batch read was changed by another writer")
        statements = upserts(self.c.dialect.name)
        if self._applied:
            stored = self.c.execute(statements.applied, self._applied)
            if len(stored.all()) != len(self._applied):
                raise Conflict("an operation of this batch was applied by another request")
        if self._written:
            first = last - len(self._written) + 1
            rows = [
                {"shop_id": self.shop_id, "kind": kind, "key": key, "data": data, "seq": first + i}
                for i, ((kind, key), data) in enumerate(self._written.items())
            ]
            self.c.execute(statements.entities, rows)
        for name in {t.name for t, _ in self._rows}:
            self.c.execute(_INSERT[name], [row for t, row in self._rows if t.name == name])

    def _changes(self, keys: Iterable[Key]) -> dict[Key, int]:
        """The change number of each of these records that exists, read now."""
        keys = list(keys)
        found: dict[Key, int] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            rows = self.c.execute(
                _CHANGE_NUMBERS,
                {"b_shop": self.shop_id, "b_keys": list({k for _, k in chunk}),
                 "b_kinds": list({kind for kind, _ in chunk})},
            )  # fmt: skip
            found.update(((r.kind, r.key), r.seq) for r in rows if (r.kind, r.key) in self._read)
        return found
