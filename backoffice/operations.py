"""Each kind of operation a kiosk pushes, applied inside a batch (batch.py): decoded
with the kiosk's own domain model, checked against what the shop holds, and written.
A handler raises Rejected (or a decoding error) to refuse its operation alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from backoffice.batch import Batch, Rejected
from kiosk.domain.billing import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    charge_on_account,
)
from kiosk.domain.customers import ContactPreference, Customer
from kiosk.domain.intents import IntentState
from kiosk.domain.money import Money
from kiosk.domain.orders import OrderState, ServiceOrder
from kiosk.domain.plain import from_plain, to_plain
from kiosk.domain.shifts import Shift

Handler = Callable[[Batch, dict[str, Any]], None]


def order_of(b: Batch, number: str) -> ServiceOrder:
    data = b.get("order", number)
    if data is None:
        raise Rejected(f"no service order {number}")
    return from_plain(ServiceOrder, data)


def customer_of(b: Batch, account: str) -> Customer:
    data = b.get("customer", account)
    if data is None:
        raise Rejected(f"no customer {account}")
    return from_plain(Customer, data)


def save_order(b: Batch, order: ServiceOrder, before: ServiceOrder | None) -> None:
    b.put("order", order.number, to_plain(order))
    moved = before is None or before.state is not order.state
    if moved and order.state in MESSAGE_ON:
        kind = MESSAGE_ON[order.state]
        declined = (
            before is not None and before.state is OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION
        )
        _message(b, order, "returned" if declined and kind == "ready" else kind)


# The states a customer hears of, and the message's kind (backoffice/messages/compose.py)
MESSAGE_ON = {
    OrderState.DONE: "ready",
    OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION: "estimate",
}
SUBJECTS = {
    "ready": "is ready for pickup",
    "returned": "is ready for pickup, estimate declined",
    "estimate": "has an estimate to approve",
}


def _message(b: Batch, order: ServiceOrder, kind: str) -> None:
    """A message about the order, on the customer's preferred channel."""
    data = b.get("customer", order.customer_account)
    channel = "email"
    if data is not None:
        customer = from_plain(Customer, data)
        channel = "sms" if customer.contact_preference is ContactPreference.SMS else "email"
    b.notify(
        order.customer_account,
        channel,
        kind,
        f"Order {order.number} {SUBJECTS[kind]}",
        order_number=order.number,
        language=order.language,
    )


def _op_customer(b: Batch, payload: dict[str, Any]) -> None:
    customer = from_plain(Customer, payload)
    b.put("customer", customer.account_number, to_plain(customer))


def _op_dropoff(b: Batch, payload: dict[str, Any]) -> None:
    order = from_plain(ServiceOrder, payload)
    existing = b.get("order", order.number)
    if existing is not None and existing != to_plain(order):
        raise Rejected(f"service order {order.number} exists already")
    if b.get("customer", order.customer_account) is None:
        raise Rejected(f"drop-off {order.number} names unknown customer {order.customer_account}")
    if existing is None and order.status_token:
        b.status_link(order.number, order.status_token, order.created_at)
    save_order(b, order, None)


def _op_state(b: Batch, payload: dict[str, Any]) -> None:
    before = order_of(b, payload["number"])
    after = before.move_to(
        OrderState(payload["state"]),
        datetime.fromisoformat(payload["at"]),
        str(payload.get("author", "kiosk")),
        str(payload.get("why", "")),
    )
    save_order(b, after, before)


def _op_located(b: Batch, payload: dict[str, Any]) -> None:
    order = order_of(b, payload["number"])
    moved = order.move_item(
        payload["location"], datetime.fromisoformat(payload["at"]), payload["author"]
    )
    save_order(b, moved, order)


def _op_note(b: Batch, payload: dict[str, Any]) -> None:
    order = order_of(b, payload["number"])
    noted = order.add_note(
        payload["text"], datetime.fromisoformat(payload["at"]), payload["author"]
    )
    save_order(b, noted, order)


def _op_invoice(b: Batch, payload: dict[str, Any]) -> None:
    """A bill the kiosk made itself (no invoice came from here for the order)."""
    invoice = from_plain(Invoice, payload)
    if b.get("invoice", invoice.number) is None:
        b.put("invoice", invoice.number, to_plain(invoice))


def _op_payment(b: Batch, payload: dict[str, Any]) -> None:
    payment = from_plain(Payment, payload)
    _settle(b, payment)
    b.put("payment", payment.payment_id, to_plain(payment))


