"""The reference back office's database: SQLite by default, PostgreSQL by URL.

Every record a kiosk may pull lives in `entities` (one row per customer, order,
invoice…, its data as the kiosk's own plain JSON) with the shop's change sequence
number of its last change, so "what changed since cursor N" is one indexed query.
`applied_operations` remembers every operation a kiosk pushed, by its id, with the
answer given: the same operation pushed again gets the same answer and changes nothing.

The schema is made and changed by Alembic migrations (`backoffice/migrations/`), run by
`upgrade` when the back office opens its database; a database made before migrations
existed (tables, no `alembic_version`) is stamped with the baseline first.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


def utcnow() -> datetime:
    return datetime.now(UTC)


def digest_text(text: str) -> str:
    """SHA-256 of a secret in hex: what the database keeps of credentials and tokens."""
    return hashlib.sha256(text.encode()).hexdigest()


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Shop(Base):
    __tablename__ = "shops"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    seq: Mapped[int] = mapped_column(BigInteger, default=0)  # last change number


class Kiosk(Base):
    __tablename__ = "kiosks"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    kiosk_id: Mapped[str] = mapped_column(String(8))
    credential_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat: Mapped[dict[str, Any]] = mapped_column(default=dict)
    __table_args__ = (UniqueConstraint("shop_id", "kiosk_id"),)


class EnrolmentCode(Base):
    __tablename__ = "enrolment_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    kiosk_id: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class Entity(Base):
    __tablename__ = "entities"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    kind: Mapped[str] = mapped_column(String(20))  # customer, order, invoice, catalogue, …
    key: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # None: deleted
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    __table_args__ = (UniqueConstraint("shop_id", "kind", "key"),)


class AppliedOperation(Base):
    __tablename__ = "applied_operations"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    op_id: Mapped[str] = mapped_column(String(64))
    kiosk: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(40))
    payload_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))  # applied | rejected
    reason: Mapped[str] = mapped_column(String(500), default="")
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("shop_id", "op_id"),)


class Notification(Base):
    """A message the shop owes a customer (ready for pickup, an estimate to approve, a
    receipt), and its way through the queue (backoffice/messages/queue.py)."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    customer_account: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))  # email | sms
    subject: Mapped[str] = mapped_column(String(200))  # for staff's lists, in English
    body: Mapped[str] = mapped_column(String(10000), default="")  # a receipt's text
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20), default="")  # ready | estimate | receipt
    order_number: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    status: Mapped[str] = mapped_column(String(10), default="owed")  # owed sending retry sent …
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    answer: Mapped[str] = mapped_column(String(500), default="")  # the server's last word
    provider_id: Mapped[str] = mapped_column(String(200), default="")  # Message-ID, SMS ids
    delivery: Mapped[str] = mapped_column(String(100), default="")  # SMS delivery receipt
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    printed: Mapped[str | None] = mapped_column(Text, default=None)  # a receipt's ESC/POS, base64
    __table_args__ = (Index("ix_notifications_queue", "status", "next_attempt_at"),)


class MessageSettings(Base):
    """A shop's channels (backoffice/messages/settings.py): never pulled by kiosks."""

    __tablename__ = "message_settings"
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatusLink(Base):
    """An order's status page, by the hash of its token (the token itself is printed on
    the ticket and kept in the order)."""

    __tablename__ = "status_links"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    order_number: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    __table_args__ = (Index("ix_status_links_order", "shop_id", "order_number"),)


class UpdateRollout(Base):
    """Which release a shop's kiosks run (kiosk_id ""), or one kiosk's own: a version,
    or the newest on a channel; `percent` of the kiosks take it (backoffice/updates/)."""

    __tablename__ = "update_rollouts"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    kiosk_id: Mapped[str] = mapped_column(String(8), default="")
    version: Mapped[str] = mapped_column(String(40), default="")
    channel: Mapped[str] = mapped_column(String(20), default="")
    percent: Mapped[int] = mapped_column(default=100)
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("shop_id", "kiosk_id", name="uq_update_rollouts"),)


class FailedAttempt(Base):
    """A wrong enrolment code or staff token, by where it came from (backoffice/guard.py)."""

    __tablename__ = "failed_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # enrol | staff
    source: Mapped[str] = mapped_column(String(64))  # the client's address
    at: Mapped[datetime]
    __table_args__ = (Index("ix_failed_attempts_lookup", "kind", "source", "at"),)


def record_data(s: Session, shop_id: int, kind: str, key: str) -> dict[str, Any] | None:
    """A record's data as the kiosk wrote it; None when there is none or it was deleted."""
    return s.scalar(
        select(Entity.data).where(Entity.shop_id == shop_id, Entity.kind == kind, Entity.key == key)
    )


MIGRATIONS = Path(__file__).with_name("migrations")
POOL_SIZE = 20  # PostgreSQL connections a server process keeps (make_engine)
BASELINE = "0001"


def make_engine(url: str, *, migrate: bool = True) -> Engine:
    """An engine for url; with `migrate`, the schema brought to the newest revision first
    (a server's worker processes open theirs with migrate=False, after the parent did)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True)
    else:
        # Sized from the fleet bench (docs/sync-protocol.md): a worker's 40 request threads
        # share 20 connections, all kept (an "overflow" connection is closed when given
        # back, and PostgreSQL starts a process for each new one: under load they came
        # and went by the hundred); one not had within 3 s is a 503 with Retry-After
        # (api.py), well inside the kiosk's 10 s. No ping before each use (a round trip
        # a request): a connection found dead is thrown away and the transaction run
        # again (service.retried); connections older than 30 min are replaced.
        engine = create_engine(
            url, future=True, pool_size=POOL_SIZE, max_overflow=0, pool_timeout=3.0,
            pool_recycle=1800, pool_pre_ping=False,
        )  # fmt: skip
    if engine.dialect.name == "sqlite":
        # Requests run on several threads. A deferred SQLite transaction that reads and then
        # writes can fail to upgrade its lock ("database is locked"); BEGIN IMMEDIATE takes
        # the write lock up front and waits busy_timeout for it (SQLAlchemy's pysqlite recipe).

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn: Any, _record: Any) -> None:
            conn.isolation_level = None  # let the "begin" hook above issue BEGIN
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

    if migrate:
        upgrade(engine)
    return engine


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(_alembic_config()).get_current_head())


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = _alembic_config()
    with engine.connect() as conn:
        # SQLite alters a table by copying it; its foreign keys would refuse dropping the
        # old copy while rows point at it. The pragma only works outside a transaction.
        sqlite = conn.dialect.name == "sqlite"
        driver: Any = conn.connection.driver_connection
        if sqlite:
            driver.execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            config.attributes["connection"] = conn
            tables = set(inspect(conn).get_table_names())
            if "shops" in tables and "alembic_version" not in tables:
                command.stamp(config, BASELINE)  # made by create_all before migrations
            command.upgrade(config, revision)
        if sqlite:
            driver.execute("PRAGMA foreign_keys=ON")


def make_sessions(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)
