"""Every document the kiosk prints, filled with sample data, rendered to PNG through the
printer simulator: for docs/receipts, the demo, and anyone checking a layout change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from kiosk.config import DEMO_SHOP
from kiosk.domain.billing import Payment, PaymentMethod, build_invoice, build_statement
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import CreditAccount, Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import CustomerItem, Deposit, OrderState, ServiceLine, ServiceOrder
from kiosk.domain.shifts import Shift
from kiosk.i18n import LANGUAGES, Lang
from kiosk.receipts import builders as b
from kiosk.receipts.document import Document, to_escpos

NOW = datetime(2026, 11, 23, 15, 42, tzinfo=UTC)
SHOP = b.ShopInfo(DEMO_SHOP[0], DEMO_SHOP[1], "01 43 55 12 12", "https://atelier.example/s/")


def _eur(value: str) -> Money:
    return Money(value, "EUR")


def documents(lang_code: str) -> dict[str, Document]:
    lang = Lang(lang_code)
    account = CreditAccount(_eur("500"), _eur("84.40"), _eur("0"), date(2024, 3, 1))
    customer = Customer(
        account_number="K1-000042",
        first_name="François",
        last_name="Lefèvre",
        mobile="06 12 34 56 78",
        email="f.lefevre@example.com",
        discount_percent=Decimal(5),
        credit=account,
    )
    order = ServiceOrder(
        number="K1-2611-00017",
        claim_code=ClaimCode.from_random(bytes.fromhex("8f3a5c19e2")),
        customer_account=customer.account_number,
        currency="EUR",
        created_at=NOW,
        items=(CustomerItem("Vélo de ville Peugeot LC01", "WTU-884213", condition="rayure cadre"),),
        work_requested="Révision complète ; freins qui grincent à l'arrière",
        lines=(
            ServiceLine("tuneup", "Révision complète", _eur("59.00"), tax_rate_percent=Decimal(20)),
            ServiceLine(
                "pads",
                "Plaquettes de frein",
                _eur("12.50"),
                Decimal(2),
                tax_rate_percent=Decimal(20),
            ),
        ),
        scheduled_for=date(2026, 11, 27),
        status_token="pX4mQe7LzR2tW9bKc5NvHg",  # 16 bytes, as the drop-off makes them
    ).add_deposit(Deposit(_eur("20"), NOW, "card"))
    done = order.move_to(OrderState.IN_PROGRESS, NOW, "tech").move_to(OrderState.DONE, NOW, "tech")
    invoice = build_invoice("F-2611-0102", done, customer, NOW, prices_include_tax=True)
    card = Payment(
        "pay-1", PaymentMethod.CARD, invoice.amount_due, NOW, (invoice.number,),
        customer_account=customer.account_number, terminal_receipt_number="0117",
        card_brand="Mastercard", card_last4="5454",
    )  # fmt: skip
    older = [
        replace(build_invoice(f"F-2610-00{n}", done, customer, NOW - timedelta(days=30 + n),
                              prices_include_tax=True))
        for n in (31, 58)
    ]  # fmt: skip
    statement = build_statement(customer, older, NOW)
    paid_now = older[1].number
    statement_payment = Payment(
        "pay-2", PaymentMethod.CARD, statement.amount_for([paid_now]), NOW, (paid_now,),
        customer_account=customer.account_number, terminal_receipt_number="0118",
        card_brand="VISA", card_last4="4242",
    )  # fmt: skip
    shift = Shift("S-2611-23", NOW - timedelta(hours=8), "amelie", "EUR")
    for p in (card, statement_payment):
        shift = shift.record_payment(p)
    shift = shift.count("dropoff").count("dropoff").count("pickup").close(NOW, "amelie")
    lockers = [b.LockerContent("3", order.number, order.claim_code.display)]
    return {
        "ticket": b.dropoff_ticket(SHOP, order, customer, lang, NOW),
        "tag": b.item_tag(order, customer, lang),
        "payment": b.payment_receipt(SHOP, invoice, card, lang, account_after=account),
        "statement": b.statement_receipt(
            SHOP,
            statement,
            [older[1].number],
            statement_payment,
            customer,
            lang,
            account_after=account.record_payment(statement_payment.amount),
        ),
        "shift": b.shift_report(
            SHOP,
            shift,
            [card, statement_payment],
            lang,
            terminal_card_total=shift.grand_total,
            lockers=lockers,
        ),
    }


def write_samples(folder: Path) -> list[Path]:
    from kiosk.drivers.printer.simulator import SimulatedPrinter

    printer = SimulatedPrinter()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for lang in LANGUAGES:  # kiosk/locale/languages.toml
        for name, doc in documents(lang).items():
            pages = printer.render(to_escpos(doc)).pages
            path = folder / f"{name}-{lang}.png"
            pages[0].image.save(path)
            written.append(path)
    return written
