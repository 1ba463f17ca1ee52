"""The durable queue of operations waiting to reach the back office.

An operation is enqueued in the same transaction as the business change it reports, so
the two exist together or not at all. The sync worker reads batches in order, acks what
the back office took, and reports failures: the entry comes back later with a growing
delay, and after `max_attempts` it becomes a dead letter with its reason kept, listed by
`kiosk outbox` and staff mode. Nothing leaves the queue silently.

Order is kept per key (one service order, one customer): an entry is handed out only
once every earlier pending entry with the same key is handed out with it or before it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from kiosk.domain.plain import from_plain, to_plain
from kiosk.storage.store import Store, StoreError

TABLE = "outbox"


class OutboxError(StoreError):
    """An outbox operation on an entry that does not exist or is in the wrong state."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    op_id: str
    kind: str
    key: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str = ""
    dead: bool = False
    dead_reason: str = ""
    dead_at: datetime | None = None

    def age_seconds(self, now: datetime) -> float:
        return (now - self.created_at).total_seconds()


@dataclass(frozen=True, slots=True)
class OutboxStats:
    pending: int
    oldest_pending_age_s: float | None
    dead_letters: list[OutboxEntry]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 10
    base_delay_s: float = 5.0
    max_delay_s: float = 3600.0

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        """Exponential, capped, with jitter over its upper half so that many entries
        that failed together do not all come back at the same second."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempts - 1))
        return timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))


class Outbox:
    def __init__(
        self, store: Store, policy: RetryPolicy | None = None, rng: random.Random | None = None
    ) -> None:
        self._store = store
        self._table = store.table(TABLE)
        self.policy = policy or RetryPolicy()
        self._rng = rng or random.Random()
        self._by_op = store.add_index("outbox.op_id", TABLE, lambda d: [d["op_id"]], unique=True)
        self._dead = store.add_index(
            "outbox.dead", TABLE, lambda d: ["dead"] if d.get("dead") else []
        )
        # told of each new entry (the running kiosk's sync worker: a drop-off or payment
        # goes out at once, not at the next round); it waits for the store's lock, so
        # the round it starts sees the entry's transaction committed
        self.on_enqueue: Callable[[], object] | None = None

    # -- writing --
    def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        key: str,
        now: datetime,
        op_id: str | None = None,
    ) -> str:
        """Queue an operation; call it inside the transaction of the change it reports."""
        if not kind or not key:
            raise OutboxError("an outbox entry needs a kind and an ordering key")
        entry = OutboxEntry(
            op_id=op_id or uuid.uuid4().hex,
            kind=kind,
            key=key,
            payload=dict(payload),
            created_at=now,
            next_attempt_at=now,
        )
        self._table.insert(to_plain(entry))
        if self.on_enqueue is not None:
            self.on_enqueue()
        return entry.op_id

    def ack(self, op_ids: Iterable[str]) -> int:
        """The back office has these (applied or duplicate): they leave the queue."""
        with self._store.lock:
            doc_ids = [i for op in op_ids for i in self._by_op.lookup(op)]
            return len(self._table.remove(doc_ids=doc_ids))

    def retry_later(self, op_id: str, error: str, now: datetime) -> OutboxEntry:
        """A failure worth retrying (network, 5xx): back later, or dead after max_attempts."""
        with self._store.lock:
            doc_id, entry = self._get(op_id)
            attempts = entry.attempts + 1
            if attempts >= self.policy.max_attempts:
                updated = replace(
                    entry,
                    attempts=attempts,
                    last_error=error,
                    dead=True,
                    dead_reason=f"gave up after {attempts} attempts: {error}",
                    dead_at=now,
                )
            else:
                updated = replace(
                    entry,
                    attempts=attempts,
                    last_error=error,
                    next_attempt_at=now + self.policy.delay(attempts, self._rng),
                )
            self._table.replace(doc_id, to_plain(updated))
            return updated

    def dead_letter(self, op_id: str, reason: str, now: datetime) -> OutboxEntry:
        """The back office refused this operation: keep it aside with the reason."""
        with self._store.lock:
            doc_id, entry = self._get(op_id)
            updated = replace(entry, dead=True, dead_reason=reason, dead_at=now)
            self._table.replace(doc_id, to_plain(updated))
            return updated

    def requeue(self, op_id: str, now: datetime) -> OutboxEntry:
        """Staff decided a dead letter should be tried again."""
        with self._store.lock:
            doc_id, entry = self._get(op_id)
            if not entry.dead:
                raise OutboxError(f"outbox entry {op_id} is not a dead letter")
            updated = replace(
                entry, dead=False, dead_reason="", dead_at=None, attempts=0, next_attempt_at=now
            )
            self._table.replace(doc_id, to_plain(updated))
            return updated

    def discard(self, op_id: str, reason: str, by: str, now: datetime) -> OutboxEntry:
        """Staff gave up on a dead letter: it leaves the queue, and a record of what it was,
        who discarded it and why stays in the `outbox_discarded` table."""
        with self._store.lock, self._store.transaction():
            doc_id, entry = self._get(op_id)
            if not entry.dead:
                raise OutboxError(f"{op_id} is not a dead letter: only those can be discarded")
            self._store.table("outbox_discarded").insert(
                {**to_plain(entry), "discarded_by": by, "discard_reason": reason,
                 "discarded_at": now.isoformat()}
            )  # fmt: skip
            self._table.remove(doc_ids=[doc_id])
            return entry

    # -- reading --
    def next_batch(self, now: datetime, limit: int = 100) -> list[OutboxEntry]:
        """Due entries in queue order, never one ahead of an earlier pending entry with the
        same key (that entry may be waiting out a retry delay)."""
        batch: list[OutboxEntry] = []
        blocked: set[str] = set()
        with self._store.lock:
            for _doc_id, doc in self._table.scan():
                if doc.get("dead"):
                    continue
                key = doc["key"]
                if key in blocked:
                    continue
                entry = self._decode(doc)
                if entry.next_attempt_at is not None and entry.next_attempt_at > now:
                    blocked.add(key)
                    continue
                batch.append(entry)
                if len(batch) >= limit:
                    break
        return batch

    def pending_count(self) -> int:
        with self._store.lock:
            return len(self._table) - len(self._dead.lookup("dead"))

    def stats(self, now: datetime) -> OutboxStats:
        with self._store.lock:
            oldest: float | None = None
            for _doc_id, doc in self._table.scan():
                if not doc.get("dead"):
                    oldest = self._decode(doc).age_seconds(now)
                    break  # queue order is creation order
            dead = [self._decode(d) for d in self._table.get_many(self._dead.lookup("dead"))]
            return OutboxStats(self.pending_count(), oldest, dead)

    def pending_kinds(self) -> set[str]:
        """The kinds of the entries not yet acknowledged (dead letters included: staff
        has yet to decide on them)."""
        with self._store.lock:
            return {doc["kind"] for _doc_id, doc in self._table.scan()}

    def keys(self) -> set[str]:
        """The keys of every entry still here, pending or dead: what has not reached the
        back office yet."""
        with self._store.lock:
            return {doc["key"] for _doc_id, doc in self._table.scan()}

    def get(self, op_id: str) -> OutboxEntry:
        with self._store.lock:
            return self._get(op_id)[1]

    def _get(self, op_id: str) -> tuple[int, OutboxEntry]:
        ids = self._by_op.lookup(op_id)
        if not ids:
            raise OutboxError(f"no outbox entry {op_id}")
        (doc,) = self._table.get_many(ids)
        return ids[0], self._decode(doc)

    @staticmethod
    def _decode(doc: Mapping[str, Any]) -> OutboxEntry:
        return from_plain(OutboxEntry, dict(doc))
