"""ZVT application layer: APDUs, their BMP fields, and the messages a terminal sends.

Only what a kiosk needs is decoded; every field the terminal may add is skipped by its
declared length, so a newer terminal does not break the parse. The card number (BMP 22)
is cut to its last four digits the moment it is parsed: the rest never exists in the
kiosk's memory, logs or storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Commands (ECR → terminal)
REGISTRATION = (0x06, 0x00)
LOG_OFF = (0x06, 0x02)
AUTHORISATION = (0x06, 0x01)
REPEAT_RECEIPT = (0x06, 0x20)
RESERVATION = (0x06, 0x22)
PARTIAL_REVERSAL = (0x06, 0x23)
BOOK_TOTAL = (0x06, 0x24)
RESERVATION_REVERSAL = (0x06, 0x25)
REVERSAL = (0x06, 0x30)
REFUND = (0x06, 0x31)
END_OF_DAY = (0x06, 0x50)
ABORT = (0x06, 0xB0)
STATUS_ENQUIRY = (0x05, 0x01)
# Messages (terminal → ECR)
STATUS_INFORMATION = (0x04, 0x0F)
INTERMEDIATE_STATUS = (0x04, 0xFF)
COMPLETION = (0x06, 0x0F)
ABORT_FROM_TERMINAL = (0x06, 0x1E)
PRINT_LINE = (0x06, 0xD1)
PRINT_TEXT_BLOCK = (0x06, 0xD3)
ACK_POSITIVE = (0x80, 0x00)

CURRENCY_EUR = 978

# Registration config byte, PA00P015 §2.1 Table 1 (bit 0 and bit 6 are RFU).
CONFIG_ECR_PRINTS_PAYMENT = 0x02  # payment receipts are printed by the ECR
CONFIG_ECR_PRINTS_ADMIN = 0x04  # administration receipts (end of day…) by the ECR
CONFIG_INTERMEDIATE_STATUS = 0x08  # the ECR wants intermediate status (04 FF)
CONFIG_NO_AMOUNT_AT_PT = 0x10  # amount input on the PT not possible
CONFIG_NO_ADMIN_AT_PT = 0x20  # administration functions on the PT not possible
CONFIG_PRINT_LINES = 0x80  # ECR receipts come as print lines/text blocks, not status info

# Terminal status codes, PA00P015 chapter 11 (completion of the status enquiry, §2.56.5).
TERMINAL_STATUS = {
    0x00: "ready",
    0x51: "initialisation required",
    0x62: "date/time incorrect",
    0x9C: "please wait (e.g. software update)",
    0x9D: "partial issue of goods",
    0xB1: "memory full",
    0xB2: "merchant journal full",
    0xBF: "supply voltage too low",
    0xC0: "card locking mechanism defect",
    0xC1: "merchant card locked",
    0xC2: "diagnosis required",
    0xC4: "card profile invalid",
    0xCC: "printer not ready",
    0xDC: "card inserted",
    0xDF: "out of order",
    0xE0: "remote maintenance activated",
    0xE1: "card not completely removed",
    0xE2: "card reader does not answer",
    0xE3: "shutter closed",
    0xE4: "terminal activation required",
    0xF0: "reconciliation required",
    0xF6: "OPT data not available",
}
# A terminal in these states answers again by itself (a card is still in the slot, an
# update runs): busy, not broken.
TERMINAL_BUSY = frozenset({0x9C, 0xDC, 0xE0, 0xE1})
RESULT_APPROVED = 0x00
RESULT_ABORTED = 0x6C  # abort via time-out or abort key: the customer cancelled

RESULT_TEXT = {
    0x00: "approved",
    0x05: "declined by the card issuer",
    0x33: "card expired",
    0x51: "insufficient funds",
    0x55: "incorrect PIN",
    0x64: "card not readable",
    0x65: "card data not present",
    0x66: "processing error",
    0x6B: "terminal not registered",
    0x6C: "cancelled (time-out or abort key)",
    0x6F: "wrong currency",
    0x78: "card expired",
    0x7A: "card unknown",
    0x7D: "communication error",
    0x83: "function not possible",
    0x9C: "please wait",
    0xA0: "receiver not ready",
    0xFF: "system error",
}

# Intermediate status (04 FF): what the terminal wants the customer to do now.
INTERMEDIATE_TEXT = {
    0x00: "Confirm the amount on the terminal",
    0x01: "Please look at the card terminal",
    0x02: "Please look at the card terminal",
    0x03: "Not accepted",
    0x04: "Waiting for the bank",
    0x07: "Card not accepted",
    0x08: "Card unknown",
    0x09: "Card expired",
    0x0A: "Insert or tap your card",
    0x0B: "Please remove your card",
    0x0C: "Card not readable",
    0x0D: "Processing error",
    0x0E: "Please wait…",
    0x10: "Invalid card",
    0x13: "Payment not possible",
    0x15: "Incorrect PIN",
    0x17: "Please wait…",
    0x18: "PIN tries exceeded",
    0x1D: "Declined",
    0x41: "Enter your PIN",
    0x43: "Enter your PIN",
}

CARD_TYPES = {
    5: "girocard",
    6: "Mastercard",
    8: "American Express",
    10: "Visa",
    11: "Visa Electron",
    12: "Diners",
    13: "V PAY",
    14: "JCB",
    46: "Maestro",
}

# BMP number → fixed length in bytes, or "LL"/"LLL" (length as F0–F9 digits), or "TLV".
BMP_LENGTHS: dict[int, int | str] = {
    0x01: 1, 0x02: 1, 0x03: 1, 0x04: 6, 0x05: 1, 0x06: "TLV", 0x0B: 3, 0x0C: 3, 0x0D: 2,
    0x0E: 2, 0x17: 2, 0x19: 1, 0x22: "LL", 0x23: "LL", 0x24: "LLL", 0x27: 1, 0x29: 4,
    0x2A: 15, 0x2D: "LL", 0x2E: "LLL", 0x37: 3, 0x3A: 2, 0x3B: 8, 0x3C: "LLL", 0x3D: 3,
    0x49: 2, 0x60: "LLL", 0x87: 2, 0x88: 3, 0x8A: 1, 0x8B: "LL", 0x8C: 1, 0x9A: "LLL",
    0xA0: 1, 0xA7: "LL", 0xAA: 3, 0xAF: "LLL", 0xBA: 5, 0xD0: 1, 0xD1: "LL", 0xD2: 1,
    0xD3: 1, 0xE0: 1, 0xE9: 1, 0xEA: 1, 0xEB: 8, 0xF0: 1, 0xF9: 1, 0xFA: 1, 0xFB: 1,
    0xFC: 1, 0xFD: 1,
}  # fmt: skip


class ZvtError(ValueError):
    """Bytes from the terminal that are not a ZVT message we can read, and why."""


@dataclass(frozen=True)
class Apdu:
    cls: int
    instr: int
    data: bytes = b""

    @property
    def command(self) -> tuple[int, int]:
        return (self.cls, self.instr)

    def encode(self) -> bytes:
        n = len(self.data)
        if n < 0xFF:
            length = bytes([n])
        elif n <= 0xFFFF:
            length = bytes([0xFF, n & 0xFF, n >> 8])
        else:
            raise ZvtError(f"APDU data of {n} bytes is too long")
        return bytes([self.cls, self.instr]) + length + self.data

    @classmethod
    def decode(cls, raw: bytes) -> Apdu:
        if len(raw) < 3:
            raise ZvtError(f"APDU of {len(raw)} bytes has no header")
        if raw[2] == 0xFF:
            if len(raw) < 5:
                raise ZvtError("extended APDU length is cut short")
            n, start = raw[3] | raw[4] << 8, 5
        else:
            n, start = raw[2], 3
        if len(raw) - start != n:
            raise ZvtError(
                f"APDU {raw[0]:02X} {raw[1]:02X} says {n} data bytes, has {len(raw) - start}"
            )
        return cls(raw[0], raw[1], raw[start:])

    def __str__(self) -> str:
        return f"{self.cls:02X} {self.instr:02X} ({len(self.data)} bytes)"


def bcd(number: int, nbytes: int) -> bytes:
    digits = f"{number:0{nbytes * 2}d}"
    if number < 0 or len(digits) > nbytes * 2:
        raise ZvtError(f"{number} does not fit in {nbytes} BCD bytes")
    return bytes.fromhex(digits)


def from_bcd(data: bytes) -> int:
    text = data.hex()
    if not text.isdigit():
        raise ZvtError(f"not BCD: {text}")
    return int(text)


def _var_length(data: bytes, pos: int, digits: int) -> tuple[int, int]:
    if pos + digits > len(data):
        raise ZvtError("variable length field cut short")
    n = 0
    for byte in data[pos : pos + digits]:
        if byte >> 4 != 0xF or byte & 0xF > 9:
            raise ZvtError(f"bad LL/LLL length byte 0x{byte:02X}")
        n = n * 10 + (byte & 0xF)
    return n, pos + digits


def _tlv_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise ZvtError("TLV length cut short")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count not in (1, 2) or pos + 1 + count > len(data):
        raise ZvtError(f"bad TLV length byte 0x{first:02X}")
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), pos + 1 + count


def parse_bmps(data: bytes) -> dict[int, bytes]:
    """BMP number → raw value. Unknown BMPs cannot be skipped safely: an error."""
    fields: dict[int, bytes] = {}
    pos = 0
    while pos < len(data):
        bmp = data[pos]
        pos += 1
        spec = BMP_LENGTHS.get(bmp)
        if spec is None:
            raise ZvtError(f"unknown BMP 0x{bmp:02X} at byte {pos - 1}")
        if spec == "LL":
            n, pos = _var_length(data, pos, 2)
        elif spec == "LLL":
            n, pos = _var_length(data, pos, 3)
        elif spec == "TLV":
            n, pos = _tlv_length(data, pos)
        else:
            assert isinstance(spec, int)
            n = spec
        if pos + n > len(data):
            raise ZvtError(f"BMP 0x{bmp:02X} needs {n} bytes, {len(data) - pos} left")
        fields[bmp] = data[pos : pos + n]
        pos += n
    return fields


def ll(value: bytes) -> bytes:
    n = len(value)
    if n > 99:
        raise ZvtError("LLVAR longer than 99 bytes")
    return bytes([0xF0 | n // 10, 0xF0 | n % 10]) + value


def last_four_of_pan(raw: bytes) -> str:
    """BMP 22 holds the PAN (or EF_ID) as packed BCD: masked digits as E, `D` as the
    separator before further data (an expiry date), an odd count padded with F
    (PA00P015 chapter 4, BMP 22). Only the last four digits of the card number leave
    this function."""
    nibbles = raw.hex().upper().split("D", 1)[0].rstrip("F")
    tail = nibbles[-4:]
    return tail if len(tail) == 4 and tail.isdigit() else ""


def card_name(raw: bytes) -> str:
    """BMP 8B: LLVAR ASCII, null-terminated (PA00P015 chapter 4): the NUL is not part
    of the name."""
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


def parse_tlv(data: bytes) -> list[tuple[int, bytes]]:
    """A TLV container's items in order (PA00P015 chapter 9): a tag whose first byte
    ends in 1F continues while its bytes have bit 8 set; the length is one byte below
    0x80, else 81 xx or 82 xx xx."""
    items: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        tag = data[pos]
        pos += 1
        if tag & 0x1F == 0x1F:
            while True:
                if pos >= len(data):
                    raise ZvtError("TLV tag cut short")
                tag = tag << 8 | data[pos]
                pos += 1
                if not data[pos - 1] & 0x80:
                    break
        n, pos = _tlv_length(data, pos)
        if pos + n > len(data):
            raise ZvtError(f"TLV tag {tag:X} needs {n} bytes, {len(data) - pos} left")
        items.append((tag, data[pos : pos + n]))
        pos += n
    return items


def print_line_texts(data: bytes, charset: str) -> list[str]:
    """Print line (06 D1, §3.5, Table 16): <attribute> <text>; attribute FF means the
    text is one byte, the number of line feeds; no text is one line feed."""
    if not data:
        return [""]
    if data[0] == 0xFF:
        return [""] * (data[1] if len(data) > 1 else 1)
    return [data[1:].decode(charset).rstrip()]


def text_block_lines(data: bytes, charset: str) -> list[str]:
    """Print text block (06 D3, PA00P015 §3.6): BMP 06 holds tag 25 (print texts), whose
    07 items are the lines (an empty 07 is an empty line; 09 items are attributes)."""
    container = parse_bmps(data).get(0x06, b"")
    lines: list[str] = []
    for tag, value in parse_tlv(container):
        if tag == 0x25:
            lines += [v.decode(charset).rstrip() for t, v in parse_tlv(value) if t == 0x07]
    return lines


@dataclass(frozen=True)
class TerminalState:
    """The completion of a status enquiry (PA00P015 §2.56.5): `[<SW-version>] <terminal
    status-code> [06<TLV>]`, the version an LLLVAR without a BMP number."""

    status_code: int
    software_version: str = ""

    @property
    def text(self) -> str:
        return TERMINAL_STATUS.get(self.status_code, f"status 0x{self.status_code:02X}")

    @classmethod
    def parse(cls, data: bytes) -> TerminalState:
        version, pos = "", 0
        if len(data) >= 4 and all(b >> 4 == 0xF for b in data[:3]):
            n, pos = _var_length(data, 0, 3)
            if pos + n >= len(data):
                raise ZvtError("status enquiry completion: software version cut short")
            version = data[pos : pos + n].decode("latin-1").strip()
            pos += n
        if pos >= len(data):
            raise ZvtError("status enquiry completion without a terminal status code")
        return cls(data[pos], version)


@dataclass(frozen=True)
class StatusInformation:
    result_code: int = RESULT_APPROVED
    amount_minor: int | None = None
    trace_number: int | None = None
    receipt_number: int | None = None
    terminal_id: str = ""
    card_brand: str = ""
    card_last4: str = ""
    date_mmdd: str = ""
    time_hhmmss: str = ""
    turnover_number: int | None = None
    extra_bmps: tuple[int, ...] = field(default_factory=tuple)

    @property
    def approved(self) -> bool:
        return self.result_code == RESULT_APPROVED

    @classmethod
    def parse(cls, data: bytes) -> StatusInformation:
        f = parse_bmps(data)
        brand = ""
        if 0x8B in f:
            brand = card_name(f[0x8B])
        elif 0x8A in f:
            brand = CARD_TYPES.get(f[0x8A][0], f"card type {f[0x8A][0]}")
        return cls(
            result_code=f[0x27][0] if 0x27 in f else RESULT_APPROVED,
            amount_minor=from_bcd(f[0x04]) if 0x04 in f else None,
            trace_number=from_bcd(f[0x0B]) if 0x0B in f else None,
            receipt_number=from_bcd(f[0x87]) if 0x87 in f else None,
            terminal_id=f[0x29].hex() if 0x29 in f else "",
            card_brand=brand,
            card_last4=last_four_of_pan(f[0x22]) if 0x22 in f else "",
            date_mmdd=f[0x0D].hex() if 0x0D in f else "",
            time_hhmmss=f[0x0C].hex() if 0x0C in f else "",
            turnover_number=from_bcd(f[0x88]) if 0x88 in f else None,
            extra_bmps=tuple(sorted(set(f) - {0x27, 0x04, 0x0B, 0x87, 0x29, 0x8A, 0x8B, 0x22})),
        )


def t4_minutes(data: bytes) -> int:
    """The <timeout> of an intermediate status (§3.7), 1 byte BCD minutes, else 0."""
    if len(data) < 2:
        return 0
    try:
        return from_bcd(data[1:2])
    except ZvtError:
        return 0


def intermediate_text(data: bytes) -> str:
    if not data:
        return "Please wait…"
    return INTERMEDIATE_TEXT.get(data[0], "Please wait…")


def result_text(code: int) -> str:
    if 0x01 <= code <= 0x63 and code not in RESULT_TEXT:
        return f"declined by the card issuer (code {code})"
    return RESULT_TEXT.get(code, f"error 0x{code:02X}")
