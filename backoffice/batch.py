"""One database transaction's view of a shop, in which a batch of kiosk operations is
applied (operations.py) or staff change a record (service.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from backoffice.db import Entity, Notification, Shop, StatusLink, digest_text, record_data


class Rejected(Exception):
    """An operation the back office refuses, with the reason the kiosk will keep."""


class Batch:
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
        self._rows: list[tuple[Any, dict[str, Any]]] = []  # (table, row) beside the records
        self._op_written: dict[tuple[str, str], tuple[dict[str, Any] | None, int]] = {}
        self._op_rows: list[tuple[Any, dict[str, Any]]] = []
        self._op_seq = seq

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        for layer in (self._op_written, self._written):
            if (kind, key) in layer:
                return layer[(kind, key)][0]
        if (kind, key) not in self._read:
            self._read[(kind, key)] = record_data(self.s, self.shop_id, kind, key)
        return self._read[(kind, key)]

    def put(self, kind: str, key: str, data: dict[str, Any] | None) -> None:
        self.seq += 1
        self._op_written[(kind, key)] = (data, self.seq)

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

    def keep(self) -> None:
        """The operation succeeded: its writes join the batch."""
        self._written.update(self._op_written)
        self._rows.extend(self._op_rows)
        self._op_written, self._op_rows, self._op_seq = {}, [], self.seq

    def drop(self) -> None:
        """The operation was refused: nothing of it remains."""
        self._op_written, self._op_rows, self.seq = {}, [], self._op_seq

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
        for table in {id(t): t for t, _ in self._rows}.values():
            self.s.execute(insert(table), [row for t, row in self._rows if t is table])
