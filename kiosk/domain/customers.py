"""Customers as the shop's POS keeps them, their credit account, and the lookup keys.

The kiosk finds a customer by what a person can type or scan at a shared screen (phone,
email, account number, rewards card), and shows them back only in masked form, so the
next person in the queue learns nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from kiosk.domain.money import Money
from kiosk.domain.text import cut, nfc, width


class CustomerError(ValueError):
    """A customer record that the shop could not accept, with the field at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


class CreditLimitExceeded(ValueError):
    """A charge on account that the credit limit does not allow."""


class ContactPreference(StrEnum):
    EMAIL = "email"
    SMS = "sms"


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NON_DIGITS = re.compile(r"\D")


def normalise_phone(raw: str, country_calling_code: str = "") -> str:
    """One spelling per number, so "+33 6 12 34 56 78", "0033612345678" and
    "06.12.34.56.78" (with calling code 33) all find the same customer."""
    text = raw.strip()
    digits = _NON_DIGITS.sub("", text)
    if not digits:
        return ""
    if text.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if country_calling_code and digits.startswith("0"):
        return "+" + country_calling_code + digits[1:]
    return digits


def normalise_email(raw: str) -> str:
    return raw.strip().casefold()


def validate_email(raw: str) -> str:
    email = raw.strip()
    if not _EMAIL.match(email):
        raise CustomerError("email", f"{raw!r} is not an email address like name@example.com")
    return email


def validate_phone(raw: str) -> str:
    digits = _NON_DIGITS.sub("", raw)
    if len(digits) < 6 or len(digits) > 15:
        raise CustomerError("phone", f"{raw!r} should have between 6 and 15 digits")
    if re.search(r"[^\d\s+().\-/]", raw):
        raise CustomerError("phone", f"{raw!r} has characters a phone number does not have")
    return raw.strip()


def mask_name(first_name: str, last_name: str) -> str:
    """ "Jean Dupont" → "J. Dup…": enough for its owner to recognise, little for anyone
    else; cut between the characters a person sees, never inside one (kiosk/domain/text)."""
    first = nfc(first_name.strip())
    initial = f"{cut(first, 1).upper()}. " if first else ""
    last = nfc(last_name.strip())
    shown = cut(last, 3) + ("…" if width(last) > 3 else "")
    return f"{initial}{shown}"


def mask_phone(phone: str) -> str:
    """ "+33 6 12 34 56 78" → "•• •• •• 56 78": only the last four digits are shown."""
    digits = _NON_DIGITS.sub("", phone)
    if len(digits) < 4:
        return "••"
    return "•• •• •• " + digits[-4:-2] + " " + digits[-2:]


def mask_email(email: str) -> str:
    """ "jean.dupont@example.com" → "j•••@e•••.com"."""
    local, _, domain = email.strip().partition("@")
    host, dot, tld = domain.rpartition(".")
    if not dot:
        host, tld = domain, ""
    return f"{local[:1]}•••@{host[:1]}•••{dot}{tld}"


def account_number_for(prefix: str, sequence: int) -> str:
    """Account numbers a kiosk creates offline carry its own prefix, so they can never
    collide with the back office's numbers or another kiosk's."""
    if sequence < 1:
        raise CustomerError("account_number", "sequence starts at 1")
    return f"{prefix}{sequence:06d}"


