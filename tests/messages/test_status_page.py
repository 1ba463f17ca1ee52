"""The order's status page: a kiosk drops an order off (its ticket's token travels in
the order), staff ask for an estimate, the customer's phone opens /s/<token> (headless
Chromium at 390×844, in French and in English), approves through the page's own form,
and the kiosk sees the approval after its next sync. Then what the page must not do:
show a name, phone or address; open for a revoked or guessed token; let guessing on."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from PIL import Image

from backoffice.db import make_engine, make_sessions
from backoffice.messages import settings as channels
from backoffice.service import BackOffice
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.customers import Customer
from kiosk.domain.orders import OrderState
from kiosk.domain.plain import to_plain
from tests.browser import screenshot
from tests.integration.conftest import Server, free_port
from tests.integration.test_sync import Kiosk, order
from tests.ui.test_screens import SHOTS

pytestmark = pytest.mark.messages
FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # as a browser posts a form


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path / 'office.db'}"
    office = BackOffice(make_sessions(make_engine(url)))
    shop = office.create_shop("Atelier Vélo")
    other = office.create_shop("Other Shop")
    channels.save(
        office.sessions,
        shop,
        channels.parse(
            {
                "language": "fr",
                "status_url": "http://127.0.0.1/s/",
                "address": "12 rue des Cycles, 69001 Lyon",
                "hours": "Mardi–samedi, 9 h–18 h",
            }
        ),
    )
    port = free_port()
    srv = Server(
        f"http://127.0.0.1:{port}", office, shop, other, url, port, tmp_path / "admin.token"
    )
    srv.start()
    yield srv
    srv.stop()


def drop_off(kiosk: Kiosk) -> tuple[Customer, str, str]:
    """What the kiosk's drop-off pushes: the customer and the order with its language and
    the ticket's status token."""
    c = Customer(
        "K1-000007",
        "Dupont",
        first_name="Zoé",
        phone="0612345678",
        email="zoe@example.fr",
        address_lines=("3 rue Secrète",),
    )
    token = secrets.token_urlsafe(16)
    o = order(7, c.account_number)
    o = type(o)(
        **{
            **{f: getattr(o, f) for f in o.__dataclass_fields__},
            "language": "fr",
            "status_token": token,
            "claim_code": ClaimCode.from_random(secrets.token_bytes(5)),
        }
    )
    key = f"customer:{c.account_number}"
    now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    with kiosk.store.transaction():
        kiosk.repos.customers.add(c)
        kiosk.repos.orders.add(o)
        kiosk.repos.outbox.enqueue("customer.created", to_plain(c), key=key, now=now)
        kiosk.repos.outbox.enqueue("dropoff.created", to_plain(o), key=key, now=now)
    kiosk.drain()
    return c, o.number, token


def look(url: str, name: str) -> Path:
    shot = screenshot(url, SHOTS / "order-page" / f"{name}.png", (390, 844))
    with Image.open(shot) as image:
        assert image.size == (390, 844)
        assert len(image.convert("RGB").getcolors(1 << 16) or ()) > 50  # drawn, not blank
    return shot


def test_the_customer_approves_the_estimate_on_the_phone_and_the_kiosk_sees_it(
    tmp_path: Path, server: Server
) -> None:
    kiosk = Kiosk(tmp_path, server, "K1")
    try:
        customer, number, token = drop_off(kiosk)
        server.office.set_state(
            server.shop_id, number, OrderState.WAITING_FOR_CUSTOMER_CONFIRMATION, "workshop"
        )
        page_url = f"{server.url}/s/{token}"
        french = httpx.get(page_url).text
        assert '<html lang="fr">' in french and "Nous avons besoin de votre accord" in french
        assert "Pour D." in french and "Depuis le" in french
        assert "12 rue des Cycles" in french and "Accepter" in french and "Refuser" in french
        for private in ("Dupont", "Zoé", "0612345678", "zoe@example.fr", "3 rue Secrète"):
            assert private not in french  # an initial, nothing more
        assert customer.account_number not in french
        look(page_url, "order-page-fr-390x844")
        english = httpx.get(page_url, params={"lang": "en"}).text
        assert '<html lang="en">' in english and "We need your approval" in english
        look(page_url + "?lang=en", "order-page-en-390x844")

        # the page's own form, submitted as the browser would
        form = re.search(
            r'<form method="post" action="([^"]+)"><input type="hidden" '
            r'name="answer" value="approve">',
            french,
        )
        assert form, french
        answered = httpx.post(
            page_url + form[1].replace("&amp;", "&"), content=b"answer=approve", headers=FORM
        )
        assert answered.status_code == 303
        after = httpx.get(server.url + answered.headers["location"]).text
        assert "Votre réponse est enregistrée" in after and "Accepter" not in after
        look(server.url + answered.headers["location"], "order-page-fr-approved-390x844")

        kiosk.worker.run_once()
        seen = kiosk.repos.orders.get(number)
        assert seen.state is OrderState.READY_TO_BE_DONE
        assert seen.notes[-1].text.endswith("estimate approved on the status page")
        assert seen.notes[-1].author == "customer"

        # a second answer (a double tap, a stale page) changes nothing
        again = httpx.post(page_url, content=b"answer=decline", headers=FORM)
        assert again.status_code == 303
        assert kiosk.worker.run_once().pulled == 0

        # staff revoke the link: it opens nothing any more
        token_header = {"X-Admin-Token": server.token_file.read_text().strip()}
        revoked = httpx.post(
            f"{server.url}/v1/admin/shops/{server.shop_id}/orders/{number}/status-link/revoke",
            headers=token_header,
        )
        assert revoked.json() == {"revoked": 1}
        assert httpx.get(page_url).status_code == 404
    finally:
        kiosk.close()


def test_guessing_tokens_is_refused_after_ten(server: Server) -> None:
    codes = [
        httpx.get(f"{server.url}/s/{secrets.token_urlsafe(16)}").status_code for _ in range(11)
    ]
    assert codes[:10] == [404] * 10 and codes[10] == 429
