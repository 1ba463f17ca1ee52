"""Lockers on gpiozero's MockFactory, with a fake clock: no real waiting, no flakiness."""

import time

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.drivers.drawer.bank import Door, LockerBank, LockerError, LockerEventKind, LockerTimings
from kiosk.drivers.drawer.gpio import GpioHardware, LockerPins, pin_factory
from kiosk.drivers.drawer.simulator import DoorBehaviour, LockerBankSimulator

PINS = [LockerPins("1", 17, 27), LockerPins("2", 22, 23)]
TIMINGS = LockerTimings(pulse_ms=500, debounce_ms=50, open_timeout_s=5, left_open_alarm_s=60)


class World:
    """Fake time, and a script of door movements at given times."""

    def __init__(self, factory):
        self.t = 0.0
        self.factory = factory
        self.script = []  # (time, door pin, "open"|"closed")

    def clock(self):
        return self.t

    def sleep(self, seconds):
        target = self.t + seconds
        while self.script and self.script[0][0] <= target:
            at, pin, state = self.script.pop(0)
            self.t = max(self.t, at)
            p = self.factory.pin(pin)
            p.drive_high() if state == "open" else p.drive_low()
        self.t = target

    def after(self, delay, pin, state):
        self.script.append((self.t + delay, pin, state))
        self.script.sort()


@pytest.fixture
def world():
    return World(MockFactory())


@pytest.fixture
def lockers(world):
    hardware = GpioHardware(PINS, world.factory, sleep=world.sleep)
    bank = LockerBank(hardware, TIMINGS, clock=world.clock, sleep=world.sleep)
    # gpiozero applies the pull-up when the input is created: shut the doors after that
    for p in PINS:
        world.factory.pin(p.door_pin).drive_low()
    run(world, bank, 0.2)
    assert [bank.door(p.locker) for p in PINS] == [Door.CLOSED, Door.CLOSED]
    events = []
    bank.subscribe(lambda e: events.append((e.locker, e.kind)))
    bank.events = events
    yield bank
    bank.close()


def run(world, lockers, seconds, step=0.01):
    end = world.t + seconds
    while world.t < end:
        world.sleep(step)
        lockers.poll()


def test_pulse_is_short_and_door_seen_open(world, lockers):
    world.after(0.8, 27, "open")  # the customer pulls 0.8 s after the click
    result = lockers.open("1")
    assert result.opened
    lock_states = [s.state for s in world.factory.pin(17).states]
    assert lock_states[-2:] == [True, False]  # on, then off: never held
    assert lockers.door("1") is Door.OPEN
    world.after(3, 27, "closed")
    run(world, lockers, 4)
    assert lockers.events == [("1", LockerEventKind.OPENED), ("1", LockerEventKind.CLOSED)]


def test_door_never_opens_is_reported(world, lockers):
    result = lockers.open("2")
    assert not result.opened and "not seen open" in result.detail
    assert lockers.events == [("2", LockerEventKind.NEVER_OPENED)]
    assert world.factory.pin(22).state is False  # the coil is off


def test_door_left_open_raises_an_alarm_once(world, lockers):
    world.after(0.2, 27, "open")
    assert lockers.open("1").opened
    run(world, lockers, 61)
    assert lockers.events.count(("1", LockerEventKind.LEFT_OPEN)) == 1


def test_bouncing_sensor_gives_one_event(world, lockers):
    for i in range(8):  # chatter every 10 ms, settling open
        world.after(0.3 + i * 0.01, 27, "open" if i % 2 == 0 else "closed")
    world.after(0.38, 27, "open")
    assert lockers.open("1").opened
    run(world, lockers, 1)
    assert lockers.events == [("1", LockerEventKind.OPENED)]


def test_a_cut_sensor_wire_reads_open(world, lockers):
    world.factory.pin(27).drive_high()  # the wire is gone: the pull-up wins
    run(world, lockers, 0.2)
    assert lockers.door("1") is Door.OPEN
    assert lockers.events == [("1", LockerEventKind.OPENED)]


def test_coil_is_released_even_if_waiting_fails(world, lockers):
    def broken_sleep(_):
        raise KeyboardInterrupt

    lockers.hardware.sleep = broken_sleep
    with pytest.raises(KeyboardInterrupt):
        lockers.open("1")
    assert world.factory.pin(17).state is False


def test_configuration_errors_are_clear(world):
    with pytest.raises(LockerError, match="GPIO 27 is used twice"):
        GpioHardware([LockerPins("1", 17, 27), LockerPins("2", 27, 5)], world.factory)
    bank = LockerBank(GpioHardware(PINS, world.factory), TIMINGS)
    with pytest.raises(LockerError, match="no locker '9'"):
        bank.open("9")
    bank.close()
    with pytest.raises(LockerError, match="unknown pin factory"):
        pin_factory("wiringpi")
    with pytest.raises(LockerError, match="not available here"):
        pin_factory("rpigpio")  # this is not a Raspberry Pi


@pytest.mark.parametrize(
    ("behaviour", "opened", "events"),
    [
        (DoorBehaviour.NORMAL, True, ["opened", "closed"]),
        (DoorBehaviour.BOUNCY, True, ["opened", "closed"]),
        (DoorBehaviour.JAMMED, False, ["never_opened"]),
        (DoorBehaviour.LEFT_OPEN, True, ["opened"]),
    ],
)
def test_real_time_with_the_door_simulator(behaviour, opened, events):
    factory = MockFactory()
    timings = LockerTimings(pulse_ms=50, debounce_ms=30, open_timeout_s=1)
    bank = LockerBank(GpioHardware(PINS, factory), timings)
    sim = LockerBankSimulator(factory, PINS, open_after_s=0.1, close_after_s=0.3)
    sim.behaviour["1"] = behaviour
    sim.start()
    bank.start()
    time.sleep(0.2)  # the doors settle shut
    seen = []
    bank.subscribe(lambda e: seen.append(e.kind.value))
    try:
        assert bank.open("1").opened is opened
        time.sleep(0.8)
        assert seen == events
    finally:
        bank.close()
        sim.stop()
