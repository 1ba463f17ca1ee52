"""Drop-off: a customer leaves an item for repair.

Everything the customer told the kiosk is written in one transaction (the customer if
new, the service order in state New, the signed terms) together with the outbox
operations that tell the back office; only then are the ticket and the item tag
printed, and the customer told where to leave the item.

A drop-off form carries a submission id, stored on the order it made (unique): a double
tap or a retry of the same form finds that order and makes no second order, customer or
ticket.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from kiosk.config import Config
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import (
    ContactPreference,
    Customer,
    CustomerError,
    validate_email,
    validate_phone,
)
from kiosk.domain.money import Money
from kiosk.domain.orders import CustomerItem, ServiceLine, ServiceOrder
from kiosk.domain.plain import to_plain
from kiosk.domain.text import nfc
from kiosk.drivers.drawer.bank import LockerBank
from kiosk.i18n import Lang
from kiosk.receipts.builders import ShopInfo, dropoff_ticket, item_tag
from kiosk.services.journeys.item_kinds import SETTING as ITEM_KINDS
from kiosk.services.journeys.item_kinds import ItemKind, item_kinds
from kiosk.services.money.receipt_delivery import Delivery, ReceiptDelivery
from kiosk.storage.repositories import Repositories


class DropOffError(ValueError):
    """What the customer entered cannot make a drop-off, in words for the screen."""


@dataclass(frozen=True)
class NewCustomer:
    last_name: str
    first_name: str = ""
    phone: str = ""
    email: str = ""
    contact_preference: ContactPreference = ContactPreference.EMAIL
    marketing_consent: bool = False  # off unless the customer ticks it


NEW_CUSTOMER_FIELDS = ("last_name", "first_name", "phone", "email", "contact_preference")


def check_new_customer(
    data: NewCustomer, answered: tuple[str, ...] = NEW_CUSTOMER_FIELDS
) -> NewCustomer:
    """A new customer's answers as the shop will keep them (trimmed, in one spelling,
    told by the contact they gave), or the first refusal among the `answered` fields,
    as a DropOffError naming the field: the form asks this at each step's Continue, so
    no refusal of the domain can first appear after the signature.

    The preference follows the contact given: e-mail only is told by e-mail, a phone
    only by SMS; with both, the customer's choice stands."""
    last_name, first_name = nfc(data.last_name).strip(), nfc(data.first_name).strip()
    phone, email = data.phone.strip(), data.email.strip()
    if "last_name" in answered and not last_name:
        raise DropOffError("last_name")
    try:
        if "phone" in answered and phone:
            validate_phone(phone)
        if "email" in answered and email:
            validate_email(email)
    except CustomerError as exc:
        raise DropOffError(exc.field) from exc
    if "email" in answered and not (phone or email):
        raise DropOffError("phone_or_email")
    preference = data.contact_preference
    if phone and not email:
        preference = ContactPreference.SMS
    elif email and not phone:
        preference = ContactPreference.EMAIL
    checked = replace(
        data,
        last_name=last_name,
        first_name=first_name,
        phone=phone,
        email=email,
        contact_preference=preference,
    )
    if set(NEW_CUSTOMER_FIELDS) <= set(answered):
        _customer_of(checked, "checking", datetime(2000, 1, 1))  # every rule of the domain
    return checked


def _customer_of(data: NewCustomer, account: str, now: datetime) -> Customer:
    try:
        return Customer(
            account_number=account,
            last_name=data.last_name,
            first_name=data.first_name,
            mobile=data.phone,
            email=data.email,
            contact_preference=data.contact_preference,
            marketing_consent=data.marketing_consent,
            marketing_consent_at=now if data.marketing_consent else None,
        )
    except CustomerError as exc:
        raise DropOffError(exc.field) from exc


@dataclass(frozen=True)
class CatalogueItem:
    code: str
    label: str
    price: Money
    tax_rate_percent: Decimal


@dataclass(frozen=True)
class DropOffRequest:
    item_kind: str
    brand_model: str = ""
    serial_number: str = ""
    condition_checks: tuple[str, ...] = ()
    condition_text: str = ""
    services: tuple[str, ...] = ()  # catalogue codes
    described_work: str = ""
    warranty_claim: bool = False
    preferred_date: date | None = None
    signature_png: bytes = b""
    language: str = "fr"
    customer_account: str = ""  # a known customer…
    new_customer: NewCustomer | None = None  # …or a new one
    previous_item: CustomerItem | None = None  # an item from an earlier repair
    submission: str = ""  # one per drop-off form: submitting it again is the same drop-off


@dataclass(frozen=True)
class DropOffResult:
    order: ServiceOrder
    customer: Customer
    ticket: Delivery
    tag: Delivery
    locker: str = ""  # the drop-off locker that opened, or "" for the counter
    locker_opened: bool = False
    notes: list[str] = field(default_factory=list)
    repeated: bool = False  # the form was submitted before: that drop-off, nothing new


