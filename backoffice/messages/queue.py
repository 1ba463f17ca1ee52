"""The queue of owed messages in the `notifications` table, shared by any number of
sender workers (processes, hosts) and their restarts.

A worker *claims* a batch in one short transaction: the rows owed (or due for a retry,
or left `sending` by a worker whose lease ran out) are locked with FOR UPDATE SKIP
LOCKED (PostgreSQL; SQLite's BEGIN IMMEDIATE makes the claim exclusive), marked
`sending` with the worker's name and a lease, and committed before anything is sent.
A second worker skips them. The worker then sends each and *records* the outcome with
an UPDATE that holds only while the row is still its claim. So a message is handed to
a server by one worker at a time; a worker killed before the server's final answer
leaves a claim that lapses, and the next claim sends it again, once. What no queue can
close is the moment between the server's "250 accepted" and the record's commit: a kill
there sends the message twice; the Message-ID stays the same (docs/messages.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from backoffice.db import Notification

LEASE = timedelta(minutes=2)  # longer than any one send may take (each has a time-out)
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
CLAIMABLE = ("owed", "retry", "sending")


@dataclass(frozen=True)
class Sent:
    answer: str  # the server's own words
    provider_id: str = ""
    delivery: str = ""


@dataclass(frozen=True)
class Transient:
    """Try again later: a time-out, a dropped connection, a 4xx, a throttled gateway."""

    reason: str
    counts: bool = True  # False: nothing was tried (no channel configured yet)


@dataclass(frozen=True)
class Permanent:
    """Never again: a 5xx, a refused recipient, no address to send to."""

    reason: str


@dataclass(frozen=True)
class Dropped:
    """Not sent, rightly: what it says no longer holds (the order moved on meanwhile)."""

    reason: str


Outcome = Sent | Transient | Permanent | Dropped


def claim(
    sessions: sessionmaker[Session],
    worker: str,
    now: datetime,
    lease: timedelta = LEASE,
    limit: int = 20,
) -> list[int]:
    with sessions.begin() as s:
        due = (
            select(Notification)
            .where(
                Notification.status.in_(CLAIMABLE),
                or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
                or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
            )
            .order_by(Notification.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = s.scalars(due).all()
        for row in rows:
            row.status, row.claimed_by, row.claimed_until = "sending", worker, now + lease
            row.attempts += 1
        return [row.id for row in rows]


def retry_delay(attempts: int) -> timedelta:
    later: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(later, LONGEST_RETRY)


def record(
    sessions: sessionmaker[Session], note_id: int, worker: str, outcome: Outcome, now: datetime
) -> bool:
    """The outcome kept, if the row is still this worker's claim (else another worker
    took it after our lease ran out, and its record stands). True if kept."""
    values: dict[str, object] = {"claimed_by": "", "claimed_until": None}
    with sessions.begin() as s:
        attempts = s.scalar(select(Notification.attempts).where(Notification.id == note_id)) or 0
        if isinstance(outcome, Sent):
            values |= {"status": "sent", "answer": outcome.answer[:500], "sent_at": now,
                       "provider_id": outcome.provider_id[:200],
                       "delivery": outcome.delivery[:100]}  # fmt: skip
        elif isinstance(outcome, Dropped):
            values |= {"status": "dropped", "answer": outcome.reason[:500]}
        elif isinstance(outcome, Permanent) or attempts >= MAX_ATTEMPTS:
            values |= {"status": "failed", "answer": outcome.reason[:500]}
        else:
            counted = attempts if outcome.counts else attempts - 1
            later = now + retry_delay(counted)
            values |= {"status": "retry", "answer": outcome.reason[:500],
                       "attempts": counted, "next_attempt_at": later}  # fmt: skip
        done = s.execute(
            update(Notification)
            .where(
                Notification.id == note_id,
                Notification.claimed_by == worker,
                Notification.status == "sending",
            )
            .values(**values)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]


def counts(s: Session, shop_id: int) -> dict[str, int]:
    """The shop's queue by state: owed (owed, retry, sending), sent, failed, dropped."""
    rows = s.execute(
        select(Notification.status, func.count())
        .where(Notification.shop_id == shop_id)
        .group_by(Notification.status)
    ).all()
    out = {"owed": 0, "sent": 0, "failed": 0, "dropped": 0}
    for status, n in rows:
        out[status if status in out else "owed"] += n
    return out


def failures(s: Session, shop_id: int, limit: int = 20) -> list[tuple[int, str, str, str]]:
    """The shop's failed messages, newest first: (id, channel, subject, the reason)."""
    rows = s.execute(
        select(Notification.id, Notification.channel, Notification.subject, Notification.answer)
        .where(Notification.shop_id == shop_id, Notification.status == "failed")
        .order_by(Notification.id.desc())
        .limit(limit)
    ).all()
    return [(r.id, r.channel, r.subject, r.answer) for r in rows]
