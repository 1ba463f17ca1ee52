"""Every message of every command the kiosk uses, on every simulator profile, checked
against the field layouts of PA00P015 (revision 13.08) as written out below from the
specification — not from the simulator or the driver: this file has its own BMP
walker and its own tables.

The simulator plays each dialogue with the real driver over a pty; a recording link
keeps what each side sent. A message that breaks its section's layout, a BMP outside
its section's list, a wrong encoding (BCD, LLVAR digits, null-terminated names), or a
dialogue in the wrong order fails with the section to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from kiosk.drivers.terminal.apdu import Apdu
from kiosk.drivers.terminal.link import SerialLink
from kiosk.drivers.terminal.profiles import PROFILES
from kiosk.drivers.terminal.sim_link import Script
from kiosk.drivers.terminal.simulator import TerminalSimulator
from kiosk.drivers.terminal.zvt import ZvtTerminal, ZvtTimeouts

# -- chapter 4 (bitmaps): number → (length, encoding); length an int, "LL", "LLL", "TLV"
BMP = {
    0x03: (1, "binary"),  # service byte
    0x04: (6, "bcd"),  # amount
    0x06: ("TLV", "tlv"),
    0x0B: (3, "bcd"),  # trace number
    0x0C: (3, "hhmmss"),
    0x0D: (2, "mmdd"),
    0x0E: (2, "bcd"),  # expiry date YYMM
    0x17: (2, "bcd"),  # card sequence number
    0x19: (1, "binary"),  # payment type / status byte
    0x22: ("LL", "pan"),  # BCD, E masked, D separator, F padding
    0x27: (1, "binary"),  # result code
    0x29: (4, "bcd"),  # terminal ID
    0x2A: (15, "ascii"),  # VU number
    0x3B: (8, "binary"),  # AID
    0x3C: ("LLL", "ascii"),  # additional text
    0x49: (2, "bcd"),  # currency code
    0x87: (2, "bcd"),  # receipt number
    0x88: (3, "bcd"),  # turnover number
    0x8A: (1, "binary"),  # card type
    0x8B: ("LL", "ascii-nul"),  # card name, null-terminated
    0xA0: (1, "binary"),  # result code of the authorisation system
}
# §3.1.1: the BMPs a status information may carry
STATUS_INFORMATION = {0x27, 0x04, 0x0B, 0x37, 0x0C, 0x0D, 0x0E, 0x17, 0x19, 0x22, 0x29,
                      0x3B, 0x49, 0x4C, 0x87, 0x8A, 0x8C, 0x9A, 0xBA, 0x2A, 0x3C, 0xA0,
                      0x88, 0x8B, 0x06, 0x2D, 0x23, 0x24, 0xA7, 0x2E, 0x60}  # fmt: skip
# Table 17: intermediate status codes
INTERMEDIATE = set(range(0x00, 0x1E)) | set(range(0x26, 0x2D)) | set(range(0x41, 0x56))
# chapter 11: terminal status codes
TERMINAL_STATUS = {0x00, 0x51, 0x62, 0x9C, 0x9D, 0xB1, 0xB2, 0xBF, 0xC0, 0xC1, 0xC2, 0xC4,
                   0xCC, 0xDC, 0xDF, 0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xF0, 0xF6}  # fmt: skip


@dataclass(frozen=True)
class Command:
    """An ECR command: its section, a fixed prefix (password, config byte, currency),
    the BMPs that may follow, those that must, and how the terminal completes it."""

    section: str
    prefix: int
    allowed: frozenset[int]
    required: frozenset[int] = frozenset()
    completion: str = "empty"  # empty | registration | status | none (80 00 alone)


def _cmd(section, prefix, allowed=(), required=(), completion="empty"):
    return Command(section, prefix, frozenset(allowed), frozenset(required), completion)


COMMANDS = {
    (0x06, 0x00): _cmd("§2.1", 3 + 1 + 2, (), (), "registration"),  # password config CC
    (0x06, 0x01): _cmd("§2.2.1", 0, (0x04, 0x49, 0x19, 0x06), (0x04,)),
    (0x06, 0x22): _cmd("§2.8", 0, (0x04, 0x49, 0x19, 0x06), (0x04,)),
    (0x06, 0x23): _cmd("§2.10", 0, (0x87, 0x04, 0x49, 0x3C), (0x87,)),
    (0x06, 0x24): _cmd("§2.13", 0, (0x87, 0x04, 0x49, 0x19, 0x3C), (0x87,)),
    (0x06, 0x25): _cmd("§2.14", 0, (0x87, 0x04, 0x49, 0x19, 0x06), (0x87,)),
    (0x06, 0x30): _cmd("§2.9", 3, (0x87, 0x04, 0x49), (0x87,)),
    (0x06, 0x31): _cmd("§2.15", 3, (0x04, 0x49, 0x19), ()),
    (0x06, 0x50): _cmd("§2.16", 3, (0x06,)),
    (0x06, 0x20): _cmd("§2.20", 3, (0x03, 0x06)),
    (0x05, 0x01): _cmd("§2.56", 3, (0x03, 0x06), (), "status"),
    (0x06, 0x02): _cmd("§2.24", 0, (), (), "none"),
    (0x06, 0xB0): _cmd("§2.23", 0, ()),
}
# the messages a terminal may send between 80 00 and the end of a dialogue
BETWEEN = {(0x04, 0xFF), (0x04, 0x0F), (0x06, 0xD1), (0x06, 0xD3)}
ENDS = {(0x06, 0x0F), (0x06, 0x1E)}


class SpecError(AssertionError):
    pass


def walk(data: bytes) -> list[tuple[int, bytes]]:
    """BMPs by chapter 4's table; one this table does not know is an error here."""
    fields, pos = [], 0
    while pos < len(data):
        number, pos = data[pos], pos + 1
        if number not in BMP:
            raise SpecError(f"BMP {number:02X} is not one this kiosk's commands expect")
        length, encoding = BMP[number]
        if length in ("LL", "LLL"):
            digits = 2 if length == "LL" else 3
            prefix = data[pos : pos + digits]
            if len(prefix) != digits or any(b >> 4 != 0xF or b & 0xF > 9 for b in prefix):
                raise SpecError(f"BMP {number:02X}: length {prefix.hex()} is not F0–F9 digits")
            n = int("".join(str(b & 0xF) for b in prefix))
            pos += digits
        elif length == "TLV":
            n, pos = tlv_length(data, pos)
        else:
            n = length
        value = data[pos : pos + n]
        if len(value) != n:
            raise SpecError(f"BMP {number:02X} needs {n} bytes, has {len(value)}")
        check_encoding(number, encoding, value)
        fields.append((number, value))
        pos += n
    return fields


