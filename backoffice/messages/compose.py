"""What a message says, in the order's language: the e-mail's subject, its text and HTML
parts, and the SMS. The words are msgids of the kiosk's catalogues (kiosk/locale/), so a
language the kiosk speaks is one the messages speak. Facts only the shop and the order
hold: the shop's name, the item, the claim code, the estimate, where and when to collect,
the status page's link. Nothing is invented when a fact is missing: its line is left out."""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from html import escape

from backoffice.messages.settings import ShopMessaging
from kiosk.domain.billing import Invoice, build_invoice
from kiosk.domain.customers import Customer
from kiosk.domain.orders import ServiceOrder
from kiosk.i18n import LOCALES, Lang

log = logging.getLogger("backoffice.messages")


@dataclass(frozen=True)
class Facts:
    kind: str  # ready | returned | estimate | receipt
    shop: str
    customer: Customer
    settings: ShopMessaging
    language: str
    order: ServiceOrder | None = None
    receipt_text: str = ""
    now: datetime | None = None


@dataclass(frozen=True)
class Composed:
    subject: str
    paragraphs: list[str]  # the text, a paragraph each
    link: str  # the status page, or ""
    sms: str
    preformatted: str = ""  # a receipt, kept in its columns
    follow: str = ""  # the words before the link

    @property
    def text(self) -> str:
        parts = [*self.paragraphs]
        if self.link:
            parts.append(f"{self.follow} {self.link}")
        if self.preformatted:
            parts.append(self.preformatted)
        return "\n\n".join(parts)


def language_of(wanted: str, settings: ShopMessaging) -> Lang:
    for code in (wanted, settings.language, "en"):
        if code in LOCALES:
            return Lang(code)
    raise AssertionError("English is always there")


def compose(f: Facts) -> Composed:
    lang = language_of(f.language, f.settings)
    _ = lang._
    order = f.order
    item = ", ".join(i.name for i in order.items) if order else ""
    link = order.status_link(f.settings.status_url) if order is not None else ""
    collect = [
        line
        for line in (
            _("Where: {address}", address=f.settings.address) if f.settings.address else "",
            _("When: {hours}", hours=f.settings.hours) if f.settings.hours else "",
        )
        if line
    ]

    def bring(order: ServiceOrder) -> str:
        code = order.claim_code.display
        return _("Bring your ticket, or your claim code {code}, to collect it.", code=code)

    first = f.customer.first_name.strip()
    hello = _("Hello {name},", name=first) if first else _("Hello,")
    if f.kind == "ready" and order is not None:
        subject = _("{shop}: your repair is ready ({item})", shop=f.shop, item=item)
        paragraphs = [
            hello,
            _("Your repair is ready: {item} (order {number}).", item=item, number=order.number),
            bring(order),
            *collect,
        ]
        sms = _(
            "{shop}: your repair is ready ({item}). Claim code {code}.",
            shop=f.shop,
            item=item,
            code=order.claim_code.display,
        )
    elif f.kind == "returned" and order is not None:  # an estimate declined: no work done
        subject = _("{shop}: your item is ready to collect ({item})", shop=f.shop, item=item)
        paragraphs = [
            hello,
            _(
                "As you declined the estimate, no work was done on {item} (order {number}). "
                "It is ready to collect.",
                item=item,
                number=order.number,
            ),
            bring(order),
            *collect,
        ]
        sms = _(
            "{shop}: as you declined the estimate, {item} is ready to collect with no work "
            "done. Claim code {code}.",
            shop=f.shop,
            item=item,
            code=order.claim_code.display,
        )
    elif f.kind == "estimate" and order is not None:
        when = f.now or order.created_at
        amount = lang.money(estimate(order, f.customer, when, f.settings).total)
        subject = _("{shop}: an estimate for your repair ({item})", shop=f.shop, item=item)
        paragraphs = [
            hello,
            _(
                "Before we go on with {item} (order {number}) we need your approval of an "
                "estimate: {amount}.",
                item=item,
                number=order.number,
                amount=amount,
            ),
            _("Approve or decline it on the page below, or at the kiosk with your ticket.")
            if link
            else _("Approve or decline it at the kiosk with your ticket."),
        ]
        sms = _(
            "{shop}: an estimate of {amount} for your repair ({item}) awaits your approval.",
            shop=f.shop,
            amount=amount,
            item=item,
        )
    else:
        subject = _("{shop}: your receipt", shop=f.shop)
        paragraphs = [hello, _("Here is your receipt.")]
        sms = f.receipt_text.strip()
    sms = f"{hello} {sms}"
    if link:
        sms = f"{sms} {link}"
    follow = _("Follow your repair:")
    return Composed(subject, paragraphs, link, sms, f.receipt_text, follow)


def estimate(
    order: ServiceOrder, customer: Customer, now: datetime, settings: ShopMessaging
) -> Invoice:
    """What the kiosk's estimate screen shows: the order's lines billed as the kiosk
    bills them (the shop's prices_include_tax, as its kiosks have it)."""
    return build_invoice(
        "estimate", order, customer, now, prices_include_tax=settings.prices_include_tax
    )


def receipt_png(printed: str | None) -> bytes | None:
    """The receipt's picture, drawn from the bytes its printer would have had (the
    kiosk's printer simulator, as docs/receipts are); None when there are none or
    they do not draw."""
    if not printed:
        return None
    from kiosk.drivers.printer.simulator import SimulatedPrinter

    try:
        pages = SimulatedPrinter().render(base64.b64decode(printed, validate=True)).pages
        out = io.BytesIO()
        pages[0].image.save(out, format="PNG")
    except Exception:  # bytes that do not draw: the text goes alone
        log.warning("a receipt's printer bytes did not draw: sent as text only", exc_info=True)
        return None
    return out.getvalue()


def email(
    c: Composed,
    sender: str,
    to: Customer,
    shop: str,
    message_id: str,
    picture: bytes | None = None,
) -> EmailMessage:
    """multipart/alternative: the text, and the same in HTML (a receipt in <pre>); with
    a receipt's picture, multipart/mixed with it attached as receipt.png."""
    msg = EmailMessage()
    name, address = parseaddr(sender)
    msg["From"] = formataddr((name or shop, address))
    recipient = " ".join(p for p in (to.first_name, to.last_name) if p)
    local, _, domain = to.email.partition("@")
    msg["To"] = Address(display_name=recipient, username=local, domain=domain)
    msg["Subject"] = c.subject
    msg["Message-ID"] = message_id
    # quoted-printable: any line (a receipt's, the HTML's) stays under SMTP's 998 octets
    msg.set_content(f"{c.text}\n\n{shop}\n", cte="quoted-printable")
    html = "".join(f"<p>{escape(p)}</p>" for p in c.paragraphs)
    if c.link:
        href = escape(c.link, quote=True)
        html += f'<p>{escape(c.follow)} <a href="{href}">{escape(c.link)}</a></p>'
    if c.preformatted:
        html += f"<pre>{escape(c.preformatted)}</pre>"
    msg.add_alternative(
        f'<!doctype html><html><body style="font-family:sans-serif">{html}'
        f"<p>{escape(shop)}</p></body></html>",
        subtype="html",
        cte="quoted-printable",
    )
    if picture is not None:
        msg.add_attachment(picture, maintype="image", subtype="png", filename="receipt.png")
    return msg
