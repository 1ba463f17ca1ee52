"""The Kerong drivers' frames against frames taken from public implementations of the
boards' protocols (read 2026-12-02; none of their code is in the project), and the
emulators (`kerong_sim.py`, written from the same sources) against the same frames.

Sources, named in each test:
- LKAAS: GitHub julio-alv/lkaas-kerong, src/kerong/command.rs and status.rs (a KR-CU16
  over serial at 19200 8N1): `unlock_one(n) = 02 n 31 03 (n + 0x36)`,
  `query_all = 02 00 32 03 37`, a 9-byte status whose bytes 3-4 are the hooks and 5-6
  the infrared sensors, little-endian, a set hook bit read as closed.
- KERONG-LIB: GitHub suryavirkapur/kerong-lib, src/kerong_client.cpp (KR-CU16):
  unlock `02 (board << 4 | lock) 31 03 SUM`, no reply read; get_state
  `02 (board << 4) 30 03 SUM`, a 9-byte reply `02 ADDR 35 H1 H2 I1 I2 03 SUM`, a set
  hook bit read as *unlocked* (the dissenting polarity).
- TS-CU16: a TypeScript "Kerong Lock Controller Module" for CU12/CU16 found by code
  search: setUnlockTime `02 ADDR 37 HH LL 03 SUM` in 10 ms units, getUnlockTime
  `02 ADDR 37 03 SUM`; a set hook bit read as locked.
- NODE-CU48: a Node.js "CU48Driver" found by code search: query `02 00 00 50 03 55`,
  open `02 00 N 51 03 SUM` (N from 0), reply `02 00 00 65 D1..D6 03 SUM` (12 bytes),
  a set bit read as closed.

Each vector test fails on the frames the "CU16" backend sent before (six bytes
`02 ADDR LOCK CMD 03 SUM` with 0x50/0x51/0x52: the CU48's layout).
"""

import pytest

from kiosk.drivers.drawer.cu16 import Cu16Hardware
from kiosk.drivers.drawer.cu48 import Cu48Hardware
from kiosk.drivers.drawer.kerong import KerongLocker
from kiosk.drivers.drawer.kerong_sim import Cu16BusEmulator, Cu48BusEmulator


class NoLine:
    """The drivers' frame builders need no line."""

    def close(self):
        pass


def cu16(**options):
    return Cu16Hardware(NoLine(), [KerongLocker("1", 0, 1)], **options)


def cu48(**options):
    return Cu48Hardware(NoLine(), [KerongLocker("1", 0, 1)], **options)


def hexes(text):
    return bytes.fromhex(text)


OLD_CU16_FRAMES = [hexes("02 00 00 51 03 56"), hexes("02 00 00 50 03 55")]


# -- KR-CU16: the driver's frames ------------------------------------------------------


@pytest.mark.parametrize("n", [0, 5, 15])
def test_cu16_unlock_is_lkaas_unlock_one(n):
    """LKAAS command.rs: unlock_one(n) = [02, n, 31, 03, n + 0x36] (board 0, lock n+1)."""
    assert cu16().unlock_request(0, n + 1) == bytes((0x02, n, 0x31, 0x03, n + 0x36))
    assert cu16().unlock_request(0, n + 1) not in OLD_CU16_FRAMES


def test_cu16_unlock_of_board_1_lock_3_is_kerong_libs():
    """KERONG-LIB: make_unlock_addr(1, 2) = 0x12; the sum of 02 12 31 03 is 0x48."""
    assert cu16().unlock_request(1, 3) == hexes("02 12 31 03 48")


def test_cu16_status_of_board_1_is_kerong_libs_get_state():
    """KERONG-LIB: get_state(1) sends 02 10 30 03 45 and wants 9 bytes back."""
    driver = cu16()
    assert driver.status_request(1) == hexes("02 10 30 03 45")
    assert driver.status_length == 9


def test_cu16_reads_a_status_reply_as_lkaas_does():
    """LKAAS status.rs: hooks = u16 LE of bytes 3-4, sensors of bytes 5-6; bit i is
    lock i+1. This reply: locks 1, 3 and 16 hooked, lock 2 occupied."""
    reply = hexes("02 00 35 05 80 02 00 03") + bytes((0xC1,))
    assert sum(reply[:-1]) & 0xFF == reply[-1]
    driver = cu16()
    assert driver.status_problem(0, reply) == ""
    reading = driver.reading_of(reply)
    assert reading.hooks == 0x8005 and reading.sensors == 0x0002


def test_cu16_refuses_a_status_reply_of_another_board_or_command():
    """KERONG-LIB checks resp[1] against the address asked and resp[2] == 0x35."""
    other_board = hexes("02 10 35 00 00 00 00 03 4a")
    old_reply = hexes("02 00 00 65 00 00 00 00 03 6a")  # the old 0x65 "read all" reply
    assert "another board" in cu16().status_problem(0, other_board)
    assert "another board" in cu16().status_problem(0, old_reply)


def test_cu16_unlock_time_frames_are_the_typescript_controllers():
    """TS-CU16: setUnlockTime(500) = 02 00 37 00 32 03 6e (50 × 10 ms);
    getUnlockTime() = 02 00 37 03 3c."""
    from kiosk.drivers.drawer.cu16 import UNLOCK_TIME, address
    from kiosk.drivers.drawer.kerong import framed

    assert framed(address(0), UNLOCK_TIME, 0x00, 0x32) == hexes("02 00 37 00 32 03 6e")
    assert framed(address(0), UNLOCK_TIME) == hexes("02 00 37 03 3c")


