"""The kiosk's printed documents: drop-off ticket, item tag, payment receipt, statement
payment receipt and end-of-shift report, each in the customer's language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kiosk.domain.billing import Invoice, Payment, PaymentMethod, Statement
from kiosk.domain.customers import CreditAccount, Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import ServiceOrder
from kiosk.domain.shifts import Shift
from kiosk.i18n import Lang
from kiosk.receipts.document import (
    COLUMNS,
    Barcode,
    Cut,
    Document,
    Feed,
    Logo,
    Pair,
    Qr,
    Rule,
    Text,
    Wrap,
)

# Shift event counters → their report labels (msgids).
EVENT_LABELS = {"dropoff": "Drop-offs", "pickup": "Pickups", "statement": "Statement payments"}


@dataclass(frozen=True)
class ShopInfo:
    name: str
    address_lines: tuple[str, ...] = ()
    phone: str = ""
    status_url: str = ""  # where an order's status page is, before its token


def _header(shop: ShopInfo, title: str) -> Document:
    doc: Document = [Logo(shop.name)]
    doc += [Text(line, align="center") for line in shop.address_lines]
    if shop.phone:
        doc.append(Text(shop.phone, align="center"))
    doc += [Feed(), Text(title, align="center", bold=True), Rule()]
    return doc


def _method(lang: Lang, payment: Payment) -> str:
    if payment.method is PaymentMethod.CARD:
        brand = payment.card_brand or lang._("Card")
        return f"{brand} **** {payment.card_last4}" if payment.card_last4 else brand
    return {
        PaymentMethod.ACCOUNT: lang._("On account"),
        PaymentMethod.NOTHING_DUE: lang._("Nothing due"),
        PaymentMethod.CASH: lang._("Cash"),
    }[payment.method]


def dropoff_ticket(
    shop: ShopInfo, order: ServiceOrder, customer: Customer, lang: Lang, now: datetime
) -> Document:
    _ = lang._
    doc = _header(shop, _("Repair drop-off ticket"))
    doc += [
        Pair(_("Order"), order.number),
        Pair(_("Date"), lang.datetime(now)),
        Pair(_("Customer"), customer.masked_name),
        Feed(),
        Text(_("Your claim code"), align="center"),
        Text(order.claim_code.display, align="center", bold=True, size=2),
        Qr(order.claim_code.value, size=6),
        Text(_("Scan it at the kiosk to collect your item."), align="center"),
        Rule(),
        *_status_code(shop, order, lang),
    ]
    for item in order.items:
        doc.append(Text(item.name, bold=True))
        if item.serial_number:
            doc.append(Pair(_("Serial number"), item.serial_number))
        if item.condition:
            doc.append(Wrap(_("Condition: {text}", text=item.condition)))
    if order.work_requested:
        doc += [Feed(), Text(_("Work requested"), bold=True), Wrap(order.work_requested)]
    if order.under_warranty:
        doc.append(Text(_("Warranty claim"), bold=True))
    if order.scheduled_for:
        doc.append(Pair(_("Ready from"), lang.date(order.scheduled_for)))
    doc += [
        Rule(),
        Wrap(
            _(
                "Terms: we call you with an estimate before any work beyond what you asked "
                "for. Items not collected within 90 days of our notice may be disposed of. "
                "Keep this ticket: the claim code and your phone number are needed to collect."
            )
        ),
        Feed(2),
        Cut(),
    ]
    return doc


def _status_code(shop: ShopInfo, order: ServiceOrder, lang: Lang) -> Document:
    """The order's status page for the customer's phone: a second code, smaller than the
    claim code's and under its own heading, with its address written out to type."""
    url = order.status_link(shop.status_url)
    if not url:
        return []
    typed = url.split("://", 1)[-1]  # what a person types: browsers add the scheme
    return [
        Text(lang._("Follow your repair on your phone"), align="center", bold=True),
        Qr(url, size=4),
        Text(typed, align="center") if len(typed) <= COLUMNS else Wrap(typed),
        Rule(),
    ]


def item_tag(order: ServiceOrder, customer: Customer, lang: Lang) -> Document:
    """Tied to the item in the workshop: what staff need to find its owner."""
    _ = lang._
    doc: Document = [
        Text(customer.last_name.upper(), align="center", bold=True, size=2),
        Text(order.claim_code.display, align="center", bold=True),
        Barcode(order.claim_code.value),
        Pair(_("Order"), order.number),
    ]
    for item in order.items:
        doc.append(Text(item.name, bold=True))
        if item.serial_number:
            doc.append(Pair(_("Serial number"), item.serial_number))
    doc += [Feed(), Cut()]
    return doc


def _balance_lines(lang: Lang, account: CreditAccount | None) -> Document:
    if account is None:
        return []
    _ = lang._
    return [
        Rule(),
        Pair(_("Account balance"), lang.money(account.balance_owed)),
        Pair(_("Credit available"), lang.money(account.available)),
    ]


