"""SMS through the shop's gateway over SMPP 3.4 with smpplib: bound as a transceiver,
one submit_sm per part, delivery receipts asked for and read while the session stays
open (`receipt_wait_s`).

The text is GSM 7-bit (data_coding 0, the SMSC's default alphabet, one septet per byte
as SMPP carries it) when every character is in GSM 03.38 and its extension table, else
UCS-2 (data_coding 8). A text longer than one SMS (160 septets, 70 UCS-2 units) goes as
parts of 153 septets or 67 units behind an 8-bit concatenation header (UDH 05 00 03
ref total seq, esm_class 0x40), cut between characters, never inside an escape pair or
a surrogate pair; smpplib encodes the alphabet (gsm_encode), the cutting is done here."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable

from smpplib import consts, exceptions
from smpplib.client import Client
from smpplib.gsm import gsm_encode

from backoffice.messages.queue import Outcome, Permanent, Sent, Transient
from backoffice.messages.settings import SmsSettings

# command_status values a gateway returns for "not now": try again later
TRANSIENT_STATUS = {
    consts.SMPP_ESME_RSYSERR,
    consts.SMPP_ESME_RMSGQFUL,
    consts.SMPP_ESME_RTHROTTLED,
    0x00000064,  # ESME_RX_T_APPN: temporary application error
}
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67  # in UTF-16 code units
RECEIPT = re.compile(r"id:(?P<id>\S+).*?stat:(?P<stat>\w+)", re.S)


def encode_parts(text: str) -> tuple[list[bytes], int, int]:
    """(short_message of each part, data_coding, esm_class)."""
    try:
        units = [gsm_encode(ch) for ch in text]  # an escaped character is two septets
        coding, single, part = consts.SMPP_ENCODING_DEFAULT, GSM_SINGLE, GSM_PART
    except UnicodeError:
        units = [ch.encode("utf-16-be") for ch in text]  # a surrogate pair is 4 bytes
        coding, single, part = consts.SMPP_ENCODING_ISO10646, UCS2_SINGLE * 2, UCS2_PART * 2
    if sum(map(len, units)) <= single:
        return [b"".join(units)], coding, consts.SMPP_MSGTYPE_DEFAULT
    chunks: list[bytes] = []
    current = b""
    for unit in units:
        if len(current) + len(unit) > part:
            chunks.append(current)
            current = b""
        current += unit
    chunks.append(current)
    if len(chunks) > 255:
        raise exceptions.MessageTooLong()
    ref = secrets.randbelow(256)
    parts = [bytes([5, 0, 3, ref, len(chunks), i]) + c for i, c in enumerate(chunks, 1)]
    return parts, coding, consts.SMPP_GSMFEAT_UDHI


def international(number: str) -> str:
    """The number (already international, +…) as SMPP's international TON wants it:
    digits, no +."""
    return re.sub(r"\D", "", number)


def send(settings: SmsSettings, to: str, text: str) -> Outcome:
    parts, coding, esm_class = encode_parts(text)
    ids: list[str] = []
    receipts: dict[str, str] = {}

    def accepted(pdu: object, **_: object) -> None:
        ids.append(getattr(pdu, "message_id", b"").decode(errors="replace"))

    def received(pdu: object, **_: object) -> int:
        said = getattr(pdu, "short_message", b"") or b""
        found = RECEIPT.search(said.decode(errors="replace"))
        if found:
            receipts[found["id"]] = found["stat"]
        return 0  # ESME_ROK: the receipt taken

    client = Client(  # unknown optional parameters skipped, as SMPP 3.4 §3.2.4 asks
        settings.host, settings.port, timeout=settings.timeout_s, allow_unknown_opt_params=True
    )
    client.set_message_sent_handler(accepted)
    client.set_message_received_handler(received)
    try:
        client.connect()
        client.bind_transceiver(system_id=settings.system_id, password=settings.password)
        for n, part in enumerate(parts, 1):
            client.send_message(
                source_addr_ton=_source_ton(settings.source_addr),
                source_addr=settings.source_addr,
                dest_addr_ton=consts.SMPP_TON_INTL,
                dest_addr_npi=consts.SMPP_NPI_ISDN,
                destination_addr=international(to),
                short_message=part,
                data_coding=coding,
                esm_class=esm_class,
                registered_delivery=True,
            )
            while len(ids) < n:
                client.read_once(auto_send_enquire_link=False)
        _listen(client, settings.receipt_wait_s, lambda: set(ids) <= set(receipts))
    except exceptions.PDUError as exc:
        status = exc.args[1] if len(exc.args) > 1 else -1
        if ids:  # some parts went: sending them again would repeat them
            return Sent(f"{len(ids)} of {len(parts)} parts accepted, then {exc.args[0]}",
                        ",".join(ids))  # fmt: skip
        if status in TRANSIENT_STATUS:
            return Transient(f"the gateway said {exc.args[0]}")
        return Permanent(f"the gateway refused: {exc.args[0]}")
    except (OSError, exceptions.ConnectionError) as exc:
        if ids:
            return Sent(f"{len(ids)} of {len(parts)} parts accepted, then the line dropped",
                        ",".join(ids))  # fmt: skip
        said = str(exc) or "no SMPP answer: closed, timed out, or not an SMPP server"
        return Transient(f"{type(exc).__name__}: {said}"[:300])
    finally:
        _close(client)
    stats = sorted({receipts[i] for i in ids if i in receipts})
    answer = f"{len(parts)} part(s) accepted (data_coding {coding})"
    return Sent(answer, ",".join(ids), ",".join(stats))


def _source_ton(source: str) -> int:
    return 1 if source.lstrip("+").isdigit() else 5  # TON international, alphanumeric


def _listen(client: Client, wait_s: float, enough: Callable[[], bool]) -> None:
    """Delivery receipts, for as long as the shop lets a send wait for them."""
    end = time.monotonic() + wait_s
    while time.monotonic() < end and not enough():
        client._socket.settimeout(max(end - time.monotonic(), 0.01))
        try:
            client.read_once(auto_send_enquire_link=False)
        except TimeoutError:
            return


def _close(client: Client) -> None:
    try:
        if client.state in (consts.SMPP_CLIENT_STATE_BOUND_TRX,):
            client._socket.settimeout(2)
            client.unbind()
    except (OSError, exceptions.PDUError, exceptions.ConnectionError):
        pass
    finally:
        client.disconnect()
