# Start-up: the watchdog's reset is told apart from one that was asked for, the
# configured driver is built, and the link never waits on a host that does not read.
# Run by MicroPython.
import os
import struct
import time
import unittest

import machine
import main
import protocol as p
import version


class Board:
    OUTPUTS = "74hc595"
    SHIFT_PINS = {"data": 2, "clock": 3, "latch": 4, "enable": 5, "count": 16}
    DOOR_PINS = tuple(range(20, 36))
    DOOR_CLOSED_IS_LOW = True
    DEBOUNCE_MS = 30


def status_flags(controller):
    controller.handle(struct.pack(p.REQUEST, 1, p.HELLO, 0, 100))
    return controller.handle(struct.pack(p.REQUEST, 2, p.STATUS, 0, 100))[6]


class BootTest(unittest.TestCase):
    def tearDown(self):
        machine.set_reset_cause(machine.PWRON_RESET)
        main.take_flag(main.ASKED)

    def test_a_reset_that_was_asked_for_is_not_the_watchdogs(self):
        # On the RP2040 machine.reset() goes through the watchdog: reset_cause() reads
        # WDT_RESET. The file written before the reset tells the two apart, once.
        with open(main.ASKED, "w") as f:
            f.write("maintenance\n")
        machine.set_reset_cause(machine.WDT_RESET)
        self.assertEqual(status_flags(main.boot(Board)), 2)
        self.assertFalse(main.ASKED in os.listdir())
        self.assertEqual(status_flags(main.boot(Board)), 1)  # the next one was a stall

    def test_maintenance_leaves_the_flag_before_it_resets(self):
        resets = []
        machine.reset_hook = lambda: resets.append(main.ASKED in os.listdir())
        try:
            main.enter_maintenance()
        finally:
            machine.reset_hook = None
            main.take_flag(main.FLAG)
        self.assertEqual(resets, [True])

    def test_mcp23017_without_its_reset_pin_is_refused(self):
        class NoReset(Board):
            OUTPUTS = "mcp23017"
            I2C = {"id": 0, "sda": 0, "scl": 1, "address": 0x20, "count": 16}

        self.assertRaises(ValueError, main.make_outputs, NoReset)

    def test_a_watchdog_reset_is_reported_in_status(self):
        machine.set_reset_cause(machine.WDT_RESET)
        try:
            controller = main.boot(Board)
        finally:
            machine.set_reset_cause(machine.PWRON_RESET)
        controller.handle(struct.pack(p.REQUEST, 1, p.HELLO, 0, 100))
        reply = controller.handle(struct.pack(p.REQUEST, 2, p.STATUS, 0, 100))
        self.assertEqual(reply[6], 1)

    def test_a_link_answers_frames_from_a_byte_stream(self):
        sent = []
        incoming = [p.frame(struct.pack(p.REQUEST, 5, p.VERSION, 0, 100))[:4], b"", b""]
        incoming[1] = p.frame(struct.pack(p.REQUEST, 5, p.VERSION, 0, 100))[4:]
        controller = main.boot(Board)
        controller.handle(struct.pack(p.REQUEST, 1, p.HELLO, 0, 100))
        link = main.Link(controller, lambda: incoming.pop(0) if incoming else b"", sent.append)
        for _ in range(3):
            link.step()
        self.assertEqual(
            p.Decoder().feed(b"".join(sent)),
            [struct.pack("<HB", 5, p.OK) + version.VERSION.encode()],
        )


class DeafHost:
    """A host that stops reading: the line has no room for a while."""

    def __init__(self, deaf_ms):
        self.until = time.ticks_add(time.ticks_ms(), deaf_ms)
        self.written = b""

    def room(self):
        return time.ticks_diff(self.until, time.ticks_ms()) <= 0

    def write(self, data):
        if not self.room():
            raise AssertionError("written while the line had no room: this would block")
        self.written += data


class LinkTest(unittest.TestCase):
    def test_a_pulse_ends_on_time_while_the_host_does_not_read(self):
        host = DeafHost(400)
        controller = main.boot(Board)
        incoming = [
            p.frame(struct.pack(p.REQUEST, 1, p.HELLO, 0, 100)),
            p.frame(struct.pack(p.REQUEST, 2, p.OPEN, 0, 100) + struct.pack("<BH", 3, 50)),
        ]
        link = main.Link(
            controller, lambda: incoming.pop(0) if incoming else b"", host.write, host.room
        )
        started = time.ticks_ms()
        ended = None
        longest = 0
        while time.ticks_diff(time.ticks_ms(), started) < 600:
            t0 = time.ticks_ms()
            link.step()
            longest = max(longest, time.ticks_diff(time.ticks_ms(), t0))
            if ended is None and controller.energised() == [False] * 16 and not incoming:
                ended = time.ticks_diff(time.ticks_ms(), started)
            time.sleep_ms(1)
        self.assertTrue(ended is not None and ended < 120, ended)  # 50 ms asked
        self.assertTrue(longest < 20, longest)  # no step waited on the line
        replies = p.Decoder().feed(host.written)
        self.assertEqual([struct.unpack("<HB", r[:3]) for r in replies], [(1, 0), (2, 0)])

    def test_replies_kept_for_a_deaf_host_are_bounded(self):
        controller = main.boot(Board)
        controller.handle(struct.pack(p.REQUEST, 1, p.HELLO, 0, 100))
        link = main.Link(controller, lambda: b"", lambda data: None, lambda: False)
        for n in range(200):
            link._queue(p.frame(struct.pack("<HB", n, 0) + bytes(10)))
        self.assertTrue(sum(len(f) for f in link._out) <= main.OUT_MAX + 20)
        self.assertTrue(link.dropped_replies > 0)