def check_encoding(number: int, encoding: str, value: bytes) -> None:
    text = value.hex().upper()
    ok = {
        "binary": True,
        "tlv": True,
        "bcd": text.isdigit(),
        "hhmmss": bool(re.fullmatch(r"([01]\d|2[0-3])[0-5]\d[0-5]\d", text)),
        "mmdd": bool(re.fullmatch(r"(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])", text)),
        "pan": bool(re.fullmatch(r"[0-9E]+(D[0-9]+)?F?", text)),
        "ascii": all(0x20 <= b < 0x7F for b in value),
        "ascii-nul": value.endswith(b"\x00") and all(0x20 <= b < 0x7F for b in value[:-1]),
    }[encoding]
    if not ok:
        raise SpecError(f"BMP {number:02X} is not {encoding}: {text}")


def tlv_length(data: bytes, pos: int) -> tuple[int, int]:
    """Chapter 9: one byte below 0x80, else 81 xx or 82 xx xx."""
    n, pos = data[pos], pos + 1
    if n & 0x80:
        count = n & 0x7F
        n, pos = int.from_bytes(data[pos : pos + count], "big"), pos + count
    return n, pos


def tlv_items(data: bytes) -> list[tuple[int, bytes]]:
    items, pos = [], 0
    while pos < len(data):
        tag = data[pos]
        pos += 1
        if tag & 0x1F == 0x1F:
            tag = tag << 8 | data[pos]
            pos += 1
        n, pos = tlv_length(data, pos)
        items.append((tag, data[pos : pos + n]))
        pos += n
    return items