class DropOffService:
    def __init__(
        self,
        repos: Repositories,
        config: Config,
        delivery: ReceiptDelivery,
        clock: Callable[[], datetime],
        *,
        lockers: LockerBank | None = None,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self._repos = repos
        self._config = config
        self._delivery = delivery
        self._clock = clock
        self._lockers = lockers
        self._random = random_bytes

    def catalogue(self, lang: str = "") -> list[CatalogueItem]:
        """The services on offer, each labelled in `lang` when the back office gave a
        label in it (`labels`: {"fr": …, "en": …}), else its one `label`."""
        items: list[CatalogueItem] = []
        places: dict[str, int] = {}
        for value in self._repos.settings.with_prefix("catalogue:").values():
            if not isinstance(value, dict):
                continue
            labels = value.get("labels")
            if not isinstance(labels, dict):
                labels = {}  # a record from before labels per language
            try:
                items.append(
                    CatalogueItem(
                        str(value["code"]),
                        str(labels.get(lang) or value["label"]),
                        Money(str(value["price"]), self._config.shop.currency),
                        Decimal(str(value.get("tax_rate", "20"))),
                    )
                )
            except (KeyError, ValueError, ArithmeticError):
                continue  # a catalogue entry the kiosk cannot price is not offered
            position = value.get("position")
            places[items[-1].code] = position if isinstance(position, int) else 1 << 30
        # the same tile in the same place in every language: the back office's order
        # (`position`), else by code, never by the label of one language
        return sorted(items, key=lambda i: (places[i.code], i.code))

    def item_kinds(self, lang: str) -> list[ItemKind]:
        """What a customer can leave, with the conditions worth noting on each."""
        return item_kinds(self._repos.settings.get(ITEM_KINDS), lang)

    def previous_items(self, account: str) -> list[CustomerItem]:
        seen: dict[tuple[str, str], CustomerItem] = {}
        for order in self._repos.orders.for_customer(account):
            for item in order.items:
                seen[(item.name, item.serial_number)] = item
        return list(seen.values())

    def _new_customer(self, data: NewCustomer, now: datetime) -> Customer:
        data = check_new_customer(data)
        return _customer_of(data, self._repos.next_account_number(self._config.kiosk.id + "-"), now)

    def _lines(self, codes: tuple[str, ...], lang: str) -> tuple[ServiceLine, ...]:
        """The order's lines, described in the customer's language (its ticket's)."""
        by_code = {c.code: c for c in self.catalogue(lang)}
        unknown = [c for c in codes if c not in by_code]
        if unknown:
            raise DropOffError("unknown_service")
        return tuple(
            ServiceLine(
                c, by_code[c].label, by_code[c].price, tax_rate_percent=by_code[c].tax_rate_percent
            )
            for c in codes
        )

    def submit(self, request: DropOffRequest) -> DropOffResult:
        now = self._clock()
        if not request.signature_png:
            raise DropOffError("signature")
        if not (request.item_kind.strip() or request.previous_item):
            raise DropOffError("item")
        if not request.services and not request.described_work.strip():
            raise DropOffError("work")
        item = request.previous_item or CustomerItem(
            name=" ".join(p for p in (request.item_kind.strip(), request.brand_model.strip()) if p),
            serial_number=request.serial_number.strip(),
            condition=", ".join([*request.condition_checks, request.condition_text.strip()]).strip(
                ", "
            ),
        )
        lines = self._lines(request.services, request.language)
        with self._repos.store.transaction():
            earlier = self._repos.orders.by_submission(request.submission)
            if earlier is not None:  # a double tap, or a retry: tickets are not printed again
                return self._repeated(earlier)
            if request.new_customer is not None:
                customer = self._new_customer(request.new_customer, now)
                self._repos.customers.add(customer)
                new = True
            else:
                found = self._repos.customers.get(request.customer_account)
                if found is None:
                    raise DropOffError("customer")
                customer, new = found, False
            order = ServiceOrder(
                number=self._repos.next_order_number(self._config.kiosk.id + "-", now),
                claim_code=ClaimCode.from_random(self._random(5)),
                customer_account=customer.account_number,
                currency=self._config.shop.currency,
                created_at=now,
                items=(item,),
                work_requested=request.described_work.strip()
                or ", ".join(line.description for line in lines),
                lines=lines,
                under_warranty=request.warranty_claim,
                scheduled_for=request.preferred_date,
                location="counter",
                submission=request.submission,
                language=request.language,
                status_token=base64.urlsafe_b64encode(self._random(16)).decode().rstrip("="),
            )
            self._repos.orders.add(order)
            key = f"customer:{customer.account_number}"
            outbox = self._repos.outbox
            if new:
                outbox.enqueue("customer.created", to_plain(customer), key=key, now=now)
            outbox.enqueue("dropoff.created", to_plain(order), key=key, now=now)
            terms = {
                "number": order.number,
                "accepted_at": now.isoformat(),
                "language": request.language,
                "signature_png": base64.b64encode(request.signature_png).decode(),
            }
            outbox.enqueue("terms.accepted", terms, key=key, now=now)
        lang = Lang(request.language)
        shop = ShopInfo(
            self._config.shop.name,
            tuple(self._config.shop.address_lines),
            status_url=self._config.shop.status_url,
        )
        ticket = self._delivery.deliver(
            "ticket", dropoff_ticket(shop, order, customer, lang, now), customer, key
        )
        tag = self._delivery.deliver("tag", item_tag(order, customer, lang), None, key)
        locker, opened = self._config.kiosk.dropoff_locker, False
        if locker and self._lockers is not None:
            opened = self._lockers.open(locker).opened
        return DropOffResult(order, customer, ticket, tag, locker if opened else "", opened)

    def _repeated(self, order: ServiceOrder) -> DropOffResult:
        issued = Delivery(printed=False, sent_via="", reason="issued with the first submit")
        customer = self._repos.customers.require(order.customer_account)
        return DropOffResult(order, customer, issued, issued, repeated=True)
