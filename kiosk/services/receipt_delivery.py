"""Getting a receipt to the customer: printed if the printer can, otherwise sent by the
back office by email or SMS. Called after the money has moved, so a printer fault can
never hold up or undo a payment; it only changes how the receipt travels."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kiosk.domain.customers import ContactPreference, Customer
from kiosk.drivers.base import Printer
from kiosk.drivers.printer.escpos_printer import PrinterFault
from kiosk.receipts.document import Document, Pair, Text, Wrap, plain, to_escpos
from kiosk.storage.repositories import Repositories

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

    def deliver(self, kind: str, doc: Document, customer: Customer | None, key: str) -> Delivery:
        reason = "no printer"
        if self._printer is not None:
            try:
                self._printer.print_job(to_escpos(doc, codepage=self._codepage))
                return Delivery(printed=True, sent_via="")
            except PrinterFault as exc:
                reason = str(exc)
                log.warning("%s not printed (%s): sending it instead", kind, reason)
        channel = _channel(customer)
        if customer is None or not channel:
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
        return Delivery(printed=False, sent_via=channel, reason=reason)


def _channel(customer: Customer | None) -> str:
    if customer is None:
        return ""
    if customer.contact_preference is ContactPreference.SMS and (customer.mobile or customer.phone):
        return "sms"
    if customer.email:
        return "email"
    return "sms" if customer.mobile or customer.phone else ""
