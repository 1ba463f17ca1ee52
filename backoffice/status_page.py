"""An order's status page for the customer's phone (`/s/<token>`): the ticket's second
code opens it. The token (128 random bits, made by the kiosk at drop-off and printed on
the ticket) is kept here only as its hash; staff can revoke it. The page is in the
order's language (or the one the customer picks), shows the item, the state in plain
words with its date, the estimate with Approve and Decline, and where and when to
collect; of the customer only an initial. Plain HTML, no script, every value escaped.
Wrong tokens count against their source like wrong staff tokens (backoffice/guard.py).

An answer given here is a state change made by the back office, as staff would make
it (READY_TO_BE_DONE approved, DONE declined, as at the kiosk's estimate screen); the
kiosks pull the order like any other change."""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select, update

from backoffice.batch import Rejected
from backoffice.db import Shop, StatusLink, digest_text
from backoffice.guard import Attempts
from backoffice.messages.compose import estimate, language_of
from backoffice.messages.settings import SettingsError, ShopMessaging, load
from backoffice.service import BackOffice
from kiosk.domain.billing import Invoice
from kiosk.domain.customers import Customer
from kiosk.domain.orders import STATE_WORDS, OrderState, ServiceOrder
from kiosk.domain.plain import from_plain
from kiosk.i18n import LANGUAGES, Lang

ANSWERS = {
    "approve": (OrderState.READY_TO_BE_DONE, "estimate approved on the status page"),
    "decline": (OrderState.DONE, "estimate declined on the status page"),
}
STYLE = """
body{margin:0;font:17px/1.45 system-ui,sans-serif;color:#1d2430;background:#f3f5f8}
header{background:#1f4e79;color:#fff;padding:14px 18px;font-weight:600;font-size:19px}
main{padding:14px 16px 28px;max-width:560px;margin:auto}
section{background:#fff;border-radius:12px;padding:14px 16px;margin:0 0 14px;
box-shadow:0 1px 2px #0002}
h1{font-size:24px;margin:4px 0 2px}.muted{color:#5b6675;font-size:15px}
.state{font-size:19px;font-weight:600;margin:0}.state+p{margin:4px 0 0}
table{width:100%;border-collapse:collapse}td{padding:6px 0;vertical-align:top}
td+td{text-align:right;white-space:nowrap;padding-left:12px}
tr.total td{border-top:1px solid #ccd2da;font-weight:700;padding-top:8px}
form{display:inline}.answers{display:flex;gap:10px;margin-top:12px}
button{flex:1;font:inherit;font-weight:600;border:0;border-radius:10px;padding:14px 0;width:100%}
.yes{background:#1d7a46;color:#fff}.no{background:#e4e7ec;color:#1d2430}
.answers form{flex:1}.done{background:#e8f5ec;color:#14532d}
nav{text-align:center;font-size:15px}nav a{color:#1f4e79;margin:0 8px}
"""


def order_for(office: BackOffice, token: str) -> tuple[int, ServiceOrder] | None:
    """The shop and order a live token opens; None for an unknown or revoked one."""
    with office.sessions() as s:
        link = s.scalar(select(StatusLink).where(StatusLink.token_hash == digest_text(token)))
    if link is None or link.revoked_at is not None:
        return None
    data = office.get(link.shop_id, "order", link.order_number)
    if data is None:
        return None
    return link.shop_id, from_plain(ServiceOrder, data)


