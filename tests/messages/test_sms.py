"""SMS over SMPP through the npm `smpp` package's server (GSM 7-bit for Zoé, UCS-2 for
Łukasz and 王芳, concatenated when long, delivery receipts recorded, refusals sorted
into permanent and transient), and over an HTTP webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from backoffice.messages import queue
from backoffice.messages.sender import Sender
from backoffice.messages.smpp import encode_parts
from tests.messages import servers
from tests.messages.conftest import World

pytestmark = pytest.mark.messages
SYSTEM_ID, SECRET = "atelier", "smpp-pw"  # SMPP 3.4: at most 15 and 8 characters


@pytest.fixture
def gateway() -> Iterator[servers.SmppServer]:
    server = servers.SmppServer(SYSTEM_ID, SECRET)
    yield server
    server.stop()


def smpp_settings(server: servers.SmppServer, **more: object) -> dict[str, object]:
    return {
        "transport": "smpp",
        "host": "127.0.0.1",
        "port": server.port,
        "system_id": SYSTEM_ID,
        "password": SECRET,
        "source_addr": "AtelierVelo",
        "receipt_wait_s": 3,
        "timeout_s": 5,
        **more,
    }


def reassembled(pdus: list[dict[str, Any]]) -> list[str]:
    """The texts as a phone shows them: single SMS as they are, parts joined by the
    concatenation header's reference, in their sequence."""
    texts, groups = [], {}
    for p in pdus:
        if not p["udh"]:
            texts.append(p["message"])
            continue
        header = bytes.fromhex(p["udh"][0])
        assert header[:2] == b"\x00\x03", p["udh"]  # IEI 00: 8-bit reference, length 3
        ref, total, seq = header[2], header[3], header[4]
        groups.setdefault(ref, {})[seq] = (total, p["message"])
    for parts in groups.values():
        total = next(iter(parts.values()))[0]
        assert sorted(parts) == list(range(1, total + 1))
        texts.append("".join(parts[i][1] for i in sorted(parts)))
    return texts


def receipt(world: World, account: str, text: str, language: str = "") -> None:
    payload = {
        "kind": "card",
        "channel": "sms",
        "customer_account": account,
        "text": text,
        "language": language,
    }
    (done,) = world.office.apply_batch(
        world.shop,
        "K1",
        [{"op_id": f"r-{account}", "kind": "receipt.send", "key": "k", "payload": payload}],
    )
    assert done.status == "applied", done


def test_ready_for_zoe_goes_as_gsm_7_bit_with_its_delivery_receipt(
    world: World, gateway: servers.SmppServer
) -> None:
    world.channels(sms=smpp_settings(gateway))
    world.customer("C-ZOE", sms=True)
    order = world.order("C-ZOE", "S-1", language="en")  # French needs ê: UCS-2
    world.ready("S-1")
    Sender(world.sessions, "w1", world.clock).round()
    pdus = gateway.pdus(wait_for=1)
    assert {p["data_coding"] for p in pdus} == {0}  # é is in GSM 03.38
    assert {p["destination_addr"] for p in pdus} == {"33612345678"}
    assert {(p["dest_addr_ton"], p["source_addr"], p["source_addr_ton"]) for p in pdus} == {
        (1, "AtelierVelo", 5)
    }
    (text,) = reassembled(pdus)
    assert text == (
        f"Hello Zoé, Atelier Vélo: your repair is ready (Vélo électrique Moustache). "
        f"Claim code {order.claim_code.display}. "
        f"https://atelier.example/s/{order.status_token}"
    )
    (note,) = world.notes()
    assert note.status == "sent" and note.delivery == "DELIVRD"
    assert note.provider_id == ",".join(p["message_id"] for p in pdus)
    assert gateway.pdus("bind_transceiver") == [
        {"pdu": "bind_transceiver", "system_id": SYSTEM_ID, "ok": True}
    ]


def test_lukasz_and_wang_fang_go_as_ucs2_and_a_long_receipt_in_parts(
    world: World, gateway: servers.SmppServer
) -> None:
    world.channels(sms=smpp_settings(gateway))
    world.customer("C-LUK", sms=True)
    world.customer("C-WANG", sms=True)
    world.order("C-WANG", "S-2")
    world.ready("S-2")
    lines = "\n".join(f"Révision {n:>2}  ............  12,50 EUR" for n in range(12))
    receipt(world, "C-LUK", lines, "en")
    Sender(world.sessions, "w1", world.clock).round()
    pdus = gateway.pdus(wait_for=2)
    wang = [p for p in pdus if p["destination_addr"] == "8613812345678"]
    lukasz = [p for p in pdus if p["destination_addr"] == "48601234567"]
    assert {p["data_coding"] for p in pdus} == {8}
    (wang_text,) = reassembled(wang)
    assert wang_text.startswith("Bonjour 王芳, Atelier Vélo : votre réparation est prête")
    assert len(lukasz) > 1 and all(p["esm_class"] & 0x40 for p in lukasz)  # UDH indicator
    assert max(len(p["message"]) for p in lukasz) <= 67  # UCS-2 part: 67 characters
    (lukasz_text,) = reassembled(lukasz)
    assert lukasz_text == f"Hello Łukasz, {lines}"
    assert {n.status for n in world.notes()} == {"sent"}


