"""A back office with a shop, three customers whose names test every alphabet path
(Zoé: GSM 7-bit and Latin-1; Łukasz: neither; 王芳: CJK), their orders, and the
servers of servers.py."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.db import Notification, make_engine, make_sessions
from backoffice.messages import settings as channels
from backoffice.messages.sender import Sender
from backoffice.service import BackOffice
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import ContactPreference, Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import CustomerItem, OrderState, ServiceLine, ServiceOrder
from tests.messages import servers

START = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
SHOP = "Atelier Vélo"
PEOPLE = {  # account: (first name, last name, e-mail, mobile, the order's language)
    "C-ZOE": ("Zoé", "Dupont", "zoe@example.fr", "06 12 34 56 78", "fr"),  # national
    "C-LUK": ("Łukasz", "Nowak", "lukasz@example.pl", "+48601234567", "en"),
    "C-WANG": ("王芳", "Wang", "wang.fang@example.cn", "+8613812345678", "fr"),
}


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class World:
    office: BackOffice
    shop: int
    clock: Clock
    db_url: str
    orders: dict[str, ServiceOrder] = field(default_factory=dict)

    @property
    def sessions(self):  # type: ignore[no-untyped-def]
        return self.office.sessions

    def customer(self, account: str, *, sms: bool = False) -> Customer:
        first, last, email, mobile, _ = PEOPLE[account]
        c = Customer(
            account,
            last,
            first_name=first,
            email=email,
            mobile=mobile,
            contact_preference=ContactPreference.SMS if sms else ContactPreference.EMAIL,
        )
        self.office.put_customer(self.shop, c)
        return c

    def order(self, account: str, number: str, *, language: str | None = None) -> ServiceOrder:
        order = ServiceOrder(
            number=number,
            claim_code=ClaimCode.from_random(secrets.token_bytes(5)),
            customer_account=account,
            currency="EUR",
            created_at=START,
            items=(CustomerItem("Vélo électrique Moustache"),),
            lines=(
                ServiceLine(
                    "REV",
                    "Révision complète",
                    Money(Decimal("89.00"), "EUR"),
                    tax_rate_percent=Decimal(20),
                ),
            ),
            state=OrderState.IN_PROGRESS,
            language=PEOPLE[account][4] if language is None else language,
            status_token=secrets.token_urlsafe(16),
        )
        self.office.put_order(self.shop, order)
        self.orders[number] = order
        return order

    def ready(self, number: str) -> None:
        self.office.set_state(self.shop, number, OrderState.DONE, "workshop")

    def estimate(self, number: str) -> None:
        self.office.set_state(
            self.shop, number, OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION, "workshop"
        )

    def channels(self, **sections: dict[str, object]) -> None:
        data: dict[str, object] = {
            "language": "fr",
            "status_url": "https://atelier.example/s/",
            "address": "12 rue des Cycles, Lyon",
            "hours": "Mardi–samedi 9 h–18 h",
        }
        channels.save(self.sessions, self.shop, channels.parse({**data, **sections}))

    def notes(self) -> list[Notification]:
        with self.sessions() as s:
            return list(s.scalars(select(Notification).order_by(Notification.id)).all())


def three_senders(world: World) -> None:
    """Three sender workers at once in this process, each until nothing is owed."""
    stop = threading.Event()
    workers = [Sender(world.sessions, f"w{i}", world.clock) for i in range(3)]
    threads = [threading.Thread(target=w.run, args=(stop, 0.05, True)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


def make_world(url: str) -> World:
    clock = Clock()
    office = BackOffice(make_sessions(make_engine(url)), clock=clock)
    return World(office, office.create_shop(SHOP), clock, url)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(f"sqlite:///{tmp_path / 'office.db'}")


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return servers.certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def relay_starttls(tls_files: tuple[Path, Path]) -> Iterator[servers.SmtpServer]:
    server = servers.smtp_server(*tls_files)
    yield server
    server.stop()


@pytest.fixture
def relay_plain(tls_files: tuple[Path, Path]) -> Iterator[servers.SmtpServer]:
    server = servers.smtp_server(*tls_files, plain=True)
    yield server
    server.stop()


def email_settings(server: servers.SmtpServer, security: str = "starttls") -> dict[str, object]:
    section: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "sender": f"{SHOP} <atelier@atelier.example>",
        "security": security,
        "timeout_s": 5,
    }
    if security != "none":
        section |= {
            "username": servers.USER,
            "password": servers.PASSWORD,
            "ca_file": str(server.cafile),
        }
    return section
