"""The back office's fleet page (issue 15 §3): kiosks that sync for real (one with a
device fault and a customer waiting for staff, one with a payment it has not settled,
one never heard from), an alert from a kiosk, a repair left uncollected; the page behind
the staff token, on SQLite and on PostgreSQL; and looked at in headless Chromium."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from kiosk.domain.orders import OrderState
from kiosk.services.alerts import alert
from kiosk.storage.repositories import HELP_CALLS
from tests.browser import screenshot
from tests.integration.test_sync import Kiosk, customer, order
from tests.ui.test_screens import SHOTS


def _basic(password: str, user: str = "staff") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_the_fleet_page_shows_every_kiosk_and_what_needs_staff(tmp_path, server, database):
    token = server.token_file.read_text().strip()
    k1 = Kiosk(tmp_path, server, "K1")
    k2 = Kiosk(tmp_path, server, "K2")
    Kiosk(tmp_path, server, "K3").close()  # enrolled, never heard from since
    stranger = Kiosk(tmp_path, server, "K9", shop=server.other_shop_id)
    try:
        k1.worker.health = lambda: {"printer": "fault: paper out", "lockers": "ready: 4 lockers"}
        k1.repos.settings.set(HELP_CALLS, [{"call_id": "c1", "screen": "bill"}])
        now = datetime.now(UTC)
        k1.clock.now = now
        alert(k1.repos, now, "help", "a customer asks for help at the kiosk (bill)")
        assert not k1.worker.run_once().error
        assert not stranger.worker.run_once().error
        beat = {"version": "9.9.9", "queue_depth": 3, "oldest_pending_age_s": 5400,
                "unresolved_payments": 1, "last_error": "back office unreachable"}  # fmt: skip
        answer = httpx.post(server.url + "/v1/sync/heartbeat", json=beat,
                            headers={"Authorization": f"Bearer {k2.cred.token}"})  # fmt: skip
        assert answer.status_code == 200, answer.text
        c = customer(7)
        server.office.put_customer(server.shop_id, c)
        ready = order(7, c.account_number, OrderState.DONE)
        ready = replace(ready, state_changed_at=now - timedelta(days=12))
        server.office.put_order(server.shop_id, ready)
        fresh = replace(order(8, c.account_number, OrderState.DONE), state_changed_at=now)
        server.office.put_order(server.shop_id, fresh)

        page_url = f"{server.url}/fleet/{server.shop_id}"
        refused = httpx.get(page_url)
        assert refused.status_code == 401 and "Basic" in refused.headers["www-authenticate"]
        assert httpx.get(page_url, headers=_basic("wrong")).status_code == 401
        page = httpx.get(page_url, headers=_basic(token))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text
        assert "Vélos Martin: kiosks" in html
        for kiosk_id in ("K1", "K2", "K3"):
            assert f"<td>{kiosk_id}</td>" in html
        assert "K9" not in html  # another shop's kiosk
        assert "printer: fault: paper out" in html and "lockers: ready" not in html
        assert '<td class="bad">1</td>' in html  # K1's customer waiting / K2's payment
        assert "9.9.9" in html and "3 (oldest 90 min)" in html
        assert "back office unreachable" in html
        assert '<td class="bad">never</td>' in html and "No report from this kiosk yet" in html
        assert "a customer asks for help at the kiosk (bill)" in html
        assert ready.number in html and fresh.number not in html
        assert f"Élodie Lefèvre7 ({c.account_number})" in html
        assert "12 days" in html
        if database.startswith("sqlite"):
            _look_at(page_url, token)
    finally:
        for k in (k1, k2, stranger):
            k.close()


def _look_at(url: str, token: str) -> None:
    """The page in a real browser, as staff see it (the screenshot is in docs/)."""
    authed = url.replace("http://", f"http://staff:{token}@")
    shot = screenshot(authed, SHOTS / "fleet" / "fleet.png", (1280, 820))
    assert shot.stat().st_size > 20_000