@pytest.mark.parametrize("text", ["a" * 152 + "€" + "b" * 10, "😀" * 40, "x" * 160, "é" * 161])
def test_parts_are_cut_between_characters(text: str) -> None:
    """Never inside a GSM escape pair (€ is 1B 65) or a UTF-16 surrogate pair (😀)."""
    parts, coding, _ = encode_parts(text)
    bodies = [p[6:] for p in parts] if len(parts) > 1 else parts
    if coding == 8:
        assert "".join(b.decode("utf-16-be") for b in bodies) == text
    else:
        assert all(not b.endswith(b"\x1b") for b in bodies)
        assert sum(len(b) for b in bodies) == len(text) + text.count("€")
    assert len(parts) == (1 if text in ("x" * 160,) else 2)


def test_a_refused_destination_fails_for_good_and_a_throttle_is_tried_again(
    world: World,
) -> None:
    refusing = servers.SmppServer(SYSTEM_ID, SECRET, "invalid-destination")
    throttling = servers.SmppServer(SYSTEM_ID, SECRET, "throttle-once")
    try:
        world.channels(sms=smpp_settings(refusing))
        world.customer("C-ZOE", sms=True)
        world.order("C-ZOE", "S-3")
        world.ready("S-3")
        sender = Sender(world.sessions, "w1", world.clock)
        sender.round()
        (note,) = world.notes()
        assert note.status == "failed" and "the gateway refused" in note.answer
        world.channels(sms=smpp_settings(throttling))
        world.order("C-ZOE", "S-4")
        world.ready("S-4")
        sender.round()
        second = world.notes()[1]
        assert second.status == "retry" and "the gateway said" in second.answer
        world.clock.advance(queue.FIRST_RETRY)
        sender.round()
        assert world.notes()[1].status == "sent"
        assert len([p for p in throttling.pdus(wait_for=2) if "message_id" in p]) >= 1
    finally:
        refusing.stop()
        throttling.stop()


def test_a_wrong_password_is_a_permanent_failure(world: World, gateway: servers.SmppServer) -> None:
    world.channels(sms=smpp_settings(gateway, password="wrong"))
    world.customer("C-ZOE", sms=True)
    world.order("C-ZOE", "S-5")
    world.ready("S-5")
    Sender(world.sessions, "w1", world.clock).round()
    (note,) = world.notes()
    assert note.status == "failed" and "bind" in note.answer.lower()
    assert gateway.pdus("submit_sm") == []


class Hook(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    got: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.got.append((dict(self.headers), body))
        code = self.answers.pop(0) if self.answers else 202
        self.send_response(code)
        self.send_header("X-Message-Id", f"H{len(self.got)}")
        self.end_headers()
        self.wfile.write(b'{"queued": true}' if code < 300 else b'{"error": "no"}')

    def log_message(self, *_: object) -> None:
        pass


def test_the_webhook_is_signed_retried_on_503_and_stopped_by_400(world: World) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Hook.answers, Hook.got = [503, 202, 400], []
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/sms"
        world.channels(
            sms={
                "transport": "webhook",
                "webhook_url": url,
                "webhook_secret": "hook-secret",
                "timeout_s": 5,
            }
        )
        world.customer("C-WANG", sms=True)
        world.order("C-WANG", "H-1")
        world.ready("H-1")
        sender = Sender(world.sessions, "w1", world.clock)
        sender.round()
        assert world.notes()[0].status == "retry"
        world.clock.advance(queue.FIRST_RETRY)
        sender.round()
        first = world.notes()[0]
        assert (first.status, first.provider_id) == ("sent", "H2")
        headers, body = Hook.got[1]
        mac = hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
        assert headers["X-Kiosk-Signature"] == f"sha256={mac}"
        assert headers["Idempotency-Key"] == Hook.got[0][0]["Idempotency-Key"]  # the retry's
        sent = json.loads(body)
        assert sent["to"] == "+8613812345678" and sent["text"].startswith("Bonjour 王芳,")
        world.order("C-WANG", "H-2")
        world.ready("H-2")
        sender.round()
        assert world.notes()[1].status == "failed" and world.notes()[1].answer.startswith("400")
    finally:
        server.shutdown()


def test_a_port_that_does_not_speak_smpp_is_tried_again_and_said_so(world: World) -> None:
    """A gateway setting pointing at a web server: its answer is not SMPP."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_http() -> None:
        conn, _ = listener.accept()
        conn.recv(100)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        conn.close()

    threading.Thread(target=answer_http, daemon=True).start()
    world.channels(
        sms={
            "transport": "smpp",
            "host": "127.0.0.1",
            "port": listener.getsockname()[1],
            "system_id": SYSTEM_ID,
            "password": SECRET,
            "source_addr": "AtelierVelo",
            "timeout_s": 2,
        }
    )
    world.customer("C-ZOE", sms=True)
    world.order("C-ZOE", "G-1")
    world.ready("G-1")
    Sender(world.sessions, "w1", world.clock).round()
    (note,) = world.notes()
    assert note.status == "retry" and "not an SMPP server" in note.answer
    listener.close()
