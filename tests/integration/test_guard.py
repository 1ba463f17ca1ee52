"""Guessing at the back office (issue 16 §3): wrong enrolment codes and staff tokens are
counted per source in the database (every server process sees them); the 11th within a
minute is refused before it is checked; a staff token can be rotated under a running
server. On SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from backoffice.api import create_app
from backoffice.db import make_engine, make_sessions
from backoffice.guard import Attempts, StaffToken, new_token_file
from backoffice.service import BackOffice


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _apps(database, token, clock, count=2):
    """`count` server processes' apps on one database (as `serve --workers` runs them)."""
    engine = make_engine(database)
    office = BackOffice(make_sessions(engine))
    apps = [
        create_app(BackOffice(make_sessions(engine)), token, Attempts(office.sessions, clock=clock))
        for _ in range(count)
    ]
    return office, apps


def test_the_11th_wrong_enrolment_code_in_a_minute_is_refused_unchecked(database, monkeypatch):
    clock = Clock()
    office, (one, other) = _apps(database, "staff-token", clock)
    shop = office.create_shop("Vélos Martin")
    good = office.enrolment_code(shop, "K1")
    checked = []
    real = BackOffice.enroll
    monkeypatch.setattr(
        BackOffice, "enroll", lambda self, code: checked.append(code) or real(self, code)
    )
    attacker = [TestClient(app, client=("203.0.113.9", 50000)) for app in (one, other)]
    for n in range(10):  # spread over both server processes
        answer = attacker[n % 2].post("/v1/enroll", json={"code": f"AAAA-BBBB-{n:04d}"})
        assert answer.status_code == 403
        clock.now += timedelta(seconds=5)
    assert len(checked) == 10
    refused = attacker[0].post("/v1/enroll", json={"code": "AAAA-BBBB-9999"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert attacker[1].post("/v1/enroll", json={"code": good}).status_code == 429  # unchecked
    assert len(checked) == 10
    neighbour = TestClient(one, client=("198.51.100.4", 50000))  # another source is not held
    assert neighbour.post("/v1/enroll", json={"code": "WRONG-CODE"}).status_code == 403
    clock.now += timedelta(seconds=16)  # the first failures leave the minute
    assert attacker[0].post("/v1/enroll", json={"code": good}).status_code == 200


def test_wrong_staff_tokens_are_limited_and_a_missing_one_is_not_a_guess(database):
    clock = Clock()
    office, (app,) = _apps(database, "the-right-token", clock, count=1)
    office.create_shop("Vélos Martin")
    client = TestClient(app, client=("203.0.113.9", 50000))
    for _ in range(20):
        assert client.get("/v1/admin/shops/1/notifications").status_code == 401  # no token
    for n in range(10):
        wrong = {"X-Admin-Token": f"guess-{n}"}
        assert client.get("/v1/admin/shops/1/notifications", headers=wrong).status_code == 401
    right = {"X-Admin-Token": "the-right-token"}
    assert client.get("/v1/admin/shops/1/notifications", headers=right).status_code == 429
    assert client.get("/fleet/1", auth=("staff", "the-right-token")).status_code == 429
    clock.now += timedelta(minutes=2)
    assert client.get("/v1/admin/shops/1/notifications", headers=right).status_code == 200


def test_a_rotated_staff_token_takes_effect_in_a_running_server(database, tmp_path):
    path = tmp_path / "admin.token"
    old = new_token_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    office, (app,) = _apps(database, StaffToken(path), Clock(), count=1)
    office.create_shop("Vélos Martin")
    client = TestClient(app)
    assert (
        client.get("/v1/admin/shops/1/notifications", headers={"X-Admin-Token": old}).status_code
        == 200
    )
    new = new_token_file(path)
    assert (
        client.get("/v1/admin/shops/1/notifications", headers={"X-Admin-Token": old}).status_code
        == 401
    )
    assert (
        client.get("/v1/admin/shops/1/notifications", headers={"X-Admin-Token": new}).status_code
        == 200
    )
