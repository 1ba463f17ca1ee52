"""Getting a receipt to the customer: printed if the printer can, otherwise sent by the
back office by email or SMS. Called after the money has moved, so a printer fault can
never hold up or undo a payment; it only changes how the receipt travels."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from kiosk.domain.customers import ContactPreference, Customer
from kiosk.drivers.base import Printer
from kiosk.receipts.document import Document, Pair, Text, Wrap, plain, to_escpos
from kiosk.services.alerts import alert
from kiosk.storage.repositories import Repositories

if TYPE_CHECKING:
    from kiosk.services.settlement import Settled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    printed: bool
    sent_via: str  # "email", "sms" or "" when printed (or nowhere to send)
    reason: str = ""  # why it was not printed


def as_text(doc: Document) -> str:
    """The receipt's words, for an email or SMS body."""
    lines = []
    for block in doc:
        if isinstance(block, Text | Wrap):
            lines.append(plain(block.text))
        elif isinstance(block, Pair):
            lines.append(f"{plain(block.left)}: {plain(block.right)}")
    return "\n".join(lines)


class ReceiptDelivery:
    def __init__(
        self,
        printer: Printer | None,
        repos: Repositories,
        clock: Callable[[], datetime],
        *,
        codepage: str = "CP858",
    ) -> None:
        self._printer = printer
        self._repos = repos
        self._clock = clock
        self._codepage = codepage

    def deliver(
        self,
        kind: str,
        doc: Document,
        customer: Customer | None,
        key: str,
        *,
        send_only: bool = False,
    ) -> Delivery:
        """Print, else send; never raises: it runs after a commit, and a receipt that
        cannot travel becomes a staff alert, not an error for the customer."""
        reason = "no printer" if not send_only else "sent after recovery"
        if self._printer is not None and not send_only:
            try:
                self._printer.print_job(to_escpos(doc, codepage=self._codepage))
                return Delivery(printed=True, sent_via="")
            except Exception as exc:  # paper, cable, a text no code page has: all the same here
                reason = str(exc) or type(exc).__name__
                log.warning("%s not printed (%s): sending it instead", kind, reason)
        channel = _channel(customer)
        try:
            if customer is None or not channel:
                if not send_only:
                    self._alert(key, f"{kind} receipt neither printed nor sent: {reason}")
                return Delivery(printed=False, sent_via="", reason=reason)
            self._repos.outbox.enqueue(
                "receipt.send",
                {
                    "kind": kind,
                    "channel": channel,
                    "customer_account": customer.account_number,
                    "text": as_text(doc),
                },
                key=key,
                now=self._clock(),
            )
        except Exception:
            log.exception("%s receipt could not be queued", kind)
            return Delivery(printed=False, sent_via="", reason=reason)
        return Delivery(printed=False, sent_via=channel, reason=reason)

    def deliver_settled(self, settled: Settled, *, send_only: bool = False) -> Delivery | None:
        if settled.receipt is None:
            return None
        customer = settled.customer
        key = f"customer:{customer.account_number}" if customer else "receipt"
        return self.deliver(
            settled.receipt_kind, settled.receipt, customer, key, send_only=send_only
        )

    def _alert(self, key: str, text: str) -> None:
        alert(self._repos, self._clock(), key, text)


def _channel(customer: Customer | None) -> str:
    if customer is None:
        return ""
    if customer.contact_preference is ContactPreference.SMS and (customer.mobile or customer.phone):
        return "sms"
    if customer.email:
        return "email"
    return "sms" if customer.mobile or customer.phone else ""
