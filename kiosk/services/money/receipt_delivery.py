"""Getting a receipt to the customer: printed if the printer can, otherwise sent by the
back office by email or SMS. Called after the money has moved, so a printer fault can
never hold up or undo a payment; it only changes how the receipt travels."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from kiosk.domain.customers import ContactPreference, Customer
from kiosk.domain.owed import OwedReceipt
from kiosk.drivers.base import Printer
from kiosk.receipts.document import Document, as_text, to_escpos
from kiosk.services.alerts import alert
from kiosk.storage.repositories import Repositories

if TYPE_CHECKING:
    from kiosk.services.money.settlement import Settled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    printed: bool
    sent_via: str  # "email", "sms" or "" when printed (or nowhere to send)
    reason: str = ""  # why it was not printed


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
        payment_id: str = "",
        language: str = "",
        order_number: str = "",
    ) -> Delivery:
        """Print, else send; never raises: it runs after a commit, and a receipt that
        cannot travel becomes a staff alert, not an error for the customer. A payment's
        receipt printed or queued is no longer owed (kiosk/domain/owed.py)."""
        reason = "no printer" if not send_only else "sent after recovery"
        if self._printer is not None and not send_only:
            try:
                self._printer.print_job(to_escpos(doc, codepage=self._codepage))
                self._paid_off(payment_id)
                return Delivery(printed=True, sent_via="")
            except Exception as exc:  # paper, cable, a text no code page has: all the same here
                reason = str(exc) or type(exc).__name__
                log.warning("%s not printed (%s): sending it instead", kind, reason)
        about = {
            "language": language,
            "order_number": order_number,
            "escpos": _bytes(doc, self._codepage),
        }
        channel = self._send(kind, as_text(doc), customer, key, about)
        if channel:
            self._paid_off(payment_id)
        elif not send_only:
            self._alert(key, f"{kind} receipt neither printed nor sent: {reason}", payment_id)
        return Delivery(printed=False, sent_via=channel, reason=reason)

    def deliver_settled(self, settled: Settled, *, send_only: bool = False) -> Delivery | None:
        if settled.receipt is None:
            return None
        customer = settled.customer
        key = f"customer:{customer.account_number}" if customer else "receipt"
        payment_id = settled.payment.payment_id if settled.payment else ""
        return self.deliver(
            settled.receipt_kind,
            settled.receipt,
            customer,
            key,
            send_only=send_only,
            payment_id=payment_id,
            language=settled.language,
            order_number=settled.order.number if settled.order else "",
        )

    def owed(self) -> list[OwedReceipt]:
        """Receipts not given yet, oldest first (staff mode lists them)."""
        return sorted(self._repos.receipts_owed.all(), key=lambda o: o.at)

    def send_owed(self) -> list[str]:
        """At start, before the first customer: a receipt a power cut left owed is sent
        (the customer has long left; printed into the tray it would be the next
        customer's to read), or listed for staff and alerted once. Never raises."""
        done = []
        try:
            for owed in self.owed():
                customer = self._repos.customers.get(owed.customer_account)
                key = f"customer:{owed.customer_account}"
                channel = self._send(owed.kind, owed.text, customer, key) if owed.text else ""
                if channel:
                    self._paid_off(owed.payment_id)
                    done.append(f"receipt of {owed.payment_id} sent by {channel}")
                elif not owed.alerted:
                    what = f"the {owed.kind} receipt of payment {owed.payment_id}"
                    why = "was neither printed nor sent: reprint it in staff mode"
                    self._alert(key, f"{what} {why}", owed.payment_id)
        except Exception:  # an effect after commits: the log stands for it, tried at next start
            log.exception("owed receipts could not all be handled")
        return done

    def _send(
        self,
        kind: str,
        text: str,
        customer: Customer | None,
        key: str,
        about: dict[str, str] | None = None,
    ) -> str:
        """Queued for the back office to send: the channel, or "" when none is. `about`:
        the receipt's language and order, for the message around it."""
        channel = _channel(customer)
        if customer is None or not channel:
            return ""
        try:
            self._repos.outbox.enqueue(
                "receipt.send",
                {
                    "kind": kind,
                    "channel": channel,
                    "customer_account": customer.account_number,
                    "text": text,
                    **{k: v for k, v in (about or {}).items() if v},
                },
                key=key,
                now=self._clock(),
            )
        except Exception:
            log.exception("%s receipt could not be queued", kind)
            return ""
        return channel

    def _paid_off(self, payment_id: str) -> None:
        if not payment_id:
            return
        try:
            self._repos.receipts_owed.remove(payment_id)
        except Exception:  # still owed: sent again at the next start, at worst twice
            log.exception("the receipt of %s stays listed as owed", payment_id)

    def _alert(self, key: str, text: str, payment_id: str = "") -> None:
        """Staff told, once per owed receipt. Never raises: the log line stands for it."""
        try:
            alert(self._repos, self._clock(), key, text)
            owed = self._repos.receipts_owed.get(payment_id) if payment_id else None
            if owed is not None:
                self._repos.receipts_owed.save(replace(owed, alerted=True))
        except Exception:
            log.exception("the alert could not be queued: %s", text)


def _channel(customer: Customer | None) -> str:
    if customer is None:
        return ""
    if customer.contact_preference is ContactPreference.SMS and (customer.mobile or customer.phone):
        return "sms"
    if customer.email:
        return "email"
    return "sms" if customer.mobile or customer.phone else ""


def _bytes(doc: Document, codepage: str) -> str:
    """The receipt as the printer would have had it (base64), for the back office to
    draw the picture a mail attaches; none past 64 KB (images of CJK lines, say)."""
    try:
        data = to_escpos(doc, codepage=codepage)
    except Exception:  # a text no code page has: the text alone travels
        return ""
    return base64.b64encode(data).decode() if len(data) <= 64 * 1024 else ""
