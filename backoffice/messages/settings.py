"""A shop's message channels, as staff give them (`python -m backoffice messaging SHOP
FILE.toml`, or PUT /v1/admin/shops/{id}/messaging): checked whole before they are kept,
every mistake named with its key. Kept in `message_settings`, never pulled by kiosks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backoffice.db import MessageSettings

SECURITY = ("starttls", "tls", "none")  # submission (587), implicit TLS (465), a local relay
SMS_TRANSPORTS = ("smpp", "webhook")


class SettingsError(ValueError):
    """What is wrong in a shop's message settings, and where."""


@dataclass(frozen=True)
class EmailSettings:
    host: str
    sender: str  # the From address: "Atelier Vélo <atelier@example.com>" or a bare address
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str = ""
    ca_file: str = ""  # a private CA for the relay's certificate; empty: the system's
    timeout_s: float = 30.0


@dataclass(frozen=True)
class SmsSettings:
    transport: str = "smpp"
    host: str = ""
    port: int = 2775
    system_id: str = ""
    password: str = ""
    source_addr: str = ""  # the sender shown on phones: a number, or up to 11 letters
    receipt_wait_s: float = 2.0  # how long a send listens for delivery receipts
    webhook_url: str = ""
    webhook_secret: str = ""  # signs each webhook body (HMAC-SHA256)
    timeout_s: float = 30.0


@dataclass(frozen=True)
class ShopMessaging:
    language: str = "fr"  # for a message whose order said none
    status_url: str = ""  # public address of status pages (…/s/), for links in messages
    address: str = ""  # where to collect, as the shop writes it
    hours: str = ""  # when, as the shop writes it
    country_calling_code: str = "33"  # makes national numbers international (06… → +336…)
    prices_include_tax: bool = True  # as the kiosks' [shop] setting: estimates add up alike
    email: EmailSettings | None = None
    sms: SmsSettings | None = None


def _section(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise SettingsError(f"[{where}] must be a table of keys")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SettingsError(f"[{where}] has no key {', '.join(unknown)} ({', '.join(known)})")
    values = {}
    for name, value in data.items():
        kind = type(getattr(cls, name, None)) if name in cls.__dict__ else str
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
            raise SettingsError(f"[{where}] {name} must be {kind.__name__}, not {value!r}")
        values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:
        raise SettingsError(f"[{where}] {exc}") from None


def parse(data: dict[str, Any]) -> ShopMessaging:
    data = dict(data)
    email = _section(EmailSettings, data.pop("email"), "email") if "email" in data else None
    sms = _section(SmsSettings, data.pop("sms"), "sms") if "sms" in data else None
    shop: ShopMessaging = _section(ShopMessaging, data, "messaging")
    if email is not None:
        if email.security not in SECURITY:
            raise SettingsError(f"[email] security is one of {', '.join(SECURITY)}")
        if "@" not in email.sender:
            raise SettingsError("[email] sender needs an address (name@example.com)")
        if bool(email.username) != bool(email.password):
            raise SettingsError("[email] username and password go together")
    if sms is not None:
        if sms.transport not in SMS_TRANSPORTS:
            raise SettingsError(f"[sms] transport is one of {', '.join(SMS_TRANSPORTS)}")
        if sms.transport == "smpp" and not (sms.host and sms.system_id and sms.source_addr):
            raise SettingsError("[sms] smpp needs host, system_id and source_addr")
        # SMPP 3.4's C-Octet Strings: longer ones would be cut short on the wire
        for name, most in (("system_id", 15), ("password", 8), ("source_addr", 20)):
            if len(getattr(sms, name)) > most:
                raise SettingsError(f"[sms] {name} has at most {most} characters in SMPP 3.4")
        if sms.transport == "webhook" and not sms.webhook_url.startswith(("https://", "http://")):
            raise SettingsError("[sms] webhook needs webhook_url (https://…)")
    if not shop.country_calling_code.isdigit():
        raise SettingsError("[messaging] country_calling_code is digits, like 33")
    return replace(shop, email=email, sms=sms)


def to_data(settings: ShopMessaging) -> dict[str, Any]:
    return {k: v for k, v in asdict(settings).items() if v is not None}


def save(sessions: sessionmaker[Session], shop_id: int, settings: ShopMessaging) -> None:
    with sessions.begin() as s:
        row = s.get(MessageSettings, shop_id)
        now = datetime.now(UTC)
        if row is None:
            s.add(MessageSettings(shop_id=shop_id, data=to_data(settings), updated_at=now))
        else:
            row.data, row.updated_at = to_data(settings), now


def load(s: Session, shop_id: int) -> ShopMessaging:
    """The shop's settings; none kept: no channel (messages wait for one)."""
    data = s.scalar(select(MessageSettings.data).where(MessageSettings.shop_id == shop_id))
    return parse(data) if data else ShopMessaging()
