"""Lock boards as sold (issue 23): how the Kerong drivers open a lock against the
emulators (one unlock frame; again only after a read shows it still latched), the hook
polarity as a setting that `kiosk doctor` can settle, the KR-CU16's unlock time, and
Modbus relay boards pulsing with their own timer (Waveshare's flash) so that a kiosk
that dies mid-pulse cannot hold a lock powered."""

import time

import pytest
from pymodbus.client import ModbusSerialClient

from kiosk.drivers.crc import crc16_modbus
from kiosk.drivers.drawer.bank import LockerBank, LockerTimings
from kiosk.drivers.drawer.cu16 import Cu16Hardware
from kiosk.drivers.drawer.cu48 import Cu48Hardware
from kiosk.drivers.drawer.kerong import KerongBoards, KerongLocker
from kiosk.drivers.drawer.kerong_sim import Cu16BusEmulator, Cu48BusEmulator
from kiosk.drivers.drawer.modbus import ModbusHardware, ModbusLocker
from kiosk.drivers.drawer.modbus_sim import ModbusBusSimulator
from kiosk.drivers.drawer.simulator import DoorBehaviour

TIMINGS = LockerTimings(pulse_ms=60, debounce_ms=20, open_timeout_s=1.0)
MODELS = {"cu16": (Cu16BusEmulator, Cu16Hardware), "cu48": (Cu48BusEmulator, Cu48Hardware)}


class Bench:
    """One board on an emulated bus, the real driver and the bank above it."""

    def __init__(self, model, *, hook_closed_bit=1, latched_bit=True, driver=None):
        emulator, hardware = MODELS[model]
        self.sim = emulator({"1": (2, 1), "2": (2, 7)}, open_after_s=0.05, close_after_s=5)
        self.sim.boards[2].hook_set_when_latched = latched_bit
        self.sim.start()
        lockers = [KerongLocker("1", 2, 1), KerongLocker("2", 2, 7)]
        self.hardware = (driver or hardware).open_port(
            self.sim.path, 19200, lockers, hook_closed_bit=hook_closed_bit, confirm_s=0.3
        )
        self.bank = LockerBank(self.hardware, TIMINGS)
        self.bank.wait_stable()

    def commands(self):
        """The command byte of each frame the board heard (CU16 at 2, CU48 at 3)."""
        at = 2 if isinstance(self.hardware, Cu16Hardware) else 3
        return [frame[at] for frame in self.sim.heard]

    def close(self):
        self.bank.close()
        self.sim.stop()


@pytest.fixture(params=list(MODELS))
def bench(request):
    b = Bench(request.param)
    yield b
    b.close()


STATUS = {"cu16": 0x30, "cu48": 0x50}
UNLOCK = {"cu16": 0x31, "cu48": 0x51}


def unlock_rule_holds(bench, model):
    """Every unlock frame after the first follows a status read that showed the lock
    still latched (here: no read after it showed it unlatched)."""
    commands = [c for c in bench.commands() if c in (STATUS[model], UNLOCK[model])]
    first = commands.index(UNLOCK[model])
    return all(commands[i - 1] == STATUS[model] for i in range(first + 1, len(commands))
               if commands[i] == UNLOCK[model])  # fmt: skip


def test_an_open_is_one_unlock_frame_confirmed_by_a_status_read(bench):
    model = "cu16" if isinstance(bench.hardware, Cu16Hardware) else "cu48"
    bench.sim.heard.clear()
    assert bench.bank.open("2").opened
    assert bench.sim.unlocks("2") == 1 and bench.hardware.unlocks_sent == 1
    commands = bench.commands()
    assert commands.count(UNLOCK[model]) == 1
    unlock = commands.index(UNLOCK[model])
    assert commands[unlock - 1] == STATUS[model]  # the board was read before
    assert STATUS[model] in commands[unlock + 1 :]  # and after


def test_a_jammed_lock_gets_a_second_frame_only_after_a_read_shows_it_latched(bench):
    model = "cu16" if isinstance(bench.hardware, Cu16Hardware) else "cu48"
    bench.sim.behaviour["1"] = DoorBehaviour.JAMMED
    bench.sim.heard.clear()
    assert not bench.bank.open("1").opened
    assert bench.sim.unlocks("1") == 2
    assert unlock_rule_holds(bench, model)


class BlindRetry(Cu16Hardware):
    """What the rule guards against: the unlock sent twice without looking."""

    def energise(self, locker, pulse_ms):
        entry = self._lockers[locker]
        self.send(self.unlock_request(entry.board, entry.lock))
        self.send(self.unlock_request(entry.board, entry.lock))


def test_the_unlock_rule_check_catches_a_blind_retry():
    blind = Bench("cu16", driver=BlindRetry)
    try:
        blind.sim.heard.clear()
        blind.bank.open("2")
        assert blind.sim.unlocks("2") == 2
        assert not unlock_rule_holds(blind, "cu16")
    finally:
        blind.close()


