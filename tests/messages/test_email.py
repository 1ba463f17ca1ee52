"""E-mail through aiosmtpd, a real SMTP server: STARTTLS and AUTH, implicit TLS, what
the server received (headers, both parts, both languages, the odd names), its 5xx
stopping retries, its 4xx retried, a connection cut in the middle of DATA sent again
once, and an untrusted certificate refused."""

from __future__ import annotations

import base64
import email
import io
import subprocess
import sys
import time
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from PIL import Image

from backoffice import fleet
from backoffice.messages import queue
from backoffice.messages.sender import Sender
from kiosk.receipts.document import as_text, to_escpos
from kiosk.receipts.samples import documents
from tests.messages import servers
from tests.messages.conftest import SHOP, World, email_settings, three_senders

pytestmark = pytest.mark.messages


def received(server: servers.SmtpServer) -> list[EmailMessage]:
    out = []
    for envelope in server.inbox.received:
        msg = email.message_from_bytes(envelope.original_content, policy=default)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None, msg.get_content_type()
    return text.get_content(), html.get_content()


def test_ready_and_estimate_mails_in_each_customer_language_over_starttls_and_auth(
    world: World, relay_starttls: servers.SmtpServer
) -> None:
    world.channels(email=email_settings(relay_starttls))
    for account, number in (("C-ZOE", "A-1"), ("C-LUK", "A-2"), ("C-WANG", "A-3")):
        world.customer(account)
        world.order(account, number)
    world.ready("A-1")
    world.ready("A-2")
    world.estimate("A-3")

    assert Sender(world.sessions, "w1", world.clock).round() == 3

    mails = {m["Message-ID"]: m for m in received(relay_starttls)}
    assert len(mails) == 3  # one session each, each authenticated
    assert relay_starttls.inbox.logins == [f"PLAIN:{servers.USER}:True"] * 3
    zoe, lukasz, wang = (
        mails[f"<message-{world.shop}-{n.id}@atelier.example>"] for n in world.notes()
    )
    # the names, each in its own script, decoded back from the headers as sent
    assert zoe["To"].addresses[0].display_name == "Zoé Dupont"
    assert lukasz["To"].addresses[0].display_name == "Łukasz Nowak"
    assert wang["To"].addresses[0].display_name == "王芳 Wang"
    assert str(zoe["From"]) == f"{SHOP} <atelier@atelier.example>"
    # the order's language: French for Zoé and 王芳, English for Łukasz
    assert zoe["Subject"] == f"{SHOP} : votre réparation est prête (Vélo électrique Moustache)"
    assert lukasz["Subject"] == f"{SHOP}: your repair is ready (Vélo électrique Moustache)"
    assert wang["Subject"] == f"{SHOP} : un devis pour votre réparation (Vélo électrique Moustache)"
    text, html = parts(zoe)
    claim = world.orders["A-1"].claim_code.display
    link = "https://atelier.example/s/" + world.orders["A-1"].status_token
    assert text.startswith("Bonjour Zoé,")
    assert f"code de retrait {claim}" in text and link in text
    assert "Où : 12 rue des Cycles, Lyon" in text and "Quand : Mardi–samedi" in text
    assert f'<a href="{link}">' in html and "Bonjour Zoé," in html
    text, _ = parts(lukasz)
    assert text.startswith("Hello Łukasz,") and "Your repair is ready" in text
    text, _ = parts(wang)
    assert text.startswith("Bonjour 王芳,") and "devis : 89,00" in text  # shelf price, French
    assert "Acceptez-le ou refusez-le sur la page ci-dessous" in text
    # every row sent, with the server's own answer
    assert [(n.status, n.attempts) for n in world.notes()] == [("sent", 1)] * 3
    assert all(n.answer.startswith("250 2.0.0 Ok: queued as Q") for n in world.notes())


# aiosmtpd cannot tell that its TLS is implicit: AUTH is over TLS here
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_on_465(world: World, tls_files) -> None:  # type: ignore[no-untyped-def]
    server = servers.smtp_server(*tls_files, implicit_tls=True)
    try:
        world.channels(email=email_settings(server, "tls"))
        world.customer("C-ZOE")
        world.order("C-ZOE", "T-1")
        world.ready("T-1")
        Sender(world.sessions, "w1", world.clock).round()
        assert len(server.inbox.received) == 1
        assert world.notes()[0].status == "sent"
    finally:
        server.stop()


