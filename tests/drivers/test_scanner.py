import os
import pty
import time
import tty

from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.claim_codes import ClaimCode
from kiosk.drivers.scanner.reader import KeyAssembler, LineAssembler, SerialScanner, claim_code_in

codes = st.binary(min_size=5, max_size=5).map(ClaimCode.from_random)


@given(st.binary(max_size=1000))
def test_garbage_never_crashes_and_never_yields_a_bad_code(noise):
    for line in LineAssembler().feed(noise):
        code = claim_code_in(line)
        assert code is None or ClaimCode.parse(code.value) == code


@given(st.binary(max_size=300), codes, st.sampled_from([b"\r", b"\n", b"\r\n"]))
def test_a_good_scan_after_noise_is_found(noise, code, eol):
    lines = LineAssembler().feed(noise + b"\r" + code.display.encode() + eol)
    assert code in [claim_code_in(line) for line in lines]


def test_overlong_lines_are_dropped_whole():
    asm = LineAssembler()
    assert asm.feed(b"X" * 500 + b"\n" + b"ok\n") == ["ok"]
    assert asm.dropped == 1


def test_wedge_keystrokes_become_a_code():
    code = ClaimCode.from_random(b"\x01\x02\x03\x04\x05")
    keys = KeyAssembler()
    out = None
    for ch in code.display:
        name = "KEY_MINUS" if ch == "-" else f"KEY_{ch}"
        shifted = ch.isalpha()
        if shifted:
            keys.feed("KEY_LEFTSHIFT", 1)
        keys.feed(name, 1)
        keys.feed(name, 0)
        if shifted:
            keys.feed("KEY_LEFTSHIFT", 0)
    out = keys.feed("KEY_ENTER", 1)
    assert claim_code_in(out) == code


def test_serial_scanner_over_a_pty():
    master, slave = pty.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    scanner = SerialScanner(os.ttyname(slave))
    got = []
    scanner.start(got.append)
    code = ClaimCode.from_random(b"\x09\x08\x07\x06\x05")
    os.write(master, b"\x00\xffgarbage\r\n" + code.display.encode() + b"\r\nABCD-EFGH-J\r\n")
    deadline = time.monotonic() + 2
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    scanner.stop()
    os.close(master)
    os.close(slave)
    assert got == [code.value]
    assert scanner.ignored == 2
