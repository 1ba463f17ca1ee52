"""One behavioural suite for every locker backend (issue 14): the GPIO header on
gpiozero's MockFactory, buses of Kerong KR-CU16 and KR-CU48 boards on a pty (emulators
written from the boards' public implementations, `kerong_sim.py`), Modbus RTU boards on
a pty (the kiosk's client is pymodbus; the boards are written from the Modbus
specification and Waveshare's register map), and
the co-processor, which is the real firmware running on MicroPython (WebAssembly port,
under Node) on a pty.

What the locks did is read from each simulator (the pins, the board's lock timers, the
74HC595 model's outputs), not from the kiosk's driver."""

import shutil
import struct
import time

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.drivers.base import DeviceState
from kiosk.drivers.drawer.bank import Door, LockerBank, LockerError, LockerTimings
from kiosk.drivers.drawer.cu16 import Cu16Hardware
from kiosk.drivers.drawer.cu48 import Cu48Hardware
from kiosk.drivers.drawer.gpio import GpioHardware, LockerPins
from kiosk.drivers.drawer.kerong import KerongLocker
from kiosk.drivers.drawer.kerong_sim import Cu16BusEmulator, Cu48BusEmulator
from kiosk.drivers.drawer.modbus import ModbusHardware, ModbusLocker
from kiosk.drivers.drawer.modbus_sim import ModbusBusSimulator
from kiosk.drivers.drawer.pico import PicoHardware, PicoLocker, encode
from kiosk.drivers.drawer.pico_sim import PicoSimulator
from kiosk.drivers.drawer.simulator import DoorBehaviour, LockerBankSimulator

TIMINGS = LockerTimings(pulse_ms=60, debounce_ms=30, open_timeout_s=1.0, left_open_alarm_s=0.6)
DOORS = {"open_after_s": 0.1, "close_after_s": 0.3}


class Rig:
    def __init__(self, backend):
        self.backend = backend
        if backend == "gpio":
            factory = MockFactory()
            pins = [LockerPins("1", 17, 27), LockerPins("2", 22, 23)]
            hardware = GpioHardware(pins, factory)
            self.sim = LockerBankSimulator(factory, pins, **DOORS)
        elif backend in ("cu16", "cu48"):
            last = 16 if backend == "cu16" else 48
            emulator = Cu16BusEmulator if backend == "cu16" else Cu48BusEmulator
            self.sim = emulator({"1": (0, 1), "2": (3, last)}, **DOORS)
            self.sim.start()
            lockers = [KerongLocker("1", 0, 1), KerongLocker("2", 3, last)]
            model = Cu16Hardware if backend == "cu16" else Cu48Hardware
            hardware = model.open_port(self.sim.path, 19200, lockers)
        elif backend == "modbus":
            self.sim = ModbusBusSimulator({"1": (1, 1), "2": (7, 32)}, baudrate=9600, **DOORS)
            self.sim.start()
            lockers = [ModbusLocker("1", 1, 1), ModbusLocker("2", 7, 32)]
            hardware = ModbusHardware.open_port(self.sim.path, 9600, lockers, flash=True)
        else:
            self.sim = PicoSimulator({"1": 1, "2": 24}, **DOORS)
            hardware = PicoHardware.open_port(
                self.sim.path, [PicoLocker("1", 1), PicoLocker("2", 24)]
            )
        self.hardware = hardware
        self.bank = LockerBank(hardware, TIMINGS)
        if backend == "gpio":
            self.sim.start()
        assert self.bank.wait_stable()
        self.events = []
        self.bank.subscribe(lambda e: self.events.append((e.locker, e.kind.value)))
        self.bank.start(interval=0.005)

    def pulses(self, locker):
        return [t for name, t in self.sim.energised_at if name == locker]

    def close(self):
        self.bank.close()
        self.sim.stop()


@pytest.fixture(params=["gpio", "cu16", "cu48", "modbus", "pico"])
def rig(request):
    r = Rig(request.param)
    yield r
    r.close()


def settle(seconds):
    time.sleep(seconds)


def test_open_pulses_once_and_sees_the_door_open_then_shut(rig):
    result = rig.bank.open("2")
    assert result.opened, result.detail
    assert len(rig.pulses("2")) == 1 and rig.pulses("1") == []
    settle(0.6)
    assert rig.events == [("2", "opened"), ("2", "closed")]
    assert not rig.sim.energised("2")  # the pulse ended


def test_a_jammed_door_is_reported_and_the_lock_released(rig):
    rig.sim.behaviour["1"] = DoorBehaviour.JAMMED
    result = rig.bank.open("1")
    assert not result.opened and "not seen open" in result.detail
    assert rig.events == [("1", "never_opened")]
    assert not rig.sim.energised("1")


def test_a_door_left_open_raises_one_alarm(rig):
    rig.sim.behaviour["1"] = DoorBehaviour.LEFT_OPEN
    assert rig.bank.open("1").opened
    settle(1.0)
    assert rig.events == [("1", "opened"), ("1", "left_open")]


def test_a_bouncing_switch_gives_one_event_each_way(rig):
    rig.sim.behaviour["2"] = DoorBehaviour.BOUNCY
    assert rig.bank.open("2").opened
    settle(0.7)
    assert rig.events == [("2", "opened"), ("2", "closed")]