def test_a_5xx_stops_retries_and_is_kept_with_its_words(
    world: World, relay_starttls: servers.SmtpServer
) -> None:
    relay_starttls.inbox.answer = "550 5.1.1 <zoe@example.fr>: mailbox unavailable"
    world.channels(email=email_settings(relay_starttls))
    world.customer("C-ZOE")
    world.order("C-ZOE", "F-1")
    world.ready("F-1")
    sender = Sender(world.sessions, "w1", world.clock)
    assert sender.round() == 1
    (note,) = world.notes()
    assert (note.status, note.attempts) == ("failed", 1)
    assert note.answer == "550 5.1.1 <zoe@example.fr>: mailbox unavailable (at DATA)"
    world.clock.advance(timedelta(days=1))
    assert sender.round() == 0  # never again
    with world.sessions() as s:
        assert queue.counts(s, world.shop) == {"owed": 0, "sent": 0, "failed": 1, "dropped": 0}
    # and staff see it on the fleet page, with the server's words
    page = fleet.render(fleet.report(world.office, world.shop, world.clock.now))
    assert "<h2>Messages to customers</h2>" in page and '<td class="bad">1</td>' in page
    assert '<td class="bad">550 5.1.1 &lt;zoe@example.fr&gt;: mailbox unavailable' in page


def test_a_4xx_is_tried_again_later_with_back_off(
    world: World, relay_starttls: servers.SmtpServer
) -> None:
    relay_starttls.inbox.answer = "451 4.3.0 try again later"
    world.channels(email=email_settings(relay_starttls))
    world.customer("C-LUK")
    world.order("C-LUK", "R-1")
    world.ready("R-1")
    sender = Sender(world.sessions, "w1", world.clock)
    sender.round()
    (note,) = world.notes()
    assert note.status == "retry" and note.answer.startswith("451")
    assert sender.round() == 0  # not before its time
    relay_starttls.inbox.answer = ""
    world.clock.advance(queue.FIRST_RETRY)
    assert sender.round() == 1
    (note,) = world.notes()
    assert (note.status, note.attempts, len(relay_starttls.inbox.received)) == ("sent", 2, 1)


def test_a_connection_cut_in_the_middle_of_data_is_sent_again_once(
    world: World, relay_plain: servers.SmtpServer
) -> None:
    relay = servers.Relay(relay_plain.port, "cut")
    try:
        world.channels(email={**email_settings(relay_plain, "none"), "port": relay.port})
        world.customer("C-ZOE")
        world.order("C-ZOE", "C-1")
        world.ready("C-1")
        sender = Sender(world.sessions, "w1", world.clock)
        sender.round()
        (note,) = world.notes()
        assert relay.held_bytes and note.status == "retry", note.answer
        assert relay_plain.inbox.received == []  # the server dropped the partial message
        world.clock.advance(queue.FIRST_RETRY)
        sender.round()
        assert world.notes()[0].status == "sent"
        assert len(relay_plain.inbox.received) == 1
    finally:
        relay.close()


def test_a_relay_whose_certificate_is_not_trusted_is_refused_for_good(
    world: World, relay_starttls: servers.SmtpServer
) -> None:
    world.channels(email={**email_settings(relay_starttls), "ca_file": ""})
    world.customer("C-ZOE")
    world.order("C-ZOE", "U-1")
    world.ready("U-1")
    Sender(world.sessions, "w1", world.clock).round()
    (note,) = world.notes()
    assert note.status == "failed" and "certificate is not trusted" in note.answer
    assert relay_starttls.inbox.received == []


def test_without_channels_messages_wait_uncounted_and_a_broken_record_fails_alone(
    world: World, relay_starttls: servers.SmtpServer
) -> None:
    world.customer("C-ZOE")
    world.order("C-ZOE", "W-1")
    world.ready("W-1")
    sender = Sender(world.sessions, "w1", world.clock)
    sender.round()
    (note,) = world.notes()
    assert (note.status, note.attempts) == ("retry", 0)
    assert note.answer == "the shop has no e-mail settings yet"
    # a second order whose customer record no longer decodes; then channels arrive
    world.customer("C-LUK")
    world.order("C-LUK", "W-2")
    world.ready("W-2")
    world.office.put_record(world.shop, "customer", "C-LUK", {"account_number": "C-LUK"})
    world.channels(email=email_settings(relay_starttls))
    world.clock.advance(timedelta(hours=1))
    assert sender.round() == 2
    first, second = world.notes()
    assert first.status == "sent"
    assert second.status == "failed" and second.answer.startswith("could not be composed")


