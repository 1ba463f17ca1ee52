"""Finding who stands at the kiosk from what they type or scan, and proving it.

Whatever is typed (a phone number in any spelling, an email, an account number) or
scanned (a rewards card) finds the customer; the screen then shows only a masked name
for them to confirm. Where money or someone's item is at stake, the last four digits of
the phone on file must be given too, and five wrong tries lock that door for 15 minutes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.domain.customers import Customer
from kiosk.storage.repositories import Repositories

MAX_TRIES = 5
LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class Match:
    account_number: str
    masked_name: str
    masked_phone: str


def find_customers(repos: Repositories, typed: str) -> list[Customer]:
    text = typed.strip()
    if not text:
        return []
    if "@" in text:
        return repos.customers.find_by_email(text)
    card = repos.customers.find_by_rewards_card(text)
    if card is not None:
        return [card]
    by_account = repos.customers.get(text)
    if by_account is not None:
        return [by_account]
    if len(re.sub(r"\D", "", text)) >= 6:
        return repos.customers.find_by_phone(text)
    return []


def matches(customers: list[Customer]) -> list[Match]:
    return [Match(c.account_number, c.masked_name, c.masked_phone) for c in customers]


@dataclass(frozen=True)
class Verification:
    ok: bool
    tries_left: int
    locked_until: datetime | None = None


class Verifier:
    """Last-four-digits checks with a durable lockout per subject (a claim code, an
    account), so turning the kiosk off and on again does not reset the count."""

    def __init__(self, repos: Repositories, clock: Callable[[], datetime]) -> None:
        self._repos = repos
        self._clock = clock

    def _key(self, subject: str) -> str:
        return f"lockout:{subject}"

    def locked_until(self, subject: str) -> datetime | None:
        state = self._repos.settings.get(self._key(subject)) or {}
        until = state.get("until")
        if until and datetime.fromisoformat(until) > self._clock():
            return datetime.fromisoformat(until)
        return None

    def check(self, subject: str, customer: Customer, last_four: str) -> Verification:
        locked = self.locked_until(subject)
        if locked is not None:
            return Verification(False, 0, locked)
        key = self._key(subject)
        state = self._repos.settings.get(key) or {}
        if customer.phone_ends_with(last_four):
            self._repos.settings.set(key, {"tries": 0})
            return Verification(True, MAX_TRIES)
        tries = int(state.get("tries", 0)) + 1
        if tries >= MAX_TRIES:
            until = self._clock() + LOCKOUT
            self._repos.settings.set(key, {"tries": 0, "until": until.isoformat()})
            return Verification(False, 0, until)
        self._repos.settings.set(key, {"tries": tries})
        return Verification(False, MAX_TRIES - tries)

    def unlock(self, subject: str) -> None:
        """Staff lifted the lock (staff mode)."""
        self._repos.settings.set(self._key(subject), {"tries": 0})