def _settle(b: Batch, payment: Payment) -> Money:
    """The payment on its invoices as far as each still takes it. A kiosk's payment
    for an invoice staff meanwhile marked paid (or cancelled, or lowered) is money
    the customer gave: it is kept as an overpayment to resolve, never refused."""
    remaining = payment.amount
    for number in payment.invoice_numbers:
        data = b.get("invoice", number)
        if data is None:
            raise Rejected(f"payment {payment.payment_id} names unknown invoice {number}")
        invoice = from_plain(Invoice, data)
        open_ = invoice.status is InvoiceStatus.OPEN
        due = invoice.amount_due if open_ else Money.zero(remaining.currency)
        part = remaining if remaining < due else due
        if not part.is_zero():
            invoice = invoice.record_payment(part)
            remaining = remaining - part
        b.put("invoice", number, to_plain(invoice))
    if remaining.amount > 0 and payment.method is not PaymentMethod.ACCOUNT:
        b.put(
            "overpayment",
            payment.payment_id,
            {"payment": to_plain(payment), "amount": str(remaining.amount),
             "currency": remaining.currency, "status": "to resolve"},
        )  # fmt: skip
    if payment.method is PaymentMethod.ACCOUNT:
        customer = charge_on_account(customer_of(b, payment.customer_account), payment.amount)
        b.put("customer", customer.account_number, to_plain(customer))
    return remaining


def _op_statement_paid(b: Batch, payload: dict[str, Any]) -> None:
    payment = from_plain(Payment, payload["payment"])
    overpaid = _settle(b, payment)
    customer = customer_of(b, payment.customer_account)
    if customer.credit is None:
        raise Rejected(f"customer {customer.account_number} has no credit account")
    applied = payment.amount - overpaid  # an overpayment is resolved by staff, apart
    if applied.amount > 0:
        paid = customer.with_credit(customer.credit.record_payment(applied))
        b.put("customer", paid.account_number, to_plain(paid))
    b.put("payment", payment.payment_id, to_plain(payment))


def _op_difference(b: Batch, payload: dict[str, Any]) -> None:
    payment_id, invoice = payload.get("payment_id"), payload.get("invoice")
    if not isinstance(payment_id, str) or not isinstance(invoice, str):
        raise Rejected("payment.difference needs payment_id and invoice")
    b.put("difference", f"{payment_id}:{invoice}", {**payload, "status": "to resolve"})


def _op_shift(b: Batch, payload: dict[str, Any]) -> None:
    shift = from_plain(Shift, payload)
    b.put("shift", shift.shift_id, to_plain(shift))


def _op_receipt(b: Batch, payload: dict[str, Any]) -> None:
    channel = payload["channel"]
    if channel not in ("email", "sms"):
        raise Rejected(f"unknown channel {channel!r}")
    b.notify(
        str(payload["customer_account"]),
        channel,
        "receipt",
        f"Your {payload['kind']} receipt",
        order_number=str(payload.get("order_number", "")),
        language=str(payload.get("language", "")),
        body=str(payload["text"]),
        printed=_printed(payload.get("escpos")),
    )


def _printed(escpos: Any) -> str:
    """A receipt's printer bytes (base64) as the kiosk sent them: kept whole or not at all."""
    return escpos if isinstance(escpos, str) and len(escpos) <= 96 * 1024 else ""


def _record(kind: str, key_field: str) -> Handler:
    """A handler that keeps the payload as a record of `kind`, keyed by one of its fields."""

    def handler(b: Batch, payload: dict[str, Any]) -> None:
        key = payload.get(key_field)
        if not isinstance(key, str) or not key:
            raise Rejected(f"{kind} needs {key_field}")
        b.put(kind, key, payload)

    return handler


HANDLERS: dict[str, Handler] = {
    "customer.created": _op_customer,
    "customer.updated": _op_customer,
    "dropoff.created": _op_dropoff,
    "order.state": _op_state,  # estimate approved/declined, pickup completed…
    "item.located": _op_located,
    "staff.note": _op_note,
    "staff.alert": _record("alert", "id"),  # a kiosk alert about no order in particular
    "terms.accepted": _record("signature", "number"),
    "invoice.created": _op_invoice,
    "payment.taken": _op_payment,
    "statement.paid": _op_statement_paid,
    "shift.closed": _op_shift,
    "payment.refunded": _record("refund", "payment_id"),  # staff mode, manager only
    # what was charged against an invoice the back office changed meanwhile: to reconcile
    "payment.difference": _op_difference,
    "receipt.send": _op_receipt,
    **{f"card.{state}": _record("payment_intent", "intent_id") for state in IntentState},
}
