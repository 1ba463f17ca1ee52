"""Long runs (opt-in: pytest -m slow tests/reliability/test_soak.py): 2,000 journeys
through the use cases and 200 through the screens, with no error and resident memory
growing by at most 10 MB once warm."""

from __future__ import annotations

import time

import pytest

from kiosk.app.scenarios import rss_mb
from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.orders import OrderState
from kiosk.drivers.drawer.lockers import Door
from kiosk.services.dropoff import DropOffRequest, NewCustomer
from kiosk.services.pickup import Outcome
from tests.services.test_journeys import NOW, kiosk, make_config, seed_done_order  # noqa: F401
from tests.ui.test_screens import run_scenario


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="measured 2026-11-23: all 2,000 journeys pass, but RSS grows 53 MB (90 → 142 MB): the "
    "store keeps every record in memory and nothing prunes synced orders, payments, intents or "
    "acknowledged outbox entries yet (a retention policy is still to be built)",
)
def test_two_thousand_journeys_through_the_use_cases(kiosk):  # noqa: F811
    from dataclasses import replace

    _, order = seed_done_order(kiosk)
    doors = kiosk.devices.simulators["lockers"]
    doors.open_after_s, doors.close_after_s = 0.02, 0.1  # brisk customers (debounce is 20 ms)
    readings = []
    for i in range(2000):
        if i % 2 == 0:  # a pickup by card of the same order, put back in its locker
            deadline = time.monotonic() + 2
            while (
                kiosk.devices.lockers.door("2") is not Door.CLOSED and time.monotonic() < deadline
            ):
                time.sleep(0.01)  # the last customer is still closing the door
            kiosk.repos.orders.save(
                replace(kiosk.repos.orders.require(order.number), state=OrderState.DONE)
            )
            result = kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order))
            assert result.outcome is Outcome.COLLECTED, result
        else:  # a drop-off by a new customer
            request = DropOffRequest(
                item_kind="Vélo",
                services=("tuneup",),
                signature_png=b"sig",
                new_customer=NewCustomer(f"Client{i}", phone="06 11 22 33 44"),
            )
            kiosk.dropoff.submit(request)
        if i in (199, 1999):
            readings.append(rss_mb())
    assert readings[1] - readings[0] <= 10, readings
    assert len(kiosk.repos.orders) == 1 + 1000
    assert all(
        ClaimCode.parse(o.claim_code.value) == o.claim_code for o in kiosk.repos.orders.all()
    )


@pytest.mark.slow
def test_two_hundred_journeys_through_the_screens(tmp_path):
    notes = run_scenario("soak", tmp_path, timeout=1500)["notes"]
    assert notes["journeys"] == 200
    before, after = notes["rss_mb"]
    assert after - before <= 10, notes["rss_mb"]