@dataclass(frozen=True, slots=True)
class CreditAccount:
    limit: Money
    debt: Money
    unapplied_deposits: Money
    opened_on: date

    @property
    def balance_owed(self) -> Money:
        return self.debt - self.unapplied_deposits

    @property
    def available(self) -> Money:
        """What can still be charged; zero (never negative) when the limit is reached."""
        room = self.limit - self.balance_owed
        return room if not room.is_negative() else Money.zero(room.currency)

    def can_charge(self, amount: Money) -> bool:
        if self.limit.is_zero() or amount.is_negative():
            return False
        return self.balance_owed + amount <= self.limit

    def charge(self, amount: Money) -> CreditAccount:
        if amount.is_negative() or amount.is_zero():
            raise CreditLimitExceeded(f"a charge must be positive, got {amount}")
        if self.limit.is_zero():
            raise CreditLimitExceeded("this account's credit limit is 0: no new charge")
        if not self.can_charge(amount):
            raise CreditLimitExceeded(
                f"charging {amount} would exceed the credit limit {self.limit} "
                f"(owed {self.balance_owed}, available {self.available})"
            )
        return replace(self, debt=self.debt + amount)

    def record_payment(self, amount: Money) -> CreditAccount:
        """A payment against the statement lowers the debt; any surplus becomes a deposit."""
        if amount.is_negative() or amount.is_zero():
            raise ValueError(f"a payment must be positive, got {amount}")
        if amount <= self.debt:
            return replace(self, debt=self.debt - amount)
        surplus = amount - self.debt
        return replace(
            self,
            debt=Money.zero(amount.currency),
            unapplied_deposits=self.unapplied_deposits + surplus,
        )


_TYPED = ("last_name", "title", "first_name", "company", "postcode", "city", "region", "notes")


@dataclass(frozen=True, slots=True)
class Customer:
    account_number: str
    last_name: str
    title: str = ""
    first_name: str = ""
    company: str = ""
    address_lines: tuple[str, ...] = ()
    postcode: str = ""
    city: str = ""
    region: str = ""
    country: str = ""
    phone: str = ""
    mobile: str = ""
    email: str = ""
    contact_preference: ContactPreference = ContactPreference.EMAIL
    tax_exempt: bool = False
    tax_number: str = ""
    discount_percent: Decimal = Decimal(0)
    marketing_consent: bool = False
    marketing_consent_at: datetime | None = None
    rewards_card: str = ""
    notes: str = ""
    credit: CreditAccount | None = None

    def __post_init__(self) -> None:
        for name in _TYPED:  # one spelling per name, whoever typed it (kiosk/domain/text)
            value = getattr(self, name)
            if value != nfc(value):
                object.__setattr__(self, name, nfc(value))
        if not self.account_number.strip():
            raise CustomerError("account_number", "is required")
        if not self.last_name.strip():
            raise CustomerError("last_name", "is required")
        if self.email:
            validate_email(self.email)
        if self.phone:
            validate_phone(self.phone)
        if self.mobile:
            validate_phone(self.mobile)
        if not Decimal(0) <= self.discount_percent <= Decimal(100):
            raise CustomerError("discount_percent", f"{self.discount_percent} is not 0–100")
        if self.marketing_consent and self.marketing_consent_at is None:
            raise CustomerError("marketing_consent_at", "consent needs the date it was given")
        if self.contact_preference is ContactPreference.SMS and not (self.mobile or self.phone):
            raise CustomerError("contact_preference", "SMS needs a phone or mobile number")
        if (
            self.contact_preference is ContactPreference.EMAIL
            and not self.email
            and not (self.mobile or self.phone)
        ):
            raise CustomerError("email", "a customer needs an email or a phone number")

    # -- lookups ------------------------------------------------------------------------
    def phone_keys(self, country_calling_code: str = "") -> set[str]:
        keys = {normalise_phone(p, country_calling_code) for p in (self.phone, self.mobile)}
        keys.discard("")
        return keys

    def email_key(self) -> str:
        return normalise_email(self.email) if self.email else ""

    # -- shared-screen forms ------------------------------------------------------------
    @property
    def masked_name(self) -> str:
        return mask_name(self.first_name, self.last_name)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.mobile or self.phone)

    def phone_ends_with(self, last_four: str) -> bool:
        """The verification a customer gives at pickup: the last four digits on file."""
        wanted = _NON_DIGITS.sub("", last_four)
        if len(wanted) != 4:
            return False
        return any(_NON_DIGITS.sub("", p).endswith(wanted) for p in (self.mobile, self.phone) if p)

    def give_marketing_consent(self, consent: bool, now: datetime) -> Customer:
        return replace(
            self, marketing_consent=consent, marketing_consent_at=now if consent else None
        )

    def with_credit(self, credit: CreditAccount | None) -> Customer:
        return replace(self, credit=credit)
