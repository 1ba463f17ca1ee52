"""`python -m backoffice`: run the reference back office, seed it, and do the shop's
staff work from a shell (what a POS would do through its own screens)."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from backoffice.db import make_engine, make_sessions
from backoffice.guard import StaffToken, new_token_file
from backoffice.service import BackOffice, Rejected
from backoffice.updates import cli as update_cli
from backoffice.updates.repository import Repository, RepositoryError
from kiosk.config import DEMO_SHOP
from kiosk.domain.billing import build_invoice
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import ContactPreference, Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import CustomerItem, OrderState, ServiceLine, ServiceOrder
from kiosk.domain.plain import DecodeError, from_plain

DEFAULT_DB = "sqlite:///backoffice.db"


def office(url: str) -> BackOffice:
    return BackOffice(make_sessions(make_engine(url)))


def admin_token(path: Path) -> str:
    """The staff token, made once and kept 0600 beside the database."""
    if path.exists():
        return path.read_text().strip()
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token


def seed_demo(bo: BackOffice, customers: int = 60) -> dict[str, Any]:
    from kiosk.services.demo_data import catalogue_records, demo_records, item_kinds_record

    shop = bo.create_shop(DEMO_SHOP[0], "EUR")
    counts = {"shop_id": shop, "customers": 0, "orders": 0, "invoices": 0}
    for record in demo_records("BO-", "EUR", datetime.now(UTC), customers):
        bo.put_customer(shop, record.customer)
        bo.put_order(shop, record.order)
        counts["customers"] += 1
        counts["orders"] += 1
        if record.invoice is not None:
            bo.put_invoice(shop, record.invoice)
            counts["invoices"] += 1
    for code, item in catalogue_records().items():
        bo.put_record(shop, "catalogue", code, item)
    bo.put_record(shop, "setting", "item_kinds", item_kinds_record())
    bo.put_record(shop, "setting", "terms_days", {"value": 90})
    counts["enrolment_code"] = bo.enrolment_code(shop, "DEMO")
    return counts


def _line(spec: str) -> ServiceLine:
    parts = spec.split(":")
    if len(parts) not in (3, 4):
        raise ValueError(f"--line {spec!r}: expected CODE:DESCRIPTION:PRICE[:TAX%]")
    tax = Decimal(parts[3]) if len(parts) == 4 else Decimal(20)
    return ServiceLine(parts[0], parts[1], Money(parts[2], "EUR"), tax_rate_percent=tax)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backoffice", description=__doc__)
    parser.add_argument(
        "--db", default=os.environ.get("BACKOFFICE_DB", DEFAULT_DB), help="SQLAlchemy URL"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (loopback by default)")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--admin-token-file", default="backoffice-admin.token")
    serve.add_argument(
        "--send-messages",
        action="store_true",
        help="also send the owed messages (one sender worker beside the server)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (for PostgreSQL; SQLite takes one writer at a time anyway)",
    )
    seed = sub.add_parser("seed", help="demo data")
    seed.add_argument("--demo", action="store_true", required=True)
    seed.add_argument("--customers", type=int, default=60)
    code = sub.add_parser("enrol-code", help="a one-time code for `kiosk enroll`")
    code.add_argument("--shop", type=int, required=True)
    code.add_argument("--kiosk", required=True, help="the kiosk's id, e.g. K1")
    state = sub.add_parser("order-state", help="move a service order to a new state")
    state.add_argument("--shop", type=int, required=True)
    state.add_argument("number")
    state.add_argument("state", choices=[s.value for s in OrderState])
    loc = sub.add_parser("order-location", help="record where an item is")
    loc.add_argument("--shop", type=int, required=True)
    loc.add_argument("number")
    loc.add_argument("location")
    limit = sub.add_parser("credit-limit", help="set a customer's credit limit (0 blocks charges)")
    limit.add_argument("--shop", type=int, required=True)
    limit.add_argument("account")
    limit.add_argument("amount")
    cust = sub.add_parser("customer-add", help="add or replace a customer")
    cust.add_argument("--shop", type=int, required=True)
    cust.add_argument("--account", required=True)
    cust.add_argument("--last-name", required=True)
    cust.add_argument("--first-name", default="")
    cust.add_argument("--phone", default="")
    cust.add_argument("--email", default="")
    cust.add_argument("--sms", action="store_true", help="prefers SMS to email")
    add_order = sub.add_parser("order-add", help="add a service order (state New)")
    add_order.add_argument("--shop", type=int, required=True)
    add_order.add_argument("--number", required=True)
    add_order.add_argument("--customer", required=True, help="account number")
    add_order.add_argument("--item", required=True, help="e.g. 'Vélo Peugeot'")
    add_order.add_argument("--serial", default="")
    add_order.add_argument("--work", default="")
    add_order.add_argument(
        "--line",
        action="append",
        default=[],
        metavar="CODE:DESCRIPTION:PRICE[:TAX%]",
        help="a catalogue line (repeat for more)",
    )
    inv = sub.add_parser("invoice-add", help="bill a service order")
    inv.add_argument("--shop", type=int, required=True)
    inv.add_argument("--order", required=True)
    inv.add_argument("--number", required=True, help="the invoice number")
    rotate = sub.add_parser("rotate-staff-token", help="replace the staff token (servers follow)")
    rotate.add_argument("--admin-token-file", default="backoffice-admin.token")
    notes = sub.add_parser("notifications", help="messages owed to customers")
    notes.add_argument("--shop", type=int, required=True)
    send = sub.add_parser("send-messages", help="a sender worker: owed messages out")
    send.add_argument("--worker", default=f"{os.uname().nodename}-{os.getpid()}")
    send.add_argument("--until-idle", action="store_true", help="stop when none is owed")
    send.add_argument("--idle-s", type=float, default=5.0)
    send.add_argument("--lease-s", type=float, default=120.0, help="a claim's life")
    channels = sub.add_parser("messaging", help="set a shop's e-mail and SMS channels")
    channels.add_argument("--shop", type=int, required=True)
    channels.add_argument("file", type=Path, help="TOML: [email], [sms] (docs/messages.md)")
    serve.add_argument("--updates", type=Path, help="the update repository to serve (TUF)")
    serve.add_argument("--timestamp-key", type=Path, help="re-sign its timestamp with this key")
    update_cli.add_parsers(sub)
    args = parser.parse_args(argv)

    if args.command == "release":
        try:
            return update_cli.release(args)
        except (RepositoryError, ValueError, OSError) as exc:
            print(f"backoffice release: {exc}", file=sys.stderr)
            return 1
    if args.command == "serve":
        import uvicorn

        from backoffice.api import create_app

        admin_token(Path(args.admin_token_file))  # made once, 0600, if missing
        print(f"staff token in {args.admin_token_file}", file=sys.stderr)
        if args.send_messages:
            _sender_beside(args.db)
        updates = Repository(args.updates) if args.updates else None
        if updates is not None and args.timestamp_key:
            update_cli.keep_timestamp_fresh(updates, args.timestamp_key)
        if args.workers > 1:
            # Migrations run once, here; each worker process opens the database itself.
            make_engine(args.db).dispose()
            os.environ["BACKOFFICE_DB"] = args.db
            os.environ["BACKOFFICE_ADMIN_TOKEN_FILE"] = str(Path(args.admin_token_file).resolve())
            if updates is not None:
                os.environ["BACKOFFICE_UPDATES"] = str(args.updates.resolve())
            uvicorn.run(
                "backoffice.api:app_from_environment",
                factory=True,
                workers=args.workers,
                host=args.host,
                port=args.port,
                log_level="warning",
            )
            return 0
        app = create_app(office(args.db), StaffToken(Path(args.admin_token_file)), updates=updates)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return 0
    if args.command == "send-messages":
        return _send_messages(args)
    if args.command == "rotate-staff-token":
        new_token_file(Path(args.admin_token_file))
        print(f"new staff token in {args.admin_token_file}; running servers use it at once")
        return 0
    bo = office(args.db)
    try:
        if args.command == "seed":
            for key, value in seed_demo(bo, args.customers).items():
                print(f"{key:<15} {value}")
        elif args.command == "enrol-code":
            print(bo.enrolment_code(args.shop, args.kiosk))
        elif args.command == "order-state":
            order = bo.set_state(args.shop, args.number, OrderState(args.state), "backoffice-cli")
            print(f"{order.number}: {order.state}")
        elif args.command == "order-location":
            order = bo.set_location(args.shop, args.number, args.location, "backoffice-cli")
            print(f"{order.number}: {order.location}")
        elif args.command == "credit-limit":
            customer = bo.set_credit_limit(args.shop, args.account, Money(args.amount, "EUR"))
            assert customer.credit is not None
            print(f"{customer.account_number}: limit {customer.credit.limit}")
        elif args.command == "customer-add":
            customer = Customer(
                account_number=args.account,
                last_name=args.last_name,
                first_name=args.first_name,
                phone=args.phone,
                email=args.email,
                contact_preference=ContactPreference.SMS if args.sms else ContactPreference.EMAIL,
            )
            bo.put_customer(args.shop, customer)
            print(f"customer {customer.account_number}")
        elif args.command == "order-add":
            if bo.get(args.shop, "customer", args.customer) is None:
                raise Rejected(f"no customer {args.customer}")
            order = ServiceOrder(
                number=args.number,
                claim_code=ClaimCode.from_random(secrets.token_bytes(5)),
                customer_account=args.customer,
                currency="EUR",
                created_at=datetime.now(UTC),
                items=(CustomerItem(args.item, serial_number=args.serial),),
                work_requested=args.work,
                lines=tuple(_line(spec) for spec in args.line),
            )
            bo.put_order(args.shop, order)
            print(f"order {order.number}, claim code {order.claim_code.display}")
        elif args.command == "invoice-add":
            order_data = bo.get(args.shop, "order", args.order)
            if order_data is None:
                raise Rejected(f"no service order {args.order}")
            order = from_plain(ServiceOrder, order_data)
            customer_data = bo.get(args.shop, "customer", order.customer_account)
            if customer_data is None:
                raise Rejected(f"no customer {order.customer_account}")
            invoice = build_invoice(
                args.number,
                order,
                from_plain(Customer, customer_data),
                datetime.now(UTC),
                prices_include_tax=True,
            )
            bo.put_invoice(args.shop, invoice)
            print(f"invoice {invoice.number}: {invoice.amount_due} due")
        elif args.command == "messaging":
            import tomllib

            from backoffice.messages import settings

            parsed = settings.parse(tomllib.loads(args.file.read_text()))
            settings.save(bo.sessions, args.shop, parsed)
            print(f"shop {args.shop}: e-mail {'on' if parsed.email else 'off'}, "
                  f"SMS {parsed.sms.transport if parsed.sms else 'off'}")  # fmt: skip
        elif args.command == "rollout":
            return update_cli.rollout(args, bo.sessions)
        elif args.command == "notifications":
            for n in bo.notifications(args.shop):
                print(f"{n['channel']:<6} {n['customer_account']:<12} {n['subject']}")
    except (Rejected, ValueError, DecodeError, InvalidOperation, OSError) as exc:
        print(f"backoffice: {exc}", file=sys.stderr)
        return 1
    return 0


def _sender_beside(db: str) -> None:
    """A sender worker on a thread of the serving process, for a shop that runs one
    server (systemd/backoffice.service); a chain runs `send-messages` on its own."""
    import logging
    import threading

    from backoffice.messages.sender import Sender

    logging.getLogger("backoffice.messages").setLevel(logging.INFO)
    sender = Sender(make_sessions(make_engine(db)), f"{os.uname().nodename}-{os.getpid()}")
    threading.Thread(
        target=sender.run, args=(threading.Event(),), name="sender", daemon=True
    ).start()


def _send_messages(args: argparse.Namespace) -> int:
    import logging
    import signal
    import threading

    from backoffice.messages.sender import Sender

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):  # the message in hand is finished first
        signal.signal(signum, lambda *_: stop.set())
    sender = Sender(make_sessions(make_engine(args.db)), args.worker, lease_s=args.lease_s)
    sender.run(stop, idle_s=args.idle_s, until_idle=args.until_idle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
