"""Forgetting what the kiosk no longer needs, so a busy shop's store stays small.

The store keeps every record in memory (docs/storage.md), so history must leave. Once the
back office has it (no outbox entry, pending or dead, for that customer), the kiosk drops:

- collected and cancelled orders whose last change is older than the retention period,
  with their invoices when nothing is left to pay on them;
- payments older than the period (their shift is long closed and synced);
- ledger intents that are final and settled, older than the period, whose payment has
  left (a card payment bears its intent's id), and closed shifts;

Orders still in the shop's hands, customers, open invoices, pending or dead outbox entries
and open intents are never touched. One transaction; run at most once a day by the sync
worker after a good round, and by `kiosk store prune`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.domain.orders import TERMINAL_STATES
from kiosk.storage.repositories import Repositories

LAST_PRUNE = "retention.last_prune"


@dataclass(frozen=True)
class PruneReport:
    orders: int = 0
    invoices: int = 0
    payments: int = 0
    intents: int = 0
    shifts: int = 0

    @property
    def total(self) -> int:
        return self.orders + self.invoices + self.payments + self.intents + self.shifts


class Retention:
    def __init__(self, repos: Repositories, clock: Callable[[], datetime], days: int) -> None:
        if days <= 0:
            raise ValueError(f"retention must be at least one day, got {days}")
        self._repos = repos
        self._clock = clock
        self.period = timedelta(days=days)

    def due(self) -> bool:
        last = self._repos.settings.get(LAST_PRUNE)
        return last is None or self._clock() - datetime.fromisoformat(last) >= timedelta(days=1)

    def prune_if_due(self) -> PruneReport | None:
        return self.prune() if self.due() else None

    def prune(self) -> PruneReport:
        repos = self._repos
        now = self._clock()
        cutoff = now - self.period
        with repos.store.transaction():
            unsynced = repos.outbox.keys()
            orders = invoices = payments = intents = shifts = 0
            for state in TERMINAL_STATES:
                for order in repos.orders.in_state(state):
                    changed = order.state_changed_at or order.created_at
                    if changed >= cutoff or f"customer:{order.customer_account}" in unsynced:
                        continue
                    for invoice in repos.invoices.for_order(order.number):
                        if invoice.amount_due.is_zero():
                            invoices += repos.invoices.remove(invoice.number)
                    orders += repos.orders.remove(order.number)
            for payment in repos.payments.all():
                key = f"customer:{payment.customer_account}"
                if payment.at < cutoff and key not in unsynced:
                    payments += repos.payments.remove(payment.payment_id)
            for intent in repos.intents.all():
                if (
                    intent.is_final
                    and intent.settled
                    and (intent.updated_at or intent.created_at) < cutoff
                    and repos.payments.get(intent.intent_id) is None  # its payment went first
                ):
                    intents += repos.intents.remove(intent.intent_id)
            for shift in repos.shifts.all():
                if (
                    shift.closed_at is not None
                    and shift.closed_at < cutoff
                    and f"shift:{shift.shift_id}" not in unsynced
                ):
                    shifts += repos.shifts.remove(shift.shift_id)
            repos.settings.set(LAST_PRUNE, now.isoformat())
        return PruneReport(orders, invoices, payments, intents, shifts)
