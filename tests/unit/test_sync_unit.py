"""The sync client's checks and the worker's waiting, without a server."""

import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from kiosk.sync.client import Transient, parse_changes, parse_push, retry_after
from kiosk.sync.worker import Backoff

NOW = "2026-11-23T09:00:00+00:00"


def test_full_jitter_stays_within_the_growing_ceiling():
    rng = random.Random(1)
    b = Backoff(base_s=1, cap_s=60)
    ceilings = [1, 2, 4, 8, 16, 32, 60, 60]
    for ceiling in ceilings:
        delay = b.next_delay(rng)
        assert 0 <= delay <= ceiling
    b.reset()
    assert b.next_delay(rng) <= 1


def test_retry_after_is_a_floor():
    b = Backoff(base_s=1, cap_s=60)
    assert b.next_delay(random.Random(2), retry_after=30) >= 30


def test_retry_after_header_in_seconds_or_as_a_date():
    assert retry_after("120") == 120
    when = datetime.now(UTC) + timedelta(seconds=90)
    assert 85 <= retry_after(format_datetime(when, usegmt=True)) <= 91
    assert retry_after("soon") is None and retry_after(None) is None


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"results": "x", "server_time": NOW},
        {"results": [{"op_id": "other", "status": "applied"}], "server_time": NOW},
        {"results": [{"op_id": "a", "status": "maybe"}], "server_time": NOW},
        {"results": [{"op_id": "a", "status": "applied"}]},
    ],
)
def test_push_answers_that_are_not_the_protocol_are_refused(body):
    with pytest.raises(Transient, match="garbage"):
        parse_push(body, ["a"])


def test_a_rejection_always_carries_a_reason():
    (r,) = parse_push(
        {"results": [{"op_id": "a", "status": "rejected"}], "server_time": NOW}, ["a"]
    )
    assert r.reason == "rejected without a reason"


@pytest.mark.parametrize(
    "body",
    [
        {"changes": [], "next_cursor": 4, "more": False, "server_time": NOW},  # cursor went back
        {"changes": [{"seq": 6, "kind": "customer", "key": "a", "data": {}}, {"seq": 6, "kind": "x",
         "key": "b", "data": None}], "next_cursor": 6, "more": False, "server_time": NOW},
        {"changes": [{"seq": 9, "kind": "customer", "key": "a", "data": {}}], "next_cursor": 8,
         "more": False, "server_time": NOW},
        {"changes": [{"seq": 6, "kind": "customer", "key": "a", "data": []}], "next_cursor": 6,
         "more": False, "server_time": NOW},
        {"changes": [], "next_cursor": 5, "more": "no", "server_time": NOW},
    ],
)  # fmt: skip
def test_change_pages_that_are_not_the_protocol_are_refused(body):
    with pytest.raises(Transient, match="garbage"):
        parse_changes(body, 5)


def test_worker_thread_runs_rounds_and_stops(repos):
    from kiosk.sync.worker import SyncWorker

    class Offline:
        def push(self, *a):
            raise Transient("no network")

        def changes(self, *a):
            raise Transient("no network")

    rounds = []
    worker = SyncWorker(repos, Offline(), lambda: datetime.now(UTC), interval_s=60,
                        backoff=Backoff(base_s=0.01, cap_s=0.02))  # fmt: skip
    original = worker.run_once
    worker.run_once = lambda: rounds.append(1) or original()
    worker.start()
    worker.wake()  # the first round at once (else at a random moment of the first minute)
    time.sleep(0.3)
    worker.stop()
    assert len(rounds) >= 3  # failed rounds are retried after the (short) backoff
    assert "no network" in repos.settings.get("sync.last_error")["error"]


def test_the_first_round_comes_at_a_random_moment_of_the_first_interval(repos):
    """A chain's kiosks switched on together do not all sync in the same second."""
    from kiosk.sync.worker import RoundReport, SyncWorker

    class Drawn:
        def uniform(self, low, high):
            assert (low, high) == (0, 0.8)
            return 0.5

    class Quiet:
        def push(self, *a):
            return []

    started = time.monotonic()
    first = []
    worker = SyncWorker(repos, Quiet(), lambda: datetime.now(UTC), interval_s=0.8, rng=Drawn())

    def one_round():
        first.append(time.monotonic() - started)
        worker._stop.set()  # one is enough
        return RoundReport()

    worker.run_once = one_round
    worker.start()
    worker._thread.join(5)
    assert len(first) == 1 and 0.45 <= first[0] < 0.8