def payment_receipt(
    shop: ShopInfo,
    invoice: Invoice,
    payment: Payment,
    lang: Lang,
    *,
    account_after: CreditAccount | None = None,
    copy: bool = False,
    line_labels: Sequence[str] = (),
) -> Document:
    """`line_labels`: the lines' words in `lang` (kiosk/services/money/line_labels.py), else
    the invoice's own."""
    _ = lang._
    doc = _header(shop, _("Receipt"))
    if copy:  # a reprint from staff mode must never pass for the original
        doc.append(Text(_("COPY"), align="center", bold=True, size=1))
    doc += [
        Pair(_("Date"), lang.datetime(payment.at)),
        Pair(_("Invoice"), invoice.number),
    ]
    if invoice.order_number:
        doc.append(Pair(_("Order"), invoice.order_number))
    doc.append(Rule())
    labels = list(line_labels) or [line.description for line in invoice.lines]
    for line, label in zip(invoice.lines, labels, strict=True):
        doc.append(Text(label))
        qty = f"{lang.number(line.quantity)} x {lang.money(line.unit_price)}"
        doc.append(Pair("  " + qty, lang.money(line.list_amount)))
        if not line.discount.is_zero():
            doc.append(Pair("  " + _("Discount"), lang.money(-line.discount)))
    doc += [Rule(), Pair(_("Subtotal"), lang.money(invoice.subtotal))]
    if not invoice.discount_total.is_zero():
        doc.append(Pair(_("Discounts"), lang.money(-invoice.discount_total)))
    if invoice.tax_exempt:
        doc.append(Text(_("Tax exempt")))
    else:
        for rate, (net, tax) in sorted(invoice.tax_by_rate().items()):
            label = _("VAT {rate} on {net}", rate=lang.percent(rate), net=lang.money(net))
            doc.append(Pair(label, lang.money(tax)))
    doc.append(Pair(_("Total"), lang.money(invoice.total), bold=True))
    if not invoice.deposits_applied.is_zero():
        doc.append(Pair(_("Deposit applied"), lang.money(-invoice.deposits_applied)))
    doc += [
        Pair(_("Paid"), lang.money(payment.amount), bold=True, size=1),
        Pair(_("Payment"), _method(lang, payment)),
    ]
    if payment.terminal_receipt_number:
        doc.append(Pair(_("Terminal receipt"), payment.terminal_receipt_number))
    doc += _balance_lines(lang, account_after)
    doc += [Feed(), Text(_("Thank you!"), align="center", bold=True), Feed(2), Cut()]
    return doc


def statement_receipt(
    shop: ShopInfo,
    statement: Statement,
    paid_invoices: Sequence[str],
    payment: Payment,
    customer: Customer,
    lang: Lang,
    *,
    account_after: CreditAccount | None,
) -> Document:
    _ = lang._
    doc = _header(shop, _("Statement payment"))
    doc += [
        Pair(_("Date"), lang.datetime(payment.at)),
        Pair(_("Account"), statement.customer_account),
        Pair(_("Customer"), customer.masked_name),
        Rule(),
    ]
    for line in statement.lines:
        if line.invoice_number in paid_invoices:
            doc.append(
                Pair(
                    f"{line.invoice_number}  {lang.date(line.issued_on)}",
                    lang.money(line.amount_due),
                )
            )
    doc += [
        Rule(),
        Pair(_("Paid"), lang.money(payment.amount), bold=True),
        Pair(_("Payment"), _method(lang, payment)),
    ]
    if payment.terminal_receipt_number:
        doc.append(Pair(_("Terminal receipt"), payment.terminal_receipt_number))
    doc += _balance_lines(lang, account_after)
    doc += [Feed(2), Cut()]
    return doc


@dataclass(frozen=True)
class LockerContent:
    locker: str
    order_number: str
    claim_code: str


def shift_report(
    shop: ShopInfo,
    shift: Shift,
    payments: Sequence[Payment],
    lang: Lang,
    *,
    terminal_card_total: Money | None = None,
    lockers: Sequence[LockerContent] = (),
) -> Document:
    _ = lang._
    doc = _header(shop, _("End of shift report"))
    doc += [
        Pair(_("Shift"), shift.shift_id),
        Pair(_("Opened"), f"{lang.datetime(shift.opened_at)} {shift.opened_by}"),
    ]
    if shift.closed_at:
        doc.append(Pair(_("Closed"), f"{lang.datetime(shift.closed_at)} {shift.closed_by}"))
    doc += [Rule(), Text(_("Transactions"), bold=True)]
    for payment in sorted(payments, key=lambda p: p.at):
        when = lang.datetime(payment.at).split(" ")[-1]
        doc.append(Pair(f"{when} {_method(lang, payment)}", lang.money(payment.amount)))
    if not payments:
        doc.append(Text(_("No transactions")))
    doc += [Rule(), Text(_("Totals"), bold=True)]
    for method in PaymentMethod:
        if method in shift.totals:
            count = shift.payment_counts.get(method, 0)
            label = f"{_method_name(lang, method)} ({count})"
            doc.append(Pair(label, lang.money(shift.totals[method])))
    doc.append(Pair(_("Total"), lang.money(shift.grand_total), bold=True))
    for event, count in sorted(shift.event_counts.items()):
        doc.append(Pair(_(EVENT_LABELS.get(event, event)), str(count)))
    if terminal_card_total is not None:
        diff = shift.card_difference(terminal_card_total)
        doc += [
            Rule(),
            Pair(_("Card terminal end of day"), lang.money(terminal_card_total)),
            Pair(_("Difference"), lang.money(diff), bold=not diff.is_zero()),
        ]
    if lockers:
        doc += [Rule(), Text(_("Locker contents"), bold=True)]
        doc += [
            Pair(f"{_('Locker')} {c.locker}", f"{c.order_number} {c.claim_code}") for c in lockers
        ]
    doc += [Feed(2), Cut()]
    return doc


def _method_name(lang: Lang, method: PaymentMethod) -> str:
    _ = lang._
    return {
        PaymentMethod.CARD: _("Card"),
        PaymentMethod.ACCOUNT: _("On account"),
        PaymentMethod.NOTHING_DUE: _("Nothing due"),
        PaymentMethod.CASH: _("Cash"),
    }[method]
