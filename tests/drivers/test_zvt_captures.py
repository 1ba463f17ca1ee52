"""Real terminals' bytes through the kiosk's ZVT stack: the frame decoder, the APDU and
BMP parser, and the driver's reading of whole dialogues (amount, receipt and trace
numbers, card name, last four digits, result code, terminal status, receipt text).

The captures and their sources are in `zvt_captures.py` (bezahl-online/zvt and
Portalum.Zvt). Where no capture was found (a status enquiry answered DF, a PAN with the
`D` separator, a software version), the bytes are built from PA00P015's layout and the
test says which section.
"""

from __future__ import annotations

from collections import deque

import pytest

from kiosk.drivers.base import DeviceState, Outcome
from kiosk.drivers.terminal import apdu as z
from kiosk.drivers.terminal.apdu import Apdu, StatusInformation
from kiosk.drivers.terminal.frames import Frame, FrameDecoder, encode_frame
from kiosk.drivers.terminal.zvt import REGISTRATION_CONFIG, ZvtTerminal, ZvtTimeouts
from tests.drivers.zvt_captures import CAPTURES

ACK = Apdu(0x80, 0x00)


def capture(name: str) -> Apdu:
    return Apdu.decode(CAPTURES[name].raw)


class ReplayLink:
    """The terminal's side of a dialogue, replayed: each command the driver sends is
    answered with the messages given for it, in order."""

    def __init__(self, answers: dict[tuple[int, int], list[Apdu]]) -> None:
        self.answers = answers
        self.sent: list[Apdu] = []
        self.queue: deque[Apdu] = deque()
        self.waits: list[float] = []  # the time-out the driver gave each receive

    def send(self, apdu: Apdu) -> None:
        self.sent.append(apdu)
        self.queue.extend(self.answers.get(apdu.command, []))

    def send_nowait(self, apdu: Apdu) -> None:
        self.send(apdu)

    def receive(self, timeout: float) -> Apdu:
        self.waits.append(timeout)
        return self.queue.popleft()

    def close(self) -> None:
        pass


def replay(answers: dict[tuple[int, int], list[Apdu]], charset: str = "cp437"):
    answers = {z.REGISTRATION: [ACK, capture("registration_completion")], **answers}
    link = ReplayLink(answers)
    timeouts = ZvtTimeouts(command_ack_s=5.0, idle_s=20.0)
    terminal = ZvtTerminal(lambda: link, charset=charset, timeouts=timeouts)  # type: ignore[arg-type,return-value]
    return terminal, link


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_every_capture_survives_the_serial_framing(name):
    """PA00P016 §3: DLE STX … DLE ETX CRC, DLE doubled in the data (TID 29001006 and
    many amounts hold 0x10); fed one byte at a time as a slow line delivers it."""
    raw = CAPTURES[name].raw
    decoder = FrameDecoder()
    events = [e for b in encode_frame(raw) for e in decoder.feed(bytes([b]))]
    assert events == [Frame(raw)]
    assert Apdu.decode(raw).encode() == raw  # the length byte(s), extended or not


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("payment_maestro", (0x00, 1880, 153, 153, "MAESTRO", "4281", "29001006")),
        ("payment_debit_mastercard", (0x00, 1, 22, 22, "Debit Mastercard", "5726", "29001006")),
        ("declined", (0x05, None, None, None, "V PAY", "", "29001006")),
        ("aborted_status", (0x6C, None, None, None, "", "", "29001006")),
        (
            "portalum_payment_debit_mastercard",
            (0x00, 2040, 470, 470, "Debit Mastercard", "4771", "28004869"),
        ),
        ("portalum_abort_by_customer", (0x6C, None, None, None, "", "", "28004869")),
        ("portalum_contactless_tlv", (0x00, None, 0, 8, "MASTERCARD", "4771", "00000006")),
    ],
)
def test_status_information_of_real_terminals(name, expected):
    """§2.2.5 and chapter 4: BMP 27 result, 04 amount, 0B trace, 87 receipt, 8B card
    name (LLVAR, null-terminated: the NUL is gone), 22 PAN (masked E, last four kept),
    29 TID; every other BMP and the TLV container skipped by its length."""
    msg = capture(name)
    assert msg.command == z.STATUS_INFORMATION
    s = StatusInformation.parse(msg.data)
    got = (s.result_code, s.amount_minor, s.trace_number, s.receipt_number)
    assert (*got, s.card_brand, s.card_last4, s.terminal_id) == expected
    assert "\x00" not in s.card_brand


