import random
from datetime import timedelta

import pytest

from kiosk.storage.outbox import Outbox, OutboxError, RetryPolicy
from kiosk.storage.store import Store


@pytest.fixture
def outbox(store):
    return Outbox(
        store, RetryPolicy(max_attempts=3, base_delay_s=10, max_delay_s=60), random.Random(1)
    )


def test_enqueue_batch_ack(outbox, now):
    ids = [outbox.enqueue("dropoff.created", {"n": i}, key=f"order:{i}", now=now) for i in range(5)]
    assert len(set(ids)) == 5
    batch = outbox.next_batch(now, limit=3)
    assert [e.payload["n"] for e in batch] == [0, 1, 2]
    assert outbox.ack(ids[:2]) == 2
    assert [e.op_id for e in outbox.next_batch(now)] == ids[2:]
    assert outbox.pending_count() == 3


def test_retry_backs_off_and_keeps_order_per_key(outbox, now):
    first = outbox.enqueue("dropoff.created", {}, key="order:1", now=now)
    outbox.enqueue("payment.taken", {}, key="order:1", now=now)
    other = outbox.enqueue("customer.created", {}, key="customer:9", now=now)
    entry = outbox.retry_later(first, "connection refused", now)
    assert entry.attempts == 1 and entry.last_error == "connection refused"
    assert now + timedelta(seconds=5) <= entry.next_attempt_at <= now + timedelta(seconds=10)
    # order:1's second entry must wait for its first: only the other key goes now
    assert [e.op_id for e in outbox.next_batch(now)] == [other]
    later = outbox.next_batch(now + timedelta(seconds=11))
    assert [e.kind for e in later] == ["dropoff.created", "payment.taken", "customer.created"]


def test_dead_letter_after_max_attempts_keeps_the_reason(outbox, now):
    op = outbox.enqueue("payment.taken", {"amount": "10.00"}, key="order:1", now=now)
    for i in range(3):
        entry = outbox.retry_later(op, f"HTTP 503 #{i}", now + timedelta(hours=i))
    assert entry.dead and "gave up after 3 attempts: HTTP 503 #2" in entry.dead_reason
    stats = outbox.stats(now)
    assert stats.pending == 0 and [e.op_id for e in stats.dead_letters] == [op]
    assert outbox.next_batch(now + timedelta(days=1)) == []
    outbox.requeue(op, now)
    assert outbox.pending_count() == 1
    with pytest.raises(OutboxError, match="not a dead letter"):
        outbox.requeue(op, now)


def test_rejected_operation_goes_to_dead_letters(outbox, now):
    op = outbox.enqueue("customer.created", {}, key="customer:1", now=now)
    outbox.dead_letter(op, "422: email already belongs to K0-000004", now)
    assert outbox.get(op).dead_reason.startswith("422")
    assert outbox.ack(["nope"]) == 0
    with pytest.raises(OutboxError, match="no outbox entry"):
        outbox.get("nope")


def test_stats_and_survives_restart(store_dir, now):
    store = Store(store_dir)
    ob = Outbox(store)
    ob.enqueue("a", {}, key="k", now=now)
    ob.enqueue("b", {}, key="k", now=now + timedelta(minutes=5))
    store.close()
    store = Store(store_dir)
    ob = Outbox(store)
    stats = ob.stats(now + timedelta(minutes=10))
    assert stats.pending == 2 and stats.oldest_pending_age_s == 600
    store.close()


def test_enqueue_rolls_back_with_its_business_change(store, outbox, now):
    with pytest.raises(RuntimeError), store.transaction():
        store.table("orders").insert({"n": 1})
        outbox.enqueue("dropoff.created", {"n": 1}, key="order:1", now=now)
        raise RuntimeError("printer on fire")
    assert outbox.pending_count() == 0 and len(store.table("orders")) == 0