def check_command(msg: Apdu) -> Command:
    spec = COMMANDS.get(msg.command)
    if spec is None:
        raise SpecError(f"{msg} is not a command of this kiosk")
    bmps = dict(walk(msg.data[spec.prefix :]))
    if not set(bmps) <= spec.allowed:
        raise SpecError(f"{spec.section}: {msg} carries {sorted(set(bmps) - spec.allowed)}")
    if not spec.required <= set(bmps):
        raise SpecError(f"{spec.section}: {msg} lacks {sorted(spec.required - set(bmps))}")
    return spec


def check_message(command: Command, msg: Apdu) -> None:
    """One message from the terminal, by its own section."""
    data = msg.data
    if msg.command == (0x80, 0x00):
        assert data == b"", "PA00P016 §5.2.3: 80 00 00"
    elif msg.command == (0x04, 0xFF):  # §3.7
        assert data[0] in INTERMEDIATE, f"§3.7 Table 17: {data[0]:02X}"
        assert len(data) in (1, 2) or data[2] == 0x06, "§3.7: status [timeout] [06 TLV]"
    elif msg.command == (0x04, 0x0F):  # §3.1.1
        fields = walk(data)
        assert set(dict(fields)) <= STATUS_INFORMATION, f"§3.1.1: {sorted(dict(fields))}"
        assert fields and fields[0][0] == 0x27, "§3.1.1: the result code comes first"
    elif msg.command == (0x06, 0xD1):  # §3.5, Table 16
        assert data and data[0] != 0x80, "§3.5 Table 16: attribute 80 is RFU"
    elif msg.command == (0x06, 0xD3):  # §3.6
        assert data[0] == 0x06, "§3.6: the data is 06 <TLV-container>"
        (container,) = [v for n, v in walk(data)]
        tags = tlv_items(container)
        assert {t for t, _ in tags} <= {0x14, 0x25, 0x1F07, 0x1F37}, "§3.6: tags 14 25 1F07 1F37"
        for tag, value in tags:
            if tag == 0x25:
                inner = tlv_items(value)
                assert {t for t, _ in inner} <= {0x07, 0x09}, "tag 25 holds 07 and 09"
                last = inner[-1]
                assert last[0] == 0x09 and last[1][0] & 0x80 and last[1][0] != 0x80, "§3.6"
    elif msg.command == (0x06, 0x1E):  # §2.2.9: <result-code> [<CC>] [06 TLV]
        assert data and data[0] != 0x00, "§2.2.9: an abort carries its result code"
    elif msg.command == (0x06, 0x0F):
        if command.completion == "empty":
            assert data == b"", f"{command.section} completion: 06 0F 00"
        elif command.completion == "registration":  # §2.1
            numbers = [n for n, _ in walk(data)]
            assert numbers == [n for n in (0x19, 0x29, 0x49, 0x06) if n in numbers], "§2.1"
        else:  # §2.56.5: [<SW-version> LLLVAR] <status code> [06 TLV]
            pos = 0
            if len(data) > 1 and all(b >> 4 == 0xF for b in data[:3]):
                pos = 3 + int("".join(str(b & 0xF) for b in data[:3]))
            assert data[pos] in TERMINAL_STATUS, "chapter 11"
            assert len(data) == pos + 1 or data[pos + 1] == 0x06, "§2.56.5"
    elif msg.cls == 0x84:  # PA00P016 §5.2.3: 84 xx, or 84 1E with the result code
        pass
    else:
        raise SpecError(f"{msg} is no message of the terminal's")


