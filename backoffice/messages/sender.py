"""A sender worker: claims owed messages (queue.py), composes each in its language
(compose.py), sends it on the shop's channel, and records what the server said. Run as
many as you like (`python -m backoffice send-messages --worker NAME`, one per host or
more): the queue gives each message to one of them at a time.

One message that cannot be composed (a customer record that no longer decodes, an order
deleted) fails alone with the reason; the worker goes on with the next."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from backoffice.db import Notification, Shop, record_data, utcnow
from backoffice.messages import compose, queue, smpp, smtp, webhook
from backoffice.messages.queue import Dropped, Outcome, Permanent, Transient
from backoffice.messages.settings import SettingsError, ShopMessaging, load
from kiosk.domain.customers import Customer, normalise_phone
from kiosk.domain.orders import OrderState, ServiceOrder
from kiosk.domain.plain import from_plain

log = logging.getLogger("backoffice.messages")
# A message waits in the queue (no settings yet, a relay down for a day): it is sent only
# while what it says still holds
STILL_TRUE = {
    "ready": {OrderState.DONE},
    "returned": {OrderState.DONE},
    "estimate": {OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION},
}


class Sender:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        worker: str,
        clock: Callable[[], datetime] = utcnow,
        lease_s: float = queue.LEASE.total_seconds(),
    ) -> None:
        self.sessions = sessions
        self.worker = worker
        self.clock = clock
        self.lease = timedelta(seconds=lease_s)

    def round(self) -> int:
        """One claim's worth sent (or tried); how many."""
        ids = queue.claim(self.sessions, self.worker, self.clock(), self.lease)
        for note_id in ids:
            try:
                outcome = self.send_one(note_id)
            except Exception as exc:  # one bad record fails alone
                log.exception("message %d could not be composed", note_id)
                outcome = Permanent(f"could not be composed: {type(exc).__name__}: {exc}")
            kept = queue.record(self.sessions, note_id, self.worker, outcome, self.clock())
            log.info("message %d: %s%s", note_id, outcome,
                     "" if kept else " (claim lost: another worker's record stands)")  # fmt: skip
        return len(ids)

    def run(self, stop: threading.Event, idle_s: float = 5.0, until_idle: bool = False) -> None:
        while not stop.is_set():
            if self.round() == 0:
                if until_idle:
                    return
                stop.wait(idle_s)

    def send_one(self, note_id: int) -> Outcome:
        with self.sessions() as s:
            note = s.get(Notification, note_id)
            assert note is not None
            shop = s.get(Shop, note.shop_id)
            try:
                settings = load(s, note.shop_id)
            except SettingsError as exc:
                return Transient(f"the shop's message settings are wrong: {exc}", counts=False)
            customer_data = record_data(s, note.shop_id, "customer", note.customer_account)
            order_data = (
                record_data(s, note.shop_id, "order", note.order_number)
                if note.order_number
                else None
            )
        if customer_data is None:
            return Permanent(f"no customer {note.customer_account}")
        customer = from_plain(Customer, customer_data)
        order = from_plain(ServiceOrder, order_data) if order_data else None
        if note.kind in ("ready", "returned", "estimate") and order is None:
            return Permanent(f"no service order {note.order_number}")
        if (
            order is not None
            and note.kind in STILL_TRUE
            and order.state not in STILL_TRUE[note.kind]
        ):
            return Dropped(f"no longer true: order {order.number} is {order.state} now")
        shop_name = shop.name if shop else ""
        facts = compose.Facts(
            kind=note.kind or "receipt",
            shop=shop_name,
            customer=customer,
            settings=settings,
            language=note.language or (order.language if order else ""),
            order=order,
            receipt_text=note.body,
            now=self.clock(),
        )
        return _send(note, compose.compose(facts), customer, settings, shop_name)


def _send(
    note: Notification,
    composed: compose.Composed,
    customer: Customer,
    settings: ShopMessaging,
    shop: str,
) -> Outcome:
    """On the notification's channel, through the shop's transport for it."""
    key = f"message-{note.shop_id}-{note.id}"  # the same on every attempt
    if note.channel == "email":
        if settings.email is None:
            return Transient("the shop has no e-mail settings yet", counts=False)
        if not customer.email:
            return Permanent(f"customer {customer.account_number} has no e-mail address")
        domain = settings.email.sender.rpartition("@")[2].strip(" >") or "localhost"
        picture = compose.receipt_png(note.printed)
        msg = compose.email(
            composed, settings.email.sender, customer, shop, f"<{key}@{domain}>", picture
        )
        return smtp.send(settings.email, msg)
    if settings.sms is None:
        return Transient("the shop has no SMS settings yet", counts=False)
    number = normalise_phone(customer.mobile or customer.phone, settings.country_calling_code)
    if not number.startswith("+"):
        return Permanent(f"customer {customer.account_number} has no phone number to text")
    if settings.sms.transport == "webhook":
        return webhook.send(settings.sms, key, number, composed.sms, shop)
    return smpp.send(settings.sms, number, composed.sms)
