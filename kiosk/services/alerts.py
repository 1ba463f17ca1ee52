"""Staff alerts: something a person must look at (a receipt that went nowhere, a
payment whose outcome is still unknown, a locker that did not open). Logged, and sent to
the back office as a note on the order through the outbox, so it survives a restart."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from kiosk.storage.repositories import Repositories

log = logging.getLogger("kiosk.alert")


def alert(repos: Repositories, now: datetime, key: str, text: str, number: str = "") -> None:
    """A note on order `number`, or a shop-level alert when no order is concerned."""
    log.warning("ALERT %s: %s", number or key, text)
    payload = {"text": f"ALERT: {text}", "at": now.isoformat(), "author": "kiosk"}
    if number:
        repos.outbox.enqueue("staff.note", {"number": number, **payload}, key=key, now=now)
    else:
        alert_id = uuid.uuid4().hex
        repos.outbox.enqueue("staff.alert", {"id": alert_id, **payload}, key=key, now=now)
