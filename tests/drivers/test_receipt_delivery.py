import base64

from kiosk.domain.customers import ContactPreference
from kiosk.drivers.printer.escpos_printer import EscposPrinter
from kiosk.drivers.printer.simulator import SimulatedPrinter
from kiosk.receipts.samples import documents
from kiosk.services.money.receipt_delivery import ReceiptDelivery
from tests.conftest import NOW
from tests.factories import customer


def delivery(repos, sim):
    return ReceiptDelivery(EscposPrinter(lambda: sim), repos, lambda: NOW)


def test_printed_when_the_printer_can(repos):
    sim = SimulatedPrinter()
    result = delivery(repos, sim).deliver(
        "payment", documents("fr")["payment"], customer(), "order:1"
    )
    assert result.printed and len(sim.jobs) == 1
    assert repos.outbox.pending_count() == 0


def test_paper_out_sends_it_by_the_customers_channel(repos):
    sim = SimulatedPrinter()
    sim.paper = "out"
    doc = documents("fr")["payment"]
    by_sms = customer(contact_preference=ContactPreference.SMS)
    result = delivery(repos, sim).deliver(
        "payment", doc, by_sms, "order:1", language="fr", order_number="K1-2611-00017"
    )
    assert not result.printed and result.sent_via == "sms" and result.reason == "paper out"
    (entry,) = repos.outbox.next_batch(NOW)
    assert entry.kind == "receipt.send" and entry.payload["channel"] == "sms"
    assert "Payé: 59,80 €" in entry.payload["text"]
    # the back office's message around it speaks the receipt's language (docs/messages.md)
    assert entry.payload["language"] == "fr" and entry.payload["order_number"] == "K1-2611-00017"
    # and the bytes the printer would have had, for the mail's picture of the receipt
    assert base64.b64decode(entry.payload["escpos"]).startswith(b"\x1b@")


def test_no_way_to_reach_the_customer_is_reported_not_raised(repos):
    sim = SimulatedPrinter()
    sim.cover_open = True
    result = delivery(repos, sim).deliver("ticket", documents("en")["ticket"], None, "order:1")
    assert not result.printed and result.sent_via == "" and result.reason == "cover open"
