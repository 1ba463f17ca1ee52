"""Retention: synced history older than the period leaves the store; nothing the shop or
the back office still needs does."""

from __future__ import annotations

from datetime import timedelta

from kiosk.domain.orders import OrderState
from kiosk.services.journeys.dropoff import DropOffRequest, NewCustomer
from kiosk.services.journeys.pickup import Outcome
from kiosk.services.money.payments import Purpose
from kiosk.services.retention import Retention
from tests.services.test_journeys import NOW, kiosk, seed_done_order  # noqa: F401


def ack_everything(repos):
    while batch := repos.outbox.next_batch(NOW + timedelta(days=400), limit=500):
        repos.outbox.ack([e.op_id for e in batch])


def retention_at(repos, when, days=90):
    return Retention(repos, lambda: when, days)


def test_synced_collected_history_leaves_after_the_period(kiosk):  # noqa: F811
    repos = kiosk.repos
    _, order = seed_done_order(kiosk)
    result = kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order), lang="en")
    assert result.outcome is Outcome.COLLECTED
    intent_id = repos.intents.all()[0].intent_id
    assert repos.settings.get(f"pickup:{intent_id}") is None  # the recovery marker has served
    kiosk.dropoff.submit(
        DropOffRequest(
            item_kind="Vélo",
            services=("tuneup",),
            signature_png=b"sig",
            new_customer=NewCustomer("Moreau", phone="06 55 44 33 22"),
        )
    )

    # not synced yet: kept however old
    assert retention_at(repos, NOW + timedelta(days=400)).prune().total == 0
    ack_everything(repos)
    # synced but recent: kept
    assert retention_at(repos, NOW + timedelta(days=89)).prune().total == 0
    report = retention_at(repos, NOW + timedelta(days=91)).prune()

    assert (report.orders, report.invoices, report.payments, report.intents) == (1, 1, 1, 1)
    assert repos.orders.get(order.number) is None
    assert len(repos.payments) == 0 and len(repos.intents) == 0
    (left,) = repos.orders.all()  # the drop-off is still in the shop's hands
    assert left.state is OrderState.NEW
    assert len(repos.customers) == 2  # customers stay: they come back


def test_an_open_invoice_and_an_open_intent_stay(kiosk):  # noqa: F811
    repos = kiosk.repos
    _, order = seed_done_order(kiosk)
    why = Purpose(f"pickup:{order.number}", order.customer_account, order_number=order.number)
    attempt = kiosk.payments.reserve(kiosk.pickup.bill(order).amount_due, why)
    assert attempt.succeeded  # reserved, never booked nor released: a crash left it open
    ack_everything(repos)
    assert retention_at(repos, NOW + timedelta(days=400)).prune().intents == 0
    assert repos.intents.get(attempt.intent.intent_id) is not None


def test_pruning_runs_at_most_once_a_day(kiosk):  # noqa: F811
    repos = kiosk.repos
    first = retention_at(repos, NOW)
    assert first.prune_if_due() is not None
    assert first.prune_if_due() is None
    assert retention_at(repos, NOW + timedelta(hours=23)).prune_if_due() is None
    assert retention_at(repos, NOW + timedelta(hours=24)).prune_if_due() is not None


def test_the_pickup_receipt_is_in_the_customers_language(kiosk):  # noqa: F811
    _, order = seed_done_order(kiosk)
    printer = kiosk.devices.simulators["printer"]
    kiosk.pickup.pay_by_card(order, kiosk.pickup.bill(order), lang="en")
    text = printer.render(printer.jobs[-1]).pages[0].text
    assert "Receipt" in text and "Reçu" not in text