def test_a_payment_dialogue_of_a_real_terminal():
    """Authorisation (§2.2): 80 00, intermediate status with a TLV text and 0E, the
    status information, the merchant receipt as a print text block (§3.6), completion
    06 0F 00 (§2.2.9). This terminal prints ISO 8859-1 (its Ä is C4), not the default
    CP437: the charset is the driver's setting."""
    terminal, link = replay(
        {
            z.AUTHORISATION: [
                ACK,
                capture("intermediate_with_text"),
                capture("intermediate_please_wait"),
                capture("payment_maestro"),
                capture("merchant_receipt_text_block"),
                Apdu(*z.COMPLETION),
            ]
        },
        charset="latin-1",
    )
    seen: list[str] = []
    result = terminal.authorise(1880, on_status=seen.append)
    assert result.outcome is Outcome.APPROVED
    assert (result.amount_minor, result.receipt_number, result.trace_number) == (1880, 153, 153)
    assert (result.card_brand, result.card_last4) == ("MAESTRO", "4281")
    assert seen == ["Insert or tap your card", "Please wait…"]
    assert result.print_lines[0] == "** HÄNDLERBELEG **"
    assert "Nr:  **** **** **** 5726" in result.print_lines  # the block's own card line
    # the kiosk registered first, with the config byte of Table 1, and acknowledged
    # every message of the terminal with 80 00
    assert link.sent[0] == Apdu(0x06, 0x00, bytes.fromhex("000000") + bytes([0xBE]) + b"\x09\x78")
    assert REGISTRATION_CONFIG == 0xBE
    assert [a for a in link.sent if a == ACK] == [ACK] * 6
    # T4: every message re-arms the idle time-out; §3.7: the first intermediate status
    # carries <timeout> 01, so the next message may take a minute
    assert link.waits[-6:] == [5.0, 20.0, 60.0, 20.0, 20.0, 20.0]


def test_an_aborted_payment_of_a_real_terminal():
    terminal, _ = replay({z.AUTHORISATION: [ACK, capture("aborted_status"), capture("abort")]})
    result = terminal.authorise(500)
    assert result.outcome is Outcome.CANCELLED and result.result_code == 0x6C


@pytest.mark.parametrize(
    ("completion", "state", "detail"),
    [
        (CAPTURES["status_enquiry_card_inserted"].raw, DeviceState.BUSY, "card inserted"),
        # chapter 11: DF out of order (no capture found; the layout of §2.56.5)
        (bytes.fromhex("060f01df"), DeviceState.FAULT, "out of order"),
        (bytes.fromhex("060f0100"), DeviceState.READY, "ready"),
        # §2.56.5: the software version as an LLLVAR before the status code
        (
            bytes.fromhex("060f0d") + b"\xf0\xf0\xf9GER 5.2.1" + b"\x00",
            DeviceState.READY,
            "ready (software GER 5.2.1)",
        ),
    ],
)
def test_status_enquiry_reports_the_terminal_status(completion, state, detail):
    terminal, link = replay({z.STATUS_ENQUIRY: [ACK, Apdu.decode(completion)]})
    status = terminal.status()
    assert (status.state, status.detail) == (state, detail)
    assert link.sent[-2] == Apdu(*z.STATUS_ENQUIRY, bytes.fromhex("000000"))  # no service byte


def test_a_pan_with_the_d_separator_keeps_the_card_numbers_last_four():
    """Chapter 4, BMP 22: "data BCD packed, D = separator" — the digits after D are not
    the card number's (here an expiry date)."""
    pan = bytes.fromhex("EEEEEEEEEEEE6666D0100F")
    assert z.last_four_of_pan(pan) == "6666"
    assert z.last_four_of_pan(bytes.fromhex("EEEEEEEEEEEEEEE4281F")) == "4281"
