"""What was charged against what the back office now says: never an exception.

The back office is the other writer. While a kiosk's payment is between two stored
steps (the terminal asked, its answer lost, the kiosk killed) staff at the counter may
mark the invoice paid, cancel it, raise or lower it. Settlement applies what the
customer was *charged* for each invoice (`Charged` on the intent), as far as the
invoice still takes it; what does not fit is a `Difference`: an explicit record with a
resolution, a staff alert, and a `payment.difference` operation the back office
reconciles. Money is never settled on a figure the customer did not see, and a
difference never stops the settlement (docs/payments.md, "Two writers").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kiosk.domain.billing import Invoice, InvoiceStatus
from kiosk.domain.money import Money
from kiosk.services.alerts import alert
from kiosk.storage.repositories import Repositories


class Resolution(StrEnum):
    REFUND_OWED = "refund owed"  # paid twice (at the counter and here), or for nothing
    CREDIT = "credit on account"  # the invoice was lowered: the surplus is the customer's
    REMAINING_DEBT = "remaining debt"  # the invoice was raised: the rest is still due


@dataclass(frozen=True)
class Difference:
    invoice_number: str
    charged: Money  # what the customer was charged for it
    applied: Money  # what of that the invoice took
    due_before: Money  # what the invoice asked when the charge was settled
    why: str  # in staff's words
    resolution: Resolution

    @property
    def amount(self) -> Money:
        if self.resolution is Resolution.REMAINING_DEBT:
            return self.due_before - self.applied
        return self.charged - self.applied


def apply_charge(
    invoice: Invoice | None, number: str, charged: Money, surplus: Resolution
) -> tuple[Invoice | None, Money, Difference | None]:
    """One invoice's charge: (the invoice after it, what it took, the difference if
    any). What fits is applied, never more than is due and never to an invoice no
    longer open; `surplus` says what becomes of a charge above what is due."""
    zero = Money.zero(charged.currency)
    if invoice is None:
        missing = Difference(
            number, charged, zero, zero, "not on this kiosk", Resolution.REFUND_OWED
        )
        return None, zero, missing
    if invoice.status is not InvoiceStatus.OPEN:
        why = (
            "paid at the counter meanwhile"
            if invoice.status is InvoiceStatus.PAID
            else (f"{invoice.status} meanwhile")
        )
        return invoice, zero, Difference(number, charged, zero, zero, why, Resolution.REFUND_OWED)
    due = invoice.amount_due
    applied = charged if charged <= due else due
    after = invoice.record_payment(applied) if applied.amount > 0 else invoice
    if charged > due:
        why = f"lowered to {due} meanwhile" if due.amount > 0 else "nothing due any more"
        return after, applied, Difference(number, charged, applied, due, why, surplus)
    if due > charged:
        why = f"raised to {due} meanwhile"
        return (
            after,
            applied,
            Difference(number, charged, applied, due, why, Resolution.REMAINING_DEBT),
        )
    return after, applied, None


def record(
    repos: Repositories,
    now: datetime,
    key: str,
    differences: list[Difference],
    *,
    payment_id: str,
    order_number: str = "",
) -> None:
    """In the settling transaction: each difference to the back office, and to staff."""
    for d in differences:
        repos.outbox.enqueue(
            "payment.difference",
            {
                "payment_id": payment_id,
                "invoice": d.invoice_number,
                "charged": str(d.charged.amount),
                "applied": str(d.applied.amount),
                "amount": str(d.amount.amount),
                "currency": d.charged.currency,
                "resolution": str(d.resolution),
                "why": d.why,
                "at": now.isoformat(),
            },
            key=key,
            now=now,
        )
        alert(
            repos,
            now,
            key,
            f"payment {payment_id}: invoice {d.invoice_number} {d.why}; charged {d.charged}, "
            f"applied {d.applied}: {d.amount} {d.resolution}",
            order_number,
        )
