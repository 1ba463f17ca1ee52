"""Long runs (opt-in: pytest -m slow tests/reliability/test_soak.py): 2,000 journeys
through the use cases and 200 through the screens, with no error and resident memory
growing by at most 10 MB once warm."""

from __future__ import annotations

import gc
import time
from collections import deque
from datetime import datetime, timedelta

import pytest

from kiosk.domain.claim_codes import ClaimCode
from kiosk.domain.orders import OrderState
from kiosk.drivers.drawer.bank import Door
from kiosk.memory import rss_mb
from kiosk.services.context import open_kiosk_store
from kiosk.services.journeys.dropoff import DropOffRequest, NewCustomer
from kiosk.services.journeys.pickup import Outcome
from kiosk.services.kiosk import build_services
from kiosk.services.machine.devices import open_devices
from kiosk.services.retention import Retention
from tests.services.test_journeys import NOW, make_config, seed_done_order
from tests.ui.test_screens import run_scenario

WARM_UP = 400


@pytest.mark.slow
def test_two_thousand_journeys_through_the_use_cases(tmp_path):
    """Shop days of 100 journeys: half are pickups by card, half drop-offs by a pool of
    100 customers (each new the first time, returning after). Every 50 journeys the
    back office takes the queue (what a good sync round does) and sends back, as a pull
    would, the drop-offs of the day before as repaired and collected at the counter; the
    day's housekeeping then runs, and collected history leaves after
    [storage] retention_days = 1. The store is then as full as it gets by journey 300.
    Memory is read after a warm-up of 400 journeys, at 1,400 and after 2,000 more: what
    grows over those 2,000 is a leak, not the shop's data."""
    from dataclasses import replace

    clock = {"now": NOW}
    cfg = make_config(tmp_path, dropoff_locker="4")
    cfg = replace(cfg, storage=replace(cfg.storage, retention_days=1))
    repos = open_kiosk_store(cfg)
    devices = open_devices(cfg)
    services = build_services(cfg, repos, devices, lambda: clock["now"])
    repos.settings.set(
        "catalogue:tuneup",
        {"code": "tuneup", "label": "Révision", "price": "49.90", "tax_rate": "20"},
    )
    retention = Retention(repos, lambda: clock["now"], cfg.storage.retention_days)
    _, order = seed_done_order(services)
    doors = devices.simulators["lockers"]
    doors.open_after_s, doors.close_after_s = 0.02, 0.1  # brisk customers (debounce is 20 ms)
    readings, pruned = [], 0
    accounts: dict[int, str] = {}
    dropoffs: deque[tuple[datetime, str]] = deque()
    try:
        for i in range(WARM_UP + 2000):
            if i % 2 == 0:  # a pickup by card of the same order, put back in its locker
                deadline = time.monotonic() + 2
                while devices.lockers.door("2") is not Door.CLOSED and time.monotonic() < deadline:
                    time.sleep(0.01)  # the last customer is still closing the door
                repos.orders.save(order)  # as the back office sent it: Done, in locker 2
                result = services.pickup.pay_by_card(order, services.pickup.bill(order))
                assert result.outcome is Outcome.COLLECTED, result
            else:  # a drop-off, by a new customer or a returning one
                who = (i // 2) % 100
                known = accounts.get(who, "")
                dropped = services.dropoff.submit(
                    DropOffRequest(
                        item_kind="Vélo",
                        services=("tuneup",),
                        signature_png=b"sig",
                        customer_account=known,
                        new_customer=None
                        if known
                        else NewCustomer(f"Client{who}", phone=f"06 11 22 {who:02d} 44"),
                    )
                )
                accounts[who] = dropped.customer.account_number
                dropoffs.append((clock["now"], dropped.order.number))
            if i % 50 == 49:  # a good sync round, then its housekeeping
                while batch := repos.outbox.next_batch(clock["now"], limit=500):
                    repos.outbox.ack([e.op_id for e in batch])
                while dropoffs and dropoffs[0][0] <= clock["now"] - timedelta(days=1):
                    _, number = dropoffs.popleft()
                    back = repos.orders.require(number)
                    for state in (OrderState.IN_PROGRESS, OrderState.DONE, OrderState.COLLECTED):
                        back = back.move_to(state, clock["now"], "back office")
                    repos.orders.save(back)
                report = retention.prune_if_due()
                pruned += report.total if report else 0
            if i % 100 == 99:
                clock["now"] += timedelta(days=1)
            if i + 1 in (WARM_UP, WARM_UP + 1000, WARM_UP + 2000):
                gc.collect()
                readings.append(rss_mb())
        print(f"rss_mb {readings}, pruned {pruned} records")
        assert readings[2] - readings[0] <= 10, readings
        assert pruned > 0
        assert len(repos.customers) == 1 + 100
        assert len(repos.orders) <= 1 + 3 * 50  # the last 1 + 1 days of drop-offs, no more
        assert len(repos.payments) <= 2 * 50  # a day of pickups, no more
        assert all(ClaimCode.parse(o.claim_code.value) == o.claim_code for o in repos.orders.all())
    finally:
        devices.close()
        repos.store.close()


@pytest.mark.slow
def test_two_hundred_journeys_through_the_screens(tmp_path):
    notes = run_scenario("soak", tmp_path, timeout=1500)["notes"]
    assert notes["journeys"] == 200
    before, after = notes["rss_mb"]
    assert after - before <= 10, notes["rss_mb"]