def test_a_cut_wire_reads_open_and_no_open_is_claimed(rig):
    rig.sim.cut_wire("1")
    settle(0.2)
    assert rig.bank.door("1") is Door.OPEN
    assert rig.events == [("1", "opened")]
    result = rig.bank.open("1")
    assert not result.opened and "already open" in result.detail
    assert rig.pulses("1") == []


def test_an_unknown_locker_is_a_clear_error(rig):
    with pytest.raises(LockerError, match="no locker '9'"):
        rig.bank.open("9")


@pytest.mark.parametrize("backend", ["cu16", "cu48", "modbus", "pico"])
def test_a_silent_bus_is_a_fault_not_an_exception(backend):
    rig = Rig(backend)
    try:
        if backend != "pico":
            rig.sim.boards[7 if backend == "modbus" else 3].silent = True
        else:
            rig.sim.stop()  # the co-processor's cable is pulled
        settle(1.0)  # a silent Kerong board is asked twice, 0.3 s each
        assert rig.bank.status_stream.latest.state is DeviceState.FAULT
        result = rig.bank.open("2")
        assert not result.opened and "could not be pulsed" in result.detail
        assert rig.pulses("2") == []
        if backend != "pico":
            rig.sim.boards[7 if backend == "modbus" else 3].silent = False
            settle(1.0)
            assert rig.bank.status_stream.latest.state is DeviceState.READY
    finally:
        rig.bank.close()
        if backend != "pico":
            rig.sim.stop()


# -- the co-processor: the firmware in the loop --------------------------------------


class LossyPort:
    """The serial port, losing the next reply on the way back (a glitch on the cable)."""

    def __init__(self, port):
        self._port = port
        self.lose_next_reply = False
        self._held = bytearray()

    def write(self, data):
        return self._port.write(data)

    def read(self, n):
        data = self._port.read(n)
        if not self.lose_next_reply:
            return data
        self._held += data
        if len(self._held) >= 2 and len(self._held) >= self._held[1] + 4:
            rest = bytes(self._held[self._held[1] + 4 :])
            self._held.clear()
            self.lose_next_reply = False
            return rest
        return b""

    def close(self):
        self._port.close()


@pytest.fixture
def pico():
    if shutil.which("node") is None:  # `make install` brings it
        pytest.skip("the co-processor runs on MicroPython under Node, which is not here")
    sim = PicoSimulator({"1": 1, "2": 2}, open_after_s=0.02, close_after_s=0.3)
    hardware = PicoHardware.open_port(sim.path, [PicoLocker("1", 1), PicoLocker("2", 2)])
    hardware.line.read(1)  # the line opens
    lossy = LossyPort(hardware.line.port)
    hardware.line.port = lossy
    bank = LockerBank(hardware, TIMINGS)
    assert bank.wait_stable()
    yield sim, hardware, lossy, bank
    bank.close()
    sim.stop()


def test_a_retried_open_whose_reply_was_lost_pulses_once(pico):
    sim, hardware, lossy, bank = pico
    lossy.lose_next_reply = True
    assert bank.open("1").opened
    assert len([n for n, _ in sim.energised_at if n == "1"]) == 1
    assert hardware.bytes_sent > 0 and not lossy.lose_next_reply


def test_a_command_older_than_its_deadline_is_dropped(pico):
    sim, _hardware, lossy, _bank = pico
    sent_at = (int(time.monotonic() * 1000) - 5000) & 0xFFFFFFFF
    lossy.write(encode(struct.pack("<HBIH", 4242, 0x02, sent_at, 1000) + struct.pack("<BH", 2, 60)))
    reply = b""
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline and len(reply) < 8:
        reply += lossy.read(64)
    assert reply[2:5] == struct.pack("<HB", 4242, 3)  # STALE
    settle(0.1)
    assert sim.energised_at == []


def test_a_restart_in_the_middle_of_an_open_does_not_pulse_twice(pico):
    sim, hardware, lossy, bank = pico
    lossy.lose_next_reply = True
    original = lossy.write

    def write_then_restart(data):
        original(data)
        if data[4] == 0x02:  # the OPEN went out: the chip restarts before it answers
            time.sleep(0.01)
            sim.restart()
            lossy.write = original

    lossy.write = write_then_restart
    assert bank.open("1").opened
    settle(0.1)
    assert len(sim.energised_at) == 1
    assert hardware.restarts == 1 and len(sim.boots) == 2


def test_a_restart_before_the_open_arrives_is_healed_by_hello(pico):
    sim, hardware, _lossy, bank = pico
    sim.restart()
    settle(0.05)
    assert bank.open("2").opened
    assert len(sim.energised_at) == 1 and hardware.restarts == 1


def test_a_hung_firmware_is_reset_by_its_watchdog_which_releases_the_lock(pico):
    sim, hardware, _lossy, _bank = pico
    sim.behaviour["1"] = DoorBehaviour.JAMMED
    hardware.energise("1", 1500)
    sim.hang(6000)
    started = time.monotonic()
    while sim.energised("1") and time.monotonic() - started < 4:
        time.sleep(0.01)
    assert not sim.energised("1")
    assert time.monotonic() - started < 2.5
    while len(sim.boots) < 2 and time.monotonic() - started < 4:
        time.sleep(0.01)  # the boot line follows the output's release on the pipe
    assert [b["cause"] for b in sim.boots] == [1, 3]  # power-on, then the watchdog
    assert "last reset by the watchdog" in hardware.describe()[0][1]