def check_dialogue(command: Apdu, answers: list[Apdu]) -> None:
    spec = check_command(command)
    names = [a.command for a in answers]
    assert answers, f"{spec.section}: the terminal said nothing"
    if answers[0].cls == 0x84:
        assert len(answers) == 1, "after 84 xx the dialogue is over"
        return
    assert names[0] == (0x80, 0x00), f"{spec.section}: 80 00 first, got {answers[0]}"
    if spec.completion == "none":
        assert names == [(0x80, 0x00)], f"{spec.section}: 80 00 alone"
        return
    assert names[-1] in ENDS, f"{spec.section}: ends with 06 0F or 06 1E, got {answers[-1]}"
    assert set(names[1:-1]) <= BETWEEN, f"{spec.section}: {names}"
    for msg in answers:
        check_message(spec, msg)


@dataclass
class Recorder:
    """The link the driver uses, keeping each command with what the terminal answered."""

    link: SerialLink
    dialogues: list[tuple[Apdu, list[Apdu]]] = field(default_factory=list)

    def send(self, apdu: Apdu) -> None:
        self.link.send(apdu)
        if apdu.command in COMMANDS:
            self.dialogues.append((apdu, []))

    def send_nowait(self, apdu: Apdu) -> None:
        """An abort (06 B0, §2.23) goes into the running dialogue: the terminal ends
        that one (06 1E), it does not answer the abort itself."""
        self.link.send_nowait(apdu)

    def receive(self, timeout: float) -> Apdu:
        apdu = self.link.receive(timeout)
        self.dialogues[-1][1].append(apdu)
        return apdu

    def close(self) -> None:
        self.link.close()


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_message_of_every_command_follows_the_specification(profile):
    sim = TerminalSimulator(profile=profile)
    sim.t2_s, sim.t3_s = 0.3, 0.5
    port = sim.start_pty()
    recorders: list[Recorder] = []

    def open_link() -> Recorder:
        recorders.append(Recorder(SerialLink.open(port, ack_timeout=0.3)))
        return recorders[-1]

    terminal = ZvtTerminal(open_link, timeouts=ZvtTimeouts(command_ack_s=1, idle_s=2))  # type: ignore[arg-type]
    try:
        terminal.register()
        paid = terminal.authorise(4990)
        sim.push(Script(outcome="decline", decline_code=0x51))
        terminal.authorise(1000)
        sim.push(Script(outcome="cancel"))
        terminal.authorise(1000)
        held = terminal.reserve(8000)
        terminal.partial_release(held.receipt_number, 1000)
        terminal.book(held.receipt_number, 7000)
        held = terminal.reserve(2000)
        terminal.release(held.receipt_number)
        terminal.book(9999, 100)  # no such reservation: refused
        terminal.last_transaction()
        terminal.reverse(paid.receipt_number)
        terminal.refund(500)
        terminal.status()
        terminal.end_of_day()
        terminal.log_off()
        terminal.status()  # registers again first
    finally:
        terminal.close()
        sim.stop()
    dialogues = [d for r in recorders for d in r.dialogues]
    seen = {command.command for command, _ in dialogues}
    assert seen == set(COMMANDS) - {(0x06, 0xB0)}  # abort: test below
    for command, answers in dialogues:
        try:
            check_dialogue(command, answers)
        except AssertionError as exc:
            raise AssertionError(
                f"{profile}: {command} → {[str(a) for a in answers]}: {exc}"
            ) from exc


def test_an_abort_during_a_payment_follows_the_specification():
    sim = TerminalSimulator()
    port = sim.start_pty()
    recorder = Recorder(SerialLink.open(port, ack_timeout=0.3))
    terminal = ZvtTerminal(lambda: recorder, timeouts=ZvtTimeouts(command_ack_s=1, idle_s=2))  # type: ignore[arg-type,return-value]
    try:
        terminal.register()
        sim.push(Script(outcome="hang"))
        import threading

        threading.Timer(0.5, terminal.abort).start()
        result = terminal.authorise(1000)
    finally:
        terminal.close()
        sim.stop()
    assert result.result_code == 0x6C
    payment = next(answers for cmd, answers in recorder.dialogues if cmd.command == (0x06, 0x01))
    check_dialogue(
        Apdu(0x06, 0x01, bytes.fromhex("040000000010004909 78".replace(" ", ""))), payment
    )


