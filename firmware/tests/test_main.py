# Start-up: the watchdog's reset is reported, the configured driver is built. Run by
# MicroPython.
import struct
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


class BootTest(unittest.TestCase):
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