def revoke(office: BackOffice, shop_id: int, number: str, now: datetime) -> int:
    """Every live link of the order stops working; how many there were."""
    with office.sessions.begin() as s:
        done = s.execute(
            update(StatusLink)
            .where(
                StatusLink.shop_id == shop_id,
                StatusLink.order_number == number,
                StatusLink.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return int(done.rowcount)  # type: ignore[attr-defined]


def _settings(office: BackOffice, shop_id: int) -> ShopMessaging:
    with office.sessions() as s:
        try:
            return load(s, shop_id)
        except SettingsError:
            return ShopMessaging()


def render(
    office: BackOffice,
    shop_id: int,
    order: ServiceOrder,
    lang: Lang,
    note: str,
    settings: ShopMessaging,
) -> str:
    _ = lang._
    with office.sessions() as s:
        shop = s.get(Shop, shop_id)
    customer_data = office.get(shop_id, "customer", order.customer_account)
    customer = from_plain(Customer, customer_data) if customer_data else None
    initial = (customer.last_name.strip()[:1] + ".") if customer else ""
    since = order.state_changed_at or order.created_at
    items = ", ".join(i.name for i in order.items)
    parts = [
        f"<section><h1>{escape(items)}</h1><p class=muted>"
        f"{escape(_('Order {number}', number=order.number))}"
        + (f" · {escape(_('For {initial}', initial=initial))}" if initial else "")
        + "</p></section>",
        f"<section><p class=state>{escape(_(STATE_WORDS[order.state]))}</p>"
        f"<p class=muted>{escape(_('Since {date}', date=lang.date(since)))}</p></section>",
    ]
    if note:
        parts.append(f"<section class=done>{escape(note)}</section>")
    if order.state is OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION and customer is not None:
        parts.append(_estimate(estimate(order, customer, order.created_at, settings), lang))
    where = [line for line in (settings.address, settings.hours) if line]
    if where:
        parts.append(
            f"<section><p class=state>{escape(_('Where and when to collect'))}</p>"
            + "".join(f"<p>{escape(line)}</p>" for line in where)
            + "</section>"
        )
    others = " ".join(
        f'<a href="?lang={code}" hreflang="{code}">{escape(language.name)}</a>'
        for code, language in LANGUAGES.items()
        if code != lang.code
    )
    return (
        f'<!doctype html><html lang="{lang.code}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(_('Your repair'))}</title><style>{STYLE}</style></head><body>"
        f"<header>{escape(shop.name if shop else '')}</header><main>"
        + "".join(parts)
        + f"<nav>{others}</nav></main></body></html>"
    )


def _estimate(bill: Invoice, lang: Lang) -> str:
    _ = lang._
    rows = "".join(
        f"<tr><td>{escape(line.description)}</td><td>{escape(lang.money(line.gross))}</td></tr>"
        for line in bill.lines
    )
    total = escape(lang.money(bill.total))
    rows += f"<tr class=total><td>{escape(_('Total'))}</td><td>{total}</td></tr>"

    def button(answer: str, words: str, cls: str) -> str:
        return (
            f'<form method="post" action="?lang={lang.code}">'
            f'<input type="hidden" name="answer" value="{answer}">'
            f'<button class="{cls}" type="submit">{escape(words)}</button></form>'
        )

    return (
        f"<section><p class=state>{escape(_('Estimate'))}</p>"
        f"<table>{rows}</table><div class=answers>"
        f"{button('approve', _('Approve'), 'yes')}{button('decline', _('Decline'), 'no')}"
        "</div></section>"
    )


def routes(office: BackOffice, guard: Attempts) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def opened(request: Request, token: str) -> tuple[int, ServiceOrder]:
        source = request.client.host if request.client else "?"
        wait = guard.wait_s("status", source)
        if wait:
            raise HTTPException(429, "too many wrong links from this address: wait",
                                headers={"Retry-After": str(math.ceil(wait))})  # fmt: skip
        found = order_for(office, token) if 16 <= len(token) <= 64 else None
        if found is None:
            guard.failed("status", source)
            raise HTTPException(404, "this link does not open any repair (or no longer does)")
        return found

    @router.get("/s/{token}", response_class=HTMLResponse)
    def page(token: str, request: Request, lang: str | None = None, done: str = "") -> HTMLResponse:
        shop_id, order = opened(request, token)
        settings = _settings(office, shop_id)
        words = language_of(lang or order.language, settings)
        note = words._("Your answer is recorded: thank you.") if done else ""
        html = render(office, shop_id, order, words, note, settings)
        return HTMLResponse(html, headers={"Cache-Control": "no-store",
                                           "Referrer-Policy": "no-referrer"})  # fmt: skip

    @router.post("/s/{token}")
    async def answer(token: str, request: Request, lang: str | None = None) -> RedirectResponse:
        # the form's one field, read as a browser sends it (application/x-www-form-urlencoded)
        answer = parse_qs((await request.body()).decode(errors="replace")).get("answer", [""])[0]
        return await run_in_threadpool(_answer, token, request, answer, lang)

    def _answer(token: str, request: Request, answer: str, lang: str | None) -> RedirectResponse:
        shop_id, order = opened(request, token)
        if answer not in ANSWERS:
            raise HTTPException(422, "the answer is approve or decline")
        state, why = ANSWERS[answer]
        if order.state is OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION:
            try:
                office.set_state(shop_id, order.number, state, "customer", why)
            except Rejected as exc:
                raise HTTPException(409, str(exc)) from None
        # an answer already given (here, at the kiosk, by staff) is not given twice
        code = language_of(lang or order.language, _settings(office, shop_id)).code
        return RedirectResponse(f"/s/{token}?lang={code}&done=1", status_code=303)

    return router
