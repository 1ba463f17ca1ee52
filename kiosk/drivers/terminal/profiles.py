"""What varies between real terminals that speak the same ZVT (PA00P015), for the
simulator: which optional BMPs and TLV tags a terminal adds to its status information,
how it hands its receipts to a printing ECR (print lines 06 D1 or text blocks 06 D3),
how it writes the card number, whether it reports its software version.

Each message is built here from the specification's field layout; the simulator only
decides when to send which. `tests/unit/test_zvt_spec.py` checks every message of every
profile against the layouts written out from the specification.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kiosk.drivers.terminal import apdu as z
from kiosk.drivers.terminal.apdu import Apdu

LAST_LINE = 0x81  # print attribute: 1xxx xxxx, not 80 (Table 16)
CARD_TYPE_IDS = {name.upper(): number for number, name in z.CARD_TYPES.items()}


@dataclass(frozen=True)
class TerminalProfile:
    name: str
    card_name: bool  # BMP 8B (null-terminated) besides BMP 8A, the card type
    additional_text: bool  # BMP 3C, LLLVAR text ("GEN.NR.:…") and BMP 2A, the VU number
    tlv: bool  # a TLV container (BMP 06) in the status information
    pan_with_expiry: bool  # BMP 22 as masked PAN, `D`, expiry YYMM (EF_ID style)
    text_block: bool  # receipts to a printing ECR as 06 D3 text blocks, not 06 D1 lines
    software_version: str  # in the status enquiry's completion; "" sends none
    charset: str = "cp437"  # of print texts: the default character set (tag 27)


PROFILES = {
    # Only what PA00P015 requires of a status information, receipts as print lines,
    # the card type as BMP 8A alone, no software version.
    "plain": TerminalProfile("plain", False, False, False, False, False, ""),
    # Shaped after the captures of a real terminal in bezahl-online/zvt
    # (command/testdata): 8A and 8B, 3C and 2A, receipts as text blocks.
    "text-block": TerminalProfile("text-block", True, True, False, False, True, "GER-APP 5.2.1"),
    # Shaped after the terminal bytes in Portalum.Zvt's tests: a TLV container and a
    # card number with its expiry date after `D`.
    "tlv": TerminalProfile("tlv", True, False, True, True, False, "V 02.11.07"),
}
DEFAULT_PROFILE = "text-block"


@dataclass(frozen=True)
class Movement:
    """What a status information reports."""

    result: int
    amount_minor: int | None
    trace: int
    receipt: int
    card_brand: str = ""
    card_last4: str = ""
    totals: bool = False  # an end of day: no card


def status_information(p: TerminalProfile, terminal_id: str, m: Movement) -> bytes:
    """Status information (04 0F, PA00P015 §2.2.5): 27 result, 04 amount, 0B trace,
    0C time, 0D date, [0E expiry, 17 card sequence, 19 payment type, 22 PAN], 29 TID,
    [2A VU, 3C text], 49 currency, 87 receipt, [8A card type, 8B card name, 06 TLV]."""
    data = b"\x27" + bytes([m.result])
    if m.amount_minor is not None:
        data += b"\x04" + z.bcd(m.amount_minor, 6)
    data += b"\x0b" + z.bcd(m.trace, 3)
    data += b"\x0c" + bytes.fromhex(time.strftime("%H%M%S"))
    data += b"\x0d" + bytes.fromhex(time.strftime("%m%d"))
    card = not m.totals and m.result == z.RESULT_APPROVED
    if card:
        data += b"\x0e" + bytes.fromhex("2812") + b"\x17" + z.bcd(1, 2) + b"\x19\x70"
        data += b"\x22" + z.ll(_pan(p, m.card_last4))
    data += b"\x29" + bytes.fromhex(terminal_id)
    if p.additional_text:
        data += b"\x2a" + b"100764992".ljust(15)
        data += b"\x3c" + _lll(f"GEN.NR.:{m.trace:06d}".encode())
    data += b"\x49" + z.bcd(z.CURRENCY_EUR, 2) + b"\x87" + z.bcd(m.receipt, 2)
    if card:
        data += b"\x8a" + bytes([CARD_TYPE_IDS.get(m.card_brand.upper(), 0)])
        if p.card_name:
            data += b"\x8b" + z.ll(m.card_brand.encode() + b"\x00")
    if p.tlv and card:
        # 1F10 cardholder authentication (no CVM), 1F12 card technology (contactless)
        data += _tlv(b"\x06", _tlv(b"\x1f\x10", b"\x00") + _tlv(b"\x1f\x12", b"\x02"))
    return data


def _pan(p: TerminalProfile, last4: str) -> bytes:
    nibbles = "E" * 12 + last4 + ("D2812" if p.pan_with_expiry else "")
    return bytes.fromhex(nibbles + "F" * (len(nibbles) % 2))


def _lll(value: bytes) -> bytes:
    n = len(value)
    return bytes([0xF0 | n // 100, 0xF0 | n // 10 % 10, 0xF0 | n % 10]) + value


def _tlv(tag: bytes, value: bytes) -> bytes:
    if len(value) < 0x80:
        length = bytes([len(value)])
    elif len(value) <= 0xFF:
        length = bytes([0x81, len(value)])
    else:
        length = bytes([0x82]) + len(value).to_bytes(2, "big")
    return tag + length + value


def receipt_messages(p: TerminalProfile, lines: list[str]) -> list[Apdu]:
    """A receipt for a printing ECR: one print line (06 D1, §3.5: attribute, text) per
    line, the last one's attribute 1xxx xxxx but not 80 (Table 16: 80 is RFU); or one
    text block (06 D3, §3.6: BMP 06 with 25 print texts holding 07 text lines, the last
    followed by 09 with 1xxx xxxx ≠ 80). 0x81 is what the captured terminal sends."""
    encoded = [line.encode(p.charset, errors="replace") for line in lines]
    if not p.text_block:
        return [
            Apdu(*z.PRINT_LINE, bytes([LAST_LINE if n == len(encoded) - 1 else 0x00]) + text)
            for n, text in enumerate(encoded)
        ]
    texts = b"".join(_tlv(b"\x07", text) for text in encoded) + _tlv(b"\x09", bytes([LAST_LINE]))
    container = _tlv(b"\x1f\x07", b"\x01") + _tlv(b"\x25", texts)
    return [Apdu(*z.PRINT_TEXT_BLOCK, _tlv(b"\x06", container))]


def registration_completion(p: TerminalProfile, terminal_id: str) -> bytes:
    """Completion of a registration (§2.1): [19 status-byte] [29 TID] [49 CC]."""
    return b"\x19\x00" + b"\x29" + bytes.fromhex(terminal_id) + b"\x49" + z.bcd(z.CURRENCY_EUR, 2)


def status_enquiry_completion(p: TerminalProfile, status_code: int, service: int) -> bytes:
    """Completion of a status enquiry (§2.56.5): [<SW-version> LLLVAR] <status code>.
    The version is sent unless the service byte's bit 1 asks for none."""
    version = b"" if service & 0x02 or not p.software_version else p.software_version.encode()
    return (_lll(version) if version else b"") + bytes([status_code])