def test_three_threads_of_workers_send_each_message_once(
    world: World, relay_starttls: servers.SmtpServer
) -> None:
    """In one process: three senders at once on SQLite. Each Message-ID arrives once."""
    world.channels(email=email_settings(relay_starttls))
    world.customer("C-ZOE")
    for n in range(12):
        world.order("C-ZOE", f"M-{n}")
        world.ready(f"M-{n}")
    three_senders(world)
    ids = [m["Message-ID"] for m in received(relay_starttls)]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert {n.status for n in world.notes()} == {"sent"}


def test_a_declined_estimate_says_no_work_was_done_not_that_the_repair_is_ready(
    world: World, relay_starttls: servers.SmtpServer
) -> None:
    world.channels(email=email_settings(relay_starttls))
    world.customer("C-ZOE")
    world.order("C-ZOE", "D-1")
    world.estimate("D-1")
    world.ready("D-1")  # declined: the item goes back as it came
    Sender(world.sessions, "w1", world.clock).round()
    (returned,) = received(relay_starttls)  # the estimate, answered before it went: not sent
    assert returned["Subject"] == (
        f"{SHOP} : votre article est prêt à être récupéré (Vélo électrique Moustache)"
    )
    text, _ = parts(returned)
    assert "aucun travail n'a été fait" in text and "réparation est prête" not in text
    assert [(n.kind, n.status) for n in world.notes()] == [
        ("estimate", "dropped"),
        ("returned", "sent"),
    ]
    assert world.notes()[0].answer == "no longer true: order D-1 is done now"


def test_an_estimate_adds_up_as_the_shops_kiosks_do(
    world: World, relay_starttls: servers.SmtpServer
) -> None:
    """A shop whose catalogue prices are before tax: the estimate is 89 + 20 %."""
    world.channels(email=email_settings(relay_starttls), prices_include_tax=False)
    world.customer("C-LUK")
    world.order("C-LUK", "E-1")
    world.estimate("E-1")
    Sender(world.sessions, "w1", world.clock).round()
    (mail,) = received(relay_starttls)
    text, _ = parts(mail)
    assert "estimate: €106.80." in text


def test_the_served_back_office_sends_beside_serving(
    world: World, relay_starttls: servers.SmtpServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """`serve --send-messages`, as systemd/backoffice.service starts it for one shop."""
    world.channels(email=email_settings(relay_starttls))
    world.customer("C-ZOE")
    world.order("C-ZOE", "V-1")
    world.ready("V-1")
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backoffice",
            "--db",
            world.db_url,
            "serve",
            "--port",
            str(servers.free_port()),
            "--admin-token-file",
            str(tmp_path / "t"),
            "--send-messages",
        ],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # until the server has recorded it: the relay's 250 comes a moment before the
        # record, and a server stopped between the two would send it again when it starts
        deadline = time.monotonic() + 30
        while world.notes()[0].status != "sent" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert world.notes()[0].status == "sent"
    finally:
        server.terminate()
        server.wait(10)
    assert len(relay_starttls.inbox.received) == 1


def test_a_receipt_goes_as_its_text_and_the_picture_its_printer_would_have_printed(
    world: World, relay_starttls: servers.SmtpServer
) -> None:
    world.channels(email=email_settings(relay_starttls))
    world.customer("C-LUK")
    doc = documents("en")["payment"]
    payload = {
        "kind": "payment",
        "channel": "email",
        "customer_account": "C-LUK",
        "text": as_text(doc),
        "language": "en",
        "escpos": base64.b64encode(to_escpos(doc, codepage="CP858")).decode(),
    }
    (done,) = world.office.apply_batch(
        world.shop, "K1", [{"op_id": "r1", "kind": "receipt.send", "key": "k", "payload": payload}]
    )
    assert done.status == "applied"
    Sender(world.sessions, "w1", world.clock).round()
    (mail,) = received(relay_starttls)
    assert (
        mail["Subject"] == f"{SHOP}: your receipt" and mail.get_content_type() == "multipart/mixed"
    )
    text, html = parts(mail)
    assert text.startswith("Hello Łukasz,") and "Paid" in text and "<pre>" in html
    (picture,) = list(mail.iter_attachments())
    assert picture.get_filename() == "receipt.png"
    with Image.open(io.BytesIO(picture.get_content())) as image:
        assert image.format == "PNG" and image.width == 608  # as docs/receipts draws paper
