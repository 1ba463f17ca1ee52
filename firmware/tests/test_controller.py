# The controller's promises (docs/hardware.md): no pulse twice, none late, none longer
# than MAX_PULSE_MS, every output off at start. Run by MicroPython on fake pins.
import struct
import time
import unittest

import machine
import protocol as p
from controller import MAX_PULSE_MS, Controller
from doors import PinDoors
from outputs import PinOutputs

LOCKS = (2, 3, 4)
DOORS = (10, 11, 12)


def request(request_id, command, sent_at, ttl=500, args=b""):
    return struct.pack(p.REQUEST, request_id, command, sent_at, ttl) + args


def status_of(reply):
    return struct.unpack("<HB", reply[:3])


class ControllerTest(unittest.TestCase):
    def setUp(self):
        machine.Pin.outputs = {}
        machine.Pin.listener = None
        machine.Pin.levels = {pin: 0 for pin in DOORS}  # shut
        self.c = Controller(PinOutputs(LOCKS), PinDoors(DOORS), 0x1234, "1.0.0", stable_ms=20)
        self.clock = 1000
        self.c.handle(request(1, p.HELLO, self.clock))

    def open(self, request_id, door, pulse_ms=200, sent_at=None, ttl=500):
        at = self.clock if sent_at is None else sent_at
        return self.c.handle(
            request(request_id, p.OPEN, at, ttl, struct.pack("<BH", door, pulse_ms))
        )

    def test_hello_answers_boot_id_doors_and_version(self):
        reply = self.c.handle(request(2, p.HELLO, 5000))
        self.assertEqual(status_of(reply), (2, p.OK))
        self.assertEqual(reply[3:], struct.pack("<HB", 0x1234, 3) + b"1.0.0")

    def test_open_pulses_and_tick_ends_the_pulse(self):
        self.assertEqual(status_of(self.open(7, 2, pulse_ms=30)), (7, p.OK))
        self.assertEqual(machine.Pin.outputs[3], 1)
        time.sleep_ms(40)
        self.c.tick()
        self.assertEqual(machine.Pin.outputs[3], 0)

    def test_a_retried_open_is_answered_but_not_pulsed_again(self):
        first = self.open(9, 1, pulse_ms=20)
        time.sleep_ms(30)
        self.c.tick()
        writes = []
        machine.Pin.listener = lambda n, v: writes.append((n, v))
        again = self.open(9, 1, pulse_ms=20)
        self.assertEqual(again, first)
        self.assertEqual(writes, [])
        self.assertEqual(self.c.executed, 1)

    def test_a_stale_open_is_dropped(self):
        reply = self.open(10, 1, sent_at=self.clock - 2000, ttl=500)
        self.assertEqual(status_of(reply), (10, p.STALE))
        self.assertEqual(machine.Pin.outputs[2], 0)

    def test_nothing_is_carried_out_before_hello(self):
        c = Controller(PinOutputs(LOCKS), PinDoors(DOORS), 1, "1.0.0")
        reply = c.handle(request(1, p.OPEN, 0, 500, struct.pack("<BH", 1, 100)))
        self.assertEqual(status_of(reply), (1, p.NOT_SYNCED))
        self.assertEqual(machine.Pin.outputs[2], 0)

    def test_a_pulse_is_bounded_whatever_was_asked(self):
        self.open(11, 3, pulse_ms=60000)
        end = self.c._pulse_end[2]
        self.assertTrue(time.ticks_diff(end, time.ticks_ms()) <= MAX_PULSE_MS)

    def test_bad_requests_are_refused_and_do_nothing(self):
        self.assertEqual(status_of(self.open(12, 9))[1], p.BAD_ARGUMENT)
        self.assertEqual(
            status_of(self.c.handle(request(13, 0x7F, self.clock)))[1], p.UNKNOWN_COMMAND
        )
        self.assertIsNone(self.c.handle(b"\x01\x02"))
        self.assertEqual(self.c.executed, 0)

    def test_doors_are_debounced_and_a_cut_wire_reads_open(self):
        machine.Pin.levels[11] = 1  # door 2 opens (or its wire is cut: the pull-up wins)
        self.c.tick()
        self.assertEqual(self.c.debouncer.confirmed, [False, False, False])
        time.sleep_ms(25)
        self.c.tick()
        self.assertEqual(self.c.debouncer.confirmed, [False, True, False])
        reply = self.c.handle(request(14, p.STATUS, self.clock))
        boot, count, _flags = struct.unpack("<HBB", reply[3:7])
        self.assertEqual((boot, count, reply[7], reply[8]), (0x1234, 3, 0b010, 0))

    def test_every_output_is_off_at_start(self):
        machine.Pin.outputs = {pin: 1 for pin in LOCKS}
        Controller(PinOutputs(LOCKS), PinDoors(DOORS), 2, "1.0.0")
        self.assertEqual([machine.Pin.outputs[pin] for pin in LOCKS], [0, 0, 0])

    def test_old_replies_are_forgotten_in_order(self):
        for i in range(100, 140):
            self.c.handle(request(i, p.VERSION, self.clock))
        self.assertEqual(len(self.c._replies), 32)
        self.assertTrue(139 in self.c._replies and 100 not in self.c._replies)
