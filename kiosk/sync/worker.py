"""The sync worker: the outbox out, the back office's changes in, in a thread.

Push: due outbox entries in batches; each answer is acknowledged (applied, duplicate)
or dead-lettered with the back office's reason (rejected). When a whole request fails
the entries stay queued untouched: a network outage is nobody's fault and counts
against no entry. When the back office keeps failing one batch (5xx) or refuses it
(4xx), the batch is halved until the one operation at fault is alone: then it alone
is retried later (5xx) or dead-lettered (4xx), so one bad operation never blocks the
queue behind it.

Pull: pages of changes since the stored cursor; each page is applied in one storage
transaction together with the new cursor, so a crash mid-page applies none of it.

Between rounds: exponential backoff with full jitter, at least what Retry-After asks;
the first round at a random moment of the first interval.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk import release
from kiosk.domain.billing import Invoice
from kiosk.domain.customers import Customer
from kiosk.domain.intents import UNKNOWN_OUTCOME, IntentState
from kiosk.domain.orders import ServiceOrder
from kiosk.domain.plain import DecodeError, from_plain
from kiosk.storage.outbox import OutboxEntry
from kiosk.storage.repositories import HELP_CALLS, Repositories
from kiosk.storage.store import StoreError
from kiosk.sync.client import BackOfficeClient, Change, Refused, SyncError, Transient

log = logging.getLogger(__name__)

CURSOR = "sync.cursor"
LAST_SUCCESS = "sync.last_success"
LAST_ERROR = "sync.last_error"
# Answers that say "not now" about the whole service, not about these operations.
OUTAGE_STATUS = {408, 429, 502, 503, 504}


class BadChange(SyncError):
    """A pulled record the kiosk cannot read: the page is not applied."""


@dataclass
class Backoff:
    base_s: float = 1.0
    cap_s: float = 300.0
    failures: int = 0

    def next_delay(self, rng: random.Random, retry_after: float | None = None) -> float:
        """Full jitter: uniform(0, min(cap, base·2ⁿ)), never shorter than Retry-After."""
        self.failures += 1
        ceiling = min(self.cap_s, self.base_s * 2 ** (self.failures - 1))
        delay = rng.uniform(0, ceiling)
        return max(delay, retry_after or 0.0)

    def reset(self) -> None:
        self.failures = 0


@dataclass
class RoundReport:
    pushed: int = 0
    acked: int = 0
    dead_lettered: int = 0
    pulled: int = 0
    error: str = ""
    retry_after: float | None = None
    requests: int = 0
    details: list[str] = field(default_factory=list)


class SyncWorker:
    def __init__(
        self,
        repos: Repositories,
        client: BackOfficeClient,
        clock: Callable[[], datetime],
        *,
        batch_size: int = 200,
        page_size: int = 500,
        interval_s: float = 30.0,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        health: Callable[[], dict[str, str]] = dict,
        after_success: Callable[[], object] | None = None,
    ) -> None:
        self.repos = repos
        self.client = client
        self.clock = clock
        self.batch_size = batch_size
        self.page_size = page_size
        self.interval_s = interval_s
        self.backoff = backoff or Backoff()
        self.rng = rng or random.Random()
        self.health = health
        self.after_success = after_success  # housekeeping once the back office is in step
        # updates (kiosk/updates/manager.py): what the heartbeat reports, and where the
        # back office's answer ("run this release") goes
        self.update_report: Callable[[], dict[str, Any]] | None = None
        self.on_update: Callable[[dict[str, Any] | None], None] | None = None
        self.boot_id = uuid.uuid4().hex
        self._seq = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._round = threading.Lock()  # `kiosk sync now` and the thread take turns
        self._thread: threading.Thread | None = None

    # -- one round --
    def run_once(self, deadline: float | None = None) -> RoundReport:
        """One round; `deadline` (time.monotonic()) bounds it whole, every request in it."""
        with self._round:
            self.client.deadline = deadline
            try:
                return self._round_once()
            finally:
                self.client.deadline = None

    def _round_once(self) -> RoundReport:
        report = RoundReport()
        try:
            self._push_all(report)
            self._pull_all(report)
            self._heartbeat(report)
        except (SyncError, DecodeError, StoreError) as exc:
            # StoreError: a pulled page that breaks a local rule (a rewards card already
            # used here): the page is rolled back whole and the round reported failed.
            report.error = str(exc)
            report.retry_after = exc.retry_after if isinstance(exc, Transient) else None
            self.repos.settings.set(LAST_ERROR, {"at": self.clock().isoformat(), "error": str(exc)})
            log.warning("sync round failed: %s", exc)
            return report
        self.repos.settings.set(LAST_SUCCESS, self.clock().isoformat())
        if self.after_success is not None:
            try:
                self.after_success()
            except StoreError as exc:  # housekeeping must never stop the sync
                log.error("housekeeping after sync failed: %s", exc)
        return report

    def push(self) -> RoundReport:
        """Only the push half of a round (staff "send now", the benchmark)."""
        report = RoundReport()
        self._push_all(report)
        return report

    def pull(self) -> RoundReport:
        """Only the pull half of a round."""
        report = RoundReport()
        self._pull_all(report)
        return report

    def _client_info(self) -> dict[str, Any]:
        self._seq += 1
        return {"device_time": self.clock().isoformat(), "boot_id": self.boot_id, "seq": self._seq}

    def _push_all(self, report: RoundReport) -> None:
        size = self.batch_size
        while True:
            batch = self.repos.outbox.next_batch(self.clock(), size)
            if not batch:
                return
            try:
                self._push(batch, report)
                size = self.batch_size
            except Transient as exc:
                if exc.status is None or exc.status in OUTAGE_STATUS:
                    raise  # the network, an outage or the server's load: wait, touch nothing
                if len(batch) == 1:  # this operation keeps breaking the server
                    self.repos.outbox.retry_later(batch[0].op_id, str(exc), self.clock())
                    report.details.append(f"{batch[0].op_id}: {exc}")
                    continue
                size = max(1, len(batch) // 2)
            except Refused as exc:
                if exc.status == 401:
                    raise Refused(
                        "the back office refused this kiosk's credential: enrol again", 401
                    ) from exc
                if len(batch) == 1:
                    # Blame the operation only if the push endpoint takes other requests: a
                    # back office that refuses everything must not empty the queue into
                    # dead letters.
                    report.requests += 1
                    self.client.push(self._client_info(), [])
                    self.repos.outbox.dead_letter(batch[0].op_id, str(exc), self.clock())
                    report.dead_lettered += 1
                    continue
                size = max(1, len(batch) // 2)

    def _push(self, batch: list[OutboxEntry], report: RoundReport) -> None:
        operations = [
            {"op_id": e.op_id, "kind": e.kind, "key": e.key, "payload": e.payload} for e in batch
        ]
        report.requests += 1
        report.pushed += len(batch)
        results = self.client.push(self._client_info(), operations)
        now = self.clock()
        with self.repos.store.transaction():
            done = [r.op_id for r in results if r.status in ("applied", "duplicate")]
            report.acked += self.repos.outbox.ack(done)
            for r in results:
                if r.status == "rejected":
                    self.repos.outbox.dead_letter(r.op_id, f"back office: {r.reason}", now)
                    report.dead_lettered += 1
        if len(results) < len(batch):  # the rest stays queued for the next round
            raise Transient(f"the back office answered {len(results)} of {len(batch)} operations")

    def _pull_all(self, report: RoundReport) -> None:
        while True:
            cursor = int(self.repos.settings.get(CURSOR, 0))
            report.requests += 1
            page = self.client.changes(cursor, self.page_size)
            with self.repos.store.transaction():
                for change in page.changes:
                    self._apply(change)
                self.repos.settings.set(CURSOR, page.next_cursor)
            report.pulled += len(page.changes)
            if not page.more:
                return

    def _apply(self, change: Change) -> None:
        repos = self.repos
        try:
            if change.kind == "customer":
                self._upsert(repos.customers, Customer, change)
            elif change.kind == "order":
                self._upsert(repos.orders, ServiceOrder, change)
            elif change.kind == "invoice":
                self._upsert(repos.invoices, Invoice, change)
            elif change.kind in ("catalogue", "setting"):
                repos.settings.set(f"{change.kind}:{change.key}", change.data)
            else:
                log.info("ignoring a change of unknown kind %r", change.kind)
        except DecodeError as exc:
            raise BadChange(
                f"the back office sent an unreadable {change.kind} {change.key!r}: {exc}"
            ) from exc

    @staticmethod
    def _upsert(repo: Any, tp: type[Any], change: Change) -> None:
        if change.data is None:
            repo.remove(change.key)
            return
        record = from_plain(tp, change.data, f"{change.kind} {change.key}")
        if repo.get(change.key) is None:
            repo.add(record)
        else:
            repo.save(record)

    def _heartbeat(self, report: RoundReport) -> None:
        stats = self.repos.outbox.stats(self.clock())
        last_error = self.repos.settings.get(LAST_ERROR) or {}
        report.requests += 1
        beat = {
            "version": release(),
            "boot_id": self.boot_id,
            "health": self.health(),
            "queue_depth": stats.pending,
            "oldest_pending_age_s": stats.oldest_pending_age_s,
            "last_error": str(last_error.get("error", ""))[:2000],
            "unresolved_payments": self.unresolved_payments(),
            "help_calls": len(self.repos.settings.get(HELP_CALLS) or []),
        }
        if self.update_report is not None:
            beat["update"] = self.update_report()
        answer = self.client.heartbeat(beat)
        if self.on_update is not None:
            update = answer.get("update")
            self.on_update(update if isinstance(update, dict) else None)

    def unresolved_payments(self) -> int:
        """Card movements whose outcome the terminal has not told yet, amounts still held
        on a card (a pickup waiting for staff's word), and final ones whose business
        operation is not finished (what staff mode's list starts from)."""
        held = self.repos.intents.in_states(*UNKNOWN_OUTCOME, IntentState.RESERVED)
        waiting = held + self.repos.intents.unsettled()
        return len({i.intent_id for i in waiting})

    # -- the thread --
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sync", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """The thread runs (or was never started): false once it has died."""
        return self._thread is None or self._thread.is_alive()

    def wake(self) -> None:
        """Sync now (a drop-off was just taken, staff pressed "sync")."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        # A chain's kiosks start together after a power cut or a morning switch-on: the
        # first round comes at a random moment of the first interval (at once when woken:
        # a drop-off, staff's "sync now"), so a thousand do not arrive in the same second.
        # After an outage the back-off's full jitter spreads them the same way.
        self._wake.wait(self.rng.uniform(0, self.interval_s))
        self._wake.clear()
        while not self._stop.is_set():
            report = self.run_once()
            if report.error:
                delay = self.backoff.next_delay(self.rng, report.retry_after)
            else:
                self.backoff.reset()
                delay = self.interval_s
            self._wake.wait(delay)
            self._wake.clear()