@pytest.mark.parametrize(
    ("closed_bit", "locked"),
    [(1, [True, False, True]), (0, [False, True, False])],
    ids=["lkaas-ts-cartwise", "kerong-lib"],
)
def test_cu16_hook_polarity_is_the_setting(closed_bit, locked):
    """Three sources read a set hook bit as latched, KERONG-LIB as unlatched
    (`is_locked` = bit clear): `hook_closed_bit` chooses."""
    driver = cu16(hook_closed_bit=closed_bit)
    reading = driver.reading_of(hexes("02 00 35 05 00 00 00 03 3f"))
    assert [driver._bit(reading, lock) == closed_bit for lock in (1, 2, 3)] == locked


# -- KR-CU48: the driver's frames ------------------------------------------------------


def test_cu48_status_is_the_node_drivers_query():
    """NODE-CU48: `Query all 48 locks: 02 00 00 50 03 55`, 12 bytes back."""
    driver = cu48()
    assert driver.status_request(0) == hexes("02 00 00 50 03 55")
    assert driver.status_length == 12


@pytest.mark.parametrize("door", [0, 7, 47])
def test_cu48_unlock_is_the_node_drivers_open(door):
    """NODE-CU48: openDoor(n) writes 02 00 n 51 03 (02 + n + 51 + 03) & 0xFF."""
    expected = bytes((0x02, 0x00, door, 0x51, 0x03, (0x56 + door) & 0xFF))
    assert Cu48Hardware(NoLine(), [KerongLocker("1", 0, 48)]).unlock_request(0, door + 1) == (
        expected
    )


def test_cu48_reads_d1_to_d6_as_the_node_driver_does():
    """NODE-CU48: bytes 4-9 are D1-D6, bit b of byte 4+k is door 8k+b; ETX at 10."""
    reply = hexes("02 00 00 65 01 00 00 00 00 80 03")
    reply += bytes((sum(reply) & 0xFF,))
    driver = cu48()
    assert len(reply) == 12 and driver.status_problem(0, reply) == ""
    hooks = driver.reading_of(reply).hooks
    assert [n + 1 for n in range(48) if hooks >> n & 1] == [1, 48]


# -- the emulators answer the public frames, and not the old ones ------------------------


class Wire:
    """What an emulator answers to one request, straight from its parser."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.replies = []
        emulator.exchange = lambda request, answer: self.replies.append(answer())

    def send(self, data):
        self.replies.clear()
        rest = self.emulator.answer_line(data)
        return b"".join(self.replies), rest


@pytest.fixture
def cu16_bus():
    bus = Cu16BusEmulator({"1": (0, 1), "2": (1, 3)})
    yield bus
    bus.stop()


@pytest.fixture
def cu48_bus():
    bus = Cu48BusEmulator({"1": (0, 1), "48": (0, 48)})
    yield bus
    bus.stop()


def test_cu16_emulator_answers_kerong_libs_get_state(cu16_bus):
    reply, rest = Wire(cu16_bus).send(hexes("02 10 30 03 45"))
    assert rest == b"" and len(reply) == 9 and reply[:3] == hexes("02 10 35")
    assert reply[7] == 0x03 and sum(reply[:8]) & 0xFF == reply[8]


def test_cu16_emulator_unlocks_on_lkaas_unlock_one_and_says_nothing(cu16_bus):
    reply, _rest = Wire(cu16_bus).send(hexes("02 00 31 03 36"))
    assert reply == b"" and cu16_bus.unlocks("1") == 1


def test_cu16_emulator_answers_lkaas_query_all(cu16_bus):
    """LKAAS sends 0x32 at ADDR 00 and reads 9 bytes (its one board); at ADDR F0 every
    board on the bus answers, in address order."""
    reply, _ = Wire(cu16_bus).send(hexes("02 00 32 03 37"))
    assert len(reply) == 9 and reply[:3] == hexes("02 00 36")
    reply, _ = Wire(cu16_bus).send(hexes("02 f0 32 03 27"))
    assert [reply[i : i + 3] for i in (0, 9)] == [hexes("02 00 36"), hexes("02 10 36")]


def test_cu16_emulator_keeps_the_unlock_time_the_typescript_controller_sets(cu16_bus):
    wire = Wire(cu16_bus)
    reply, _ = wire.send(hexes("02 00 37 00 32 03 6e"))
    assert reply == hexes("02 00 38 00 32 03 6f")
    assert wire.send(hexes("02 00 37 03 3c"))[0] == hexes("02 00 38 00 32 03 6f")


@pytest.mark.parametrize("frame", OLD_CU16_FRAMES, ids=["old-open", "old-read-all"])
def test_cu16_emulator_ignores_the_old_cu48_shaped_frames(cu16_bus, frame):
    assert Wire(cu16_bus).send(frame)[0] == b""
    assert cu16_bus.unlocks("1") == 0


def test_cu48_emulator_answers_the_node_drivers_query_and_open(cu48_bus):
    wire = Wire(cu48_bus)
    reply, _ = wire.send(hexes("02 00 00 50 03 55"))
    assert len(reply) == 12 and reply[:4] == hexes("02 00 00 65") and reply[10] == 0x03
    assert reply[4:10] == hexes("ff ff ff ff ff ff")  # every lock latched: every bit set
    assert wire.send(hexes("02 00 2f 51 03 85"))[0] == b""
    assert cu48_bus.unlocks("48") == 1


def test_cu48_emulator_ignores_cu16_frames(cu48_bus):
    assert Wire(cu48_bus).send(hexes("02 00 31 03 36"))[0] == b""
    assert cu48_bus.unlocks("1") == 0