@pytest.mark.parametrize(
    ("bad", "section"),
    [
        (Apdu(0x04, 0x0F, b"\x04\x00\x00\x00\x00\x10\x00\x27\x00"), "result code comes first"),
        (Apdu(0x04, 0x0F, b"\x27\x00\x8b\xf0\xf4VISA"), "ascii-nul"),
        (Apdu(0x04, 0x0F, b"\x27\x00\x04\x00\x00\x00\x00\x1a\x00"), "bcd"),
        (Apdu(0x06, 0x0F, b"\x27\x00"), "completion: 06 0F 00"),
        (Apdu(0x06, 0xD1, b"\x80LAST"), "RFU"),
    ],
)
def test_the_checks_catch_what_the_specification_forbids(bad, section):
    """The checker itself can fail: a status information without its result code first,
    a card name without its NUL, a non-BCD amount, a payment completion with data (the
    old simulator's 06 0F 02 27 00), print attribute 80."""
    authorisation = COMMANDS[(0x06, 0x01)]
    with pytest.raises(AssertionError, match=section):
        check_message(authorisation, bad)


def test_the_terminal_does_what_the_registration_asked():
    """Table 1 and §3.7: intermediate status only to an ECR that asked (bit 3) — after
    Log-Off the config byte is 86 and none come; receipts go to an ECR that prints
    them with print lines (bits 1 and 7), else the terminal prints them itself."""
    sim = TerminalSimulator(profile="plain")
    port = sim.start_pty()
    recorder = Recorder(SerialLink.open(port, ack_timeout=0.3))
    terminal = ZvtTerminal(lambda: recorder, timeouts=ZvtTimeouts(command_ack_s=1, idle_s=2))  # type: ignore[arg-type,return-value]

    def messages() -> list[tuple[int, int]]:
        return [a.command for a in recorder.dialogues[-1][1]]

    try:
        terminal.authorise(1000)  # registered with 0xBE on the way
        assert sim.registered_config == 0xBE
        assert (0x04, 0xFF) in messages() and (0x06, 0xD1) in messages()
        assert sim.printed_itself == []
        sim.registered_config = 0x06  # ECR prints, from the status information
        terminal.authorise(1000)
        assert (0x04, 0xFF) not in messages() and (0x06, 0xD1) not in messages()
        assert sim.printed_itself == []
        sim.registered_config = 0x00  # the terminal prints
        terminal.authorise(1000)
        assert (0x06, 0xD1) not in messages() and len(sim.printed_itself) == 1
    finally:
        terminal.close()
        sim.stop()


def test_the_terminal_recovers_from_an_ecr_that_disappears():
    """PA00P015 §2.2.8 and PA00P016 T3: an ECR that never acknowledges the status
    information gets an auto-reversal, nothing stored; one that never acknowledges the
    completion keeps its payment (it was stored at the acknowledged status information).
    Either way the terminal waits for the next command and answers it."""
    sim = TerminalSimulator(profile="plain")
    sim.t2_s, sim.t3_s = 0.2, 0.3
    port = sim.start_pty()
    link = SerialLink.open(port, ack_timeout=0.3)
    try:
        for leave_before in ((0x04, 0x0F), (0x06, 0x0F)):
            link.send(Apdu(0x06, 0x01, bytes.fromhex("04000000001000490978")))
            while (msg := link.receive(2)).command != leave_before:
                if msg.command != (0x80, 0x00):
                    link.send(Apdu(0x80, 0x00))
            assert sim.wait_idle(3)  # T3 ran out: back to waiting for a command
            link.send(Apdu(0x05, 0x01, bytes.fromhex("000000")))
            assert link.receive(2).command == (0x80, 0x00)
            assert link.receive(2).command == (0x06, 0x0F)
            link.send(Apdu(0x80, 0x00))
    finally:
        link.close()
        sim.stop()
    assert sim.auto_reversals == 1
    assert sim.money_taken_minor == 1000  # the second payment, stored before completion
