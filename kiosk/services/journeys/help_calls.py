"""A customer at the screen asks for a person ("Call staff", on every customer screen).

The call is kept until a member of staff answers it in staff mode, and goes to the back
office as a shop-level staff alert (through the outbox, so a call made offline still
arrives). One open call per screen session is enough: a second tap changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kiosk.domain.staff import StaffMember
from kiosk.services.alerts import alert
from kiosk.storage.repositories import HELP_CALLS, Repositories

log = logging.getLogger("kiosk.staff")


@dataclass(frozen=True)
class HelpCall:
    call_id: str
    at: datetime
    screen: str  # where the customer was
    lang: str


class HelpCalls:
    def __init__(self, repos: Repositories, clock: Callable[[], datetime]) -> None:
        self._repos = repos
        self._clock = clock

    def call(self, screen: str, lang: str) -> HelpCall:
        now = self._clock()
        call = HelpCall(uuid.uuid4().hex, now, screen, lang)
        with self._repos.store.transaction():
            calls = list(self._repos.settings.get(HELP_CALLS) or [])
            calls.append({"id": call.call_id, "at": now.isoformat(), "screen": screen,
                          "lang": lang})  # fmt: skip
            self._repos.settings.set(HELP_CALLS, calls)
            alert(self._repos, now, "help", f"a customer asks for help at the kiosk ({screen})")
        return call

    def open(self) -> list[HelpCall]:
        return [
            HelpCall(c["id"], datetime.fromisoformat(c["at"]), c["screen"], c["lang"])
            for c in self._repos.settings.get(HELP_CALLS) or []
        ]

    def answer(self, member: StaffMember) -> int:
        """Staff went to the customer: every open call is answered."""
        calls = self.open()
        self._repos.settings.set(HELP_CALLS, [])
        if calls:
            log.info("%s answered %d call(s) for help", member.staff_id, len(calls))
        return len(calls)