def test_a_silent_board_is_sent_no_unlock(bench):
    bench.sim.boards[2].silent = True
    result = bench.bank.open("2")
    assert not result.opened and "no answer" in result.detail
    assert bench.hardware.unlocks_sent == 0 and bench.sim.unlocks("2") == 0


@pytest.mark.parametrize("model", list(MODELS))
def test_a_board_reading_hooks_the_other_way_is_shown_and_then_set(model):
    wrong = Bench(model, latched_bit=False)  # kerong-lib's reading of the bit
    try:
        assert wrong.bank.door("1").value == "open"  # every shut door reads open
        result = wrong.bank.open("1")
        assert not result.opened and "already open" in result.detail
        assert wrong.sim.unlocks("1") == 0
        advice = (
            "hook bit 0, read as unlatched (hook_closed_bit = 1); if the door is shut, "
            "set hook_closed_bit = 0"
        )
        assert advice in wrong.hardware.hook_report("1")
    finally:
        wrong.close()
    right = Bench(model, hook_closed_bit=0, latched_bit=False)
    try:
        assert right.bank.open("1").opened
        assert "hook bit 0 before 1 unlock frame, 1 after: hook_closed_bit = 0 holds" in (
            right.hardware.hook_report("1")
        )
    finally:
        right.close()


def test_the_cu16_unlock_time_is_made_the_pulse_once():
    bench = Bench("cu16")
    try:
        board = bench.sim.boards[2]
        assert board.unlock_units == 50  # 500 ms as it came
        bench.sim.heard.clear()
        assert bench.bank.open("1").opened
        assert board.unlock_units == TIMINGS.pulse_ms // 10
        time.sleep(0.2)
        assert bench.bank.open("2").opened
        assert bench.commands().count(0x37) == 3  # asked, set, asked back: once
        assert any("unlock time 60 ms" in line for _ok, line in bench.hardware.describe())
    finally:
        bench.close()


def test_both_models_share_one_bus_discipline():
    assert issubclass(Cu16Hardware, KerongBoards) and issubclass(Cu48Hardware, KerongBoards)


# -- Modbus relay boards ----------------------------------------------------------------


class Recorder:
    def __init__(self):
        self.sent = []

    def __call__(self, sending, packet):
        if sending:
            self.sent.append(bytes(packet))
        return packet


def modbus(flash_board=True, flash_driver=True):
    sim = ModbusBusSimulator({"1": (1, 1), "2": (1, 2)}, baudrate=9600, open_after_s=0.05)
    sim.boards[1].flash = flash_board
    sim.start()
    recorder = Recorder()
    client = ModbusSerialClient(sim.path, baudrate=9600, timeout=0.2, trace_packet=recorder)
    lockers = [ModbusLocker("1", 1, 1), ModbusLocker("2", 1, 2)]
    return sim, ModbusHardware(client, lockers, flash=flash_driver), recorder


def test_a_flash_is_waveshares_function_05_at_0x0200_with_the_time():
    """Waveshare Modbus RTU Relay (development protocol V3): flash on relay n is function
    05 at 0x0200 + n, the value the time in 100 ms units (0x0007 = 700 ms)."""
    sim, hardware, recorder = modbus()
    try:
        recorder.sent.clear()
        hardware.energise("1", 700)
        body = bytes.fromhex("01 05 02 00 00 07")
        assert recorder.sent == [body + crc16_modbus(body).to_bytes(2, "little")]
        deadline = time.monotonic() + 2  # the board acts once the frame has crossed the line
        while sim.boards[1].flashes == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sim.boards[1].flashes == 1
    finally:
        hardware.close()
        sim.stop()


def test_a_kiosk_that_dies_mid_pulse_leaves_no_lock_powered_with_the_flash():
    sim, hardware, _ = modbus()
    try:
        hardware.energise("1", 300)
        assert sim.energised("1")  # the board answered the flash: its coil is on
        hardware.close()  # the kiosk is gone: nothing will write the coil off
        time.sleep(0.5)
        assert not sim.energised("1")
    finally:
        sim.stop()


def test_without_the_flash_a_dead_kiosk_would_hold_the_lock():
    """The danger the flash removes: a coil written on stays on."""
    sim, hardware, _ = modbus(flash_driver=False)
    try:
        hardware._write(hardware._lockers["1"], True)  # the pulse began; the kiosk dies
        hardware.close()
        time.sleep(0.5)
        assert sim.energised("1")
    finally:
        sim.stop()


def test_a_board_without_the_flash_is_pulsed_by_the_kiosk_from_then_on():
    sim, hardware, recorder = modbus(flash_board=False)
    try:
        hardware.energise("1", 100)
        assert not sim.energised("1") and len(sim.energised_at) == 1
        assert hardware._no_flash == {1}
        recorder.sent.clear()
        hardware.energise("2", 100)
        assert [p[2:4] for p in recorder.sent] == [b"\x00\x01", b"\x00\x01"]  # coil on, off
        assert any("timed by the kiosk" in line for _ok, line in hardware.describe())
    finally:
        hardware.close()
        sim.stop()
